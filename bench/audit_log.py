#!/usr/bin/python3
"""Write an audit log of N valid, chained records the way signgate does.

Each line is the compact, key-sorted, ASCII JSON that signgate's audit module
writes (jansson JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII), with
"seq", "prev" (SHA-256 of the previous line) and "hash" (SHA-256 of the
record without "hash"). `signgate audit verify` must accept the result;
the benchmark checks that before it measures anything.
"""
import hashlib
import json
import sys
import uuid


def dump(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    prev = "0" * 64
    decisions = ("signed", "approved", "denied", "valid")
    with open(path, "w", encoding="ascii") as out:
        for seq in range(1, count + 1):
            n = seq % 1000
            rec = {
                "action": "sign" if seq % 4 == 0 else "check",
                "actor": {"host": "bench", "uid": 1000, "user": "builder%d" % (seq % 7)},
                "approval": {"id": "app-%d" % n, "product": "Product %d" % (n % 50),
                             "version": "1.%d" % n, "approved_by": "j.doe",
                             "ticket": "SEC-%d" % n},
                "decision": decisions[seq % 4],
                "id": str(uuid.UUID(int=seq)),
                "input": {"name": "setup-%d.exe" % n, "size": 100000 + n,
                          "sha256": hashlib.sha256(b"in%d" % seq).hexdigest(),
                          "format": "pe"},
                "prev": prev,
                "reasons": ["bench record %d" % seq],
                "seq": seq,
                "status": "ok",
                "time": "2026-11-%02dT12:%02d:%02dZ" % (1 + seq % 28, seq % 60, seq % 60),
            }
            rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
            line = dump(rec)
            out.write(line + "\n")
            prev = hashlib.sha256(line.encode()).hexdigest()


if __name__ == "__main__":
    main()
