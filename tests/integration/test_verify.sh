#!/usr/bin/env bash
# Verification fails on a wrong trust anchor, a modified file, an unsigned
# file, and a signature by another certificate than the configured one.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
sg 0 verify --ca "$PKI/root.pem" "$T/signed.exe"

# Wrong trust anchor: another root with our root's name but its own key, and
# a vendor's self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
	-subj "/C=US/O=Example Corp/CN=Example Corp Internal Root CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-keyout "$T/other-root.key" -out "$T/other-root.pem" 2>/dev/null
sg 3 verify --ca "$T/other-root.pem" "$T/signed.exe"
expect_in "$T/out" "invalid  $T/signed.exe: signed.exe: signature 0: signer chain does not verify to $T/other-root.pem"
sg 3 verify --ca "$FIX/vendor/vendor.pem" --json "$T/signed.exe"
expect_in "$T/out" '"decision":"invalid"'
expect_in "$T/out" '"exit_code":3'
sed "s#$PKI/root.pem#$FIX/vendor/vendor.pem#" "$CFG" >"$T/env/wrong-root.json"
sg 3 verify --config "$T/env/wrong-root.json" "$T/signed.exe"

# A byte changed after signing: digests differ.
cp "$T/signed.exe" "$T/modified.exe"
printf 'Y' | dd of="$T/modified.exe" bs=1 seek=5000 conv=notrunc 2>/dev/null
sg 3 verify --ca "$PKI/root.pem" "$T/modified.exe"
expect_in "$T/out" "does not match the signed value"
expect_in "$T/out" "signgate computed" # its own digest, before osslsigncode's

# Unsigned input.
sg 3 verify --ca "$PKI/root.pem" "$INST/hello-setup.exe"
expect_in "$T/out" "hello-setup.exe: no Authenticode signature found"

# Valid chain but not our pinned signer: a vendor-signed file checked against
# the vendor root with our pin.
pin=$(openssl x509 -in "$PKI/signer.pem" -outform DER | sha256sum | cut -d' ' -f1)
sg 0 verify --ca "$FIX/vendor/vendor.pem" "$INST/vendor-signed-hello-setup.exe"
sg 3 verify --ca "$FIX/vendor/vendor.pem" --pin "$pin" "$INST/vendor-signed-hello-setup.exe"
expect_in "$T/out" "is by certificate CN=Vendor Test Code Signing"
expect_in "$T/out" "not the configured signing certificate"
sg 0 verify --ca "$PKI/root.pem" --pin "$(echo "$pin" | tr a-f A-F)" "$T/signed.exe"

# Truncated signed file.
head -c 60000 "$T/signed.exe" >"$T/cut.exe"
sg 3 verify --ca "$PKI/root.pem" "$T/cut.exe"
expect_in "$T/out" "cut.exe: truncated"
# A structure refused in a signed file is an invalid signed file (not a
# denial: verify asks no policy), in the printed line and in the record.
sg 3 verify --ca "$PKI/root.pem" "$T/cut.exe"
expect_in "$T/out" "invalid  $T/cut.exe: "
sg 3 verify --config "$CFG" "$T/cut.exe"
expect_in "$T/out" "invalid  $T/cut.exe: "
expect_same "$(audit_field 0 decision)" "invalid"
expect_same "$(audit_field 0 status)" "format"

# signing.certificate pins the signer without the key's secret (the password
# file named here does not even exist); a certificate that is not the key's
# makes signing refuse to start.
sed "s#\"password_file\": \"$PKI/signer.pass\"#\"password_file\": \"$T/absent.pass\", \"certificate\": \"$PKI/signer.pem\"#" \
	"$CFG" >"$T/env/pin-only.json"
sg 0 verify --config "$T/env/pin-only.json" "$T/signed.exe"
sg 3 verify --config "$T/env/pin-only.json" "$INST/vendor-signed-hello-setup.exe"
sed "s#\"password_file\": \"$PKI/signer.pass\"#&, \"certificate\": \"$FIX/vendor/vendor.pem\"#" \
	"$CFG" >"$T/env/wrong-cert.json"
sg 2 sign --config "$T/env/wrong-cert.json" --out "$T/never.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "vendor.pem: \"signing.certificate\" is not the certificate of the signing key"
expect_absent "$T/never.exe"

# Verify results are recorded when a config is used.
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_in "$LOG" '"action":"verify"'

# Revocation, offline: a PKI of this test's own, a signed file, then the
# signer revoked (certs-example/make-pki.sh --revoke-signer): verification with
# the new CRL fails and says so. Without any CRL configured for certificates
# that name CRL distribution points, verification fails and says what to set;
# "ignore_crl": true turns the check off explicitly.
bash "$SG_SRC/certs-example/make-pki.sh" -q "$T/pki2" >/dev/null
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sed "s#\"policy\": \"policy/\"#\"policy\": \"$T/env/policy/\"#; s#\"audit_log\": \"[^\"]*\"#\"audit_log\": \"$T/env/audit/pki2.jsonl\"#" \
	"$T/pki2/signgate.json" >"$T/pki2/test.json"
sg 0 sign --config "$T/pki2/test.json" --out "$T/pki2.exe" "$INST/hello-setup.exe"
sg 0 verify --config "$T/pki2/test.json" "$T/pki2.exe"
expect_in "$T/out" "revocation checked"
sed 's#"crl_file": "crl.pem"#"ignore_crl": false#' "$T/pki2/test.json" >"$T/pki2/nocrl.json"
sg 3 verify --config "$T/pki2/nocrl.json" "$T/pki2.exe"
expect_in "$T/out" "its certificates name CRL distribution points and no CRL is configured"
# ... and signing with such a config is refused before anything is signed.
sg 2 sign --config "$T/pki2/nocrl.json" --out "$T/nocrl.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "the signing certificate names CRL distribution points"
expect_absent "$T/nocrl.exe"
sed 's#"crl_file": "crl.pem"#"ignore_crl": true#' "$T/pki2/test.json" >"$T/pki2/ignore.json"
sg 0 verify --config "$T/pki2/ignore.json" "$T/pki2.exe"
expect_in "$T/out" "revocation not checked"
# A timestamped file stays valid when the CRLs are renewed after its timestamp
# (the chain is judged at the timestamp, revocation against today's CRLs).
/usr/bin/python3 "$SG_SRC/tests/fixtures/tsa_server.py" --port 0 --config "$T/pki2/tsa.cnf" \
	--port-file "$T/pki2.port" >"$T/pki2-tsa.log" 2>&1 &
pki2_tsa=$!
trap 'kill $pki2_tsa 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/pki2.port" ] && break; sleep 0.1; done
sed "s#\"timestamp_urls\": \[\]#\"timestamp_urls\": [\"http://127.0.0.1:$(cat "$T/pki2.port")/\"]#" \
	"$T/pki2/test.json" >"$T/pki2/ts.json"
sg 0 sign --config "$T/pki2/ts.json" --out "$T/pki2-ts.exe" "$INST/hello-setup.exe"
expect_in "$T/out" ", timestamp "
sleep 1
bash "$SG_SRC/certs-example/make-pki.sh" -q --renew-crl "$T/pki2" >/dev/null
sg 0 verify --config "$T/pki2/ts.json" "$T/pki2-ts.exe"
expect_in "$T/out" "timestamped"
expect_in "$T/out" "revocation checked"
# A revoked TSA certificate fails the timestamp, and so the file.
cp -a "$T/pki2" "$T/pki3"
(cd "$T/pki3" && openssl ca -batch -config ca/ca.cnf -name ca_root -passin file:ca.pass \
	-revoke tsa.pem -crl_reason keyCompromise) >/dev/null 2>&1 || fail "could not revoke the TSA"
bash "$SG_SRC/certs-example/make-pki.sh" -q --renew-crl "$T/pki3" >/dev/null 2>&1 ||
	fail "could not renew the CRLs of the copy"
sg 3 verify --ca "$T/pki2/root.pem" --crl "$T/pki3/crl.pem" "$T/pki2-ts.exe"
expect_in "$T/out" "the timestamp does not verify"
sg 0 verify --ca "$T/pki2/root.pem" --crl "$T/pki2/crl.pem" "$T/pki2-ts.exe"

bash "$SG_SRC/certs-example/make-pki.sh" -q --revoke-signer "$T/pki2" >/dev/null
sg 3 verify --config "$T/pki2/test.json" "$T/pki2.exe"
expect_in "$T/out" "revoked"
sg 3 verify --ca "$T/pki2/root.pem" --crl "$T/pki2/crl.pem" "$T/pki2.exe"
expect_in "$T/out" "revoked"
# The revoked certificate can no longer sign either.
sg 1 sign --config "$T/pki2/test.json" --out "$T/pki2-again.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "revoked"
expect_absent "$T/pki2-again.exe"
done_ok
