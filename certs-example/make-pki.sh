#!/usr/bin/env bash
# make-pki.sh - create an EXAMPLE internal code-signing PKI for trying signgate.
#
# Production keeps the signing key in an HSM; see certs-example/README.md.
set -euo pipefail

prog=${0##*/}

usage() {
	cat <<EOF
Usage: $prog [options] OUTDIR
       $prog --revoke-signer | --renew-crl [--crl-days N] OUTDIR
       $prog --issue-csr CSR --cert-out FILE [--days N] OUTDIR

Create an example two-tier internal PKI with OpenSSL 3 in OUTDIR (mode 0700):
  root CA (RSA-4096, 10 years), issuing CA (RSA-4096, pathlen:0),
  code-signing leaf (RSA-3072, EKU codeSigning only), PKCS#12 + password file,
  a TSA certificate (RSA-3072, EKU critical timeStamping) issued by the root,
  an audit-seal key and certificate (ECDSA P-256, encrypted, EKU 2.999.3 only:
  not code signing) issued by the root, for 'signgate audit seal',
  an approvers' CA (a root of its own, ECDSA P-256) and two approvers under it,
  alice and bob (EKU emailProtection, plain keys), for 'signgate policy cosign',
  CRLs of both CAs (crl.pem; DER root.crl and issuing.crl for publishing),
  an 'openssl ts -reply' config (tsa.cnf) and a ready signgate.json.
Every certificate issued under root.pem carries an HTTP CRL distribution point and an
AIA caIssuers URL under --pki-url.

Options:
  --days N        leaf (and approver) validity in days (default 365; more
                  than 460 is warned about)
  --ec            make the leaf key ECDSA P-256 instead of RSA-3072
  --no-tsa        do not create the TSA files
  --pki-url URL   base of the CDP/AIA URLs, http:// only
                  (default $default_url)
  --crl-days N    nextUpdate of the issuing CA's CRL in days (default 30;
                  the root's CRL is valid for 365 days)
  --force         regenerate even if OUTDIR already holds a PKI (replaces every key)
  -q              print only the leaf's SHA-1 thumbprint
  -h              show this help

On an existing PKI (keys are never regenerated):
  --revoke-signer     revoke signer.pem (reason keyCompromise) in the issuing
                      CA's database and regenerate the CRLs
  --renew-crl         regenerate both CRLs (new lastUpdate/nextUpdate)
  --issue-csr CSR     issue a code-signing certificate (same profile as
                      signer.pem, validity --days) for CSR from the issuing CA
                      and record it in its database; needs --cert-out FILE

Re-running on a complete OUTDIR changes nothing and prints the thumbprint again.
The last line of output is the leaf's SHA-1 thumbprint (40 upper-case hex),
as Windows and ConfigMgr show it (with --issue-csr: the new certificate's).

Exit status: 0 done, 1 failed, 2 usage error.
EOF
}

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

usage_error() {
	printf '%s: %s (see -h)\n' "$prog" "$*" >&2
	exit 2
}

default_url=http://pki.example.invalid/signgate
days=365
key_type=rsa
with_tsa=1
force=0
quiet=0
outdir=
pki_url=$default_url
url_set=0
crl_days=30
mode=create
csr=
cert_out=

# need_arg OPTION ARGS...: OPTION has its argument.
need_arg() {
	[ $# -ge 2 ] || usage_error "$1 needs an argument"
}

set_mode() {
	[ "$mode" = create ] || [ "$mode" = "$1" ] ||
		usage_error "--revoke-signer, --renew-crl and --issue-csr exclude each other"
	mode=$1
}

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--days)
		need_arg "$@"
		days=$2
		shift 2
		;;
	--days=*)
		days=${1#*=}
		shift
		;;
	--ec)
		key_type=ec
		shift
		;;
	--no-tsa)
		with_tsa=0
		shift
		;;
	--pki-url)
		need_arg "$@"
		pki_url=$2
		url_set=1
		shift 2
		;;
	--pki-url=*)
		pki_url=${1#*=}
		url_set=1
		shift
		;;
	--crl-days)
		need_arg "$@"
		crl_days=$2
		shift 2
		;;
	--crl-days=*)
		crl_days=${1#*=}
		shift
		;;
	--revoke-signer)
		set_mode revoke
		shift
		;;
	--renew-crl)
		set_mode renew
		shift
		;;
	--issue-csr)
		need_arg "$@"
		set_mode issue
		csr=$2
		shift 2
		;;
	--cert-out)
		need_arg "$@"
		cert_out=$2
		shift 2
		;;
	--force)
		force=1
		shift
		;;
	-q)
		quiet=1
		shift
		;;
	--)
		shift
		break
		;;
	-*)
		usage_error "unknown option: $1"
		;;
	*)
		[ -z "$outdir" ] || usage_error "only one OUTDIR may be given"
		outdir=$1
		shift
		;;
	esac
done
if [ $# -gt 0 ]; then
	if [ -n "$outdir" ] || [ $# -gt 1 ]; then
		usage_error "only one OUTDIR may be given"
	fi
	outdir=$1
fi
[ -n "$outdir" ] || usage_error "OUTDIR missing"

case $days in
'' | *[!0-9]*) usage_error "--days must be a positive integer, not '$days'" ;;
esac
days=$((10#$days))
[ "$days" -ge 1 ] || usage_error "--days must be at least 1"
# The leaf must not outlive the issuing CA (1825 days).
[ "$days" -le 1825 ] || usage_error "--days $days exceeds the issuing CA's 1825 days"
[ "$days" -le 460 ] ||
	printf '%s: warning: --days %s exceeds the 460 days of the CA/B code-signing rules\n' \
		"$prog" "$days" >&2

case $crl_days in
'' | *[!0-9]*) usage_error "--crl-days must be a positive integer, not '$crl_days'" ;;
esac
crl_days=$((10#$crl_days))
if [ "$crl_days" -lt 1 ] || [ "$crl_days" -gt 365 ]; then
	usage_error "--crl-days must be between 1 and 365"
fi

# The URLs go into the certificates and into an OpenSSL config: plain HTTP
# (Windows fetches CDP and AIA through WinHTTP; HTTPS would need the chain it
# is checking), and no character that OpenSSL's config syntax interprets.
while [ "${pki_url%/}" != "$pki_url" ]; do pki_url=${pki_url%/}; done
url_re='^http://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=-]+)*$'
[[ $pki_url =~ $url_re ]] ||
	usage_error "--pki-url must be http://HOST[:PORT][/PATH] (letters, digits, . _ ~ % + = -), not '$pki_url'"

if [ "$mode" != create ]; then
	[ "$force" -eq 0 ] || usage_error "--force does not go with --revoke-signer, --renew-crl or --issue-csr"
fi
if [ "$mode" = issue ]; then
	[ -n "$cert_out" ] || usage_error "--issue-csr needs --cert-out FILE"
	[ -f "$csr" ] || die "$csr: no such file"
	[ ! -e "$cert_out" ] || die "$cert_out exists; remove it first"
	csr=$(cd -- "$(dirname -- "$csr")" && pwd -P)/$(basename -- "$csr")
	cert_dir=$(cd -- "$(dirname -- "$cert_out")" && pwd -P) ||
		die "$cert_out: its folder does not exist"
	cert_out=$cert_dir/$(basename -- "$cert_out")
elif [ -n "$cert_out" ]; then
	usage_error "--cert-out goes with --issue-csr"
fi

command -v openssl >/dev/null || die "openssl not found"

umask 077

# The files a complete PKI consists of; used for the idempotency check.
# ca/ holds the two CAs' databases ('openssl ca'), their config and the
# certificate profiles (with the CDP/AIA URLs).
pki_files=(root.pem root.cer root.key issuing.pem issuing.cer issuing.key chain.pem
	signer.pem signer.key signer.p12 signer.pass ca.pass signgate.json
	root.crl.pem root.crl issuing.crl.pem issuing.crl crl.pem
	ca/ca.cnf ca/ext.cnf ca/root/index.txt ca/root/crlnumber
	ca/issuing/index.txt ca/issuing/crlnumber)
# What earlier versions of this script made: no CA database, no CRLs, no
# CDP/AIA in the certificates. Such a folder is left alone (with a warning).
legacy_files=(root.pem root.cer root.key issuing.pem issuing.key chain.pem
	signer.pem signer.key signer.p12 signer.pass ca.pass signgate.json)
tsa_files=(tsa.pem tsa.key tsa-chain.pem tsa.cnf)
# The audit log's sealing identity ("audit_seal"); a PKI made before it
# existed is still complete without it (--force adds it).
seal_files=(seal.pem seal.key seal.pass)
# The approvers' CA and two approvers (co-signatures of approvals, the
# two-person rule); likewise optional for a PKI made before them.
approver_files=(approvers-ca.pem approvers-ca.key approver-alice.pem approver-alice.key
	approver-bob.pem approver-bob.key)
# Written by earlier versions of this script (the TSA had its own root);
# --force removes them.
old_files=(tsa-root.pem tsa-root.key)

thumbprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 |
		sed 's/^[^=]*=//; s/://g' | tr '[:lower:]' '[:upper:]'
}

# cert_cdp CERT: the first CRL distribution point URL of CERT (empty: none).
cert_cdp() {
	openssl x509 -in "$1" -noout -ext crlDistributionPoints 2>/dev/null |
		sed -n 's/^[[:space:]]*URI://p' | head -n 1
}

report() {
	local dir=$1 tp cdp
	tp=$(thumbprint "$dir/signer.pem")
	if [ "$quiet" -eq 1 ]; then
		printf '%s\n' "$tp"
		return
	fi
	cdp=$(cert_cdp "$dir/signer.pem")
	printf 'Example PKI in %s\n' "$dir"
	printf '  trust anchor:  root.pem (root.cer for Windows Trusted Root)\n'
	printf '  signer:        signer.p12 (password in signer.pass)\n'
	[ -f "$dir/tsa.cnf" ] && printf '  TSA:           tsa.cnf (TSA certificate issued by root.pem)\n'
	[ -f "$dir/seal.pem" ] && printf '  audit seal:    seal.key + seal.pem (password in seal.pass): "audit_seal"\n'
	[ -f "$dir/approvers-ca.pem" ] &&
		printf '  approvers:     approvers-ca.pem (trust.approvers_ca_file); approver-alice, approver-bob (.pem, .key)\n'
	if [ -f "$dir/crl.pem" ]; then
		printf '  CRLs:          crl.pem (trust.crl_file)\n'
		printf '  publish at:    %s/ <- root.crl root.cer issuing.crl issuing.cer\n' "${cdp%/*}"
	fi
	printf '  config:        signgate.json\n'
	printf 'Leaf SHA-1 thumbprint: %s\n' "$tp"
}

# crl_check DIR: warn about CRLs that have expired or expire within 2 days.
crl_check() {
	local f next end now
	now=$(date +%s)
	for f in root.crl.pem issuing.crl.pem; do
		next=$(openssl crl -in "$1/$f" -noout -nextupdate 2>/dev/null | sed 's/^[^=]*=//')
		end=$(date -d "$next" +%s 2>/dev/null) || continue
		if [ "$end" -le "$now" ]; then
			printf '%s: warning: %s expired on %s: verification with crl.pem fails; run %s --renew-crl %s\n' \
				"$prog" "$f" "$next" "$prog" "$1" >&2
		elif [ "$end" -le $((now + 2 * 86400)) ]; then
			printf '%s: warning: %s expires on %s; run %s --renew-crl %s\n' \
				"$prog" "$f" "$next" "$prog" "$1" >&2
		fi
	done
}

complete() {
	local f
	for f in "$@"; do
		[ -s "$outdir/$f" ] || return 1
	done
}

if [ "$mode" = create ]; then
	mkdir -p -- "$outdir"
	chmod 0700 -- "$outdir"
fi
[ -d "$outdir" ] || die "$outdir: no such folder"
outdir=$(cd -- "$outdir" && pwd -P)

if [ "$mode" = create ]; then
	existing=0
	for f in "${pki_files[@]}" "${tsa_files[@]}" "${seal_files[@]}" "${approver_files[@]}"; do
		[ -e "$outdir/$f" ] && existing=$((existing + 1))
	done
	if [ "$existing" -gt 0 ] && [ "$force" -eq 0 ]; then
		if complete "${pki_files[@]}"; then
			[ ! -e "$outdir/tsa-root.pem" ] ||
				printf '%s: warning: %s has the old separate TSA root (tsa-root.pem); --force makes a PKI whose TSA is issued by root.pem\n' \
					"$prog" "$outdir" >&2
			cdp=$(cert_cdp "$outdir/signer.pem")
			[ "$url_set" -eq 0 ] || [ "$cdp" = "$pki_url/issuing.crl" ] ||
				printf '%s: warning: the certificates carry %s, not --pki-url %s; --force makes a new PKI with it\n' \
					"$prog" "${cdp%/*}" "$pki_url" >&2
			complete "${seal_files[@]}" ||
				printf '%s: warning: %s has no audit-seal key (seal.key, seal.pem); --force makes a PKI with one\n' \
					"$prog" "$outdir" >&2
			complete "${approver_files[@]}" ||
				printf '%s: warning: %s has no approvers'"'"' CA (approvers-ca.pem); --force makes a PKI with one\n' \
					"$prog" "$outdir" >&2
			crl_check "$outdir"
			report "$outdir"
			exit 0
		fi
		if complete "${legacy_files[@]}"; then
			printf '%s: warning: %s was made by an earlier version of this script: no CRLs, no CDP/AIA URLs, no CA database; --force makes a new PKI\n' \
				"$prog" "$outdir" >&2
			report "$outdir"
			exit 0
		fi
		die "$outdir holds an incomplete PKI; use --force to regenerate it"
	fi
else
	complete "${pki_files[@]}" ||
		die "$outdir holds no complete PKI of this version (CA database, CRLs); make one first (--force replaces an old one)"
fi

# Build in a private scratch folder inside OUTDIR, move into place at the end.
# It has the layout of OUTDIR, so ca/ca.cnf (relative paths) works in both.
work=$(mktemp -d "$outdir/.make-pki.XXXXXX")
cleanup() {
	rm -rf -- "$work"
}
trap cleanup EXIT

# Run openssl quietly; show its messages only when it fails. Each run has its
# own log because keys are generated in parallel.
ossl() {
	local log
	log=$(mktemp "$work/openssl.XXXXXX")
	if ! openssl "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "openssl $1 failed"
	fi
	rm -f -- "$log"
}

# ossl_ca ARGS...: 'openssl ca' in the scratch folder, with the CA key password.
ossl_ca() {
	(cd -- "$work" && ossl ca -config ca/ca.cnf -batch -passin file:ca.pass "$@")
}

random_serial() {
	printf '0x%s' "$(openssl rand -hex 16)"
}

# The 'openssl ca' config of the two CAs. Paths are relative to the PKI
# folder, so it works by hand too:
#   cd OUTDIR && openssl ca -config ca/ca.cnf -name ca_issuing -gencrl \
#       -passin file:ca.pass -out issuing.crl.pem
write_ca_cnf() {
	cat >"$work/ca/ca.cnf" <<'EOF'
# 'openssl ca' config of the example PKI's two CAs (CRLs and revocation only;
# certificates are issued by make-pki.sh). Paths are relative: run it from
# the PKI folder. Example (then make-pki.sh --renew-crl does the same for both):
#   openssl ca -config ca/ca.cnf -name ca_issuing -gencrl -passin file:ca.pass -out issuing.crl.pem
[ ca ]
default_ca = ca_issuing

[ ca_root ]
dir              = ca/root
database         = $dir/index.txt
crlnumber        = $dir/crlnumber
new_certs_dir    = $dir
certificate      = root.pem
private_key      = root.key
default_md       = sha256
default_crl_days = 365
crl_extensions   = crl_ext
unique_subject   = no

[ ca_issuing ]
dir              = ca/issuing
database         = $dir/index.txt
crlnumber        = $dir/crlnumber
new_certs_dir    = $dir
certificate      = issuing.pem
private_key      = issuing.key
default_md       = sha256
default_crl_days = 30
crl_extensions   = crl_ext
unique_subject   = no

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}

# gen_crls: both CRLs (PEM, DER) and crl.pem in the scratch folder.
gen_crls() {
	ossl_ca -name ca_root -gencrl -out root.crl.pem
	ossl_ca -name ca_issuing -gencrl -crldays "$crl_days" -out issuing.crl.pem
	ossl crl -in "$work/root.crl.pem" -outform DER -out "$work/root.crl"
	ossl crl -in "$work/issuing.crl.pem" -outform DER -out "$work/issuing.crl"
	cat "$work/root.crl.pem" "$work/issuing.crl.pem" >"$work/crl.pem"
	rm -f -- "$work"/ca/*/*.old
	chmod 0644 -- "$work"/*.crl "$work"/*.crl.pem "$work/crl.pem"
}

# check_leaf CERT: the code-signing profile's EKU, and a chain with CRLs.
check_leaf() {
	ossl verify -crl_check_all -CRLfile "$work/crl.pem" -CAfile "$work/root.pem" \
		-untrusted "$work/issuing.pem" "$1"
	openssl x509 -in "$1" -noout -ext extendedKeyUsage 2>/dev/null |
		grep -qx '[[:space:]]*Code Signing' ||
		die "leaf EKU is not exactly codeSigning"
}

if [ "$mode" != create ]; then
	# Work on copies; keys are never regenerated. Only the CA database, the
	# CRLs and (--issue-csr) the new certificate are moved back.
	mkdir -p -- "$work/ca"
	cp -pR -- "$outdir/ca/root" "$outdir/ca/issuing" "$outdir/ca/ext.cnf" "$work/ca/"
	cp -p -- "$outdir"/{root.pem,root.key,issuing.pem,issuing.key,ca.pass,signer.pem} "$work/"
	write_ca_cnf
	case $mode in
	revoke)
		serial=$(openssl x509 -in "$work/signer.pem" -noout -serial | sed 's/^serial=//')
		if awk -F'\t' -v s="$serial" 'BEGIN { s = toupper(s); sub(/^0+/, "", s) }
			{ x = toupper($4); sub(/^0+/, "", x) }
			$1 == "R" && x == s { found = 1 } END { exit !found }' "$work/ca/issuing/index.txt"; then
			msg="signer.pem (serial $serial) was already revoked; CRLs regenerated"
		else
			ossl_ca -name ca_issuing -revoke signer.pem -crl_reason keyCompromise
			msg="revoked signer.pem (serial $serial, reason keyCompromise); CRLs regenerated"
		fi
		gen_crls
		if openssl verify -crl_check_all -CRLfile "$work/crl.pem" -CAfile "$work/root.pem" \
			-untrusted "$work/issuing.pem" "$work/signer.pem" >/dev/null 2>&1; then
			die "signer.pem still verifies against the new CRL"
		fi
		;;
	renew)
		gen_crls
		msg="CRLs renewed"
		;;
	issue)
		cp -- "$csr" "$work/new.csr"
		ossl x509 -req -in "$work/new.csr" -CA "$work/issuing.pem" \
			-CAkey "$work/issuing.key" -passin "file:$work/ca.pass" \
			-set_serial "$(random_serial)" -days "$days" -sha256 \
			-extfile "$work/ca/ext.cnf" -extensions v3_codesign -out "$work/new.pem"
		ossl_ca -name ca_issuing -valid new.pem
		# The CRLs need no change for a new certificate; check against them.
		cp -p -- "$outdir/crl.pem" "$work/crl.pem"
		check_leaf "$work/new.pem"
		chmod 0644 -- "$work/new.pem"
		;;
	esac
	rm -f -- "$work"/ca/*/*.old
	for f in "$work"/ca/root/* "$work"/ca/issuing/*; do
		mv -f -- "$f" "$outdir/ca/${f#"$work/ca/"}"
	done
	mv -f -- "$work/ca/ca.cnf" "$outdir/ca/ca.cnf"
	if [ "$mode" = issue ]; then
		# Not -f: refuse to replace a file that appeared meanwhile.
		mv -n -- "$work/new.pem" "$cert_out"
		[ ! -e "$work/new.pem" ] || die "$cert_out appeared meanwhile; not replaced"
		tp=$(thumbprint "$cert_out")
		[ "$quiet" -eq 1 ] || printf 'Issued %s from the issuing CA\nSHA-1 thumbprint: ' "$cert_out"
		printf '%s\n' "$tp"
		exit 0
	fi
	for f in root.crl.pem root.crl issuing.crl.pem issuing.crl crl.pem; do
		mv -f -- "$work/$f" "$outdir/$f"
	done
	if [ "$quiet" -eq 0 ]; then
		printf '%s (issuing.crl.pem next update %s)\n' "$msg" \
			"$(openssl crl -in "$outdir/issuing.crl.pem" -noout -nextupdate | sed 's/^[^=]*=//')"
	fi
	report "$outdir"
	exit 0
fi

# Random passwords: hex only, and written WITHOUT a trailing newline.
# OpenSSL's file: source reads the first line and osslsigncode 2.9 -readpass
# strips trailing CR/LF, so the file is read the same way by both either way.
openssl rand -hex 24 | tr -d '\n' >"$work/signer.pass"
openssl rand -hex 24 | tr -d '\n' >"$work/ca.pass"
openssl rand -hex 24 | tr -d '\n' >"$work/seal.pass"

mkdir -p -- "$work/ca/root" "$work/ca/issuing"
write_ca_cnf
for ca in root issuing; do
	: >"$work/ca/$ca/index.txt"
	printf 'unique_subject = no\n' >"$work/ca/$ca/index.txt.attr"
	printf '01\n' >"$work/ca/$ca/crlnumber"
done

# The certificate profiles (kept as ca/ext.cnf: --issue-csr uses it). Every
# issued certificate names where its issuer's CRL and certificate are
# published: the CRL distribution point and AIA caIssuers, over plain HTTP.
cat >"$work/ca/ext.cnf" <<EOF
# Certificate profiles of the example PKI (make-pki.sh). CDP/AIA base URL:
# $pki_url
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]

[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_issuing ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$pki_url/root.crl
authorityInfoAccess    = caIssuers;URI:$pki_url/root.cer

[ v3_codesign ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$pki_url/issuing.crl
authorityInfoAccess    = caIssuers;URI:$pki_url/issuing.cer

# The audit log's sealing certificate: signs seals of the log's head, nothing
# else. Its only EKU is 2.999.3 (the ITU-T example arc, as the TSA policy):
# no code signing, so it can never pass as a code-signing certificate.
[ v3_seal ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = 2.999.3
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$pki_url/root.crl
authorityInfoAccess    = caIssuers;URI:$pki_url/root.cer

[ v3_tsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$pki_url/root.crl
authorityInfoAccess    = caIssuers;URI:$pki_url/root.cer
EOF

# genkey NAME rsa|ec BITS PASSFILE|-   (- leaves the key unencrypted)
genkey() {
	local name=$1 type=$2 bits=$3 pass=$4
	local args=(genpkey -out "$work/$name.key")
	if [ "$type" = ec ]; then
		args+=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256
			-pkeyopt ec_param_enc:named_curve)
	else
		args+=(-algorithm RSA -pkeyopt "rsa_keygen_bits:$bits")
	fi
	[ "$pass" = - ] || args+=(-aes-256-cbc -pass "file:$work/$pass")
	ossl "${args[@]}"
}

# selfsign NAME SUBJECT DAYS EXTENSION
selfsign() {
	ossl req -x509 -new -key "$work/$1.key" -passin "file:$work/ca.pass" \
		-subj "$2" -days "$3" -sha256 -set_serial "$(random_serial)" \
		-config "$work/ca/ext.cnf" -extensions "$4" -out "$work/$1.pem"
}

# issue NAME KEYPASS SUBJECT DAYS EXTENSION CA
# Issued with 'openssl x509 -req' (random 128-bit serials), then recorded in
# the CA's database so that 'openssl ca' can revoke it and list it in CRLs.
issue() {
	local name=$1 keypass=$2 subj=$3 d=$4 ext=$5 ca=$6
	local passin=()
	[ "$keypass" = - ] || passin=(-passin "file:$work/$keypass")
	ossl req -new -key "$work/$name.key" "${passin[@]}" -subj "$subj" \
		-config "$work/ca/ext.cnf" -out "$work/$name.csr"
	ossl x509 -req -in "$work/$name.csr" -CA "$work/$ca.pem" \
		-CAkey "$work/$ca.key" -passin "file:$work/ca.pass" \
		-set_serial "$(random_serial)" -days "$d" -sha256 \
		-extfile "$work/ca/ext.cnf" -extensions "$ext" -out "$work/$name.pem"
	rm -f -- "$work/$name.csr"
	ossl_ca -name "ca_$ca" -valid "$name.pem"
}

org='/C=US/O=Example Corp'

# RSA-4096 generation dominates the run time: make all keys at once.
pids=()
genkey root rsa 4096 ca.pass &
pids+=($!)
genkey issuing rsa 4096 ca.pass &
pids+=($!)
genkey signer "$key_type" 3072 signer.pass &
pids+=($!)
# The sealing key: a key of its own, never the code-signing key.
genkey seal ec 0 seal.pass &
pids+=($!)
# The approvers' CA and the approvers: ECDSA, quick to make. The approvers'
# keys stay unencrypted so that the example co-signs without a password.
genkey approvers-ca ec 0 ca.pass &
pids+=($!)
genkey approver-alice ec 0 - &
pids+=($!)
genkey approver-bob ec 0 - &
pids+=($!)
if [ "$with_tsa" -eq 1 ]; then
	# tsa.key stays unencrypted: 'openssl ts -reply' from tsa.cnf and
	# osslsigncode's -TSA-key read it without a password prompt.
	genkey tsa rsa 3072 - &
	pids+=($!)
fi
for pid in "${pids[@]}"; do
	wait "$pid" || die "key generation failed"
done

selfsign root "$org/CN=Example Corp Internal Root CA" 3650 v3_root
issue issuing ca.pass "$org/CN=Example Corp Code Signing CA" 1825 v3_issuing root
issue signer signer.pass "$org/OU=Software Packaging/CN=Example Corp Code Signing" \
	"$days" v3_codesign issuing

# Issued by the root beside the issuing CA, which issues code-signing
# certificates only.
issue seal seal.pass "$org/OU=Software Packaging/CN=Example Corp signgate Audit Seal" 1825 \
	v3_seal root

# The approvers' CA is a root of its own, not under root.pem: whoever runs
# the code-signing CA must not be able to make approvers too (one person
# could then approve and co-sign alone), and an approver's certificate must
# not chain to the root that every Windows client trusts for code. signgate
# trusts it for approvers' signatures only (trust.approvers_ca_file). It
# keeps no CA database and no CRL here (signgate checks approvers' revocation
# only with trust.approvers_crl_file), so their certificates are short-lived
# (--days, like the leaf).
cat >"$work/approvers.cnf" <<'CNF'
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]

[ v3_root ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

# An approver signs approval files as a person: digitalSignature and the
# S/MIME EKU emailProtection alone (signgate requires it); the address from
# the subject moves into the subjectAltName.
[ v3_approver ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = emailProtection
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = email:move
CNF
ossl req -x509 -new -key "$work/approvers-ca.key" -passin "file:$work/ca.pass" \
	-subj "$org/CN=Example Corp signgate Approvers CA" -days 3650 -sha256 \
	-set_serial "$(random_serial)" -config "$work/approvers.cnf" -extensions v3_root \
	-out "$work/approvers-ca.pem"
for who in alice bob; do
	ossl req -new -key "$work/approver-$who.key" \
		-subj "$org/OU=Approvers/CN=$who/emailAddress=$who@example.com" \
		-config "$work/approvers.cnf" -out "$work/approver-$who.csr"
	ossl x509 -req -in "$work/approver-$who.csr" -CA "$work/approvers-ca.pem" \
		-CAkey "$work/approvers-ca.key" -passin "file:$work/ca.pass" \
		-set_serial "$(random_serial)" -days "$days" -sha256 \
		-extfile "$work/approvers.cnf" -extensions v3_approver -out "$work/approver-$who.pem"
	rm -f -- "$work/approver-$who.csr"
done
rm -f -- "$work/approvers.cnf"

ossl x509 -in "$work/root.pem" -outform DER -out "$work/root.cer"
ossl x509 -in "$work/issuing.pem" -outform DER -out "$work/issuing.cer"
cat "$work/issuing.pem" "$work/root.pem" >"$work/chain.pem"

# Modern PKCS#12: AES-256-CBC with PBKDF2 for key and certificates, SHA-256
# MAC. Windows 10 1709+ and Server 2019+ import this; older Windows does not.
# The same file for -passin and -passout makes OpenSSL read line 1 for one and
# line 2 for the other, so -passin reads a copy.
cp -- "$work/signer.pass" "$work/passin.tmp"
ossl pkcs12 -export -inkey "$work/signer.key" -passin "file:$work/passin.tmp" \
	-in "$work/signer.pem" -certfile "$work/issuing.pem" \
	-name 'Example Corp Code Signing' \
	-keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -iter 100000 \
	-passout "file:$work/signer.pass" -out "$work/signer.p12"
rm -f -- "$work/passin.tmp"

if [ "$with_tsa" -eq 1 ]; then
	# The TSA is issued by the root itself, beside the issuing CA (not under
	# it: the issuing CA issues code-signing certificates only). A timestamp
	# then verifies against root.pem alone: the token carries the TSA
	# certificate, and its issuer is the trust anchor, so no verifier needs
	# an intermediate it may not look for in the token.
	issue tsa - "$org/CN=Example Corp Timestamping Authority" 1825 v3_tsa root
	cat "$work/tsa.pem" "$work/root.pem" >"$work/tsa-chain.pem"
	printf '01\n' >"$work/tsaserial"

	cat >"$work/tsa.cnf" <<EOF
# OpenSSL TS responder config for the example TSA (test use only).
# Usage: openssl ts -reply -config tsa.cnf -queryfile req.tsq -out resp.tsr
# Paths are absolute; regenerate with make-pki.sh --force if OUTDIR moves.
[ tsa ]
default_tsa = tsa_example

[ tsa_example ]
dir                    = $outdir
serial                 = \$dir/tsaserial
crypto_device          = builtin
signer_cert            = \$dir/tsa.pem
# With certReq set in the query (osslsigncode sets it) the reply carries
# the TSA certificate; 'certs' adds its issuer, the root, so the token holds
# the whole chain. Verifiers trust root.pem alone for it.
certs                  = \$dir/root.pem
signer_key             = \$dir/tsa.key
signer_digest          = sha256
# 2.999 is the ITU-T example arc: an obviously non-production policy OID.
default_policy         = 2.999.1
other_policies         = 2.999.2
digests                = sha256, sha384, sha512
accuracy               = secs:1
clock_precision_digits = 0
ordering               = no
tsa_name               = yes
ess_cert_id_chain      = no
ess_cert_id_alg        = sha256
EOF
fi

# The CRLs list nothing yet; made after every certificate is in its database.
gen_crls

# Check the profile before anything is moved into place.
check_leaf "$work/signer.pem"
# The sealing certificate chains to the root and can never sign code.
ossl verify -crl_check_all -CRLfile "$work/crl.pem" -CAfile "$work/root.pem" "$work/seal.pem"
if openssl x509 -in "$work/seal.pem" -noout -ext extendedKeyUsage 2>/dev/null | grep -q 'Code Signing'; then
	die "seal.pem allows code signing"
fi
# The approvers chain to their own root only, and can never sign code.
for who in alice bob; do
	ossl verify -purpose smimesign -CAfile "$work/approvers-ca.pem" "$work/approver-$who.pem"
	if openssl verify -CAfile "$work/root.pem" "$work/approver-$who.pem" >/dev/null 2>&1; then
		die "approver-$who.pem chains to the code-signing root"
	fi
	openssl x509 -in "$work/approver-$who.pem" -noout -ext extendedKeyUsage 2>/dev/null |
		grep -qx '[[:space:]]*E-mail Protection' ||
		die "approver-$who.pem: EKU is not exactly emailProtection"
done
[ "$(cert_cdp "$work/signer.pem")" = "$pki_url/issuing.crl" ] ||
	die "leaf lacks the CRL distribution point $pki_url/issuing.crl"
if [ "$with_tsa" -eq 1 ]; then
	ossl verify -purpose timestampsign -crl_check_all -CRLfile "$work/crl.pem" \
		-CAfile "$work/root.pem" "$work/tsa.pem"
	openssl x509 -in "$work/tsa.pem" -noout -ext extendedKeyUsage 2>/dev/null |
		tr -d '\n' | grep -qx 'X509v3 Extended Key Usage: critical[[:space:]]*Time Stamping' ||
		die "TSA EKU is not exactly critical timeStamping"
fi

{
	printf '{\n'
	printf '  "policy": "policy/",\n'
	printf '  "audit_log": "audit/signgate-audit.jsonl",\n'
	printf '  "trust": {\n'
	# No tsa_ca_file: the TSA chains to root.pem, which signgate uses for
	# timestamps too when tsa_ca_file is absent. The certificates carry
	# CDPs; signgate never fetches them, it checks against crl.pem.
	printf '    "ca_file": "root.pem",\n'
	printf '    "crl_file": "crl.pem",\n'
	# Who may co-sign approvals (signgate policy cosign).
	printf '    "approvers_ca_file": "approvers-ca.pem"\n'
	printf '  },\n'
	printf '  "signing": {\n'
	printf '    "pkcs12": "signer.p12",\n'
	printf '    "password_file": "signer.pass",\n'
	printf '    "certificate": "signer.pem",\n'
	printf '    "timestamp_urls": []\n'
	printf '  },\n'
	# The key that seals the audit log's head (signgate audit seal).
	printf '  "audit_seal": {\n'
	printf '    "key": "seal.key",\n'
	printf '    "cert": "seal.pem",\n'
	printf '    "password_file": "seal.pass"\n'
	printf '  },\n'
	printf '  "osslsigncode": "/usr/bin/osslsigncode"\n'
	printf '}\n'
} >"$work/signgate.json"

rm -f -- "$work"/ca/*/*.old
chmod 0600 -- "$work"/*.key "$work"/*.pass "$work/signer.p12"
chmod 0644 -- "$work"/*.pem "$work"/*.cer "$work/signgate.json"
[ "$with_tsa" -eq 0 ] || chmod 0644 -- "$work/tsa.cnf"

# --force: drop the TSA files of an earlier run so a --no-tsa PKI has none,
# and the CA database of the replaced PKI.
for f in "${pki_files[@]}" "${tsa_files[@]}" "${seal_files[@]}" "${approver_files[@]}" \
	"${old_files[@]}" tsaserial tsaserial.old; do
	[ -e "$work/$f" ] || rm -f -- "${outdir:?}/$f"
done
rm -rf -- "${outdir:?}/ca"
for f in "$work"/*; do
	mv -f -- "$f" "$outdir/"
done
# signgate refuses a policy folder without any *.json file: start with one
# that approves nothing. Never touch an existing policy or audit log.
mkdir -p -- "$outdir/policy" "$outdir/audit"
chmod 0700 -- "$outdir/policy" "$outdir/audit"
if ! compgen -G "$outdir/policy/*.json" >/dev/null; then
	printf '{\n  "approvals": [],\n  "revoked": []\n}\n' >"$outdir/policy/approvals.json"
fi

report "$outdir"
