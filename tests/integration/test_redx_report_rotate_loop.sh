#!/usr/bin/env bash
# Red team X (issue 16, second pass): with --config the report finds the
# archives through the log's rotate records (sg_audit_chain_files()). A log
# whose first record is edited into a rotate record that names the log
# itself (or any loop of archives) makes that lookup fail with
# SG_ERR_TAMPER; run_load() (tools/cmd_audit_report.c) turns every
# SG_ERR_TAMPER into "seals_broken" and goes on to verify_command() with
# r->logs NULL and r->n_logs 0: `archives = r->n_logs - 1` is SIZE_MAX and
# r->logs[0] is dereferenced. The report crashes (SIGSEGV, exit 139, no
# report) where `audit verify` says tampered: an edited log must give the
# broken verdict, exit 3.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
for i in 1 2; do
	/usr/bin/python3 "$SG_SRC/tests/integration/audit_append.py" "$LOG" "2026-11-0${i}T10:00:00Z" \
		'{"action":"sign","decision":"denied","reasons":["r"],"input":{"name":"a.exe","sha256":"'"$(printf %064d "$i")"'"}}'
done
sg 0 audit report --config "$CFG" --json
# Record 1 edited: a rotate record continuing "audit.jsonl", the log itself.
/usr/bin/python3 - "$LOG" <<'PY'
import json, sys
p = sys.argv[1]
lines = open(p).read().splitlines()
r = json.loads(lines[0])
r["action"], r["decision"] = "rotate", "rotated"
r["previous"] = {"file": "audit.jsonl", "last_seq": 0, "head": "0" * 64}
lines[0] = json.dumps(r, sort_keys=True, separators=(",", ":"))
open(p, "w").write("\n".join(lines) + "\n")
PY
sg 3 audit verify --config "$CFG"
# The report: the broken verdict, exit 3 (fails on main: SIGSEGV, exit 139).
sg 3 audit report --config "$CFG" --json
expect_same "$(jq -r .verdict.status "$T/out")" broken
sg 3 audit report --config "$CFG" --out "$T/r.html"
expect_in "$T/r.html" "Verdict: BROKEN"
done_ok
