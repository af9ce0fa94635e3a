#!/usr/bin/env bash
# Run each libFuzzer harness of tests/fuzz for a set time, one at a time,
# and append a table of executions, exec/s and coverage to bench/RESULTS.md.
#
#   bash bench/fuzz.sh [SECONDS]        # per harness; default 600
#
# Environment: SG_FUZZ_BUILD_DIR=DIR (default ./build-fuzz, configured and
# built here as scripts/fuzz-ci.sh does), SG_FUZZ_ONLY="a b" (only these
# harnesses), SG_BENCH_RESULTS=FILE (default bench/RESULTS.md; "-" prints
# the table only), SG_BENCH_NOTE="..." (a line written under the table).
#
# Method: each harness starts from a copy of its seed corpus
# (tests/fuzz/corpus/NAME) with its dictionary (tests/fuzz/harnesses), runs
# -max_total_time=SECONDS -timeout=10 -rss_limit_mb=2048 in one process
# (no -jobs, no -fork), its temporary files in a private folder, while
# nothing else of ours runs. Executions and peak RSS are libFuzzer's final
# stats (stat::number_of_executed_units, stat::peak_rss_mb); exec/s is
# executions / SECONDS; cov (edges of the instrumented code reached) and ft
# (features: edges with hit counts, comparisons) come from libFuzzer's last
# status line; corpus is the number of inputs it kept (seeds included). A
# harness that stops early (a crash, leak, timeout) is marked with its
# reproducer kept under $TMPDIR and the script exits 1 after the table.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
secs=${1:-600}
build=${SG_FUZZ_BUILD_DIR:-$root/build-fuzz}
results=${SG_BENCH_RESULTS:-$root/bench/RESULTS.md}
fuzz_src=$root/tests/fuzz

cc=$(command -v clang || true)
[ -n "$cc" ] || { echo "bench/fuzz.sh: clang is needed (libFuzzer)" >&2; exit 2; }
CC=$cc cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=OFF \
	-DSG_FUZZ=ON -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j 2 --target sg_fuzz >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/sg-fuzz-bench.XXXXXX")
keep=0
cleanup() { [ "$keep" = 1 ] || rm -rf -- "$work"; }
trap cleanup EXIT

table="| harness | seconds | executions | exec/s | cov | ft | corpus | peak RSS MiB | result |
|---|---:|---:|---:|---:|---:|---:|---:|---|"
failed=0
while read -r name dict; do
	case $name in '' | '#'*) continue ;; esac
	if [ -n "${SG_FUZZ_ONLY:-}" ] && ! [[ " $SG_FUZZ_ONLY " == *" $name "* ]]; then continue; fi
	w=$work/$name
	mkdir -p "$w/tmp"
	cp -R "$fuzz_src/corpus/$name" "$w/corpus"
	args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$w/")
	[ "$dict" = - ] || args+=(-dict="$fuzz_src/$dict")
	echo "bench/fuzz.sh: fuzz_$name for ${secs}s ($(date -u +%H:%M:%S))" >&2
	rc=0
	TMPDIR=$w/tmp "$build/tests/fuzz/fuzz_$name" "${args[@]}" "$w/corpus" >"$w/log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -n 1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$w/log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$w/log" | tail -n 1 || true)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	kept=$(find "$w/corpus" -type f | wc -l)
	result=ok
	if [ "$rc" != 0 ]; then
		failed=$((failed + 1))
		keep=1
		result="FAILED (exit $rc; log and reproducer in $w)"
	fi
	table+="
| fuzz_$name | $secs | ${runs:-?} | $(( ${runs:-0} / secs )) | ${cov:-?} | ${ft:-?} | $kept | ${rss:-?} | $result |"
done <"$fuzz_src/harnesses"

section="
## Fuzzing: each harness for ${secs} s ($(date -u +%Y-%m-%d), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))

Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -r);
clang $(clang --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n 1), ASan + UBSan. Method: bench/fuzz.sh (one harness at a
time, from a copy of its seed corpus and with its dictionary; executions and peak RSS from
libFuzzer's final stats, cov and ft from its last status line, corpus = inputs kept).

$table
${SG_BENCH_NOTE:+
$SG_BENCH_NOTE
}"
if [ "$results" = - ]; then
	printf '%s\n' "$section"
else
	printf '%s\n' "$section" >>"$results"
	printf '%s\n' "$section"
	echo "bench/fuzz.sh: appended to $results" >&2
fi
[ "$failed" -eq 0 ]
