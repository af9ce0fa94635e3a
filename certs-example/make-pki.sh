#!/usr/bin/env bash
# make-pki.sh - create an EXAMPLE internal code-signing PKI for trying signgate.
#
# Production keeps the signing key in an HSM; see certs-example/README.md.
set -euo pipefail

prog=${0##*/}

usage() {
	cat <<EOF
Usage: $prog [options] OUTDIR

Create an example internal PKI with OpenSSL 3 in OUTDIR (mode 0700):
  root CA (RSA-4096, 10 years), issuing CA (RSA-4096, pathlen:0),
  code-signing leaf (RSA-3072, EKU codeSigning only), PKCS#12 + password file,
  a TSA certificate (RSA-3072, EKU critical timeStamping) issued by the root,
  an 'openssl ts -reply' config (tsa.cnf) and a ready signgate.json.

Options:
  --days N   leaf validity in days (default 365; more than 460 is warned about)
  --ec       make the leaf key ECDSA P-256 instead of RSA-3072
  --no-tsa   do not create the TSA files
  --force    regenerate even if OUTDIR already holds a PKI (replaces every key)
  -q         print only the leaf's SHA-1 thumbprint
  -h         show this help

Re-running on a complete OUTDIR changes nothing and prints the thumbprint again.
The last line of output is the leaf's SHA-1 thumbprint (40 upper-case hex),
as Windows and ConfigMgr show it.

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

days=365
key_type=rsa
with_tsa=1
force=0
quiet=0
outdir=

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--days)
		[ $# -ge 2 ] || usage_error "--days needs a number"
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

command -v openssl >/dev/null || die "openssl not found"

umask 077

# The files a complete PKI consists of; used for the idempotency check.
pki_files=(root.pem root.cer root.key issuing.pem issuing.key chain.pem
	signer.pem signer.key signer.p12 signer.pass ca.pass signgate.json)
tsa_files=(tsa.pem tsa.key tsa-chain.pem tsa.cnf)
# Written by earlier versions of this script (the TSA had its own root);
# --force removes them.
old_files=(tsa-root.pem tsa-root.key)

thumbprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 |
		sed 's/^[^=]*=//; s/://g' | tr '[:lower:]' '[:upper:]'
}

report() {
	local dir=$1 tp
	tp=$(thumbprint "$dir/signer.pem")
	if [ "$quiet" -eq 1 ]; then
		printf '%s\n' "$tp"
		return
	fi
	printf 'Example PKI in %s\n' "$dir"
	printf '  trust anchor:  root.pem (root.cer for Windows Trusted Root)\n'
	printf '  signer:        signer.p12 (password in signer.pass)\n'
	[ -f "$dir/tsa.cnf" ] && printf '  TSA:           tsa.cnf (TSA certificate issued by root.pem)\n'
	printf '  config:        signgate.json\n'
	printf 'Leaf SHA-1 thumbprint: %s\n' "$tp"
}

mkdir -p -- "$outdir"
chmod 0700 -- "$outdir"
outdir=$(cd -- "$outdir" && pwd -P)

existing=0
for f in "${pki_files[@]}" "${tsa_files[@]}"; do
	[ -e "$outdir/$f" ] && existing=$((existing + 1))
done
if [ "$existing" -gt 0 ] && [ "$force" -eq 0 ]; then
	complete=1
	for f in "${pki_files[@]}"; do
		[ -s "$outdir/$f" ] || complete=0
	done
	if [ "$complete" -eq 1 ]; then
		[ ! -e "$outdir/tsa-root.pem" ] ||
			printf '%s: warning: %s has the old separate TSA root (tsa-root.pem); --force makes a PKI whose TSA is issued by root.pem\n' \
				"$prog" "$outdir" >&2
		report "$outdir"
		exit 0
	fi
	die "$outdir holds an incomplete PKI; use --force to regenerate it"
fi

# Build in a private scratch folder inside OUTDIR, move into place at the end.
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

random_serial() {
	printf '0x%s' "$(openssl rand -hex 16)"
}

# Random passwords: hex only, and written WITHOUT a trailing newline.
# OpenSSL's file: source reads the first line and osslsigncode 2.9 -readpass
# strips trailing CR/LF, so the file is read the same way by both either way.
openssl rand -hex 24 | tr -d '\n' >"$work/signer.pass"
openssl rand -hex 24 | tr -d '\n' >"$work/ca.pass"

cat >"$work/ext.cnf" <<'EOF'
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

[ v3_codesign ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_tsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
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
		-config "$work/ext.cnf" -extensions "$4" -out "$work/$1.pem"
}

# issue NAME KEYPASS SUBJECT DAYS EXTENSION CA
issue() {
	local name=$1 keypass=$2 subj=$3 d=$4 ext=$5 ca=$6
	local passin=()
	[ "$keypass" = - ] || passin=(-passin "file:$work/$keypass")
	ossl req -new -key "$work/$name.key" "${passin[@]}" -subj "$subj" \
		-config "$work/ext.cnf" -out "$work/$name.csr"
	ossl x509 -req -in "$work/$name.csr" -CA "$work/$ca.pem" \
		-CAkey "$work/$ca.key" -passin "file:$work/ca.pass" \
		-set_serial "$(random_serial)" -days "$d" -sha256 \
		-extfile "$work/ext.cnf" -extensions "$ext" -out "$work/$name.pem"
	rm -f -- "$work/$name.csr"
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

ossl x509 -in "$work/root.pem" -outform DER -out "$work/root.cer"
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

# Check the profile before anything is moved into place.
ossl verify -CAfile "$work/root.pem" -untrusted "$work/issuing.pem" \
	"$work/signer.pem"
openssl x509 -in "$work/signer.pem" -noout -ext extendedKeyUsage 2>/dev/null |
	grep -qx '[[:space:]]*Code Signing' ||
	die "leaf EKU is not exactly codeSigning"

if [ "$with_tsa" -eq 1 ]; then
	# The TSA is issued by the root itself, beside the issuing CA (not under
	# it: the issuing CA issues code-signing certificates only). A timestamp
	# then verifies against root.pem alone: the token carries the TSA
	# certificate, and its issuer is the trust anchor, so no verifier needs
	# an intermediate it may not look for in the token.
	issue tsa - "$org/CN=Example Corp Timestamping Authority" 1825 v3_tsa root
	cat "$work/tsa.pem" "$work/root.pem" >"$work/tsa-chain.pem"
	ossl verify -purpose timestampsign -CAfile "$work/root.pem" "$work/tsa.pem"
	openssl x509 -in "$work/tsa.pem" -noout -ext extendedKeyUsage 2>/dev/null |
		tr -d '\n' | grep -qx 'X509v3 Extended Key Usage: critical[[:space:]]*Time Stamping' ||
		die "TSA EKU is not exactly critical timeStamping"
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

{
	printf '{\n'
	printf '  "policy": "policy/",\n'
	printf '  "audit_log": "audit/signgate-audit.jsonl",\n'
	printf '  "trust": {\n'
	# No tsa_ca_file: the TSA chains to root.pem, which signgate uses for
	# timestamps too when tsa_ca_file is absent.
	printf '    "ca_file": "root.pem"\n'
	printf '  },\n'
	printf '  "signing": {\n'
	printf '    "pkcs12": "signer.p12",\n'
	printf '    "password_file": "signer.pass",\n'
	printf '    "certificate": "signer.pem",\n'
	printf '    "timestamp_urls": []\n'
	printf '  },\n'
	printf '  "osslsigncode": "/usr/bin/osslsigncode"\n'
	printf '}\n'
} >"$work/signgate.json"

rm -f -- "$work/ext.cnf"
chmod 0600 -- "$work"/*.key "$work"/*.pass "$work/signer.p12"
chmod 0644 -- "$work"/*.pem "$work/root.cer" "$work/signgate.json"
[ "$with_tsa" -eq 0 ] || chmod 0644 -- "$work/tsa.cnf"

# --force: drop the TSA files of an earlier run so a --no-tsa PKI has none.
for f in "${pki_files[@]}" "${tsa_files[@]}" "${old_files[@]}" tsaserial tsaserial.old; do
	[ -e "$work/$f" ] || rm -f -- "${outdir:?}/$f"
done
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
