#!/usr/bin/python3
"""Append records to an audit log the way signgate's audit module writes them.

  audit_append.py LOG TIME FIELDS_JSON        one record at TIME ("...Z")
  audit_append.py LOG --bulk N DAY DECISION   N records on DAY, of DECISION
  audit_append.py LOG --loop SECONDS          a "denied" record every few ms
                                              for SECONDS (appends meanwhile)

Each line is the compact, key-sorted, ASCII JSON of jansson's
JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII (its \\uXXXX escapes are
upper-case), chained by "seq" and "prev", with "hash" over the record
without it, appended under an exclusive flock() as signgate appends. Used by
test_report.sh to make records of past days, which real runs cannot.
"""
import fcntl
import hashlib
import json
import os
import re
import sys
import time
import uuid


def dump(obj):
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), text)


def last_line(f):
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 65536))
    lines = f.read().splitlines()
    return lines[-1] if lines else None


def append(f, when, fields):
    last = last_line(f)
    if last:
        prev_rec = json.loads(last)
        seq, prev = prev_rec["seq"] + 1, hashlib.sha256(last.rstrip(b"\n")).hexdigest()
    else:
        seq, prev = 1, "0" * 64
    rec = dict(fields)
    rec.update({"actor": {"host": "test", "uid": 1000, "user": "builder"},
                "id": str(uuid.uuid4()), "prev": prev, "seq": seq, "time": when})
    rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
    f.seek(0, os.SEEK_END)
    f.write((dump(rec) + "\n").encode())
    f.flush()


def denied(n):
    return {"action": "sign", "decision": "denied", "reasons": ["bulk record %d" % n],
            "input": {"name": "bulk-%d.exe" % n, "sha256": "%064x" % n}}


def main():
    path = sys.argv[1]
    with open(path, "a+b") as f:
        if sys.argv[2] == "--bulk":
            fcntl.flock(f, fcntl.LOCK_EX)
            n, day, decision = int(sys.argv[3]), sys.argv[4], sys.argv[5]
            for i in range(n):
                rec = denied(i)
                rec["decision"] = decision
                append(f, "%sT%02d:%02d:%02dZ" % (day, i // 3600 % 24, i // 60 % 60, i % 60), rec)
        elif sys.argv[2] == "--loop":
            end, i = time.time() + float(sys.argv[3]), 0
            while time.time() < end:
                fcntl.flock(f, fcntl.LOCK_EX)
                append(f, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), denied(i))
                fcntl.flock(f, fcntl.LOCK_UN)
                i += 1
                time.sleep(0.005)
        else:
            fcntl.flock(f, fcntl.LOCK_EX)
            append(f, sys.argv[2], json.loads(sys.argv[3]))


if __name__ == "__main__":
    main()
