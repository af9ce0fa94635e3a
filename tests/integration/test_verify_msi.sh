#!/usr/bin/env bash
# MSIs signed with MsiDigitalSignatureEx (signtool's default, osslsigncode
# -add-msi-dse) verify; a stream or the MsiDigitalSignatureEx value changed
# after signing does not. signgate computes the MSI digest itself
# (lib/format/msi_digest.c) and compares it with the signed one before osslsigncode.
. "$(dirname -- "$0")/lib.sh"

new_env
ossl_sign() { # IN OUT [OPTIONS...]
	local in=$1 out=$2
	shift 2
	/usr/bin/osslsigncode sign -pkcs12 "$PKI/signer.p12" -readpass "$PKI/signer.pass" \
		-h sha256 "$@" -in "$in" -out "$out" >/dev/null || fail "osslsigncode sign $*"
}
# flip FILE HEX_PATTERN DELTA: flip one bit DELTA bytes after the pattern's first occurrence.
flip() {
	/usr/bin/python3 - "$@" <<'PY' || fail "flip $*"
import sys
path, pattern, delta = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
b = bytearray(open(path, "rb").read())
at = b.find(pattern)
assert at >= 0, "pattern not found"
b[at + delta] ^= 1
open(path, "wb").write(b)
PY
}
V=(verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem")

ossl_sign "$INST/hello-1.0.msi" "$T/dse.msi" -add-msi-dse
ossl_sign "$INST/hello-1.0.msi" "$T/plain.msi"
ossl_sign "$T/dse.msi" "$T/nested.msi" -add-msi-dse -nest
sg 0 "${V[@]}" "$T/dse.msi" "$T/plain.msi" "$T/nested.msi"
expect_in "$T/out" "valid    $T/dse.msi: valid: signed by CN=Example Corp Code Signing"
expect_in "$T/out" "valid    $T/nested.msi: valid: signed by"

# The cabinet stream ("MSCF") changed after signing.
cp "$T/dse.msi" "$T/cab.msi"
flip "$T/cab.msi" 4d534346 200
sg 3 "${V[@]}" "$T/cab.msi"
expect_in "$T/out" "cab.msi: signature 0: the file's digest does not match the signed value (the file was changed after signing): signgate computed"

# The MsiDigitalSignatureEx value changed after signing.
dse=$(/usr/bin/osslsigncode verify -in "$T/dse.msi" -CAfile "$PKI/root.pem" -ignore-cdp \
	-ignore-crl | sed -n 's/^Current MsiDigitalSignatureEx *: \([0-9A-F]*\).*/\1/p')
[ ${#dse} -eq 64 ] || fail "no MsiDigitalSignatureEx value in osslsigncode's report"
cp "$T/dse.msi" "$T/dse-changed.msi"
flip "$T/dse-changed.msi" "$dse" 31
sg 3 "${V[@]}" "$T/dse-changed.msi"
expect_in "$T/out" "dse-changed.msi: the file's MSI digest cannot be established: MsiDigitalSignatureEx is not the pre-hash of the file's streams and storages"

# entry FILE NAME FIELD_OFFSET HEX: overwrite bytes of the directory entry
# named NAME (UTF-16LE, the first such entry) at FIELD_OFFSET with HEX.
entry() {
	/usr/bin/python3 - "$@" <<'PY' || fail "entry $*"
import struct, sys
path, name, field, val = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), bytes.fromhex(sys.argv[4])
b = bytearray(open(path, "rb").read())
want = name.encode("utf-16le") + b"\0\0"
at = b.find(want)
while at >= 0 and (at % 128 or struct.unpack_from("<H", b, at + 0x40)[0] != len(want)):
	at = b.find(want, at + 1)
assert at >= 0, "no entry named so"
b[at + field:at + field + len(val)] = val
open(path, "wb").write(b)
PY
}

# The signature stream turned into a storage of the same name: osslsigncode
# still reads it as the signature (and leaves it out of the digest), Windows
# finds no signature stream. A structure denial, not "valid".
for f in plain dse; do
	cp "$T/$f.msi" "$T/$f-sigstorage.msi"
	entry "$T/$f-sigstorage.msi" $'\x05DigitalSignature' 0x42 01
	sg 3 "${V[@]}" "$T/$f-sigstorage.msi"
	expect_in "$T/out" "$f-sigstorage.msi: directory entry 19 is a storage named like a signature stream"
done
cp "$T/dse.msi" "$T/dse-storage.msi"
entry "$T/dse-storage.msi" $'\x05MsiDigitalSignatureEx' 0x42 01
sg 3 "${V[@]}" "$T/dse-storage.msi"
expect_in "$T/out" "is a storage named like a signature stream"

# "Already signed" judges such an MSI right: our valid signature, so it is
# never signed again; signed outside signgate, no audit record traces it to
# vendor bytes, so it is denied (the one already-signed rule).
approval hello-msi dse.msi "$(sha256 "$T/dse.msi")"
sg 3 sign --config "$CFG" --out "$T/again.msi" "$T/dse.msi"
expect_in "$T/out" "dse.msi: already signed by us (signer SHA-1 "
expect_in "$T/out" "but the audit log holds no signing record of this file"
[ ! -e "$T/again.msi" ] || fail "an output was written for an untraceable signed MSI"

# A vendor MSI signed with MsiDigitalSignatureEx, as signtool signs: it
# verifies against the vendor's certificate; existing_signature "nest" keeps
# the vendor's primary and its pre-hash (osslsigncode must be told
# -add-msi-dse, or it refuses), "replace" drops both.
/usr/bin/osslsigncode sign -h sha256 -certs "$FIX/vendor/vendor.pem" -key "$FIX/vendor/vendor.key" \
	-add-msi-dse -in "$INST/hello-1.0.msi" -out "$T/vendor-dse.msi" >/dev/null ||
	fail "cannot make the vendor-signed MSI"
sg 0 verify --ca "$FIX/vendor/vendor.pem" "$T/vendor-dse.msi"
expect_in "$T/out" "valid    $T/vendor-dse.msi: valid: signed by CN=Vendor Test Code Signing"
approval vdse vendor-dse.msi "$(sha256 "$T/vendor-dse.msi")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/vendor-nested.msi" "$T/vendor-dse.msi"
expect_in "$T/out" "signed   $T/vendor-dse.msi -> $T/vendor-nested.msi (approval vdse"
sg 0 verify --ca "$FIX/vendor/vendor.pem" "$T/vendor-nested.msi"
approval vdse vendor-dse.msi "$(sha256 "$T/vendor-dse.msi")" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out "$T/vendor-replaced.msi" "$T/vendor-dse.msi"
sg 0 verify --config "$CFG" "$T/vendor-replaced.msi"
expect_in "$T/out" "valid    $T/vendor-replaced.msi: valid: signed by CN=Example Corp Code Signing"
done_ok
