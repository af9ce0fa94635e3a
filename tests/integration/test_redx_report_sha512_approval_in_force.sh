#!/usr/bin/env bash
# Red team X (issue 16, second pass): the mirror of red team C's
# sha512_in_force. Approval a-sha512-only names input X by its SHA-512 Y
# alone; approval b-both pairs X's SHA-256 with Y; a revocation names X by
# its SHA-256 alone. Signing X now is refused (find_revocation() matches
# its SHA-256), yet approval_revoked() (report_policy.c) tests a SHA-512-only
# approval against revocations by SHA-512 and pairs_find(a->sha256 = NULL)
# only, so "approvals_in_force" lists a-sha512-only: an approval of a revoked
# input shown as in force.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x, y = hashlib.sha256(b"input 1").hexdigest(), hashlib.sha512(b"input 1").hexdigest()
def ap(i, **k):
    d = {"id": i, "product": "P", "vendor": "V", "version": "1",
         "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}
    d.update(k)
    return d
json.dump({"approvals": [ap("a-sha512-only", sha512=y), ap("b-both", sha256=x, sha512=y)]},
          open(t + "/pol/approvals.json", "w"))
json.dump({"revoked": [{"sha256": x, "reason": "recall"}]}, open(t + "/pol/revoked.json", "w"))
PY
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json
# The signing of X: revoked (holds on main).
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" revoked
# No approval of X is in force (fails on main: a-sha512-only is listed).
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" ""
done_ok
