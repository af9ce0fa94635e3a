#!/usr/bin/env bash
# red16 A: a sealed log cut back (to nothing, or to before its seal) must not
# be reported "intact" with exit 0 while `audit verify` calls it broken;
# the report's verdict and verify's exit code agree.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing.exe"
seal_config
sg 0 audit seal --config "$CFG"
cp "$LOG" "$T/full.jsonl"

# 1. The log emptied: the seals file still says seq 3 was sealed.
: >"$LOG"
rc=0; "$SG_BIN" audit verify --config "$CFG" >"$T/v.out" 2>&1 || rc=$?
rrc=0; "$SG_BIN" audit report --config "$CFG" --json >"$T/r.json" 2>"$T/r.err" || rrc=$?
echo "verify rc=$rc report rc=$rrc status=$(jq -r .verdict.status "$T/r.json" 2>/dev/null)" >&2
[ "$rc" -ne 0 ] || fail "audit verify accepts a sealed log emptied"
[ "$rrc" -eq "$rc" ] || fail "report exit $rrc, verify exit $rc for an emptied sealed log"
expect_same "$(jq -r .verdict.status "$T/r.json")" broken

# 2. The log cut back to its first record (before the seal).
head -n 1 "$T/full.jsonl" >"$LOG"
rc=0; "$SG_BIN" audit verify --config "$CFG" >"$T/v.out" 2>&1 || rc=$?
rrc=0; "$SG_BIN" audit report --config "$CFG" --json >"$T/r.json" 2>"$T/r.err" || rrc=$?
echo "verify rc=$rc report rc=$rrc status=$(jq -r .verdict.status "$T/r.json" 2>/dev/null)" >&2
[ "$rc" -ne 0 ] || fail "audit verify accepts a sealed log cut back"
[ "$rrc" -eq "$rc" ] || fail "report exit $rrc, verify exit $rc for a cut-back sealed log"
expect_same "$(jq -r .verdict.status "$T/r.json")" broken
done_ok
