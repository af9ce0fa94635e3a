#!/usr/bin/env bash
# Red team X (issue 16, second pass): a revocation that names BOTH a SHA-256
# and a SHA-512 is matched, for a signing record without the input's
# SHA-512, by its SHA-256 only. pairs_build() (report_policy.c) pairs only
# revocations by SHA-512 *alone*; the SHA-512 of {sha256: Z, sha512: Y} is
# never turned into the SHA-256 X that approval b-both pairs with Y. Signing
# X now is refused (the policy names a SHA-512, so signgate computes Y, and
# find_revocation() matches it), yet the report lists the signing of X as
# approved (no row in no_longer_approved) and approval a-sha256-only (of X)
# as in force. Z is, say, the SHA-256 of the signed output pasted into the
# revocation beside the vendor's SHA-512.
. "$(dirname -- "$0")/lib.sh"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
gen.write(t + "/audit.jsonl", [gen.signing(1, "2026-11-01T10:00:00Z", random.Random(1), n=1)])
x, y = hashlib.sha256(b"input 1").hexdigest(), hashlib.sha512(b"input 1").hexdigest()
z = hashlib.sha256(b"the signed output").hexdigest()
def ap(i, **k):
    d = {"id": i, "product": "P", "vendor": "V", "version": "1", "sha256": x,
         "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}
    d.update(k)
    return d
json.dump({"approvals": [ap("a-sha256-only"), ap("b-both", sha512=y)]},
          open(t + "/pol/approvals.json", "w"))
json.dump({"revoked": [{"sha256": z, "sha512": y, "reason": "recall"}]},
          open(t + "/pol/revoked.json", "w"))
PY
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol" --json
# The record holds no SHA-512 (the precondition of the hole).
expect_same "$(jq -r '.signings[0].input.sha256' "$T/out")" "$(printf 'input 1' | sha256sum | cut -d' ' -f1)"
# The signing of X is of revoked bytes (fails on main: no row at all).
expect_same "$(jq -r '.no_longer_approved | length' "$T/out")" 1
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" revoked
# And no approval of X is in force (fails on main: a-sha256-only is listed).
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" ""
done_ok
