#!/usr/bin/env bash
# red16 A: a log whose own records say it was sealed ("action":"seal"), reported
# without its seals (--log with no --seals, or a config whose audit_seal was
# removed). The report says "NO SEALS were checked (none configured)" and
# "configured": false: a reviewer reads "this log is not sealed by design",
# while the log proves a seals file exists and was not given, which is the one
# thing that would show records cut off its end. Wanted: the verdict says the
# log holds seal records (the last at seq 5) whose seals were not checked; never
# "none configured".
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
for i in 1 2 3; do sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing$i.exe"; done
seal_config
sg 0 audit seal --config "$CFG"
for i in 4 5; do sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing$i.exe"; done
sg 0 audit seal --config "$CFG"
expect_same "$(jq -r .action "$LOG" | tr '\n' ' ')" "sign sign sign sign seal sign sign seal "
# Cut back to just after the first seal record, reported from the copy alone.
head -n 6 "$LOG" >"$T/cut.jsonl"
sg 0 audit report --log "$T/cut.jsonl" --json
msg=$(jq -r .verdict.message "$T/out")
echo "verdict: $msg" >&2
expect_not_in "$T/out" "none configured"
case $msg in *"seq 5"*) ok ;; *) fail "the verdict does not say the log holds a seal record (seq 5)" ;; esac
# The same through a config whose audit_seal was removed.
config_set audit_seal null
sg 0 audit report --config "$CFG" --json
expect_not_in "$T/out" "none configured"
done_ok
