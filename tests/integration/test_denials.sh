#!/usr/bin/env bash
# Every kind of bad input is denied with exit 3, a reason that names it, no
# output file, an unchanged input, and an audit record.
. "$(dirname -- "$0")/lib.sh"

new_env
pe=$INST/hello-setup.exe
pe_sum=$(sha256 "$pe")
today=$(date -u +%F)
yesterday=$(date -u -d yesterday +%F)

# Unapproved: the policy approves something else only.
approval other other-setup.exe "$(sha256 "$INST/other-setup.exe")"
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$pe"
expect_in "$T/out" "denied   $pe: hello-setup.exe: no approval matches SHA-256 $pe_sum (default deny)"
expect_absent "$T/out1/hello-setup.exe"

# Hash mismatch: an approval for this file name with the vendor's other value.
approval hello-exe hello-setup.exe "$(printf '%064d' 7)"
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$pe"
expect_in "$T/out" "hello-setup.exe: SHA-256 does not match the vendor value in approval hello-exe"
expect_absent "$T/out1/hello-setup.exe"

# A tampered copy (one byte changed) of an approved file.
approval hello-exe hello-setup.exe "$pe_sum"
cp "$pe" "$T/hello-setup.exe"
printf 'X' | dd of="$T/hello-setup.exe" bs=1 seek=4000 conv=notrunc 2>/dev/null
sg 3 check --config "$CFG" "$T/hello-setup.exe"
expect_in "$T/out" "SHA-256 does not match the vendor value in approval hello-exe"

# SHA-512 approvals are checked too (both given: both must match).
approval hello-exe hello-setup.exe "$pe_sum" ", \"sha512\": \"$(printf '%0128d' 1)\""
sg 3 check --config "$CFG" "$pe"
expect_in "$T/out" "SHA-512 does not match the vendor value in approval hello-exe"
approval hello-exe hello-setup.exe "$pe_sum" ", \"sha512\": \"$(sha512 "$pe" | tr a-f A-F)\""
sg 0 check --config "$CFG" "$pe"
expect_in "$T/out" "approved $pe: approved by hello-exe (the approval file names j.doe, not verified; ticket SEC-1)"

# Expired: "expires" is the last valid day (UTC).
approval hello-exe hello-setup.exe "$pe_sum" ", \"expires\": \"$yesterday\""
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$pe"
expect_in "$T/out" "approval hello-exe expired on $yesterday"
expect_absent "$T/out1/hello-setup.exe"
approval hello-exe hello-setup.exe "$pe_sum" ", \"expires\": \"$today\""
sg 0 check --config "$CFG" "$pe"

# Revoked wins over a valid approval.
cat >"$T/env/policy/zz-revoked.json" <<JSON
{ "revoked": [ { "sha256": "$pe_sum", "reason": "vendor withdrew 1.0 (SEC-9)" } ] }
JSON
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$pe"
expect_in "$T/out" "hello-setup.exe: digest is revoked: vendor withdrew 1.0 (SEC-9)"
expect_absent "$T/out1/hello-setup.exe"
rm "$T/env/policy/zz-revoked.json"

# The approval's file name must match the input's base name.
cp "$pe" "$T/renamed.exe"
sg 3 check --config "$CFG" "$T/renamed.exe"
expect_in "$T/out" "approval hello-exe is for file \"hello-setup.exe\", not \"renamed.exe\""

# Not an installer, even when its digest is approved.
approval notes notes.txt "$(sha256 "$INST/notes.txt")"
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$INST/notes.txt"
expect_in "$T/out" "notes.txt: not an installer signgate signs (pe, msi, msp, msm, mst, cab, powershell)"
expect_absent "$T/out1/notes.txt"

# Truncated installers, even when the truncated bytes are approved.
approval trunc-exe truncated-setup.exe "$(sha256 "$INST/truncated-setup.exe")"
approval trunc-msi truncated.msi "$(sha256 "$INST/truncated.msi")"
sg 3 sign --config "$CFG" --out-dir "$T/out1" "$INST/truncated-setup.exe" "$INST/truncated.msi"
expect_in "$T/out" "truncated-setup.exe: truncated: section"
expect_in "$T/out" "truncated.msi: truncated"
expect_absent "$T/out1/truncated-setup.exe"
expect_absent "$T/out1/truncated.msi"

# An empty file and a missing one.
: >"$T/empty.exe"
sg 3 check --config "$CFG" "$T/empty.exe"
expect_in "$T/out" "empty.exe: empty file"
sg 1 check --config "$CFG" "$T/missing.exe"
expect_in "$T/out" "missing.exe: cannot open: No such file or directory"

# One bad input among good ones: the others still go through; exit 3.
approval hello-exe hello-setup.exe "$pe_sum"
sg 3 sign --config "$CFG" --out-dir "$T/out2" "$INST/notes.txt" "$pe"
expect_in "$T/out" "signed   $pe -> $T/out2/hello-setup.exe"
[ -f "$T/out2/hello-setup.exe" ] || fail "the approved input was not signed"
ok
expect_absent "$T/out2/notes.txt"

# A certificate table of two WIN_CERTIFICATE entries (the vendor's entry
# twice): a structure denial with the reason, even when the digest is approved
# and the approval replaces existing signatures; before, it passed the check
# and failed inside osslsigncode (exit 1).
/usr/bin/python3 - "$INST/vendor-signed-hello-setup.exe" "$T/two-entries.exe" <<'PY2'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
nt = struct.unpack_from("<I", b, 0x3c)[0]
opt = nt + 24
fixed = 96 if struct.unpack_from("<H", b, opt)[0] == 0x10b else 112
d = opt + fixed + 8 * 4
off, size = struct.unpack_from("<II", b, d)
assert off and off + size == len(b), "the fixture is not signed as expected"
entry = b[off:off + size]
b += entry
struct.pack_into("<I", b, d + 4, 2 * size)
open(sys.argv[2], "wb").write(b)
PY2
approval two-entries two-entries.exe "$(sha256 "$T/two-entries.exe")" ', "existing_signature": "replace"'
sg 3 sign --config "$CFG" --out-dir "$T/out3" "$T/two-entries.exe"
expect_in "$T/out" "denied   $T/two-entries.exe: two-entries.exe: certificate table holds 2 entries (the second at offset"
expect_in "$T/out" "only one is allowed"
expect_absent "$T/out3/two-entries.exe"
/usr/bin/python3 -c 'import json, sys
rec = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert rec["decision"] == "denied", rec["decision"]
assert "certificate table holds 2 entries" in rec["reasons"][0], rec["reasons"]
assert rec["input"]["name"] == "two-entries.exe"' "$LOG" || fail "no denied record for two-entries.exe"
ok
sg 3 check --config "$CFG" "$T/two-entries.exe"
expect_in "$T/out" "certificate table holds 2 entries"

# Other ways to put more than one signature in the certificate table: each
# is a structure denial (exit 3) with its reason, never a file osslsigncode
# or Windows is left to judge.
/usr/bin/python3 - "$INST/vendor-signed-hello-setup.exe" "$T" <<'PY3'
import struct, sys
b = bytes(open(sys.argv[1], "rb").read())
nt = struct.unpack_from("<I", b, 0x3c)[0]
opt = nt + 24
fixed = 96 if struct.unpack_from("<H", b, opt)[0] == 0x10b else 112
d = opt + fixed + 8 * 4
off, size = struct.unpack_from("<II", b, d)
length, rev, typ = struct.unpack_from("<IHH", b, off)
der = b[off + 8:off + length]
der = der[:2 + (der[1] & 0x7f) + int.from_bytes(der[2:2 + (der[1] & 0x7f)], "big")] if der[1] & 0x80 else der[:2 + der[1]]
def pad8(x):
    return x + b"\0" * (-len(x) % 8)
def out(name, table, head=b[:off]):
    f = bytearray(head + table)
    struct.pack_into("<I", f, d + 4, len(table))
    open(sys.argv[2] + "/" + name, "wb").write(f)
entry = pad8(struct.pack("<IHH", 8 + len(der), 0x0200, 2) + der)
# a second entry of length 0
out("second-empty.exe", entry + struct.pack("<IHH", 0, 0x0200, 2))
# dwLength larger than the table
out("long-entry.exe", struct.pack("<IHH", len(entry) + 8, 0x0200, 2) + entry[8:])
# revision 1.0
out("rev-0100.exe", pad8(struct.pack("<IHH", 8 + len(der), 0x0100, 2) + der))
# a second PKCS#7 inside the entry, after the first (dwLength covers both)
out("two-der.exe", pad8(struct.pack("<IHH", 8 + 2 * len(der), 0x0200, 2) + der + der))
# a second PKCS#7 after the entry, inside the table, with no entry header
out("der-after.exe", entry + pad8(der))
PY3
for bad in "second-empty.exe:has length 0 (must be 8.." \
	"long-entry.exe:(must be 8.." \
	"rev-0100.exe:has revision 0x0100, not 0x0200" \
	"two-der.exe:bytes after its signature (data hidden outside the signed digest)" \
	"der-after.exe:certificate entry at offset"; do
	f=${bad%%:*}
	sg 3 check --config "$CFG" "$T/$f"
	expect_in "$T/out" "denied   $T/$f: $f: "
	expect_in "$T/out" "${bad#*:}"
done

# Every decision above is in the log, denials with their reasons.
sg 0 audit verify --config "$CFG"
grep -c '"decision":"denied"' "$LOG" >"$T/count"
[ "$(cat "$T/count")" -ge 12 ] || fail "expected at least 12 denial records, got $(cat "$T/count")"
ok
expect_in "$LOG" '"reasons":["hello-setup.exe: digest is revoked: vendor withdrew 1.0 (SEC-9)"]'
expect_same "$(sha256 "$pe")" "$pe_sum"
done_ok
