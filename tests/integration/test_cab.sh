#!/usr/bin/env bash
# Cabinets (.cab) through the whole path: gcab cabinets (one file stored;
# four files in folders, MSZIP) are signed by the key helper over
# signgate's own digest, timestamped, attached by a keyless osslsigncode,
# and come out valid for osslsigncode verify and signgate verify, still
# readable by gcab with the same content; the audit record says "cab". A
# re-run over the outputs skips them (already signed by us); a
# vendor-signed cabinet is refused, replaced or nested as its approval
# says; a broken cabinet is denied with the structure check's reason, even
# when approved; a cabinet changed after signing is invalid; --recursive
# takes .cab files; policy approve checks a cabinet and writes its approval.
. "$(dirname -- "$0")/lib.sh"

tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
V=$FIX/vendor
mkdir -p "$T/in/sub"
cp "$INST/hello-1.0.cab" "$T/in/"
cp "$INST/payload-2.0.cab" "$T/in/sub/"
cp "$INST/vendor-signed-hello-1.0.cab" "$T/vcab.cab"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')

# over FILE INDEX: osslsigncode verifies signature INDEX of FILE, with its timestamp.
over() {
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp \
		-CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -index "$2" -in "$1" >"$T/ov" 2>&1 ||
		fail "osslsigncode verify -index $2 failed on ${1##*/}: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
	expect_not_in "$T/ov" "verification: failed"
}

# --recursive finds both cabinets (one in a subfolder); both are signed.
new_env ", \"timestamp_urls\": [\"$tsa\"]"
approval a-hello hello-1.0.cab "$(sha256 "$INST/hello-1.0.cab")"
approval a-payload payload-2.0.cab "$(sha256 "$INST/payload-2.0.cab")"
sg 0 sign --config "$CFG" --out-dir "$T/o" -r "$T/in"
expect_in "$T/out" "signed   $T/in/hello-1.0.cab -> $T/o/hello-1.0.cab (approval a-hello, signer SHA-1 $thumb"
expect_in "$T/out" "signed   $T/in/sub/payload-2.0.cab -> $T/o/payload-2.0.cab (approval a-payload"
expect_in "$T/err" "2 inputs: 2 signed, 0 skipped, 0 denied, 0 failed"
expect_same "$(jq -r 'select(.decision == "signed") | .input.format' "$LOG" | sort -u)" cab
expect_same "$(jq -r 'select(.decision == "signed") | .signature.attached_by' "$LOG" | sort -u)" \
	"osslsigncode attach-signature"
expect_same "$(jq -c 'select(.decision == "signed") | .signature.key_helper.pid | numbers' "$LOG" | wc -l)" 2
for f in hello-1.0.cab payload-2.0.cab; do
	over "$T/o/$f" 0
	# The signed cabinet still holds the same files, byte for byte.
	mkdir -p "$T/x/$f" "$T/y/$f"
	gcab -x -C "$T/x/$f" "$T/o/$f" >/dev/null 2>&1 || fail "gcab cannot extract the signed $f"
	gcab -x -C "$T/y/$f" "$(find "$T/in" -name "$f")" >/dev/null 2>&1 || fail "gcab: $f"
	diff -r "$T/x/$f" "$T/y/$f" >/dev/null || fail "the signed $f holds other files"
	ok
done
# The signed file's digest is the one signed: osslsigncode's calculated digest, and the record's.
osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" \
	-TSA-CRLfile "$PKI/crl.pem" -in "$T/o/payload-2.0.cab" >"$T/ov" 2>&1 || fail "verify"
calc=$(sed -n 's/^Calculated message digest *: *\([0-9A-F]*\).*/\1/p' "$T/ov")
[ -n "$calc" ] || fail "osslsigncode printed no calculated digest"
expect_same "$(jq -r 'select(.decision == "signed" and .input.name == "payload-2.0.cab")
	| .signature.signed_digest' "$LOG")" "$calc"
sg 0 verify --config "$CFG" "$T/o/hello-1.0.cab" "$T/o/payload-2.0.cab"
expect_same "$(grep -c '^valid ' "$T/out")" 2
expect_in "$T/out" "valid    $T/o/payload-2.0.cab: valid: signed by CN=Example Corp Code Signing"
expect_same "$(audit_field 0 input.format)" cab
expect_same "$(audit_field 0 decision)" valid

# Already signed by us: skipped, not signed again.
sg 0 sign --config "$CFG" --out-dir "$T/again" "$T/o/hello-1.0.cab"
expect_in "$T/out" "skipped  $T/o/hello-1.0.cab: already signed: it carries our valid signature (signer SHA-1 $thumb"
expect_absent "$T/again/hello-1.0.cab"
expect_same "$(audit_field 0 decision)" skipped

# Changed after signing: one byte of the compressed data.
cp "$T/o/payload-2.0.cab" "$T/bad.cab"
printf '\xff' | dd of="$T/bad.cab" bs=1 seek=2000 conv=notrunc 2>/dev/null
sg 3 verify --config "$CFG" "$T/bad.cab"
expect_in "$T/out" "bad.cab: signature 0: the file's digest does not match the signed value"

# Bytes after the DER in the signature blob (the reserve's blob size grown
# to cover them) are outside every digest: a signed cabinet carrying them is
# refused by the structure check, as a PE's certificate table would be.
/usr/bin/python3 - "$T/o/hello-1.0.cab" "$T/junk.cab" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
junk = b"payload hidden after the signature"
struct.pack_into("<I", b, 48, struct.unpack_from("<I", b, 48)[0] + len(junk))
open(sys.argv[2], "wb").write(b + junk)
PY
sg 3 verify --config "$CFG" "$T/junk.cab"
expect_in "$T/out" "junk.cab: the signature blob at offset "
expect_in "$T/out" "bytes after its signature (data hidden outside the signed digest)"

# A vendor-signed cabinet: refused by default, replaced, or nested.
approval vcab vcab.cab "$(sha256 "$T/vcab.cab")"
sg 3 sign --config "$CFG" --out-dir "$T/v" "$T/vcab.cab"
expect_in "$T/out" "input already carries an Authenticode signature and approval vcab says existing_signature=refuse"
expect_absent "$T/v/vcab.cab"
expect_same "$(audit_field 0 input.signed_before)" True
approval vcab vcab.cab "$(sha256 "$T/vcab.cab")" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out-dir "$T/v" "$T/vcab.cab"
over "$T/v/vcab.cab" 0
sg 0 verify --config "$CFG" --json "$T/v/vcab.cab"
expect_in "$T/out" '"signatures":1'
approval vcab vcab.cab "$(sha256 "$T/vcab.cab")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/nested.cab" "$T/vcab.cab"
over "$T/nested.cab" 1
osslsigncode verify -CAfile "$V/vendor.pem" -ignore-cdp -index 0 -in "$T/nested.cab" >"$T/ov" 2>&1 ||
	fail "the vendor's primary signature no longer verifies: $(tail -5 "$T/ov")"
expect_in "$T/ov" "Signature verification: ok"
expect_same "$(audit_field 0 signature.index)" 1
expect_same "$(audit_field 0 signature.signatures)" 2
# An osslsigncode that nests our signature and adds bytes after the blob's
# DER is caught: the nested output is checked as a cabinet, not only for its
# signatures (Landlock off for the wrapper, which runs python3).
cat >"$T/junk-ossl" <<SH
#!/bin/bash
out= prev=
for a in "\$@"; do [ "\$prev" = -out ] && out=\$a; prev=\$a; done
/usr/bin/osslsigncode "\$@" || exit \$?
[ "\$1" = attach-signature ] || exit 0
/usr/bin/python3 -c 'import struct,sys
b=bytearray(open(sys.argv[1],"rb").read())
struct.pack_into("<I",b,48,struct.unpack_from("<I",b,48)[0]+8)
open(sys.argv[1],"wb").write(b+b"JUNKJUNK")' "\$out"
SH
chmod 0755 "$T/junk-ossl"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/junk-ossl\"#" "$CFG"
SIGNGATE_CONFINE_FORCE=landlock=0 sg 3 sign --config "$CFG" --out "$T/nested-junk.cab" "$T/vcab.cab"
expect_in "$T/out" "bytes after its signature (data hidden outside the signed digest)"
expect_absent "$T/nested-junk.cab"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"/usr/bin/osslsigncode\"#" "$CFG"
# As the site server checks it (the primary): the vendor's, not trusted here.
sg 3 verify --config "$CFG" "$T/nested.cab"
expect_in "$T/out" "nested.cab: signature 0: signer chain does not verify"
# The vendor-signed input is never modified.
expect_same "$(sha256 "$T/vcab.cab")" "$(sha256 "$INST/vendor-signed-hello-1.0.cab")"

# policy approve: a cabinet checked against a vendor manifest becomes an
# approval (its structure checked and recorded as "cab"), which signing honours.
rm -f -- "$T/env/policy"/*.json
new_env
cp "$SG_SRC/policy/catalog.json" "$T/env/policy/catalog.json"
mkdir -p "$T/vendor"
cp "$INST/payload-2.0.cab" "$T/vendor/"
(cd "$T/vendor" && sha256sum payload-2.0.cab >SHA256SUMS)
sg 0 policy approve --config "$CFG" --vendor Example --ticket CHG-7 \
	--not-in-catalog "test product (CHG-7)" --product Payload --version 2.0 \
	--manifest "$T/vendor/SHA256SUMS" --source https://example.invalid/ "$T/vendor/payload-2.0.cab"
expect_in "$T/out" "approved payload-2.0.cab: wrote $T/env/policy/payload-2.0.json"
expect_same "$(jq -r '.approvals[0].sha256' "$T/env/policy/payload-2.0.json")" \
	"$(sha256 "$INST/payload-2.0.cab")"
expect_same "$(audit_field 0 action)" approve
expect_same "$(jq -r '.approvals[0].provenance.installer.format' "$T/env/policy/payload-2.0.json")" cab
sg 0 sign --config "$CFG" --out-dir "$T/ap" "$T/vendor/payload-2.0.cab"
expect_in "$T/out" "signed   $T/vendor/payload-2.0.cab -> $T/ap/payload-2.0.cab (approval payload-2.0"
# A broken cabinet is not approved: the structure check's reason, nothing written.
head -c 100 "$INST/payload-2.0.cab" >"$T/vendor/cut.cab"
(cd "$T/vendor" && sha256sum cut.cab >CUTSUMS)
sg 3 policy approve --config "$CFG" --vendor Example --ticket CHG-8 \
	--not-in-catalog "test product (CHG-8)" --product Cut --version 1.0 \
	--manifest "$T/vendor/CUTSUMS" --source https://example.invalid/ "$T/vendor/cut.cab"
expect_in "$T/out" "denied   cut.cab: cbCabinet says 5078 bytes, but the cabinet has 100 (the file's size)"
expect_absent "$T/env/policy/cut-1.0.json"

# Broken cabinets are denied with the structure check's reason, approved or not.
head -c 100 "$INST/payload-2.0.cab" >"$T/cut.cab"
{ cat "$INST/hello-1.0.cab"; printf 'x'; } >"$T/long.cab"
approval cut cut.cab "$(sha256 "$T/cut.cab")"
approval long long.cab "$(sha256 "$T/long.cab")"
sg 3 sign --config "$CFG" --out-dir "$T/b" "$T/cut.cab" "$T/long.cab"
expect_in "$T/out" "cut.cab: cbCabinet says 5078 bytes, but the cabinet has 100 (the file's size)"
expect_in "$T/out" "long.cab: cbCabinet says 119 bytes, but the cabinet has 120 (the file's size)"
expect_absent "$T/b/cut.cab"
expect_absent "$T/b/long.cab"
done_ok
