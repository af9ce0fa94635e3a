#!/usr/bin/env bash
# "Signed by the vendor" is a signature of this file (README, "Signed by the
# vendor: what counts"): besides one SignedData with one signer, its content
# is SpcIndirectData of the file's format whose SHA-256 file digest is
# signgate's own Authenticode digest of the file, and every nested value is
# a SignedData with one signer (so signgate numbers signatures as
# osslsigncode does). Anything else in the container is denied as
# malformed (exit 3, status format) under every existing_signature rule.
# A broken container is reported by its own reason, its entry names
# readable. Real vendor signatures on each format still count as signed
# (integration.existing_unreadable, cab, sign_script, msi_family).
. "$(dirname -- "$0")/lib.sh"

new_env
V=$FIX/vendor
vpe=$INST/vendor-signed-hello-setup.exe

# deny_all FILE TEXT: denied under refuse, replace and nest, TEXT in the reason.
deny_all() {
	local f=$1 b rule
	b=$(basename "$f")
	for rule in refuse replace nest; do
		rm -f "$T/env/policy/"*.json
		approval x "$b" "$(sha256 "$f")" ", \"existing_signature\": \"$rule\""
		sg 3 sign --config "$CFG" --out "$T/o-$rule-$b" "$f"
		expect_in "$T/out" "denied   $f: $b: its "
		expect_in "$T/out" "$2"
		expect_absent "$T/o-$rule-$b"
		expect_same "$(audit_field 0 decision)" denied
		expect_same "$(audit_field 0 status)" format
	done
}

# 1. A nested value whose ContentInfo is "data", not SignedData: osslsigncode
# skips it when numbering; signgate denies the file.
osslsigncode sign -nest -h sha256 -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$vpe" -out "$T/two.exe" >/dev/null
/usr/bin/python3 - "$T/two.exe" "$T/gn-setup.exe" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
oid = bytes.fromhex("06092A864886F70D010702")
i = b.find(oid); j = b.find(oid, i + 1); assert j > 0, (i, j)
b[j + len(oid) - 1] = 0x01
open(sys.argv[2], "wb").write(b)
PY
deny_all "$T/gn-setup.exe" "its certificate table claims a signature signgate cannot read (nested signature 1 is no SignedData with one signer)"

# 2. The vendor's real SHA-1 signature: signgate computes SHA-256 digests only.
osslsigncode sign -h sha1 -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$INST/hello-setup.exe" -out "$T/sha1-setup.exe" >/dev/null
deny_all "$T/sha1-setup.exe" "(signature 0: the file digest is not SHA-256 (it is SHA1): signgate computes the Authenticode digest with SHA-256 only)"

# 3. The vendor's MSI signature on another member of the family (same SIP,
# another file): osslsigncode writes the stream, then finds it wrong.
osslsigncode sign -h sha256 -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$INST/hello-1.0.msi" -out "$T/v.msi" >/dev/null
osslsigncode extract-signature -in "$T/v.msi" -out "$T/v.der" >/dev/null 2>&1 ||
	fail "cannot extract the vendor's MSI signature"
osslsigncode attach-signature -sigin "$T/v.der" -in "$INST/hello-1.0.msm" \
	-out "$T/lifted-1.0.msm" >/dev/null 2>&1 || true
[ -s "$T/lifted-1.0.msm" ] || fail "osslsigncode wrote no lifted-1.0.msm"
deny_all "$T/lifted-1.0.msm" "its DigitalSignature stream claims a signature signgate cannot read (it signs the file digest "
expect_in "$T/out" ": the file is not what its signature covers)"

# 4. Bytes appended after a vendor-signed PE's table: outside every digest.
{ cat "$vpe"; printf 'APPENDED'; } >"$T/app-setup.exe"
rm -f "$T/env/policy/"*.json
approval x app-setup.exe "$(sha256 "$T/app-setup.exe")" ', "existing_signature": "nest"'
sg 3 sign --config "$CFG" --out "$T/o-app.exe" "$T/app-setup.exe"
expect_in "$T/out" "denied   $T/app-setup.exe: app-setup.exe: certificate table (offset "
expect_in "$T/out" ") is not at the end of the file ("
expect_absent "$T/o-app.exe"
expect_same "$(audit_field 0 status)" format

# 5. An MSI whose \x05SummaryInformation is renamed \x05DigitalSignature:
# the reason is the structure's, the name shown as \x05.
/usr/bin/python3 - "$T/v.msi" "$T/dup-1.0.msi" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
old = "\x05SummaryInformation".encode("utf-16-le")
new = "\x05DigitalSignature".encode("utf-16-le")
i = b.find(old); assert i > 0 and b.find(old, i + 1) < 0
b[i:i + 64] = (new + b"\0" * 64)[:64]
struct.pack_into("<H", b, i + 0x40, len(new) + 2)
open(sys.argv[2], "wb").write(b)
PY
deny_all "$T/dup-1.0.msi" "its DigitalSignature stream cannot be read as its format requires (a storage holds two entries named \"\\x05DigitalSignature\")"
expect_not_in "$T/out" "claims a signature"
done_ok
