#!/usr/bin/env bash
# Red team Y (issue 16, third pass): `audit report --out` must never land in
# a policy folder, "where the next signing would read a report named *.json
# as policy" (README, Audit report). out_is_input() (cmd_audit_report.c)
# checks in_folder() only for --policy when it is a folder, and for the
# config's policy (none with --log). Given --policy as one FILE of the
# signing policy folder (the auditor judges one approval file), --out
# FOLDER/report.json is accepted: the report lands in the policy folder,
# and the next signing with that folder fails to load it ("unknown key
# report"): every signing refused until someone removes it.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
# The folder as --policy: refused (holds on main).
sg 2 audit report --log "$LOG" --policy "$T/env/policy" --json --out "$T/env/policy/report.json"
expect_in "$T/err" "is inside the policy folder"
# One file of that folder as --policy (fails on main: exit 0, the report
# written into the policy folder).
sg 2 audit report --log "$LOG" --policy "$T/env/policy/hello-exe.json" --json \
	--out "$T/env/policy/report.json"
[ ! -e "$T/env/policy/report.json" ] || fail "the report was written into the policy folder"
ok
# Signing still works.
sg 0 sign --config "$CFG" --out "$T/s2.exe" "$INST/hello-setup.exe"
done_ok
