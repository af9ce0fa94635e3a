#!/usr/bin/env bash
# Approved PE (NSIS) and MSI (wixl) installers are signed, verified, published
# atomically, and recorded; the inputs are never modified.
. "$(dirname -- "$0")/lib.sh"

new_env
cp "$INST/hello-setup.exe" "$INST/hello-1.0.msi" "$T/"
chmod 0444 "$T/hello-setup.exe" "$T/hello-1.0.msi"
pe_sum=$(sha256 "$T/hello-setup.exe")
msi_sum=$(sha256 "$T/hello-1.0.msi")
approval hello-exe hello-setup.exe "$pe_sum"
approval hello-msi hello-1.0.msi "$msi_sum" ', "existing_signature": "refuse", "description": "Hello Installer", "url": "https://example.invalid/hello"'
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')

sg 0 sign --config "$CFG" --out-dir "$T/signed" "$T/hello-setup.exe" "$T/hello-1.0.msi"
expect_in "$T/out" "signed   $T/hello-setup.exe -> $T/signed/hello-setup.exe (approval hello-exe, signer SHA-1 $thumb"
expect_in "$T/out" "-> $T/signed/hello-1.0.msi (approval hello-msi"

# Inputs untouched; outputs differ from them and carry a signature.
expect_same "$(sha256 "$T/hello-setup.exe")" "$pe_sum"
expect_same "$(sha256 "$T/hello-1.0.msi")" "$msi_sum"
[ "$(sha256 "$T/signed/hello-setup.exe")" != "$pe_sum" ] || fail "PE output equals input"
ok
expect_same "$(stat -c %a "$T/signed/hello-setup.exe")" 644
ls -A "$T/signed" >"$T/listing"
expect_same "$(wc -l <"$T/listing")" 2 # no temporary files left behind

# Independent checks: osslsigncode against the root, and pefile sees a
# certificate table at the end of the PE.
osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -in "$T/signed/hello-setup.exe" >"$T/ov" 2>&1 ||
	fail "osslsigncode verify of the signed PE failed"
expect_in "$T/ov" "Signature verification: ok"
expect_in "$T/ov" "Number of verified signatures: 1"
osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -in "$T/signed/hello-1.0.msi" >"$T/ov" 2>&1 ||
	fail "osslsigncode verify of the signed MSI failed"
expect_in "$T/ov" "Signature verification: ok"
/usr/bin/python3 - "$T/signed/hello-setup.exe" <<'PY' || fail "pefile finds no certificate table at the end"
import sys, os, pefile
pe = pefile.PE(sys.argv[1], fast_load=True)
d = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
assert d.VirtualAddress > 0 and d.Size > 0
assert d.VirtualAddress + d.Size == os.path.getsize(sys.argv[1])
PY
ok
msiinfo streams "$T/signed/hello-1.0.msi" >"$T/streams"
expect_in "$T/streams" "DigitalSignature"

# signgate verify agrees, by config (leaf pinned) and by --ca.
sg 0 verify --config "$CFG" "$T/signed/hello-setup.exe" "$T/signed/hello-1.0.msi"
expect_in "$T/out" "valid    $T/signed/hello-setup.exe: valid: signed by CN=Example Corp Code Signing"
expect_in "$T/out" "(SHA-1 $thumb)"
sg 0 verify --ca "$PKI/root.pem" --json "$T/signed/hello-1.0.msi"
expect_in "$T/out" "\"decision\":\"valid\""
expect_in "$T/out" "\"sha1_thumbprint\":\"$thumb\""

# The description and URL from the approval are in the signature (osslsigncode
# prints the SpcSpOpusInfo it finds), and the defaults where an approval has none.
osslsigncode verify -CAfile "$PKI/root.pem" -CRLfile "$PKI/crl.pem" -ignore-cdp \
	-in "$T/signed/hello-1.0.msi" >"$T/ov" 2>&1 || true
expect_in "$T/ov" "Text description: Hello Installer"
expect_in "$T/ov" "URL description: https://example.invalid/hello"
osslsigncode verify -CAfile "$PKI/root.pem" -CRLfile "$PKI/crl.pem" -ignore-cdp \
	-in "$T/signed/hello-setup.exe" >"$T/ov" 2>&1 || true
expect_in "$T/ov" "Text description: Hello 1.0"
expect_in "$T/ov" "URL description: https://example.invalid/download"

# Audit: one record per file, with the fields reviewers need.
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "4 records, chain intact" # 2 signed, 2 verified
expect_same "$(audit_field 1 decision)" signed
expect_same "$(audit_field 1 input.sha256)" "$pe_sum"
expect_same "$(audit_field 1 input.format)" pe
expect_same "$(audit_field 2 input.format)" msi
expect_same "$(audit_field 1 approval.id)" hello-exe
expect_same "$(audit_field 1 approval.ticket)" SEC-1
expect_same "$(audit_field 1 approval.approved_by)" j.doe
expect_same "$(audit_field 1 output.sha256)" "$(sha256 "$T/signed/hello-setup.exe")"
expect_same "$(audit_field 1 signature.signer.sha1_thumbprint)" "$thumb"
expect_same "$(audit_field 1 actor.user)" "$(id -un)"
sha1b64=$(openssl dgst -sha1 -binary "$T/signed/hello-setup.exe" | base64)
expect_same "$(audit_field 1 output.sha1_base64)" "$sha1b64"

# An existing output is never overwritten without --force; with it, it is.
# (Our own output of this very input is "already signed": test_rerun.sh.)
before=$(sha256 "$T/signed/hello-setup.exe")
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$T/hello-setup.exe"
expect_in "$T/out" "already signed: $T/signed/hello-setup.exe exists and carries our valid signature"
expect_same "$(sha256 "$T/signed/hello-setup.exe")" "$before"
printf 'not a signed file\n' >"$T/signed/other.exe"
sg 1 sign --config "$CFG" --out "$T/signed/other.exe" "$T/hello-setup.exe"
expect_in "$T/out" "exists already (use --force to replace it)"
expect_same "$(cat "$T/signed/other.exe")" "not a signed file"
sg 0 sign --config "$CFG" --force --out "$T/signed/hello-setup.exe" "$T/hello-setup.exe"
sg 0 verify --config "$CFG" "$T/signed/hello-setup.exe"

# Signing into the input's own folder never replaces the input.
sg 2 sign --config "$CFG" --force --out-dir "$T" "$T/hello-setup.exe"
expect_in "$T/err" "the output would replace the input"
expect_same "$(sha256 "$T/hello-setup.exe")" "$pe_sum"

# --json: one object per input with the catalog digests.
sg 0 sign --config "$CFG" --json --out "$T/j.exe" "$T/hello-setup.exe"
expect_in "$T/out" '"decision":"signed"'
expect_in "$T/out" "\"sha256_base64\":\"$(openssl dgst -sha256 -binary "$T/j.exe" | base64)\""
expect_same "$(wc -l <"$T/out")" 1
done_ok
