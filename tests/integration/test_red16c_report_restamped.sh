#!/usr/bin/env bash
# Red team C (issue 16): a file restamped by `signgate timestamp` (a
# "timestamp" record that says "timestamped": same signature, new SHA-256)
# is a signed file in circulation, made from the input of the signing before
# it (lib/audit/audit_signings.c treats it so). When the policy revokes that
# input, the report's "no_longer_approved" names the signing's output; on
# main the restamped copy's SHA-256 appears nowhere in the report (not in
# "signings", not in "no_longer_approved"), so whoever blocks by the
# report's hashes leaves the restamped copy of a revoked installer trusted.
. "$(dirname -- "$0")/lib.sh"

mkdir -p "$T/pol"
PYTHONPATH=$SG_SRC/tests/integration /usr/bin/python3 - "$T" <<'PY'
import hashlib, json, random, sys
import red16c_gen as gen
t = sys.argv[1]
rng = random.Random(1)
s = gen.signing(1, "2026-11-01T10:00:00Z", rng, n=1)
o1 = s["output"]["sha256"]
o2 = hashlib.sha256(b"restamped copy").hexdigest()
r = gen.base(2, "2026-11-02T10:00:00Z", rng)
r.update({"action": "timestamp", "decision": "timestamped", "status": "ok", "reasons": [],
          "input": {"name": s["input"]["name"], "sha256": o1, "size": 1},
          "output": {"sha256": o2, "size": 2}})
gen.write(t + "/audit.jsonl", [s, r])
x = hashlib.sha256(b"input 1").hexdigest()
json.dump({"approvals": [], "revoked": [{"sha256": x, "reason": "recall"}]},
          open(t + "/pol/policy.json", "w"))
open(t + "/o2", "w").write(o2)
PY
o2=$(cat "$T/o2")
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol/policy.json" --json
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" revoked
# The restamped copy is named (fails on main).
expect_in "$T/out" "$o2"
# Exactly: the signing, then its copy, counted in the summary as rows.
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 2
expect_same "$(jq -c '.no_longer_approved[1] | [.seq, .restamp_of, .status, .output_sha256]' "$T/out")" \
	"[2,1,\"revoked\",\"$o2\"]"
expect_in <(jq -r '.no_longer_approved[1].reasons[0]' "$T/out") \
	"a copy of the output of seq 1, timestamped again by signgate timestamp"
# A period holding only the copy: the signing it copies (before the period) still finds it.
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol/policy.json" --json --since 2026-11-02
expect_same "$(jq -c '[.no_longer_approved[] | .seq]' "$T/out")" "[2]"
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 1
# The HTML lists it too.
sg 0 audit report --log "$T/audit.jsonl" --policy "$T/pol/policy.json"
expect_in "$T/out" "timestamped again by signgate timestamp"
done_ok
