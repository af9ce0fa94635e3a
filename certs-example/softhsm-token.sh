#!/usr/bin/env bash
# softhsm-token.sh - put the example PKI's code-signing key into a SoftHSM2
# token (PKCS#11), as production keeps it in an HSM. EXAMPLE and test use only:
# the token's files, its PINs and the key's source all sit in one folder.
set -euo pipefail

prog=${0##*/}
here=$(cd -- "$(dirname -- "$0")" && pwd -P)

module=/usr/lib/softhsm/libsofthsm2.so
label=signgate
ec_subject='/C=US/O=Example Corp/OU=Software Packaging/CN=Example Corp Code Signing (ECDSA)'

usage() {
	cat <<EOF
Usage: $prog [--ec] [--force] [-q] OUTDIR

OUTDIR is a folder made by make-pki.sh. Creates a SoftHSM2 token in
OUTDIR/softhsm/ (own softhsm2.conf, token files inside it) labelled
'$label', with a random user PIN in OUTDIR/token.pin and SO PIN in
OUTDIR/token.so-pin (0600, no trailing newline), and imports the existing
signer key (signer.key, password signer.pass) as object 'signer' (id 01),
with its public key and signer.pem. Writes signer-chain.pem (leaf + issuing
CA) and signgate-pkcs11.json beside signgate.json. When the PKI has an
audit-seal key (seal.key, password seal.pass), it is imported too, as object
'seal' (id 03) with seal.pem, and signgate-pkcs11.json seals the audit log
with it ("audit_seal"; signgate then needs SOFTHSM2_CONF in its environment).

  --ec     also generate an ECDSA P-256 key pair 'signer-ec' (id 02) inside
           the token (never leaves it), a CSR for it through OpenSSL's pkcs11
           engine, and signer-ec.pem from the issuing CA (make-pki.sh
           --issue-csr: the same code-signing profile), stored in the token
           too; writes signer-ec-chain.pem and signgate-pkcs11-ec.json
  --force  delete an existing token (and its PINs, chains, configs) first
  -q       print nothing on success
  -h       show this help

Re-running on a complete token changes nothing. Needs softhsm2, opensc
(pkcs11-tool) and libengine-pkcs11-openssl.

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

with_ec=0
force=0
quiet=0
outdir=
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--ec)
		with_ec=1
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
[ -d "$outdir" ] || die "$outdir: no such folder (make it with make-pki.sh)"
outdir=$(cd -- "$outdir" && pwd -P)

for f in signer.key signer.pass signer.pem issuing.pem signgate.json; do
	[ -s "$outdir/$f" ] || die "$outdir/$f missing: OUTDIR must be a make-pki.sh folder"
done
[ "$with_ec" -eq 0 ] || [ -s "$outdir/ca/issuing/index.txt" ] ||
	die "$outdir has no CA database (made by an older make-pki.sh?): --ec cannot issue signer-ec.pem"
command -v pkcs11-tool >/dev/null || die "pkcs11-tool not found (Debian package opensc)"
command -v openssl >/dev/null || die "openssl not found"
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 not found"
[ -f "$module" ] || die "$module not found (Debian package softhsm2)"
enginesdir=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
engine=$enginesdir/pkcs11.so
[ -f "$engine" ] || die "$engine not found (Debian package libengine-pkcs11-openssl)"

umask 077

hsm=$outdir/softhsm
conf=$hsm/softhsm2.conf
rsa_uri="pkcs11:token=$label;object=signer;type=private"
ec_uri="pkcs11:token=$label;object=signer-ec;type=private"
seal_uri="pkcs11:token=$label;object=seal;type=private"
with_seal=0
[ ! -s "$outdir/seal.key" ] || [ ! -s "$outdir/seal.pass" ] || [ ! -s "$outdir/seal.pem" ] || with_seal=1
# Everything this script writes into OUTDIR (softhsm/ aside).
rsa_outputs=(token.pin token.so-pin signer-chain.pem signgate-pkcs11.json)
ec_outputs=(signer-ec.pem signer-ec-chain.pem signgate-pkcs11-ec.json)

report() {
	[ "$quiet" -eq 0 ] || return 0
	printf 'SoftHSM2 token "%s" in %s\n' "$label" "$hsm"
	printf '  SOFTHSM2_CONF: %s\n' "$conf"
	printf '  PINs:          token.pin (user), token.so-pin (SO)\n'
	printf '  RSA key:       %s -> signgate-pkcs11.json\n' "$rsa_uri"
	[ "$with_seal" -eq 0 ] || printf '  audit seal:    %s (seal.pem)\n' "$seal_uri"
	if [ -s "$outdir/signgate-pkcs11-ec.json" ]; then
		printf '  ECDSA key:     %s -> signgate-pkcs11-ec.json\n' "$ec_uri"
		printf '  ECDSA leaf SHA-1 thumbprint: %s\n' "$(openssl x509 -in "$outdir/signer-ec.pem" \
			-noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')"
	fi
}

all_present() {
	local f
	for f in "$@"; do
		[ -s "$outdir/$f" ] || return 1
	done
}

if [ -e "$hsm" ] && [ "$force" -eq 0 ]; then
	all_present softhsm/softhsm2.conf "${rsa_outputs[@]}" ||
		die "$hsm holds an incomplete token; use --force to make a new one"
	if [ "$with_ec" -eq 1 ] && ! all_present "${ec_outputs[@]}"; then
		die "the token in $hsm has no ECDSA key; use --force --ec to make a new token with both"
	fi
	# make-pki.sh --force replaces signer.key: the token then holds the old one.
	openssl x509 -in "$outdir/signer-chain.pem" | cmp -s - "$outdir/signer.pem" ||
		printf '%s: warning: signer.pem changed since the token was made; --force imports the new key\n' \
			"$prog" >&2
	report
	exit 0
fi

# A fresh token. Whatever this run leaves half-made is removed on failure.
work=$(mktemp -d "${TMPDIR:-/tmp}/softhsm-token.XXXXXX")
done_ok=0
cleanup() {
	rm -rf -- "$work"
	if [ "$done_ok" -eq 0 ] && [ -n "${made:-}" ]; then
		rm -rf -- "${hsm:?}"
		for f in "${rsa_outputs[@]}" "${ec_outputs[@]}"; do
			rm -f -- "${outdir:?}/$f"
		done
	fi
}
trap cleanup EXIT

# --force: the old token and everything derived from it go first. A
# signer-ec.pem issued earlier stays valid in the CA database (revoke it by
# hand with ca/ca.cnf if that matters).
rm -rf -- "${hsm:?}"
for f in "${rsa_outputs[@]}" "${ec_outputs[@]}"; do
	rm -f -- "${outdir:?}/$f"
done
made=1

# Run a tool quietly; show its messages only when it fails.
quiet_run() {
	local log
	log=$(mktemp "$work/log.XXXXXX")
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "$* failed"
	fi
	rm -f -- "$log"
}

# pkcs11-tool on our token. The PINs reach it only through the environment
# of that one child (--pin env:NAME, --so-pin env:NAME, --new-pin env:NAME):
# pkcs11-tool reads a PIN from argv, from env:NAME, or from a terminal
# (not from a pipe), and argv is readable by every user.
p11() {
	SOFTHSM2_CONF=$conf quiet_run pkcs11-tool --module "$module" "$@"
}

# p11_user ARGS...: pkcs11-tool logged in as the token's user.
p11_user() {
	SG_TOKEN_PIN=$user_pin p11 --token-label "$label" --login --pin env:SG_TOKEN_PIN "$@"
}

mkdir -p -- "$hsm/tokens"
chmod 0700 -- "$hsm" "$hsm/tokens"
cat >"$conf" <<EOF
# SoftHSM2 config of the example signgate token (softhsm-token.sh).
# Tools find it through SOFTHSM2_CONF=$conf
directories.tokendir = $hsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
chmod 0644 -- "$conf"

# Random PINs, hex, no trailing newline (osslsigncode -readpass strips one
# anyway; OpenSSL's file: reads the first line).
openssl rand -hex 16 | tr -d '\n' >"$outdir/token.pin"
openssl rand -hex 16 | tr -d '\n' >"$outdir/token.so-pin"
chmod 0600 -- "$outdir/token.pin" "$outdir/token.so-pin"
user_pin=$(cat -- "$outdir/token.pin")
so_pin=$(cat -- "$outdir/token.so-pin")

# The token dir is empty, so SoftHSM offers exactly one (uninitialized) slot.
SG_SO_PIN=$so_pin p11 --init-token --label "$label" --so-pin env:SG_SO_PIN
SG_SO_PIN=$so_pin SG_TOKEN_PIN=$user_pin p11 --token-label "$label" --login --login-type so \
	--so-pin env:SG_SO_PIN --init-pin --new-pin env:SG_TOKEN_PIN
unset so_pin

# import_key NAME ID KEY PASSFILE CERT: a PEM key (decrypted into a pipe,
# never into a file) as a sensitive private key object, with its public key
# and certificate under the same id, as PKCS#11 applications expect.
import_key() {
	openssl pkey -in "$3" -passin "file:$4" -outform DER |
		p11_user --write-object /dev/stdin --type privkey --id "$2" --label "$1" \
			--usage-sign --sensitive
	openssl x509 -in "$5" -pubkey -noout | openssl pkey -pubin -outform DER |
		p11_user --write-object /dev/stdin --type pubkey --id "$2" --label "$1"
	openssl x509 -in "$5" -outform DER |
		p11_user --write-object /dev/stdin --type cert --id "$2" --label "$1"
}

# The existing signer key.
import_key signer 01 "$outdir/signer.key" "$outdir/signer.pass" "$outdir/signer.pem"
# The audit log's sealing key: a key of its own, beside the signing key.
[ "$with_seal" -eq 0 ] ||
	import_key seal 03 "$outdir/seal.key" "$outdir/seal.pass" "$outdir/seal.pem"

# OpenSSL's pkcs11 engine (libp11) on our module. Its PIN comes from
# -passin file:token.pin (the engine's UI callback), never from the URI.
cat >"$work/engine.cnf" <<EOF
openssl_conf = openssl_init
[ openssl_init ]
engines = engine_section
[ engine_section ]
pkcs11 = pkcs11_section
[ pkcs11_section ]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $module
init = 0
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
EOF
engine_ossl() {
	OPENSSL_CONF=$work/engine.cnf SOFTHSM2_CONF=$conf quiet_run openssl "$@"
}

# check_key URI CERT: the token's key signs, and CERT's public key verifies it.
check_key() {
	printf 'signgate softhsm-token check\n' >"$work/data"
	engine_ossl dgst -sha256 -engine pkcs11 -keyform engine -sign "$1" \
		-passin "file:$outdir/token.pin" -out "$work/sig" "$work/data" </dev/null
	openssl x509 -in "$2" -pubkey -noout >"$work/pub.pem"
	openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/data" >/dev/null 2>&1 ||
		die "the token's key $1 does not match ${2##*/}"
}

check_key "$rsa_uri" "$outdir/signer.pem"
[ "$with_seal" -eq 0 ] || check_key "$seal_uri" "$outdir/seal.pem"
cat "$outdir/signer.pem" "$outdir/issuing.pem" >"$outdir/signer-chain.pem"

if [ "$with_ec" -eq 1 ]; then
	# Generated inside the token: sensitive, never extractable.
	p11_user --keypairgen --key-type EC:prime256v1 --id 02 --label signer-ec \
		--usage-sign --sensitive
	engine_ossl req -new -engine pkcs11 -keyform engine -key "$ec_uri" \
		-passin "file:$outdir/token.pin" -subj "$ec_subject" -sha256 \
		-out "$work/signer-ec.csr" </dev/null
	quiet_run bash "$here/make-pki.sh" -q --issue-csr "$work/signer-ec.csr" \
		--cert-out "$outdir/signer-ec.pem" "$outdir"
	openssl x509 -in "$outdir/signer-ec.pem" -outform DER |
		p11_user --write-object /dev/stdin --type cert --id 02 --label signer-ec
	check_key "$ec_uri" "$outdir/signer-ec.pem"
	cat "$outdir/signer-ec.pem" "$outdir/issuing.pem" >"$outdir/signer-ec-chain.pem"
fi
chmod 0644 -- "$outdir"/signer*-chain.pem

# write_config OUT KEY_URI CHAIN CERT: signgate.json with the signing key in
# the token; policy, audit log, trust and the other signing settings as there.
write_config() {
	local seal=
	[ "$with_seal" -eq 0 ] || seal=$seal_uri
	/usr/bin/python3 - "$outdir/signgate.json" "$outdir/$1" "$module" "$2" "$3" "$4" "$conf" \
		"$seal" <<'PY'
import json, os, sys
src, dst, module, key, chain, cert, conf, seal = sys.argv[1:]
with open(src) as f:
    cfg = json.load(f)
old = cfg.get("signing", {})
# Key sources of signgate.json: replaced, never mixed with the token's.
key_keys = {"pkcs12", "password_file", "password_env", "key", "cert_chain",
            "certificate", "pin_file", "pin_env", "pkcs11_module", "pkcs11_env",
            "pkcs11_paths", "pkcs11_network"}
signing = {
    "pkcs11_module": module,
    "key": key,
    "cert_chain": chain,
    "certificate": cert,
    "pin_file": "token.pin",
    "pkcs11_env": {"SOFTHSM2_CONF": conf},
    # The token's files: the confined key helper may read and write only these.
    "pkcs11_paths": [os.path.join(os.path.dirname(conf), "tokens")],
}
for k, v in old.items():
    if k not in key_keys:
        signing[k] = v
signing.setdefault("timestamp_urls", [])
cfg["signing"] = signing
if seal:
    # The sealing key in the token too. The module reads SOFTHSM2_CONF from
    # signgate's own environment: it is loaded into signgate, not a child.
    cfg["audit_seal"] = {"key": seal, "pkcs11_module": module, "cert": "seal.pem",
                         "pin_file": "token.pin"}
with open(dst, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
PY
	chmod 0644 -- "$outdir/$1"
}

write_config signgate-pkcs11.json "$rsa_uri" signer-chain.pem signer.pem
[ "$with_ec" -eq 0 ] ||
	write_config signgate-pkcs11-ec.json "$ec_uri" signer-ec-chain.pem signer-ec.pem

done_ok=1
report
