#!/usr/bin/env bash
# audit verify detects an edited, deleted, reordered or duplicated record and
# names the first bad line; audit show prints the records.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
for i in 1 2 3 4 5; do
	sg 0 check --config "$CFG" "$INST/hello-setup.exe"
done
sg 3 check --config "$CFG" "$INST/other-setup.exe"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "6 records, chain intact"
sg 0 audit verify --log "$LOG" --json
expect_in "$T/out" '"valid":true'
expect_in "$T/out" '"records":6'

sg 0 audit show --config "$CFG"
expect_in "$T/out" "SEQ"
expect_in "$T/out" "check  approved hello-setup.exe"
expect_in "$T/out" "check  denied   other-setup.exe"
expect_in "$T/out" "hello-exe"
sg 0 audit show --config "$CFG" --json
expect_same "$(wc -l <"$T/out")" 6
cmp -s "$T/out" "$LOG" || fail "audit show --json differs from the log lines"
ok

good=$T/good.jsonl
cp "$LOG" "$good"
try() { # try NAME EXPECTED_LINE TEXT: the tampered copy in $T/t.jsonl
	sg 3 audit verify --log "$T/t.jsonl"
	expect_in "$T/out" "line $2"
	expect_in "$T/out" "$3"
}

# Edited: a denial turned into an approval in record 6 (the last).
sed '6s/"decision":"denied"/"decision":"approved"/' "$good" >"$T/t.jsonl"
try edited 6 "hash does not match"
# Edited in the middle: record 3's input name.
sed '3s/"name":"hello-setup.exe"/"name":"hello-setup2.exe"/' "$good" >"$T/t.jsonl"
try edited-middle 3 "hash does not match"
# Deleted: record 3 removed.
sed '3d' "$good" >"$T/t.jsonl"
try deleted 3 "seq is 4, expected 3"
# Reordered: records 2 and 3 swapped.
awk 'NR == 2 { held = $0; next } NR == 3 { print; print held; next } { print }' "$good" >"$T/t.jsonl"
try reordered 2 "seq is 3, expected 2"
# Duplicated: record 4 twice.
sed '4p' "$good" >"$T/t.jsonl"
try duplicated 5 "seq is 4, expected 5"
# Torn: the last line cut.
head -c -20 "$good" >"$T/t.jsonl"
try torn 6 "torn"

# The real log was never touched by any of this.
cmp -s "$good" "$LOG" || fail "the log changed"
ok
# An append onto a torn log is refused: the decision does not count.
head -c -20 "$good" >"$LOG"
sg 1 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "the decision could not be recorded"
# A missing log is an I/O error (exit 1), not tampering.
sg 1 audit verify --log "$T/nope.jsonl"
done_ok
