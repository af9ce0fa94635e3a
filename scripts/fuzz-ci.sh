#!/usr/bin/env bash
# The fuzzing step of CI (issue 13): build the libFuzzer harnesses of
# tests/fuzz with ASan and UBSan (SG_FUZZ=ON, clang), replay the seed
# corpus and the regression inputs (ctest -L fuzz), then run each harness
# for a bounded time on a copy of its seed corpus, two at a time. A crash,
# leak, UBSan finding or timeout fails the step and prints the harness,
# libFuzzer's report and the reproducer in base64 (decode it and run
# `fuzz_NAME FILE` to replay). Each harness's executions are printed.
#   SG_FUZZ_BUILD_DIR=DIR  the build folder (default: build-fuzz)
#   SG_FUZZ_TIME=N         seconds per harness (default 20: the whole step,
#                          build included, stays within 5 minutes on 2 cores)
#   SG_FUZZ_JOBS=N         harnesses run at once (default 2)
#   SG_FUZZ_ONLY="a b"     run only these harnesses
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
build=${SG_FUZZ_BUILD_DIR:-$root/build-fuzz}
secs=${SG_FUZZ_TIME:-20}
jobs=${SG_FUZZ_JOBS:-2}
fuzz_src=$root/tests/fuzz

step() { printf '== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

cc=$(command -v clang || true)
[ -n "$cc" ] || { echo "fuzz-ci: clang is needed (libFuzzer)" >&2; exit 2; }
step "fuzz build ($build)"
CC=$cc cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON \
	-DSG_FUZZ=ON -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j "$jobs" --target sg_fuzz >/dev/null
step "fuzz corpus and regressions replayed"
(cd "$build" && ctest --output-on-failure -j "$jobs" -L fuzz)

work=$(mktemp -d "${TMPDIR:-/tmp}/sg-fuzz-ci.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# run_one NAME DICT: fuzz NAME for $secs seconds in $work/NAME; its exit status.
run_one() {
	local name=$1 dict=$2 w=$work/$1 rc=0
	local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$w/")
	mkdir -p "$w/tmp"
	cp -R "$fuzz_src/corpus/$name" "$w/corpus"
	[ "$dict" = - ] || args+=(-dict="$fuzz_src/$dict")
	# The harness's private folder, and anything a library puts in TMPDIR, stays in $w.
	TMPDIR=$w/tmp "$build/tests/fuzz/fuzz_$name" "${args[@]}" "$w/corpus" >"$w/log" 2>&1 || rc=$?
	echo "$rc" >"$w/rc"
}

# report NAME: one line of counts, or the failure with its reproducer.
report() {
	local name=$1 w=$work/$1 rc runs cov
	rc=$(cat "$w/rc")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+.*cov: ' "$w/log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
	if [ "$rc" = 0 ]; then
		printf 'fuzz_%-13s %10s executions in %ss  %s\n' "$name" "${runs:-?}" "$secs" "$cov"
		return 0
	fi
	printf '\nFAIL fuzz_%s (exit %s) after %s executions; libFuzzer said:\n' "$name" "$rc" "${runs:-?}"
	sed -n '/^==[0-9]*==ERROR\|^SUMMARY\|runtime error\|^fuzz: \|deadly signal\|ALARM\|Test unit written/,$p' \
		"$w/log" | head -n 80
	for a in "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-* "$w"/slow-unit-*; do
		[ -f "$a" ] || continue
		printf -- '--- reproducer %s (%s bytes), base64:\n' "${a##*/}" "$(stat -c %s "$a")"
		base64 -w 76 "$a"
		printf -- '--- replay: base64 -d > in && %s in\n' "fuzz_$name"
	done
	return 1
}

step "fuzzing: ${secs}s per harness, $jobs at a time"
names=()
dicts=()
while read -r name dict; do
	case $name in '' | '#'*) continue ;; esac
	if [ -n "${SG_FUZZ_ONLY:-}" ] && ! [[ " $SG_FUZZ_ONLY " == *" $name "* ]]; then continue; fi
	names+=("$name")
	dicts+=("$dict")
done <"$fuzz_src/harnesses"

running=0
for i in "${!names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_one "${names[$i]}" "${dicts[$i]}" &
	running=$((running + 1))
done
wait || true

failed=0
for name in "${names[@]}"; do
	report "$name" || failed=$((failed + 1))
done
step "fuzzing done: ${#names[@]} harnesses, $failed failed"
[ "$failed" -eq 0 ]
