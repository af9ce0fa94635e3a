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
# A certificate table whose one entry holds DER that is no SignedData.
printf '\x30\x08\x02\x01\x05\x04\x03abc' >"$T/garbage.der"
put_table "$INST/hello-setup.exe" "$T/garbage.der" "$T/npp.exe"
sg 3 policy approve --config "$CFG" --vendor "Notepad++ Team" --ticket CHG-1 --product "Notepad++" \
	--version 8.6 --source https://example.invalid/ "--sha256=$(sha256 "$T/npp.exe")" "$T/npp.exe"
cat "$T/out" "$T/err" >"$T/both"
grep -qF "claims a signature signgate cannot read" "$T/both" || fail "no reason given"
ok
expect_same "$(find "$POL" -name 'notepad*' | wc -l | tr -d ' ')" 0
done_ok
