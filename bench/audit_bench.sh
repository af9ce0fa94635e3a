#!/usr/bin/env bash
# Benchmark: audit verify and a filtered audit show over a large log.
#
# Method: bench/audit_log.py writes N chained records (default 1,000,000)
# exactly as signgate does; `signgate audit verify` must accept them first.
# Then each command runs RUNS times (default 5) with /usr/bin/time; the script
# prints each run's wall time and peak RSS and the median, and records/s.
# Usage: bench/audit_bench.sh [N] [RUNS]   (builds into ./build when needed)
# The machine's core count matters: verify checks lines on every core.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
n=${1:-1000000}
runs=${2:-5}
sg=$root/build/signgate
[ -x "$sg" ] || { cmake -S "$root" -B "$root/build" >/dev/null && cmake --build "$root/build" -j "$(nproc)" >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
log=$work/audit.jsonl

echo "generating $n records ..."
/usr/bin/python3 "$root/bench/audit_log.py" "$log" "$n"
echo "log: $(du -h "$log" | cut -f1), $(wc -l <"$log") lines"
"$sg" audit verify --log "$log" >/dev/null || { echo "the generated log does not verify" >&2; exit 1; }

measure() { # measure NAME ARGS...: RUNS runs; median wall seconds and the max RSS
	local name=$1 t rss
	shift
	: >"$work/times"
	for _ in $(seq 1 "$runs"); do
		/usr/bin/time -f '%e %M' -o "$work/one" "$sg" "$@" >/dev/null
		read -r t rss <"$work/one"
		echo "$t $rss" >>"$work/times"
	done
	sort -n "$work/times" | awk -v name="$name" -v n="$n" -v runs="$runs" '
		{ t[NR] = $1; if ($2 > rss) rss = $2 }
		END { m = t[int((runs + 1) / 2)];
		      printf "%-28s median %6.2f s  %10.0f records/s  peak RSS %6.1f MiB  (%d runs)\n",
		             name, m, (m > 0 ? n / m : 0), rss / 1024, runs }'
}

measure "audit verify" audit verify --log "$log"
measure "audit show --decision denied" audit show --log "$log" --decision denied --json
measure "audit show --product (2%)" audit show --log "$log" --product "Product 7"
measure "audit summary" audit summary --log "$log"
