#!/usr/bin/env bash
# Red team Y (issue 16, third pass): `audit report --out` may *create* a
# file at an input path the report names but found missing. out_is_input()
# (cmd_audit_report.c) compares --out with the inputs by inode only, and
# only when --out exists (`out.n` 0 otherwise): the config's seals file
# before the first seal does not exist, the report lists it among its
# files (role "seals"), and `--out` at that path is accepted. The report
# then is the seals file: `audit seal` and `audit verify` fail on it
# ("line 1: not a JSON object", exit 3) until someone removes it. (The
# same holds for an archive the log continues that is "not beside it".)
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
seal_config
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
# The report names the seals file it was made with (none made yet).
sg 0 audit report --config "$CFG" --json
expect_same "$(jq -r '.files[] | select(.role == "seals") | .path' "$T/out")" "$LOG.seals"
# --out at that path: refused (fails on main: exit 0, the report written there).
sg 2 audit report --config "$CFG" --json --out "$LOG.seals"
expect_in "$T/err" "is a file the report is made from"
[ ! -e "$LOG.seals" ] || fail "the report was written as the seals file"
ok
sg 0 audit seal --config "$CFG"
done_ok
