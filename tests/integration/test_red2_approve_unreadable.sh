#!/usr/bin/env bash
# Red team R2: `policy approve` still judges "signed" by the container's
# presence (approve.c: format.has_signature), not by H-sign's rule (README
# "Signed by the vendor: what counts": one SignedData with one signer). A PE
# whose certificate table holds garbage, of a product the catalog lists as
# vendor_signs, is approved and recorded as signed; signing then denies it
# whatever the approval says. Approval and signing must agree: expected,
# policy approve refuses it (exit 3, the same reason) and writes nothing.
# FAILS on 33e5803 (exit 0, approval written).
. "$(dirname -- "$0")/lib.sh"

new_env
POL=$T/env/policy
cp "$SG_SRC/policy/catalog.json" "$POL/catalog.json"
/usr/bin/python3 - "$INST/hello-setup.exe" "$T/npp.exe" <<'PY'
import struct, sys
pe = bytearray(open(sys.argv[1], "rb").read())
der = b"\x30\x08\x02\x01\x05\x04\x03abc"
pe += b"\0" * (-len(pe) % 8)
off = struct.unpack_from("<I", pe, 0x3C)[0]
opt = off + 24
magic = struct.unpack_from("<H", pe, opt)[0]
dirs = opt + (96 if magic == 0x10B else 112)
cert = struct.pack("<IHH", 8 + len(der), 0x0200, 0x0002) + der
cert += b"\0" * (-len(cert) % 8)
struct.pack_into("<II", pe, dirs + 4 * 8, len(pe), len(cert))
open(sys.argv[2], "wb").write(pe + cert)
PY
sg 3 policy approve --config "$CFG" --vendor "Notepad++ Team" --ticket CHG-1 --product "Notepad++" \
	--version 8.6 --source https://example.invalid/ "--sha256=$(sha256 "$T/npp.exe")" "$T/npp.exe"
cat "$T/out" "$T/err" >"$T/both"
grep -qF "claims a signature signgate cannot read" "$T/both" || fail "no reason given"
ok
expect_same "$(find "$POL" -name 'notepad*' | wc -l | tr -d ' ')" 0
done_ok
