#!/usr/bin/env bash
# The /proc sweeps of the secrets tests (lib.sh proc_read): a process that
# ends while it is read is skipped without a word (the sweeps used to print
# "/proc/N/environ: No such process" by the thousand into ctest's log), one
# the kernel will not show (EACCES) is counted, and any other failure to
# read still fails the test.
. "$(dirname -- "$0")/lib.sh"

# A zombie: its /proc entry is there, its environment is gone (ESRCH).
/usr/bin/python3 -c 'import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(3)
os.waitpid(pid, 0)' >"$T/zombie.pid" &
for _ in $(seq 1 50); do [ -s "$T/zombie.pid" ] && break; sleep 0.1; done
z=$(cat "$T/zombie.pid")
[ -n "$z" ] && [ -e "/proc/$z" ] || fail "no zombie to read"
ok
( proc_read envs "/proc/$z/environ" ) >"$T/out" 2>"$T/err" && fail "a zombie's environment was read"
ok
expect_same "$(cat "$T/out" "$T/err")" ""
# Reading it directly does fail, loudly: the message proc_read keeps quiet.
{ cat "/proc/$z/environ" >/dev/null; } 2>"$T/err" && fail "cat read a zombie's environment"
expect_in "$T/err" "No such process"
# A process that is gone entirely (ENOENT): quiet too.
( proc_read envs "/proc/999999999/environ" ) >"$T/out" 2>"$T/err" && fail "read a missing process"
expect_same "$(cat "$T/out" "$T/err")" ""
# A process the kernel will not show (here a file it may not read, as a
# non-dumpable process's environ is): skipped and counted, quietly.
if [ "$(id -u)" -ne 0 ]; then
	: >"$T/unreadable" && chmod 0000 "$T/unreadable"
	before=$PROC_READ_REFUSED
	proc_read envs "$T/unreadable" && fail "read an unreadable file"
	expect_same "$PROC_READ_REFUSED" $((before + 1))
fi
# A live process of ours: its strings.
sleep 30 &
s=$!
# (until the child has become sleep: a fork's cmdline is its shell's, then none)
for _ in $(seq 1 100); do
	[ "$(tr '\0' ' ' <"/proc/$s/cmdline" 2>/dev/null)" = "sleep 30 " ] && break
	sleep 0.05
done
proc_read args "/proc/$s/cmdline" || fail "cannot read a live process"
expect_same "${args[*]}" "sleep 30"
kill "$s"
# Anything else is a failure of the test, with the reason (here: its
# "process folder" is a file of ours, ENOTDIR).
touch "$T/fakeproc"
rc=0
( proc_read envs "$T/fakeproc/environ" ) >"$T/out" 2>"$T/err" || rc=$?
expect_same "$rc" 1
expect_in "$T/err" "FAIL: cannot read $T/fakeproc/environ"
expect_in "$T/err" "Not a directory"
wait
done_ok
