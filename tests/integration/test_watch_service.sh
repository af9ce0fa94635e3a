#!/usr/bin/env bash
# signgate watch as a service (no --once): a file written slowly as NAME.part
# is not taken before its rename; a file renamed in is signed without a
# restart, under an approval added while the watcher runs; a second watcher
# is refused while the first holds the inbox; SIGTERM during a signing lets
# that file finish, then the watcher exits 0.
. "$(dirname -- "$0")/lib.sh"

start_slow_tsa 4
new_env ", \"timestamp_urls\": [\"$SLOW_TSA\"]"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
S=$T/state
mkdir -m 0700 "$S"
mkdir -m 0700 "$S/inbox"
mkdir -m 0755 "$S/outbox"
IN=$S/inbox OUT=$S/outbox

"$SG_BIN" watch --config "$CFG" "$IN" "$OUT" >"$T/w.out" 2>"$T/w.err" &
wpid=$!
trap 'kill $wpid $SLOW_TSA_PID 2>/dev/null; rm -rf -- "$T"' EXIT
# wait_for PATH [SECONDS]: until PATH exists.
wait_for() {
	local i
	for i in $(seq 1 $((${2:-60} * 10))); do
		[ -e "$1" ] && return 0
		kill -0 "$wpid" 2>/dev/null || fail "the watcher ended: $(cat "$T/w.err")"
		sleep 0.1
	done
	fail "$1 did not appear"
}
wait_for "$S/work" 10
sleep 0.5

# A second watcher on the same inbox: refused (exit 1), nothing taken.
sg 1 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/err" "another signgate watch holds this inbox"

# Written slowly under NAME.part (closed twice meanwhile): not taken.
head -c 40000 "$INST/hello-setup.exe" >"$IN/hello-setup.exe.part"
sleep 2
tail -c +40001 "$INST/hello-setup.exe" >>"$IN/hello-setup.exe.part"
sleep 2
[ -e "$IN/hello-setup.exe.part" ] || fail "the .part file was taken"
ok
expect_absent "$OUT/hello-setup.exe"
expect_same "$(ls -A "$S/work")" ""
# Renamed: taken at once (inotify), signed.
mv "$IN/hello-setup.exe.part" "$IN/hello-setup.exe"
wait_for "$OUT/hello-setup.exe"
cmp -s "$OUT/hello-setup.exe" "$INST/hello-setup.exe" && fail "the output is the input"
ok
sg 0 verify --config "$CFG" "$OUT/hello-setup.exe"
expect_in "$T/out" "valid"

# An approval added while the watcher runs counts for the next file.
approval other-exe other-setup.exe "$(sha256 "$INST/other-setup.exe")"
cp "$INST/other-setup.exe" "$T/other-setup.exe"
mv "$T/other-setup.exe" "$IN/other-setup.exe"
# SIGTERM while it signs (the signing run has started the file; the TSA
# answers after 4 s): that file is finished first.
for _ in $(seq 1 300); do
	compgen -G "$S/work/claim.*/.started.1" >/dev/null && break
	sleep 0.1
done
compgen -G "$S/work/claim.*/.started.1" >/dev/null || fail "the file was not started"
ok
sleep 0.5
kill -TERM "$wpid"
rc=0
wait "$wpid" || rc=$?
expect_same "$rc" 0
[ -e "$OUT/other-setup.exe" ] || fail "the file in hand at SIGTERM was not finished: $(cat "$T/w.err")"
ok
expect_same "$(ls -A "$S/work")" ""
expect_in "$T/w.out" "signed   hello-setup.exe -> $OUT/hello-setup.exe"
expect_in "$T/w.out" "signed   other-setup.exe -> $OUT/other-setup.exe"
expect_same "$(grep -c '"decision":"signed"' "$LOG")" 2
expect_same "$(audit_field 0 approval.id)" "other-exe"
sg 0 audit verify --log "$LOG"
done_ok
