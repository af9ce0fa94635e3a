#!/usr/bin/env bash
# Benchmark: load a policy of 100,000 approvals and decide on one input.
#
# Usage: bench/policy_bench.sh [N] [RUNS]     # defaults: 100000 approvals, 5 runs
#   SG_BENCH_BUILD=DIR  signgate's build folder (default ./build, built when missing)
#
# bench/policy_bench.c, compiled here against the build's libsigngate.a,
# times sg_policy_load() and one sg_policy_decide() inside one process (what
# every signgate run does before its first input), for three policies made
# by bench/policy_gen.py: one file of minimal approvals, one file of full
# approvals (SHA-512, expiry, provenance as `policy approve` writes them),
# and a folder of N one-approval files (what `policy approve` makes). The
# approval that matches comes last. Then `signgate check` of a small
# approved installer with each policy, beside the same check with a
# one-approval policy: the difference is what the policy costs a real run.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
. "$root/bench/bench_lib.sh"
n=${1:-100000}
runs=${2:-5}
build=${SG_BENCH_BUILD:-$root/build}
sg=$build/signgate
if [ ! -x "$sg" ] || [ ! -f "$build/libsigngate.a" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sg-policy-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores;" \
	"load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -I "$root/include" -o "$work/policy_bench" "$root/bench/policy_bench.c" \
	"$build/libsigngate.a" $(pkg-config --libs libcrypto jansson uuid) -lpthread

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

echo "== sg_policy_load + sg_policy_decide ($runs runs each, one process per run)"
loaded=()
for p in file-minimal file-full folder-full; do
	if ! "$work/policy_bench" "$work/$p" hello-setup.exe "$sha" "$sha512" >"$work/last.out" 2>"$work/last.err"; then
		echo "$p: does not load: $(cat "$work/last.err" "$work/last.out")"
		continue
	fi
	loaded+=("$p")
	: >"$work/ms.$p"
	for _ in $(seq 1 "$runs"); do
		timed "lib-$p" "$work/policy_bench" "$work/$p" hello-setup.exe "$sha" "$sha512"
		grep -q ' approved$' "$work/last.out" || bench_fail "$p: the input was not approved"
		cat "$work/last.out" >>"$work/ms.$p"
	done
	sort -n -k6 "$work/ms.$p" | awk -v name="$p" -v rss="$(sort -n -k2 "$work/t.lib-$p" | tail -n1 | cut -d' ' -f2)" '
		{ load[NR] = $6; dec[NR] = $8; tot[NR] = $6 + $8; n = $2 }
		END { m = int((NR + 1) / 2)
		      printf "%-13s %6d approvals  load median %7.1f ms (%.1f-%.1f)  decide %.3f ms  load+decide %7.1f ms  peak RSS %5.1f MiB  %s\n",
		             name, n, load[m], load[1], load[NR], dec[m], tot[m], rss / 1024,
		             tot[m] < 200 ? "target < 200 ms MET" : "target < 200 ms NOT MET" }'
done

echo "== signgate check of a small approved installer, whole run ($runs runs each)"
cfg=$work/pki/signgate.json
for p in single "${loaded[@]}"; do
	/usr/bin/python3 - "$cfg" "$work/$p" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["policy"] = sys.argv[2]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
	for _ in $(seq 1 "$runs"); do
		timed "check-$p" "$sg" check --config "$cfg" "$target"
	done
done
summary check-single
for p in "${loaded[@]}"; do
	summary "check-$p" check-single
	awk -v a="$(median_of "check-$p")" -v b="$(median_of check-single)" -v p="$p" \
		'BEGIN { printf "  %s adds %.0f ms to a signgate run\n", p, (a - b) * 1000 }'
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
