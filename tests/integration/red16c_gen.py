#!/usr/bin/python3
"""Red team C (issue 16): chained audit logs with chosen records, for the
test_red16c_* tests. Reuses bench/report_log.py (canonical lines, chain).

  red16c_gen.py certs OUT N [same]   N signings, each by its own signer
                                     certificate (or all by one: "same")
"""
import hashlib, json, os, sys, uuid, random
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import report_log as rl

def base(seq, t, rng):
    return {"actor": {"host": "sign01", "uid": 998, "user": "signgate"},
            "osslsigncode_version": "2.9", "seq": seq, "signgate_version": "0.1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "time": t}

def signing(seq, t, rng, n=1, signer=None, big=None):
    rec = base(seq, t, rng)
    _, product, inp = rl.make_input(random.Random(n), seq, None)
    inp["sha256"] = hashlib.sha256(b"input %d" % n).hexdigest()
    rl.signed(rec, random.Random(seq), 0, n, product, inp)
    rec["input"] = inp
    if signer is not None:
        rec["signature"]["signer"] = signer
    if big:
        rec["input"]["name"] = big
    return rec

def denial(seq, t, rng, n=1):
    rec = base(seq, t, rng)
    _, _, inp = rl.make_input(random.Random(n), seq, None)
    rec["input"] = inp
    rl.denied(rec, random.Random(seq), n, inp)
    return rec

def write(path, recs, prev="0" * 64):
    w = rl.Writer(); w.prev = prev
    w.out = open(path, "w", encoding="ascii")
    for r in recs:
        w.line(r)
    w.out.close()
    return w.prev


def certs(out, n, same=False):
    rng = random.Random(2)
    recs = []
    for i in range(n):
        s = "CN=Signer %d,O=Example" % (0 if same else i)
        signer = {"subject": s, "not_after": "2027-06-01T00:00:00Z",
                  "sha1_thumbprint": hashlib.sha1(s.encode()).hexdigest().upper(),
                  "sha256": hashlib.sha256(s.encode()).hexdigest()}
        recs.append(signing(i + 1, "2026-11-%02dT10:00:00Z" % (1 + i * 28 // n), rng,
                            n=i % 50, signer=signer))
    write(out, recs)


if __name__ == "__main__":
    if sys.argv[1] == "certs":
        certs(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "same")
