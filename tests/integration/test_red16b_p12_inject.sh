#!/usr/bin/env bash
# Red team B (issue 16): a PKCS#12's certificate bags are not authenticated
# without its password, so they must not choose the signer that cert export
# puts into LocalMachine\TrustedPublisher.
# 1. The fixture's signer.p12 (certificates encrypted: refused alone, exit 2)
#    with ONE unencrypted safe added in front (another code-signing
#    certificate of the same CA, carrying the key bag's localKeyID; no
#    password needed, the MAC no longer verifies with any password) and the
#    README's own `--chain pki/issuing.pem`: must be refused (exit 2), no
#    folder. Fails on main 0637183: exit 0, signer.cer is the other team's.
# 2. An unpinned PKCS#12 whose certificates are in the clear and whose leaf
#    was swapped: must be refused too (test_cert_export.sh section 3 expects
#    exit 0 there; that expectation goes with this fix). Fails on main.
# 3. Pinned by signing.certificate: the PKCS#12 is not opened (strace).
# 4. The injected file with --expect-thumbprint: refused as a mixed PKCS#12.
. "$(dirname -- "$0")/lib.sh"

new_env
signing() { config_set signing "$1"; }
mkdir -p "$T/s"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/s/other.key" \
	-subj "/C=US/O=Example Corp/CN=Other Team Code Signing" -out "$T/s/other.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$T/s/ext"
openssl x509 -req -in "$T/s/other.csr" -CA "$PKI/issuing.pem" -CAkey "$PKI/issuing.key" \
	-passin "file:$PKI/ca.pass" -set_serial 0x16b1 -days 30 -sha256 -extfile "$T/s/ext" \
	-out "$T/s/other.pem" 2>/dev/null
tp_other=$(openssl x509 -in "$T/s/other.pem" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')

# The injected file: openssl itself lists the other certificate first, and the
# real password no longer verifies its MAC.
/usr/bin/python3 "$(dirname -- "$0")/red16b_p12inject.py" "$PKI/signer.p12" "$T/s/other.pem" \
	"$PKI/signer.pem" "$T/s/inj.p12"
chmod 0600 "$T/s/inj.p12"
openssl pkcs12 -in "$T/s/inj.p12" -passin "file:$PKI/signer.pass" -nokeys -nomacver 2>/dev/null |
	grep '^subject' >"$T/s/subjects"
expect_same "$(sed -n 1p "$T/s/subjects")" "subject=C = US, O = Example Corp, CN = Other Team Code Signing"
if openssl pkcs12 -in "$T/s/inj.p12" -passin "file:$PKI/signer.pass" -noout 2>/dev/null; then
	fail "the injected PKCS#12's MAC still verifies"
fi
ok

# 1. Injected safe, unpinned.
signing "{\"pkcs12\": \"$T/s/inj.p12\", \"password_file\": \"$PKI/signer.pass\"}"
sg 2 cert export --config "$CFG" --chain "$PKI/issuing.pem" --out-dir "$T/o1"
expect_in "$T/err" "beside parts encrypted with it"
expect_absent "$T/o1"
expect_not_in "$T/out" "$tp_other"

# 2. Clear certificates, swapped leaf, unpinned.
openssl pkcs12 -export -inkey "$T/s/other.key" -in "$T/s/other.pem" -certfile "$PKI/issuing.pem" \
	-certpbe NONE -passout pass:unknown -out "$T/s/swapped.p12"
chmod 0600 "$T/s/swapped.p12"
signing "{\"pkcs12\": \"$T/s/swapped.p12\", \"password_file\": \"$T/absent.pass\"}"
sg 2 cert export --config "$CFG" --out-dir "$T/o2"
expect_in "$T/err" "pin it with \"signing.certificate\" (the signing certificate, PEM) or --expect-thumbprint HEX"
expect_absent "$T/o2"

# 3. Pinned by signing.certificate: the PKCS#12 is not opened at all (fixer fc,
#    finding 7: the red team's expectation here was exit 2 naming both; with the
#    file never read, the pinned signer is exported and nothing of the file is taken).
signing "{\"pkcs12\": \"$T/s/inj.p12\", \"password_file\": \"$PKI/signer.pass\", \"certificate\": \"$PKI/signer.pem\"}"
sg 0 cert export --config "$CFG" --chain "$PKI/issuing.pem" --out-dir "$T/o3"
expect_same "$(openssl x509 -inform DER -in "$T/o3/signer.cer")" "$(openssl x509 -in "$PKI/signer.pem")"
expect_not_in "$T/o3/README.txt" "$tp_other"
# strace: no open of the PKCS#12, whatever it holds (finding 7). (A sanitizer
# build's leak check cannot run under ptrace: off for this run.)
ASAN_OPTIONS=detect_leaks=0 /usr/bin/strace -f -qq -e trace=open,openat,openat2 -o "$T/trace" "$SG_BIN" cert export \
	--config "$CFG" --chain "$PKI/issuing.pem" --check "$T/o3" >"$T/out" 2>"$T/err" ||
	fail "cert export --check under strace failed"
ok
expect_in "$T/trace" "$PKI/signer.pem"
expect_not_in "$T/trace" "inj.p12"
# 4. Pinned by --expect-thumbprint to the real signer: the injected file is refused
#    outright (certificates readable without the password beside encrypted parts).
signing "{\"pkcs12\": \"$T/s/inj.p12\", \"password_file\": \"$PKI/signer.pass\"}"
tp=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')
sg 2 cert export --config "$CFG" --chain "$PKI/issuing.pem" --out-dir "$T/o4" --expect-thumbprint "$tp"
expect_in "$T/err" "$T/s/inj.p12: it holds certificates readable without its password beside parts encrypted with it: no PKCS#12 writer makes such a file"
expect_absent "$T/o4"
sg 2 cert export --config "$CFG" --chain "$PKI/issuing.pem" --out-dir "$T/o4" --expect-thumbprint "$tp_other"
expect_in "$T/err" "beside parts encrypted with it"
expect_absent "$T/o4"
done_ok
