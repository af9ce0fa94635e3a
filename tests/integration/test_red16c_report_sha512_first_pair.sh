#!/usr/bin/env bash
# Red team C (issue 16): a revocation by SHA-512 alone (Y) is matched to a
# signing record without SHA-512 through the approvals that pair Y with a
# SHA-256 — but report_policy.c revoked_by_pairing() takes only the FIRST
# approval naming Y. Approval w (first file) pairs Y with another SHA-256 Z
# (a copy-paste slip), approval p pairs Y with the input's X, approval a
# approves X by SHA-256 alone. Signing X now is refused (signgate computes
# Y, revoked); on main the report calls the signing of X approved now.
. "$(dirname -- "$0")/lib.sh"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x, y = hashlib.sha256(b"input 1").hexdigest(), hashlib.sha512(b"input 1").hexdigest()
z = hashlib.sha256(b"another file").hexdigest()
def ap(i, sha256, **k):
    d = {"id": i, "product": "P", "vendor": "V", "version": "1", "sha256": sha256,
         "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}
    d.update(k)
    return d
json.dump({"approvals": [ap("w-slip", z, sha512=y)]}, open(t + "/pol/a-first.json", "w"))
json.dump({"approvals": [ap("a-sha256-only", x), ap("p-pair", x, sha512=y)]},
          open(t + "/pol/b-second.json", "w"))
json.dump({"revoked": [{"sha512": y, "reason": "recall"}]}, open(t + "/pol/c-revoked.json", "w"))
PY
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 1
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" revoked
done_ok
