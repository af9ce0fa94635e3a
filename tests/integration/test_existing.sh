#!/usr/bin/env bash
# Already-signed vendor installers: refuse (default), replace, or nest, as the
# approval says; never silently.
. "$(dirname -- "$0")/lib.sh"

new_env
for f in vendor-signed-hello-setup.exe vendor-signed-hello-1.0.msi; do
	cp "$INST/$f" "$T/$f"
done
vpe=$T/vendor-signed-hello-setup.exe
vmsi=$T/vendor-signed-hello-1.0.msi
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')

# refuse (the default when the approval says nothing)
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")"
approval vmsi vendor-signed-hello-1.0.msi "$(sha256 "$vmsi")"
sg 3 sign --config "$CFG" --out-dir "$T/o" "$vpe" "$vmsi"
expect_in "$T/out" "input already carries an Authenticode signature and approval vpe says existing_signature=refuse"
expect_in "$T/out" "approval vmsi says existing_signature=refuse"
expect_absent "$T/o/vendor-signed-hello-setup.exe"
expect_absent "$T/o/vendor-signed-hello-1.0.msi"
expect_same "$(audit_field 1 input.signed_before)" True

# replace: ours becomes the only (primary) signature
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "replace"'
approval vmsi vendor-signed-hello-1.0.msi "$(sha256 "$vmsi")" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out-dir "$T/o" "$vpe" "$vmsi"
for f in "$T/o/vendor-signed-hello-setup.exe" "$T/o/vendor-signed-hello-1.0.msi"; do
	osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -in "$f" >"$T/ov" 2>&1 ||
		fail "osslsigncode verify failed on the replaced signature"
	expect_in "$T/ov" "Number of verified signatures: 1"
	expect_not_in "$T/ov" "Vendor Test Code Signing"
done
sg 0 verify --config "$CFG" "$T/o/vendor-signed-hello-setup.exe"

# nest: the vendor's primary stays, ours is appended and verified as the last
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/nested.exe" "$vpe"
expect_in "$T/out" "signer SHA-1 $thumb"
osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -in "$T/nested.exe" >"$T/ov" 2>&1 || true
expect_in "$T/ov" "Signature Index: 1"
expect_in "$T/ov" "Vendor Test Code Signing"
expect_same "$(audit_field 0 signature.index)" 1
expect_same "$(audit_field 0 signature.signatures)" 2

# Windows checks only the primary signature: verifying the nested file as the
# site server would fails, because the primary is the vendor's.
sg 3 verify --config "$CFG" "$T/nested.exe"
expect_in "$T/out" "signature 0"

# The vendor-signed input is never modified.
expect_same "$(sha256 "$vpe")" "$(sha256 "$INST/vendor-signed-hello-setup.exe")"
done_ok
