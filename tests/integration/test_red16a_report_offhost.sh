#!/usr/bin/env bash
# red16 A: a log and its seals file cut back together (records after a seal
# removed, that seal's line removed from the seals file) verify as intact
# locally; `audit verify --against` the off-host copy calls it broken. The
# report must be able to use the off-host copy too (report.h names the
# "offhost_seals" role) and then say BROKEN, exit 3 -- not INTACT, "sealed".
# Also: the copy named in the verdict, "files" (SHA-256 of the bytes read)
# and the verify line; the page's warning without one; usage errors; a copy
# that contradicts the seals file is a broken verdict, exit 3.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
seal_config
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG"
n1=$(wc -l <"$LOG")
sg 0 sign --config "$CFG" --out "$T/s2.exe" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG"
cp "$LOG.seals" "$T/offhost.txt"
# Before the cut: intact against the copy, which the verdict and "files" name
# with the SHA-256 of the bytes read, and the verify line repeats.
sg 0 audit report --config "$CFG" --against "$T/offhost.txt" --json
cp "$T/out" "$T/ok.json"
expect_same "$(jq -r .verdict.status "$T/ok.json")" intact
expect_same "$(jq -r .verdict.seals.against "$T/ok.json")" "$T/offhost.txt"
expect_same "$(jq -c '.files[] | select(.role == "offhost_seals") | [.path, .bytes, .sha256]' "$T/ok.json")" \
	"[\"$T/offhost.txt\",$(stat -c %s "$T/offhost.txt"),\"$(sha256 "$T/offhost.txt")\"]"
expect_same "$(jq -r .verdict.verify_command "$T/ok.json")" \
	"signgate audit verify --config '$CFG' --against '$T/offhost.txt'"
sg 0 audit report --config "$CFG" --against "$T/offhost.txt"
expect_in "$T/out" "Checked against the off-host copy of the seals <span"
expect_in "$T/out" ">$T/offhost.txt</span>."
expect_not_in "$T/out" "No off-host copy of the seals was checked"
# Without it the page says what a local check cannot see.
sg 0 audit report --config "$CFG"
expect_in "$T/out" "No off-host copy of the seals was checked (audit report --against)"
expect_same "$(jq -r .verdict.seals.against <(sg 0 audit report --config "$CFG" --json; cat "$T/out"))" null
# The copy is an input: never the --out file; a copy of another log holds nothing; no seals: usage.
sg 2 audit report --config "$CFG" --against "$T/offhost.txt" --out "$T/offhost.txt" --force
expect_in "$T/err" "is a file the report is made from"
sed 's/"log": *"[^"]*"/"log": "other.jsonl"/' "$T/offhost.txt" >"$T/other.txt"
sg 2 audit report --config "$CFG" --against "$T/other.txt"
expect_in "$T/err" "$T/other.txt: holds no seal of"
sg 2 audit report --log "$LOG" --against "$T/offhost.txt"
expect_in "$T/err" "--against needs the seals"
# Cut both back to the first seal.
head -n "$n1" "$LOG" >"$T/cut" && cat "$T/cut" >"$LOG"
head -n 1 "$LOG.seals" >"$T/cuts" && cat "$T/cuts" >"$LOG.seals"
sg 3 audit verify --config "$CFG" --against "$T/offhost.txt"
# The report with the same off-host copy.
rc=0; "$SG_BIN" audit report --config "$CFG" --against "$T/offhost.txt" --json >"$T/r.json" 2>"$T/r.err" || rc=$?
[ "$rc" -eq 3 ] || fail "audit report --against: exit $rc (want 3): $(cat "$T/r.err")"
expect_same "$(jq -r .verdict.status "$T/r.json")" broken
expect_same "$(jq -r .verdict.seals.against "$T/r.json")" "$T/offhost.txt"
# The cut log continued and sealed again: the off-host copy seals that seq
# with another head. That is the answer (a broken verdict, exit 3, no record
# listed), not a retry.
sg 0 sign --config "$CFG" --out "$T/s3.exe" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG"
sg 3 audit report --config "$CFG" --against "$T/offhost.txt" --json
expect_same "$(jq -r .verdict.status "$T/out")" broken
expect_in <(jq -r .verdict.message "$T/out") "of the off-host copy seals seq"
expect_in <(jq -r .verdict.message "$T/out") "with another head than line 2 of the seals file"
expect_same "$(jq -c '[.signings, .problems]' "$T/out")" "[null,null]"
sg 3 audit report --config "$CFG" --against "$T/offhost.txt" --out "$T/conflict.html"
expect_in "$T/conflict.html" "Verdict: BROKEN"
done_ok
