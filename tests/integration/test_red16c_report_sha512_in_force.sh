#!/usr/bin/env bash
# Red team C (issue 16): "approvals_in_force" must agree with the policy's
# revocations as the signings' check applies them. An approval by SHA-256
# alone (a-sha256-only) of input X; another approval (b-both) pairs X with
# its SHA-512 Y; Y is revoked. Signing X now is refused (signgate computes
# Y), and the report's own "no_longer_approved" says the signing of X is
# "revoked" through that pairing, yet on main the same report lists
# a-sha256-only as in force: an approval of a revoked input shown as fine.
. "$(dirname -- "$0")/lib.sh"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x, y = hashlib.sha256(b"input 1").hexdigest(), hashlib.sha512(b"input 1").hexdigest()
def ap(i, **k):
    d = {"id": i, "product": "P", "vendor": "V", "version": "1", "sha256": x,
         "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}
    d.update(k)
    return d
json.dump({"approvals": [ap("a-sha256-only"), ap("b-both", sha512=y)]},
          open(t + "/pol/approvals.json", "w"))
json.dump({"revoked": [{"sha512": y, "reason": "recall"}]}, open(t + "/pol/revoked.json", "w"))
PY
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json
# The signing of X: revoked (holds on main).
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" revoked
# Then no approval of X is in force (fails on main: a-sha256-only is listed).
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" ""
done_ok
