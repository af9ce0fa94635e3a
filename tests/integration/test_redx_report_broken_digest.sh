#!/usr/bin/env bash
# Red team X (issue 16, second pass): "the bytes and SHA-256 of every file
# ... as they were read and checked" (README "Audit report"). For a BROKEN
# verdict files_json() (lib/report/report.c) lists each log, and a seals
# file that did not load as valid seals, through add_file(.., NULL):
# access(), then hash_file() opens and hashes the file AGAIN, after the
# verdict. A writer who puts the genuine file back in that window (the
# shim sg_redx_swap does it at that access()) makes the report name, as the
# file found broken, the SHA-256 of bytes it never judged: the auditor's
# `sha256sum` of the archived, genuine log then matches the "broken" one.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"
: "${SG_REDX_SWAP:?SG_REDX_SWAP must name the sg_redx_swap shim}"

# A broken log: record 2 edited after the fact; the genuine copy kept aside.
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import random, sys
import red16c_gen as gen
t = sys.argv[1]
rng = random.Random(1)
gen.write(t + "/audit.jsonl", [gen.signing(i, "2026-11-0%dT10:00:00Z" % i, rng, n=i)
                               for i in (1, 2, 3)])
PY
cp "$T/audit.jsonl" "$T/genuine.jsonl"
sed -i '2s/"size":/"size":1/' "$T/audit.jsonl"
judged=$(sha256 "$T/audit.jsonl")
[ "$judged" != "$(sha256 "$T/genuine.jsonl")" ] || fail "the edit changed nothing"
ok
sg 3 audit verify --log "$T/audit.jsonl"

# Without the swap: broken, and the edited bytes listed (holds on main).
sg 3 audit report --log "$T/audit.jsonl" --json
expect_same "$(jq -r .verdict.status "$T/out")" broken
expect_same "$(jq -r '.files[0].sha256' "$T/out")" "$judged"

# The genuine copy put back after the verdict, before the digest.
cp "$T/audit.jsonl" "$T/broken-copy.jsonl"
rc=0
LD_PRELOAD=$SG_REDX_SWAP SG_REDX_SWAP_PATH=$T/audit.jsonl SG_REDX_SWAP_WITH=$T/genuine.jsonl \
	SG_REDX_SWAP_LOG=$T/swap.log "$SG_BIN" audit report --log "$T/audit.jsonl" --json \
	>"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 3 ] || fail "audit report exited $rc, expected 3"
ok
expect_in "$T/swap.log" swapped
expect_same "$(jq -r .verdict.status "$T/out")" broken
# The digest listed for the file found broken must be of the bytes judged
# (fails on main: it is the SHA-256 of the genuine copy, read afterwards).
expect_same "$(jq -r '.files[0].sha256' "$T/out")" "$judged"
expect_same "$(jq -r '.files[0].bytes' "$T/out")" "$(stat -c %s "$T/broken-copy.jsonl")"
done_ok
