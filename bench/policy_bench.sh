#!/usr/bin/env bash
# Benchmark: load a policy of 100,000 approvals and decide on one input,
# in full and through the policy's index.
#
# Usage: bench/policy_bench.sh [N] [RUNS]     # defaults: 100000 approvals, 5 runs
#   SG_BENCH_BUILD=DIR  signgate's build folder (default ./build, built when missing)
#
# bench/policy_bench.c, compiled here against the build's lib/ libraries,
# times sg_policy_load() and one sg_policy_decide() inside one process (what
# every signgate run did before its first input), for three policies made
# by bench/policy_gen.py: one file of minimal approvals, one file of full
# approvals (SHA-512, expiry, provenance as `policy approve` writes them),
# and a folder of N one-approval files (what `policy approve` makes). The
# approval that matches comes last. Then `signgate check` of a small
# approved installer with each policy, beside the same check with a
# one-approval policy: the difference is what the policy costs a real run.
# Then `signgate policy index` writes each policy's index (its time is
# reported) and the same two measures are taken through the index:
# policy_bench --open times sg_policy_open() (what `signgate sign` and
# `check` now call) and the decision, which reads and hashes the file that
# holds the matching approval (of a file over 1 MiB, such as a one-file
# policy, only the 64 KiB blocks that hold it, each hashed), and
# fails when the index was not used. The full loads above never read an
# index: sg_policy_load() ignores it. The policy files are older than the
# index's racy margin (0.1 s) by then, as after `policy approve`, so opening
# checks each file's stat and reads only what a decision needs.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
. "$root/bench/bench_lib.sh"
n=${1:-100000}
runs=${2:-5}
build=${SG_BENCH_BUILD:-$root/build}
sg=$build/signgate
# lib/ is one static library per folder (ARCHITECTURE.md); the policy code
# needs lib/policy and the folders below it, upper folders first.
libs=()
for layer in policy keys crypto format confine config core; do
	libs+=("$build/lib/$layer/libsg_$layer.a")
done
if [ ! -x "$sg" ] || [ ! -f "${libs[0]}" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sg-policy-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores;" \
	"load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -I "$root/include" -o "$work/policy_bench" "$root/bench/policy_bench.c" \
	"${libs[@]}" $(pkg-config --libs libcrypto jansson uuid libseccomp) -lpthread

bash "$root/certs-example/make-pki.sh" "$work/pki" >"$work/pki.log" 2>&1 ||
	{ cat "$work/pki.log" >&2; exit 1; }
bash "$root/tests/fixtures/make-installers.sh" "$work/inst"
target=$work/inst/hello-setup.exe
sha=$(openssl dgst -sha256 -r "$target" | cut -d' ' -f1)
sha512=$(openssl dgst -sha512 -r "$target" | cut -d' ' -f1)

gen() { # gen NAME LAYOUT FIELDS COUNT
	local t0=$SECONDS
	/usr/bin/python3 "$root/bench/policy_gen.py" "$work/$1" "$4" "$2" "$3" hello-setup.exe "$sha" "$sha512"
	echo "$1: $4 approvals, $2 of $3 approvals, $(du -sh "$work/$1" | cut -f1) ($((SECONDS - t0)) s to write)"
}
gen file-minimal file minimal "$n"
gen file-full file full "$n"
gen folder-full folder full "$n"
gen single file minimal 1

# lib_runs LABEL [--open]: time policy_bench on each policy, one summary line each.
lib_runs() {
	local label=$1 p
	shift
	loaded=()
	for p in file-minimal file-full folder-full; do
		if ! "$work/policy_bench" "$@" "$work/$p" hello-setup.exe "$sha" "$sha512" >"$work/last.out" 2>"$work/last.err"; then
			echo "$p: does not load: $(cat "$work/last.err" "$work/last.out")"
			continue
		fi
		loaded+=("$p")
		: >"$work/ms.$label.$p"
		for _ in $(seq 1 "$runs"); do
			timed "lib-$label-$p" "$work/policy_bench" "$@" "$work/$p" hello-setup.exe "$sha" "$sha512"
			grep -q ' approved$' "$work/last.out" || bench_fail "$p: the input was not approved"
			[ "$label" != indexed ] || grep -q ' indexed yes ' "$work/last.out" ||
				bench_fail "$p: the index was not used: $(cat "$work/last.err")"
			cat "$work/last.out" >>"$work/ms.$label.$p"
		done
		sort -n -k6 "$work/ms.$label.$p" | awk -v name="$p ($label)" -v n="$n" \
			-v rss="$(sort -n -k2 "$work/t.lib-$label-$p" | tail -n1 | cut -d' ' -f2)" '
			{ load[NR] = $6; dec[NR] = $8; tot[NR] = $6 + $8 }
			END { m = int((NR + 1) / 2)
			      printf "%-24s %6d approvals  load median %7.1f ms (%.1f-%.1f)  decide %.3f ms  load+decide %7.1f ms  peak RSS %5.1f MiB  %s\n",
			             name, n, load[m], load[1], load[NR], dec[m], tot[m], rss / 1024,
			             tot[m] < 200 ? "target < 200 ms MET" : "target < 200 ms NOT MET" }'
	done
}

# check_runs LABEL: `signgate check` with each loaded policy (and the one-approval one).
cfg=$work/pki/signgate.json
check_runs() {
	local label=$1 p
	for p in single "${loaded[@]}"; do
		/usr/bin/python3 - "$cfg" "$work/$p" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["policy"] = sys.argv[2]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
		for _ in $(seq 1 "$runs"); do
			timed "check-$label-$p" "$sg" check --config "$cfg" "$target"
			[ "$label" != indexed ] || [ "$p" = single ] || ! grep -q 'note:' "$work/last.err" ||
				bench_fail "$p: signgate check did not use the index: $(cat "$work/last.err")"
		done
	done
	summary "check-$label-single"
	for p in "${loaded[@]}"; do
		summary "check-$label-$p" "check-$label-single"
		awk -v a="$(median_of "check-$label-$p")" -v b="$(median_of "check-$label-single")" \
			-v p="$p ($label)" 'BEGIN { printf "  %s adds %.0f ms to a signgate run\n", p, (a - b) * 1000 }'
	done
}

echo "== sg_policy_load + sg_policy_decide, no index ($runs runs each, one process per run)"
lib_runs full
echo "== signgate check of a small approved installer, whole run, no index ($runs runs each)"
check_runs full

echo "== signgate policy index (once each)"
for p in "${loaded[@]}"; do
	t0=$(date +%s.%N)
	"$sg" policy index --policy "$work/$p" >"$work/last.out" 2>"$work/last.err" ||
		bench_fail "$p: signgate policy index failed"
	awk -v p="$p" -v t0="$t0" -v t1="$(date +%s.%N)" -v size="$(du -h "$(sed 's/.*index written to //' "$work/last.out")" | cut -f1)" \
		'BEGIN { printf "%-13s index written in %.1f s (%s)\n", p, t1 - t0, size }'
done

echo "== sg_policy_open (through the index) + sg_policy_decide ($runs runs each)"
lib_runs indexed --open
echo "== signgate check of a small approved installer, whole run, through the index ($runs runs each)"
check_runs indexed
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
