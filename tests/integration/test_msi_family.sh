#!/usr/bin/env bash
# Windows Installer patches (.msp), merge modules (.msm) and transforms
# (.mst), each a row of the format table sharing the MSI code: the fixture's
# files (wixl output whose root class is the type's) sign, timestamped, and
# verify with signgate and osslsigncode; signgate's own digest is the one
# osslsigncode computes; the audit record names the format; an already
# signed patch is refused, replaced or nested as its approval says; a name
# whose extension disagrees with the root class is refused naming both;
# `sign --recursive` picks the three up; `policy approve` takes a patch
# against a vendor manifest.
. "$(dirname -- "$0")/lib.sh"

tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
V=$FIX/vendor
mkdir -p "$T/in"
cp "$INST/hello-1.0.msp" "$INST/hello-1.0.msm" "$INST/hello-1.0.mst" "$T/in/"
cp "$INST/vendor-signed-hello-1.0.msp" "$T/in/vmsp.msp"

# over FILE INDEX: osslsigncode verifies signature INDEX of FILE, with its
# timestamp; its own digest of the file ("Calculated DigitalSignature") goes
# to $T/calc.
over() {
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp \
		-CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -index "$2" -in "$1" >"$T/ov" 2>&1 ||
		fail "osslsigncode verify -index $2 failed on ${1##*/}: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
	expect_not_in "$T/ov" "verification: failed"
	sed -n 's/^Calculated DigitalSignature *: *\([0-9A-F]*\).*/\1/p' "$T/ov" | head -1 >"$T/calc"
	[ -s "$T/calc" ] || fail "osslsigncode printed no computed digest for ${1##*/}"
}
# root_class FILE: the root storage's class of the compound file FILE.
root_class() {
	/usr/bin/python3 - "$1" <<'PY'
import struct, sys, uuid
d = open(sys.argv[1], "rb").read()
shift, = struct.unpack_from("<H", d, 0x1E)
first_dir, = struct.unpack_from("<I", d, 0x30)
root = (first_dir + 1) << shift
print(uuid.UUID(bytes_le=d[root + 0x50:root + 0x60]))
PY
}
# record FILE FIELD: FIELD (dotted path) of the signing record of FILE.
record() {
	/usr/bin/python3 - "$LOG" "$1" "$2" <<'PY'
import json, sys
log, name, path = sys.argv[1:4]
hit = None
for line in open(log):
    r = json.loads(line)
    if r.get("input", {}).get("path", "").endswith("/" + name):
        hit = r
for key in path.split("."):
    hit = hit.get(key) if isinstance(hit, dict) else None
print(hit)
PY
}

# 1. Each type signs, and every verifier agrees; the digest signgate signed
# is osslsigncode's own computation of the signed file's digest.
new_env ", \"timestamp_urls\": [\"$tsa\"]"
for f in hello-1.0.msp hello-1.0.msm hello-1.0.mst; do
	approval "a-${f##*.}" "$f" "$(sha256 "$T/in/$f")"
done
sg 0 sign --config "$CFG" --out-dir "$T/o" "$T/in/hello-1.0.msp" "$T/in/hello-1.0.msm" \
	"$T/in/hello-1.0.mst"
for f in hello-1.0.msp hello-1.0.msm hello-1.0.mst; do
	over "$T/o/$f" 0
	expect_same "$(record "$f" decision)" signed
	expect_same "$(record "$f" input.format)" "${f##*.}"
	expect_same "$(record "$f" signature.attached_by)" "osslsigncode attach-signature"
	expect_same "$(record "$f" signature.signed_digest)" "$(cat "$T/calc")"
	# The output keeps the type's class: it is still the same kind of file.
	expect_same "$(root_class "$T/o/$f")" "$(root_class "$T/in/$f")"
done
expect_same "$(root_class "$T/o/hello-1.0.msp")" 000c1086-0000-0000-c000-000000000046
expect_same "$(root_class "$T/o/hello-1.0.mst")" 000c1082-0000-0000-c000-000000000046
expect_same "$(root_class "$T/o/hello-1.0.msm")" 000c1084-0000-0000-c000-000000000046
sg 0 verify --config "$CFG" "$T/o/hello-1.0.msp" "$T/o/hello-1.0.msm" "$T/o/hello-1.0.mst"
for f in hello-1.0.msp hello-1.0.msm hello-1.0.mst; do
	expect_in "$T/out" "valid    $T/o/$f: valid: signed by"
done
ok

# 2. Changed after signing: the patch's digest no longer matches.
# (one bit of the embedded cabinet, "MSCF", flipped)
cp "$T/o/hello-1.0.msp" "$T/tampered.msp"
/usr/bin/python3 - "$T/tampered.msp" <<'PY' || fail "cannot flip a bit of the cabinet"
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
at = d.find(b"MSCF")
assert at >= 0, "no cabinet"
d[at + 200] ^= 1
open(p, "wb").write(d)
PY
sg 3 verify --config "$CFG" "$T/tampered.msp"
expect_in "$T/out" "tampered.msp: signature 0: the file's digest does not match the signed value (the file was changed after signing)"
ok

# 3. Already signed: refused by default, then replaced, then nested.
approval vmsp vmsp.msp "$(sha256 "$T/in/vmsp.msp")"
sg 3 sign --config "$CFG" --out-dir "$T/r" "$T/in/vmsp.msp"
expect_in "$T/out" "approval vmsp says existing_signature=refuse"
expect_absent "$T/r/vmsp.msp"
expect_same "$(audit_field 0 input.signed_before)" True
expect_same "$(audit_field 0 input.format)" msp
approval vmsp vmsp.msp "$(sha256 "$T/in/vmsp.msp")" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out-dir "$T/r" "$T/in/vmsp.msp"
over "$T/r/vmsp.msp" 0
expect_in "$T/ov" "Number of verified signatures: 1"
expect_not_in "$T/ov" "Vendor Test Code Signing"
approval vmsp vmsp.msp "$(sha256 "$T/in/vmsp.msp")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/nested.msp" "$T/in/vmsp.msp"
over "$T/nested.msp" 1
osslsigncode verify -CAfile "$V/vendor.pem" -ignore-cdp -index 0 -in "$T/nested.msp" >"$T/ov" 2>&1 ||
	fail "the vendor's primary signature no longer verifies: $(tail -5 "$T/ov")"
expect_in "$T/ov" "Signature verification: ok"
expect_same "$(audit_field 0 signature.signatures)" 2
ok

# 4. The name says one type, the root class another: refused, naming both,
# before anything is signed (an MSI renamed .msp; a patch renamed .msi).
rm -f -- "$T/env/policy"/*.json
cp "$INST/hello-1.0.msi" "$T/in/renamed.msp"
cp "$INST/hello-1.0.msp" "$T/in/renamed.msi"
approval ren1 renamed.msp "$(sha256 "$T/in/renamed.msp")"
approval ren2 renamed.msi "$(sha256 "$T/in/renamed.msi")"
sg 3 sign --config "$CFG" --out-dir "$T/x" "$T/in/renamed.msp" "$T/in/renamed.msi"
expect_in "$T/out" "renamed.msp: named as an MSI patch (.msp) but it is an MSI package (root CLSID {000C1084-0000-0000-C000-000000000046})"
expect_in "$T/out" "renamed.msi: named as an MSI package (.msi) but it is an MSI patch (root CLSID {000C1086-0000-0000-C000-000000000046})"
expect_absent "$T/x/renamed.msp"
expect_absent "$T/x/renamed.msi"
expect_same "$(audit_field 0 decision)" denied
ok

# 5. --recursive takes the three types (and nothing else) from a folder.
rm -f -- "$T/env/policy"/*.json
mkdir -p "$T/tree/sub"
cp "$INST/hello-1.0.msp" "$T/tree/"
cp "$INST/hello-1.0.mst" "$T/tree/sub/"
cp "$INST/hello-1.0.msm" "$T/tree/sub/HELLO.MSM"
cp "$INST/notes.txt" "$T/tree/"
cp "$INST/hello-1.0.msi" "$T/tree/hello.msix"
approval p hello-1.0.msp "$(sha256 "$INST/hello-1.0.msp")"
approval t hello-1.0.mst "$(sha256 "$INST/hello-1.0.mst")"
approval m HELLO.MSM "$(sha256 "$INST/hello-1.0.msm")"
sg 0 sign --config "$CFG" --recursive --out-dir "$T/ro" "$T/tree"
for f in hello-1.0.msp hello-1.0.mst HELLO.MSM; do
	[ -s "$T/ro/$f" ] || fail "--recursive did not sign $f"
done
expect_absent "$T/ro/notes.txt"
expect_absent "$T/ro/hello.msix"
expect_same "$(tail -n 3 "$LOG" | grep -c '"decision":"signed"')" 3
expect_same "$(record HELLO.MSM input.format)" msm
expect_same "$(record hello-1.0.mst input.format)" mst
ok

# 6. policy approve: a patch checked against the vendor's manifest.
rm -f -- "$T/env/policy"/*.json
POL=$T/env/policy
cp "$SG_SRC/policy/catalog.json" "$POL/catalog.json"
mkdir -p "$T/vendor"
cp "$INST/hello-1.0.msp" "$T/vendor/"
(cd "$T/vendor" && sha256sum hello-1.0.msp >SHA256SUMS)
sg 0 policy approve --config "$CFG" --vendor Example --ticket CHG-7 \
	--not-in-catalog "test patch (CHG-7)" --product Hello --version 1.0.1 \
	--manifest "$T/vendor/SHA256SUMS" --source https://example.invalid/ "$T/vendor/hello-1.0.msp"
expect_in "$T/out" "approved hello-1.0.msp"
expect_same "$(audit_field 0 decision)" approved
expect_same "$(jq -r '.approvals[0].file' "$POL"/hello-1.0.1.json)" hello-1.0.msp
sg 0 check --config "$CFG" "$T/vendor/hello-1.0.msp"
ok
done_ok
