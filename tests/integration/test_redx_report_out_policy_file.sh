#!/usr/bin/env bash
# Red team X (issue 16, second pass): `audit report --out FILE --force`
# "never replaces a file the report is made from (a log or a hard link to
# it, the seals, the policy, the config), --force or not" (README "Audit
# report"). out_is_input() (tools/cmd_audit_report.c) compares --out with
# the --policy PATH itself, not with the files of a policy FOLDER it read:
# --out pol/approvals.json --force replaces an approval file with the
# report (and so does a hard link to one).
. "$(dirname -- "$0")/lib.sh"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x = hashlib.sha256(b"input 1").hexdigest()
json.dump({"approvals": [{"id": "a1", "product": "P", "vendor": "V", "version": "1", "sha256": x,
                          "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}]},
          open(t + "/pol/approvals.json", "w"))
PY
before=$(sha256 "$T/pol/approvals.json")
# A file of the policy folder as --out: refused, exit 2, the file untouched
# (fails on main: exit 0 and approvals.json is now the report).
sg 2 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json --out "$T/pol/approvals.json" --force
expect_in "$T/err" "is a file the report is made from"
expect_same "$(sha256 "$T/pol/approvals.json")" "$before"
# A hard link to a policy file of the folder: the same.
ln "$T/pol/approvals.json" "$T/approvals-link.json"
sg 2 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json --out "$T/approvals-link.json" --force
expect_in "$T/err" "is a file the report is made from"
expect_same "$(sha256 "$T/pol/approvals.json")" "$before"
done_ok
