#!/usr/bin/env bash
# Writers killed with SIGKILL at random points: every record whose writer
# reported success is in the log, the log is valid or at worst ends in one
# torn line that `audit repair` sets aside, and appends work again after it.
. "$(dirname -- "$0")/lib.sh"

# Under the sanitizer pass, LeakSanitizer runs a helper process with
# signgate's command line at exit that ptrace-stops signgate; a SIGKILL that
# hits the helper would leave signgate stopped for ever. Leaks are checked by
# the other tests; here only ASan's and UBSan's other checks stay on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
mkdir -p "$T/ok"
writer() { # writer N: checks in a loop; each success leaves its audit id in $T/ok
	local n=$1 i=0
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		"$SG_BIN" check --json --config "$CFG" "$INST/hello-setup.exe" >"$T/ok/$n.$i.json" 2>/dev/null || true
	done
}
for n in 1 2 3 4; do writer "$n" 2>/dev/null & done
# Six seconds of kills; on a loaded machine, up to 30 more until one lands.
end=$((SECONDS + 6)) last=$((SECONDS + 36))
kills=0
while [ "$SECONDS" -lt "$end" ] || { [ "$kills" -eq 0 ] && [ "$SECONDS" -lt "$last" ]; }; do
	sleep "0.0$((RANDOM % 9 + 1))"
	pids=$(pgrep -f "^$SG_BIN check --json --config $CFG" || true)
	[ -n "$pids" ] || continue
	victim=$(echo "$pids" | shuf -n 1)
	kill -9 "$victim" 2>/dev/null && kills=$((kills + 1))
done
touch "$T/stop"
wait
echo "killed $kills writers"
[ "$kills" -gt 0 ] || fail "no writer was killed"
ok

# Records whose writer finished: their ids (complete JSON lines only).
{ cat "$T"/ok/*.json 2>/dev/null | grep '"exit_code":0[,}]' | grep '}$' |
	grep -o '"audit_id":"[0-9a-f-]*"' | cut -d'"' -f4 | sort -u >"$T/reported"; } || true
[ -s "$T/reported" ] || fail "no writer finished"
ok
rc=0
"$SG_BIN" audit verify --log "$LOG" >"$T/out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	expect_in "$T/out" "torn"
	sg 0 audit repair --log "$LOG"
	expect_in "$T/out" "repaired"
fi
sg 0 audit verify --log "$LOG"
grep -o '"id":"[0-9a-f-]*"' "$LOG" | cut -d'"' -f4 | sort -u >"$T/logged"
missing=$(comm -23 "$T/reported" "$T/logged" | wc -l)
expect_same "$missing" 0
echo "$(wc -l <"$T/reported") reported records, all in the log of $(wc -l <"$LOG") lines"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit verify --log "$LOG"
done_ok
