#!/usr/bin/env bash
# Red team C (issue 16): `audit report --config --policy` takes the strict
# rule's account from the --policy path's own owner (cmd_audit_report.c
# load_policy: uid = stat(path).st_uid), so a policy folder owned by ANY
# account passes and is reported as "the policy in force now", while
# `signgate sign` (run as root) refuses to load such a policy. (The config's
# own policy is held to the rule at config load; a --policy elsewhere is
# not.) The report must refuse it too (exit 2, naming the path and its
# owner) — fails on main (exit 0).
. "$(dirname -- "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (chown)"; exit 0; }

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
# A copy of the policy, another account's: signing refuses it as the config's policy ...
cp -a "$T/env/policy" "$T/other"
chown -R nobody "$T/other"
config_set policy "\"$T/other\""
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "owned by another account"
# ... and the report, with the config that is still signing's, must not judge by it.
config_set policy "\"$T/env/policy\""
sg 2 audit report --config "$CFG" --policy "$T/other" --json
expect_in "$T/err" "$T/other"
expect_in "$T/err" "owned by another account"
expect_same "$(cat "$T/out")" ""
# Without --config neither.
sg 2 audit report --log "$LOG" --policy "$T/other" --json
expect_in "$T/err" "$T/other"
expect_in "$T/err" "owned by another account"
# One policy file of the folder another account's is enough; the policy itself passes.
chown -R 0:0 "$T/other"
sg 0 audit report --log "$LOG" --policy "$T/other" --json
expect_same "$(jq -r '.policy.path' "$T/out")" "$T/other"
chown 1234 "$T/other/hello-exe.json"
sg 2 audit report --log "$LOG" --policy "$T/other" --json
expect_in "$T/err" "$T/other/hello-exe.json"
expect_in "$T/err" "owned by another account"
done_ok
