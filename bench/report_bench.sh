#!/usr/bin/env bash
# Benchmark: `signgate audit report` over a large, realistic, rotated log:
# wall time and peak RSS for the HTML page and the JSON document, and
# whether memory grows with the number of records.
#
# Usage: bench/report_bench.sh [N] [RUNS] [SMALL]   # defaults: 100000 3 10000
#   SG_BENCH_BUILD=DIR  signgate's build folder (default ./build, built when missing)
#
# Method (bench/README.md): bench/report_log.py writes a chained log of N
# records over 400 days (three rotated archives and the current file, the
# rotate records as `audit rotate` writes them; signings, denials, failures,
# four signer certificates, a few hostile file names), and the same for
# SMALL records over the same 400 days, so that the days and certificates
# (what the report may keep in memory) are the same and only the records
# differ. `signgate audit verify` must accept both logs first. Cases, each
# run RUNS times under /usr/bin/time (wall time, peak RSS), in turn:
#   html N, json N           --log each file (oldest first), --out a file
#   json+policy N            --json with --policy (2,000 approvals, 40
#                            revocations, 100 expired: the no_longer_approved
#                            section is filled)
#   html SMALL, json SMALL   the small log
# Then the ratio of peak RSS between N and SMALL: about 1.0 means memory does
# not grow with the records. `audit verify` of each log runs once as well:
# the report verifies the chain first, and its read buffers set the floor. The report is checked once (JSON: its totals
# equal the generated log's; HTML: it ends with </html>) before timing.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
. "$root/bench/bench_lib.sh"
n=${1:-100000}
runs=${2:-3}
small=${3:-10000}
build=${SG_BENCH_BUILD:-$root/build}
sg=$build/signgate
[ -x "$sg" ] || { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
	cmake --build "$build" -j "$(nproc)" --target signgate >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
chmod 0700 "$work"

logs_of() { # logs_of DIR: --log FILE for each file of the log in DIR, oldest first
	local f
	while read -r f; do printf -- '--log\n%s\n' "$f"; done <"$1/files"
}

make_log() { # make_log NAME COUNT
	mkdir -m 0700 "$work/$1"
	/usr/bin/python3 "$root/bench/report_log.py" "$work/$1" "$2" >"$work/$1/files"
	mapfile -t args < <(logs_of "$work/$1")
	echo "log $1: $2 records, $(du -ch $(cat "$work/$1/files") | tail -1 | cut -f1) in $(wc -l <"$work/$1/files") files"
	"$sg" audit verify "${args[@]}" >/dev/null || bench_fail "the generated log $1 does not verify"
}

check_report() { # check_report NAME COUNT: one report of each kind, checked
	mapfile -t args < <(logs_of "$work/$1")
	"$sg" audit report "${args[@]}" --json --out "$work/$1.json" ||
		bench_fail "audit report --json of $1 failed"
	got=$(jq -r '.totals.records' "$work/$1.json")
	[ "$got" = "$2" ] || bench_fail "the report of $1 counts $got records, not $2"
	jq -e '.verdict.status == "intact"' "$work/$1.json" >/dev/null ||
		bench_fail "the report of $1 is not intact"
	echo "report $1: JSON $(du -h "$work/$1.json" | cut -f1)"
	[ -n "$html" ] || return 0
	"$sg" audit report "${args[@]}" --out "$work/$1.html" || bench_fail "audit report of $1 failed"
	[ "$(tail -c 8 "$work/$1.html")" = "</html>" ] || [ "$(tail -c 9 "$work/$1.html")" = $'</html>\n' ] ||
		bench_fail "the HTML report of $1 does not end with </html>"
	echo "report $1: HTML $(du -h "$work/$1.html" | cut -f1)"
}

echo "generating ..."
make_log big "$n"
make_log small "$small"
/usr/bin/python3 "$root/bench/report_log.py" --policy "$work/policy"
# A build without the HTML sink yet (it refuses): the JSON cases only, said so.
html=1
mapfile -t args < <(logs_of "$work/small")
if ! "$sg" audit report "${args[@]}" --out "$work/probe.html" 2>"$work/probe.err"; then
	echo "HTML cases skipped: this build's HTML sink refuses: $(head -n 1 "$work/probe.err")"
	html=
fi
check_report big "$n"
check_report small "$small"
mapfile -t big < <(logs_of "$work/big")
mapfile -t sml < <(logs_of "$work/small")
"$sg" audit report "${big[@]}" --json --policy "$work/policy" --out "$work/pol.json" ||
	bench_fail "audit report --policy failed"
echo "no_longer_approved: $(jq '.policy.no_longer_approved' "$work/pol.json") of $(jq '.totals.signed' "$work/pol.json") signings"

# The floor: `audit verify` alone over each log, once (the report verifies the chain first).
timed "verify-$n" "$sg" audit verify "${big[@]}"
timed "verify-$small" "$sg" audit verify "${sml[@]}"
for _ in $(seq 1 "$runs"); do
	rm -f "$work"/o.*
	[ -z "$html" ] || timed "html-$n" "$sg" audit report "${big[@]}" --out "$work/o.html"
	timed "json-$n" "$sg" audit report "${big[@]}" --json --out "$work/o.json"
	timed "json+policy-$n" "$sg" audit report "${big[@]}" --json --policy "$work/policy" \
		--out "$work/o.pol.json"
	[ -z "$html" ] || timed "html-$small" "$sg" audit report "${sml[@]}" --out "$work/o.s.html"
	timed "json-$small" "$sg" audit report "${sml[@]}" --json --out "$work/o.s.json"
done
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
for c in "html-$n" "json-$n" "json+policy-$n" "html-$small" "json-$small" "verify-$n" "verify-$small"; do
	[ ! -e "$work/t.$c" ] || summary "$c"
done
for kind in ${html:+html} json; do
	awk -v a="$(max_rss_mib "$kind-$n" 2)" -v b="$(max_rss_mib "$kind-$small" 2)" \
		-v k="$kind" -v n="$n" -v s="$small" \
		'BEGIN { printf "%s: peak RSS %s MiB at %d records, %s MiB at %d: ratio %.2f\n", k, a, n, b, s, a / b }'
done
