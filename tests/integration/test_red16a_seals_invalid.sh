#!/usr/bin/env bash
# red16 A: a seals file that is not valid (a line of garbage appended, as an
# edit would leave it). `audit verify` says invalid, exit 3, naming the file.
# The report must say why too: on main it exits 1 with the message
# "signgate: " and nothing after it (cmd_audit_report.c turns SG_ERR_TAMPER
# into SG_ERR_IO with sg_error_set(..., "%s", sg_error_last()), formatting
# the message buffer into itself), after three attempts, and gives no report.
# Wanted: the verdict "broken", exit 3 as verify, the seals file named.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
seal_config
sg 0 audit seal --config "$CFG"
echo 'garbage' >>"$LOG.seals"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "$LOG.seals: line 2: not a JSON object"
rc=0
"$SG_BIN" audit report --config "$CFG" --json >"$T/r.json" 2>"$T/r.err" || rc=$?
echo "report rc=$rc stderr: $(cat "$T/r.err")" >&2
grep -q "$LOG.seals" "$T/r.err" "$T/r.json" || fail "the report does not name the invalid seals file"
ok
[ "$rc" -eq 3 ] || fail "report exit $rc, verify exit 3 for an invalid seals file"
ok
expect_same "$(jq -r .verdict.status "$T/r.json")" broken
done_ok
