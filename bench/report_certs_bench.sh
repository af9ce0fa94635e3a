#!/usr/bin/env bash
# Benchmark: `signgate audit report --json` over a log whose every signing
# has its own signer certificate (the worst case for the certificate table).
#
# Usage: bench/report_certs_bench.sh N [SIGNGATE...]   # one run per binary
#   default binary: ./build/signgate
#
# Method: bench/report_log.py writes N records over 400 days (about 70 %
# signings), its signer replaced by one with thumbprints of its own per
# signing (red team C's generator, as in tests/integration/test_report_certs.sh);
# each binary makes the JSON report once under /usr/bin/time (wall time,
# peak RSS); the listed and not-listed counts are printed from the report.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
n=${1:?usage: report_certs_bench.sh N [SIGNGATE...]}
shift
[ $# -gt 0 ] || set -- "$root/build/signgate"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
chmod 0700 "$work"
/usr/bin/python3 - "$work/log" "$n" "$root/bench" <<'PY' >/dev/null
import hashlib, os, sys
sys.path.insert(0, sys.argv[3])
import report_log as r
orig, n = r.signer_at, [0]
def signer_at(t, rng):
    d = dict(orig(t, rng))
    n[0] += 1
    h = hashlib.sha256(b"distinct %d" % n[0]).hexdigest()
    d["sha256"], d["sha1_thumbprint"] = h, h[:40].upper()
    return d
r.signer_at = signer_at
os.makedirs(sys.argv[1])
sys.argv = [sys.argv[0], sys.argv[1], sys.argv[2], "400", "0"]
r.main()
PY
for sg in "$@"; do
	/usr/bin/time -f '%e s wall, %U s user, %M KiB peak' -o "$work/time" \
		"$sg" audit report --log "$work/log/audit.jsonl" --json --out "$work/r.json"
	printf '%s: N=%s signed=%s listed=%s not_listed=%s  %s\n' "$sg" "$n" \
		"$(jq .totals.signed "$work/r.json")" "$(jq '.certificates | length' "$work/r.json")" \
		"$(jq -c '.certificates_not_listed.certificates // "n/a"' "$work/r.json")" \
		"$(cat "$work/time")"
	rm -f -- "$work/r.json"
done
