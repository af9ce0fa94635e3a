# Shared helpers for the bench scripts (sourced, not run).
#
# timed NAME CMD...       run CMD once under /usr/bin/time; its wall time and
#                         peak RSS (the largest of CMD and its children) go to
#                         $work/t.NAME. CMD must exit 0.
# timed_own NAME CMD...   the same, and also signgate's own peak RSS (VmHWM of
#                         CMD's process, sampled every 50 ms while it runs; the
#                         high-water mark only grows, so a late sample is exact
#                         but for the last 50 ms), for commands that start
#                         children whose memory /usr/bin/time would report;
#                         and the key helper's (signgate's first child, forked
#                         before any input is read), sampled the same way.
# summary NAME [BASE...]  one line: median, min-max of the runs, peak RSS,
#                         and the ratio of this median to each BASE's median.
# Needs $work (a private folder).

bench_fail() {
	echo "bench: $*" >&2
	for f in "$work/last.out" "$work/last.err"; do
		[ -s "$f" ] && { echo "--- ${f##*/}:" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

timed() {
	local name=$1 t rss
	shift
	/usr/bin/time -f '%e %M' -o "$work/one" "$@" >"$work/last.out" 2>"$work/last.err" ||
		bench_fail "$name: $* failed"
	read -r t rss <"$work/one"
	echo "$t $rss - -" >>"$work/t.$name"
}

# Sleep 50 ms without starting a process (a fork per sample would add load).
tick() {
	[ -p "$work/tick" ] || mkfifo "$work/tick"
	read -r -t 0.05 <>"$work/tick" || true
}

timed_own() {
	local name=$1 tpid pid= hwm=0 khpid= khwm=0 k v t rss kids
	shift
	/usr/bin/time -f '%e %M' -o "$work/one" "$@" >"$work/last.out" 2>"$work/last.err" &
	tpid=$!
	while kill -0 "$tpid" 2>/dev/null; do
		if [ -z "$pid" ]; then
			# The file has no final newline: read fails at its end but sets kids.
			kids=
			{ read -r kids _ <"/proc/$tpid/task/$tpid/children"; } 2>/dev/null || true
			pid=$kids
		fi
		if [ -n "$pid" ]; then
			{ while read -r k v _; do
				[ "$k" != VmHWM: ] || hwm=$v
			done <"/proc/$pid/status"; } 2>/dev/null || true
			if [ -z "$khpid" ]; then
				kids=
				{ read -r kids _ <"/proc/$pid/task/$pid/children"; } 2>/dev/null || true
				# The key helper is a fork of signgate: the same program.
				[ -z "$kids" ] || [ "$(readlink "/proc/$kids/exe" 2>/dev/null)" != "$(readlink "/proc/$pid/exe" 2>/dev/null)" ] || khpid=$kids
			fi
			if [ -n "$khpid" ]; then
				{ while read -r k v _; do
					[ "$k" != VmHWM: ] || khwm=$v
				done <"/proc/$khpid/status"; } 2>/dev/null || true
			fi
		fi
		tick
	done
	wait "$tpid" || bench_fail "$name: $* failed"
	read -r t rss <"$work/one"
	echo "$t $rss $hwm $khwm" >>"$work/t.$name"
}

max_rss_mib() { # max_rss_mib NAME FIELD: the largest RSS of NAME's runs (2: with children, 3: own, 4: key helper)
	awk -v f="$2" '$f != "-" && $f > m { m = $f } END { printf "%.1f", m / 1024 }' "$work/t.$1"
}

median_of() { # median wall time of NAME's runs
	sort -n "$work/t.$1" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

summary() {
	local name=$1 ratios= b
	shift
	for b in "$@"; do
		ratios="$ratios $b=$(median_of "$b")"
	done
	sort -n "$work/t.$name" | awk -v name="$name" -v ratios="$ratios" '
		{ t[NR] = $1; if ($2 > rss) rss = $2; if ($3 != "-" && $3 > own) own = $3; has_own = has_own || $3 != "-" }
		END {
			m = t[int((NR + 1) / 2)]
			line = sprintf("%-26s median %7.2f s  (%5.2f-%5.2f, %d runs)  peak RSS %6.1f MiB", name, m, t[1], t[NR], NR, rss / 1024)
			if (has_own) line = line sprintf(" (signgate itself %5.1f MiB)", own / 1024)
			n = split(ratios, r, " ")
			for (i = 1; i <= n; i++) {
				split(r[i], kv, "=")
				if (kv[2] > 0) line = line sprintf("  %.2fx %s", m / kv[2], kv[1])
			}
			print line
		}'
}
