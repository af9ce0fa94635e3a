#!/usr/bin/env bash
# Red team R2: a vendor MSI signed with MsiDigitalSignatureEx whose
# Ex stream no longer holds the pre-hash (one byte changed). Under
# existing_signature=nest the input's own defect is found while signing
# (prehash(), SG_ERR_VERIFY) and recorded as decision "failed" with status
# "verify" and exit 3: a verdict code under the word for a failure to work,
# and the message names the file three times ("bad.msi: bad.msi: bad.msi:").
# What the input is (a malformed signed MSI) is the input's verdict:
# expected here "denied" with status "format", the file named once.
# FAILS on 33e5803.
. "$(dirname -- "$0")/lib.sh"

new_env
V=$FIX/vendor
osslsigncode sign -h sha256 -add-msi-dse -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$INST/hello-1.0.msi" -out "$T/dse.msi" >/dev/null
ex=$({ osslsigncode verify -in "$T/dse.msi" 2>&1 || true; } |
	sed -n 's/^Current MsiDigitalSignatureEx *: *\([0-9A-F]*\).*/\1/p')
[ -n "$ex" ] || fail "no MsiDigitalSignatureEx in the vendor-signed MSI"
/usr/bin/python3 - "$T/dse.msi" "$T/bad.msi" "$ex" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
h = bytes.fromhex(sys.argv[2 + 1])
i = b.find(h)
assert i > 0 and b.find(h, i + 1) < 0
b[i] ^= 1
open(sys.argv[2], "wb").write(b)
PY
approval d bad.msi "$(sha256 "$T/bad.msi")" ', "existing_signature": "nest"'
sg 3 sign --config "$CFG" --out "$T/o.msi" "$T/bad.msi"
expect_in "$T/out" "MsiDigitalSignatureEx is not the pre-hash"
# The line is "denied   PATH: MESSAGE" (as for every input) and the message
# names the file once: "bad.msi: its ...", never "bad.msi: bad.msi: ...".
expect_in "$T/out" "denied   $T/bad.msi: bad.msi: its DigitalSignature stream claims a signature signgate cannot read (MsiDigitalSignatureEx is not the pre-hash"
expect_not_in "$T/out" "bad.msi: bad.msi: bad.msi:"
expect_same "$(grep -o 'bad\.msi' "$T/out" | wc -l)" 2
# The same under every rule: the vendor's signature does not cover the file.
for rule in refuse replace; do
	approval d bad.msi "$(sha256 "$T/bad.msi")" ", \"existing_signature\": \"$rule\""
	sg 3 sign --config "$CFG" --out "$T/o-$rule.msi" "$T/bad.msi"
	expect_in "$T/out" "denied   $T/bad.msi: bad.msi: its DigitalSignature stream claims a signature signgate cannot read (MsiDigitalSignatureEx is not the pre-hash"
	expect_absent "$T/o-$rule.msi"
	expect_same "$(audit_field 0 decision)" denied
	expect_same "$(audit_field 0 status)" format
done
approval d bad.msi "$(sha256 "$T/bad.msi")" ', "existing_signature": "nest"'
sg 3 sign --config "$CFG" --out "$T/o.msi" "$T/bad.msi"
expect_absent "$T/o.msi"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(audit_field 0 status)" format
done_ok
