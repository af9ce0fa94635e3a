#!/usr/bin/env bash
# Red team Z (issue 16, fourth pass): `audit report --out` must never land
# where signing reads policy (README, Audit report; tools/cmd_audit_report_out.c
# report_out_is_input()). The config's "policy" may be one regular file
# (lib/policy/policy.c load_policy()). Without --policy the report loads no
# policy (r->policy NULL), out_input() does not list the config's policy
# path, and out_in_policy() checks the config's policy with in_folder() only,
# which is 0 for a file. So `audit report --config CFG --json --force --out
# <the config's policy file>` is accepted: the report replaces the policy
# signing reads, and every signing after it fails to load the policy.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
config_set policy "\"$T/env/policy/hello-exe.json\""
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
cp "$T/env/policy/hello-exe.json" "$T/before.json"
# With --policy naming it: refused (holds).
sg 2 audit report --config "$CFG" --policy "$T/env/policy/hello-exe.json" --json --force \
	--out "$T/env/policy/hello-exe.json"
# The config's policy file, without --policy (fails on main: exit 0, the
# policy replaced by the report).
rc=0; "$SG_BIN" audit report --config "$CFG" --json --force \
	--out "$T/env/policy/hello-exe.json" >"$T/out" 2>"$T/err" || rc=$?
cmp -s "$T/before.json" "$T/env/policy/hello-exe.json" ||
	fail "audit report --out replaced the config's policy file (exit $rc): $(head -c 200 "$T/env/policy/hello-exe.json")"
[ "$rc" = 2 ] || fail "audit report --out <the config's policy file> exited $rc, expected 2"
ok
sg 0 sign --config "$CFG" --out "$T/s2.exe" "$INST/hello-setup.exe"
done_ok
