#!/usr/bin/env bash
# Red team X (issue 16, second pass): a revocation by SHA-512 alone that no
# approval pairs with a SHA-256 "cannot be ruled out" for a signing record
# without a SHA-512, and the report says so for the SIGNING (not_approved,
# "whether it is revoked cannot be checked"). The APPROVAL of that same
# input by SHA-256 alone is still listed in "approvals_in_force":
# approval_revoked() (report_policy.c) never consults j->unpaired. Here
# the unpaired SHA-512 is in fact the input's: signing X now is refused
# (signgate computes the SHA-512 since the policy names one), and the report
# calls its approval in force.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x, y = hashlib.sha256(b"input 1").hexdigest(), hashlib.sha512(b"input 1").hexdigest()
json.dump({"approvals": [{"id": "a-sha256-only", "product": "P", "vendor": "V", "version": "1",
                          "sha256": x, "approved_by": "x", "ticket": "T",
                          "approved_at": "2026-01-01"}]},
          open(t + "/pol/approvals.json", "w"))
json.dump({"revoked": [{"sha512": y, "reason": "recall"}]}, open(t + "/pol/revoked.json", "w"))
PY
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json
# The signing: not passed (holds on main).
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" not_approved
expect_in <(jq -r '.no_longer_approved[0].reasons[]' "$T/out") "whether it is revoked cannot be checked"
# Its approval is not claimed in force either (fails on main: a-sha256-only is listed).
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" ""
done_ok
