#!/usr/bin/env bash
# Red team B (issue 16): cert export must check that the leaf may sign code,
# as sign does (sg_cert_check_codesign): what it exports goes into
# LocalMachine\TrustedPublisher and thumbprint.txt. Fails on main 0637183:
# a serverAuth-only certificate and the issuing CA itself are exported as
# signer.cer with exit 0.
. "$(dirname -- "$0")/lib.sh"

# run_refused DIR ARGS...: signgate must refuse (exit 2 or 3), name codeSigning, write no DIR.
run_refused() {
	local d=$1 rc=0
	shift
	"$SG_BIN" "$@" --out-dir "$d" >"$T/out" 2>"$T/err" || rc=$?
	case $rc in 3) ok ;; *) fail "signgate $* exited $rc, expected 3" ;; esac
	expect_in "$T/err" "codeSigning"
	expect_absent "$d"
}

mkdir -p "$T/s"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/s/tls.key" -subj "/CN=intranet.example.com" \
	-out "$T/s/tls.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$T/s/ext"
openssl x509 -req -in "$T/s/tls.csr" -CA "$PKI/issuing.pem" -CAkey "$PKI/issuing.key" \
	-passin "file:$PKI/ca.pass" -set_serial 0x16b2 -days 30 -sha256 -extfile "$T/s/ext" \
	-out "$T/s/tls.pem" 2>/dev/null

# A TLS server certificate of the same CA: exit 3 (fixer fc), naming it and why.
run_refused "$T/o1" cert export --cert "$T/s/tls.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" \
	--crl "$PKI/crl.pem"
expect_in "$T/err" "--cert ($T/s/tls.pem): \"CN=intranet.example.com\" (thumbprint "
expect_in "$T/err" "is not a code-signing certificate (sign requires codeSigning, not a CA): certificate's extendedKeyUsage lacks codeSigning; nothing exported"
# The issuing CA as "the signer".
run_refused "$T/o2" cert export --cert "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem"
expect_in "$T/err" "is not a code-signing certificate (sign requires codeSigning, not a CA): the signing certificate is a CA certificate; nothing exported"
# The same through an unpinned PKCS#12 (certificates in the clear).
openssl pkcs12 -export -inkey "$T/s/tls.key" -in "$T/s/tls.pem" -certfile "$PKI/issuing.pem" \
	-certpbe NONE -passout pass:unknown -out "$T/s/tls.p12"
chmod 0600 "$T/s/tls.p12"
new_env
config_set signing "{\"pkcs12\": \"$T/s/tls.p12\", \"password_file\": \"$T/absent.pass\"}"
rc=0
"$SG_BIN" cert export --config "$CFG" --out-dir "$T/o3" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a serverAuth certificate from a PKCS#12 was exported (exit 0)"
ok
expect_absent "$T/o3"
# The real signer still exports.
sg 0 cert export --cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" \
	--crl "$PKI/crl.pem" --out-dir "$T/o4"
done_ok
