#!/usr/bin/env bash
# signgate watch killed with SIGKILL (its whole process group, as a power cut
# would) at each stage of a file's way, then started again: every file is
# processed exactly once, with exactly one outcome (one output, or one
# rejected file and one .reason), exactly one audit record naming it, the
# .reason naming that record, and a log that verifies.
. "$(dirname -- "$0")/lib.sh"
: "${SG_WATCH_KILL_SHIM:?SG_WATCH_KILL_SHIM must name the watch_kill shim}"
# LeakSanitizer's helper could be hit by the SIGKILL (see test_crash.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"

# records NAME: how many "sign" records name the dropped file NAME.
records() {
	/usr/bin/python3 -c 'import json,os,sys
n = 0
for line in open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []:
    r = json.loads(line)
    if r.get("action") == "sign" and r.get("input", {}).get("name") == sys.argv[2]:
        n += 1
print(n)' "$LOG" "$1"
}

# crash STAGE FILE OUTCOME [taken]: drop FILE, kill the watcher at STAGE,
# start it again; with "taken", a reader takes the output away in between.
crash() {
	local stage=$1 file=$2 want=$3 taken=${4:-} name rc=0 S
	name=${file##*/}
	S=$T/$stage-$want$taken
	rm -f "$LOG"
	mkdir -m 0700 "$S"
	mkdir -m 0700 "$S/inbox"
	mkdir -m 0755 "$S/outbox"
	cp "$file" "$S/inbox/.$name.part"
	mv "$S/inbox/.$name.part" "$S/inbox/$name"
	setsid -w env SG_WATCH_KILL_AT="$stage" LD_PRELOAD="$SG_WATCH_KILL_SHIM" "$SG_BIN" watch --config "$CFG" --once "$S/inbox" "$S/outbox" \
		>"$T/out" 2>"$T/err" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "$stage: the watcher was not killed"
	ok
	# Killed with the file in hand: not published yet, its claim in the work folder.
	expect_absent "$S/inbox/$name"
	[ -n "$(ls -A "$S/work")" ] || fail "$stage: no claim left in the work folder"
	ok
	case $stage in
	publish | recorded | outcome | reason) expect_same "$(records "$name")" 1 ;;
	claimed) expect_same "$(records "$name")" 0 ;;
	esac
	if [ -n "$taken" ]; then
		mv "$S/outbox/$name" "$T/taken-$name"
		mv "$T/taken-$name" "$S/outbox/../taken"
	fi
	sg 0 watch --config "$CFG" --once "$S/inbox" "$S/outbox"
	expect_same "$(records "$name")" 1
	[ -z "$taken" ] || mv "$S/taken" "$S/outbox/$name"
	expect_same "$(ls -A "$S/work")" ""
	expect_same "$(ls -A "$S/inbox")" ""
	if [ "$want" = signed ]; then
		expect_same "$(ls -A "$S/outbox")" "$name"
		expect_same "$(audit_field 0 decision)" signed
		expect_same "$(audit_field 0 output.sha256)" "$(sha256 "$S/outbox/$name")"
		expect_same "$(ls -A "$S/rejected")" ""
		sg 0 verify --config "$CFG" "$S/outbox/$name"
	else
		expect_same "$(ls -A "$S/outbox")" ""
		expect_same "$(ls -A "$S/rejected" | tr '\n' ' ')" "$name $name.reason "
		cmp -s "$S/rejected/$name" "$file" || fail "$stage: the rejected file is not the file dropped"
		ok
		expect_same "$(audit_field 0 decision)" denied
		expect_in "$S/rejected/$name.reason" "audit record: $(audit_field 0 id)"
	fi
	sg 0 audit verify --log "$LOG"
	echo "$stage ($want): one outcome, one record"
}

crash claimed "$INST/hello-setup.exe" signed
crash publish "$INST/hello-setup.exe" signed
crash recorded "$INST/hello-setup.exe" signed
crash recorded "$INST/hello-setup.exe" signed taken
crash outcome "$INST/hello-setup.exe" signed
crash claimed "$INST/other-setup.exe" rejected
crash recorded "$INST/other-setup.exe" rejected
crash reason "$INST/other-setup.exe" rejected
crash outcome "$INST/other-setup.exe" rejected

# A file whose signing run dies every time (killed after it is marked
# started, before it is read): tried SG_WATCH_MAX_STARTS (3) times, then
# refused unread, with one record.
S=$T/poison
rm -f "$LOG"
mkdir -m 0700 "$S"
mkdir -m 0700 "$S/inbox"
mkdir -m 0755 "$S/outbox"
cp "$INST/hello-setup.exe" "$S/inbox/poison.exe"
for i in 1 2 3; do
	rc=0
	setsid -w env SG_WATCH_KILL_AT=started LD_PRELOAD="$SG_WATCH_KILL_SHIM" "$SG_BIN" watch --config "$CFG" --once "$S/inbox" "$S/outbox" \
		>"$T/out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "run $i was not killed"
	ok
done
expect_same "$(records poison.exe)" 0
sg 0 watch --config "$CFG" --once "$S/inbox" "$S/outbox"
expect_same "$(records poison.exe)" 1
expect_in "$S/rejected/poison.exe.reason" "the signing run ended 3 times with this file in hand"
expect_in "$S/rejected/poison.exe.reason" "audit record: $(audit_field 0 id)"
expect_same "$(audit_field 0 decision)" failed
expect_same "$(ls -A "$S/outbox")" ""
expect_same "$(ls -A "$S/work")" ""
sg 0 audit verify --log "$LOG"
done_ok
