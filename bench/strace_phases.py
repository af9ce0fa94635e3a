#!/usr/bin/python3
"""Where one `signgate sign` spends its time, from an strace log.

Usage: strace_phases.py STRACE_LOG INPUT_PATH

The log comes from
  strace -f -ttt -T -o LOG -e trace=execve,exit_group,openat,read,write,fsync,
         renameat2,unlinkat,rmdir,wait4 signgate sign ... INPUT
(bench/sign_bench.sh, part "profile"). Prints each phase with its wall time,
the bytes each process read and wrote with read()/write() (osslsigncode also
maps its input, which no syscall shows: its passes are in the notes of
bench/RESULTS.md), each child's CPU time, and each fsync's duration.
Standard library only.
"""
import re
import sys

LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)(.*?)(?:<(\d+\.\d+)>)?$")


def main():
    log, input_path = sys.argv[1], sys.argv[2]
    events = []  # (t, pid, name, args, ret, dur)
    exits = {}  # pid -> (utime, stime) from SIGCHLD
    pending = {}  # pid -> text of an unfinished call
    for raw in open(log, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        pid, t, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.startswith("--- SIGCHLD"):
            c = re.search(r"si_pid=(\d+).*si_utime=(\d+).*si_stime=(\d+)", rest)
            if c:
                exits[int(c.group(1))] = (int(c.group(2)) / 100, int(c.group(3)) / 100)
            continue
        if rest.endswith("<unfinished ...>"):
            pending[pid] = (t, rest[: -len("<unfinished ...>")].rstrip())
            continue
        r = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
        if r and pid in pending:
            t, head = pending.pop(pid)
            rest = head + r.group(2)
        c = CALL.match(rest)
        if c:
            ret = int(c.group(3)) if c.group(3) != "?" else 0
            dur = float(c.group(5)) if c.group(5) else 0.0
            events.append((t, pid, c.group(1), c.group(2), ret, dur))
    if not events:
        sys.exit("no events in the log")

    t0 = events[0][0]
    # signgate's threads (-j workers, hashers) are every traced task that did
    # not exec osslsigncode.
    children = {pid for _, pid, name, _, ret, _ in events[1:] if name == "execve" and ret == 0}
    progs, io = {}, {}
    marks = []  # (t, label)
    copy_opens = staged_opens = 0
    for t, pid, name, args, ret, dur in events:
        ours = pid not in children
        if name == "execve" and not ours and ret == 0:
            words = re.findall(r'"([^"]*)"', args)
            progs[pid] = "osslsigncode " + (words[2] if len(words) > 2 else "?")
            marks.append((t, "start " + progs[pid]))
        elif name == "exit_group" and not ours:
            marks.append((t, "end   " + progs.get(pid, str(pid))))
        elif name in ("read", "write") and ret > 0:
            rd, wr = io.get(pid, (0, 0))
            io[pid] = (rd + ret, wr) if name == "read" else (rd, wr + ret)
        elif name == "openat" and ours and ret >= 0:
            if input_path in args and "O_RDONLY" in args:
                marks.append((t, "open the input: private copy and digests"))
            elif '/input"' in args and "O_RDONLY" in args:
                copy_opens += 1
                marks.append((t, "copy done: structure check, policy decision" if copy_opens == 1
                              else "the copy again: its Authenticode digest, or the comparison"))
            elif ".sg-" in args:
                marks.append((t, "publish: copy + digests into the output folder"))
            elif "/.signgate-" in args:
                staged_opens += 1
                marks.append((t, "output staged beside it: digests (+ comparison), fsync"
                              if staged_opens == 1 else "output staged beside it: opened again"))
            elif "audit" in args:
                marks.append((t, "audit record"))
        elif name == "fsync":
            marks.append((t, "fsync (%.3f s)" % dur))
        elif name == "renameat2":
            marks.append((t, "rename into place"))
    t_end = events[-1][0]

    print("timeline of one signgate sign (s from its start; strace adds a little):")
    prev = 0.0
    for t, label in marks:
        print("  %8.3f  (+%6.3f)  %s" % (t - t0, t - t0 - prev, label))
        prev = t - t0
    print("  %8.3f  (+%6.3f)  exit (after removing the working folder)" % (t_end - t0, t_end - t0 - prev))
    print("bytes moved with read()/write(), per process:")
    rd = sum(v[0] for p, v in io.items() if p not in children)
    wr = sum(v[1] for p, v in io.items() if p not in children)
    print("  %-32s read %8.1f MiB  write %8.1f MiB" % ("signgate (all its threads)", rd / 2**20, wr / 2**20))
    for pid, (rd, wr) in sorted(io.items()):
        if pid not in children:
            continue
        cpu = exits.get(pid)
        extra = " cpu user %.2f s sys %.2f s" % cpu if cpu else ""
        print("  %-32s read %8.1f MiB  write %8.1f MiB%s" % (progs.get(pid, str(pid)), rd / 2**20, wr / 2**20, extra))
    for pid, cpu in sorted(exits.items()):
        if pid not in io:
            print("  %-32s (no read/write)  cpu user %.2f s sys %.2f s" % (progs.get(pid, str(pid)), *cpu))


if __name__ == "__main__":
    main()
