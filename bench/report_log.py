#!/usr/bin/python3
"""Write a realistic audit log for `signgate audit report`: N chained records
over DAYS days, in ARCHIVES rotated archives plus the current log.

Usage: report_log.py DIR N [DAYS] [ARCHIVES]   (defaults: 400 days, 3 archives)
       report_log.py --policy DIR                the policy for `--policy`

Writes DIR/audit.jsonl and DIR/audit.jsonl.<UTC stamp> archives, each
continued by a "rotate" record as `signgate audit rotate` writes it, and
prints the files oldest first, one per line (what `audit verify --log`
takes). Each line is the compact, key-sorted, ASCII JSON signgate's audit
module writes, with "seq", "prev" (SHA-256 of the line before) and "hash"
(SHA-256 of the record without "hash").

The records follow real ones (captured from `signgate sign` in the test
fixture): about 70 % "signed" (approval, output digests, signer, timestamp,
key helper, confinement), 20 % "denied" (no approval, a structure fault, a
revoked digest), 6 % "failed" (a TSA or tool error), 4 % `check` runs; four
signer certificates over the period (one renewed, one expired); about one
record in 500 has a hostile file name (markup, a bidi override). The same N
and DAYS always give the same log (seeded), so runs compare.
"""
import hashlib
import json
import os
import random
import re
import sys
import uuid

START = 1748736000  # 2025-06-01T00:00:00Z

SIGNERS = [
    {"subject": "CN=Example Corp Code Signing 2024,OU=Software Packaging,O=Example Corp,C=US",
     "not_after": "2025-12-31T23:59:59Z"},
    {"subject": "CN=Example Corp Code Signing 2025,OU=Software Packaging,O=Example Corp,C=US",
     "not_after": "2027-01-15T23:59:59Z"},
    {"subject": "CN=Example Corp Code Signing (HSM),OU=Software Packaging,O=Example Corp,C=US",
     "not_after": "2028-06-30T23:59:59Z"},
    {"subject": "CN=Example Corp Drivers,OU=Platform,O=Example Corp,C=US",
     "not_after": "2026-12-20T23:59:59Z"},
]
for s in SIGNERS:
    s["sha256"] = hashlib.sha256(s["subject"].encode()).hexdigest()
    s["sha1_thumbprint"] = hashlib.sha1(s["subject"].encode()).hexdigest().upper()

PRODUCTS = ["7-Zip", "Notepad++", "Firefox ESR", "VLC", "Git for Windows", "PuTTY",
            "WinSCP", "Python", "LibreOffice", "KeePass", "Wireshark", "Zoom",
            "Adobe Reader", "Chrome Enterprise", "VS Code", "Node.js", "Java Runtime",
            "Citrix Workspace", "FileZilla", "Greenshot"]
HOSTILE = ["<img src=http://127.0.0.1:9/x>.exe", "invoice\u202egpj.exe",
           "<svg onload=alert(1)>.msi", "setup\u200b.exe", "a\"b'c&d.exe"]
USERS = ["packager", "j.doe", "a.smith", "svc-signgate"]


def dump(obj):
    # jansson writes \uXXXX escapes with upper-case hex digits; Python with lower.
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), text)


def utc(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def confinement(signed):
    c = {"signgate": {"files": "confined", "landlock_abi": 2,
                      "network": "none (AF_UNIX sockets only)", "seccomp": True}}
    if signed:
        c["key_helper"] = {"files_after_key_open": False, "landlock_abi": 2, "named": False,
                           "netns": False, "network": "none", "rlimits": True, "seccomp": True}
        c["timestamp"] = {"landlock_abi": 2, "named": False, "netns": False,
                          "network": "allowed", "rlimits": True, "seccomp": True}
    return c


def signer_at(t, rng):
    day = (t - START) // 86400
    if day < 200:
        s = SIGNERS[0]
    elif day < 300:
        s = SIGNERS[1]
    else:
        s = SIGNERS[2]
    return SIGNERS[3] if rng.random() < 0.05 else s


def make_input(rng, seq, hostile):
    n = rng.randrange(2000)
    product = PRODUCTS[n % len(PRODUCTS)]
    ext = ".msi" if n % 3 == 0 else ".exe"
    name = hostile if hostile else "%s-%d.%d%s" % (product.lower().replace(" ", "-"),
                                                   20 + n % 7, n % 40, ext)
    return n, product, {
        "format": "msi" if name.endswith(".msi") else "pe",
        "name": name,
        "path": "/srv/signgate/inbox/work/" + name,
        "sha256": hashlib.sha256(b"input %d" % n).hexdigest(),
        "signed_before": False,
        "size": 400000 + n * 731,
    }


def signed(rec, rng, t, n, product, inp):
    sig = signer_at(t, rng)
    out_sha = hashlib.sha256(b"output %d %d" % (n, rec["seq"])).hexdigest()
    rec.update({
        "action": "sign", "decision": "signed", "status": "ok",
        "approval": {"approved_by": USERS[n % 3], "approved_by_from": "approval file (not verified)",
                     "existing_signature": "refuse", "id": "app-%d" % n,
                     "policy_file": "/etc/signgate/policy/app-%d.json" % n,
                     "policy_file_sha256": hashlib.sha256(b"policy %d" % n).hexdigest(),
                     "product": product, "ticket": "CHG-%05d" % n, "vendor": "Vendor %d" % (n % 9),
                     "version": "%d.%d" % (20 + n % 7, n % 40)},
        "output": {"path": "/srv/signgate/outbox/" + inp["name"], "sha1": out_sha[:40],
                   "sha1_base64": "nm2gcSk6z4Lo/gzHgNLMPCasEiM=", "sha256": out_sha,
                   "sha256_base64": "ZIBmCzXeWY/j7Lrp4lwbNq9Vw3jnOqMIec32a9tHpSg=",
                   "size": inp["size"] + 7738},
        "reasons": ["approved by app-%d (the approval file names %s, not verified; ticket CHG-%05d)"
                    % (n, USERS[n % 3], n)],
        "signature": {"attached_by": "signgate", "index": 0,
                      "key_helper": {"key_source": "pkcs12", "pid": 1000 + rec["seq"] % 30000,
                                     "signatures": 1},
                      "signatures": 1, "signed_digest": out_sha.upper(),
                      "signer": {k: sig[k] for k in ("not_after", "sha1_thumbprint", "sha256",
                                                     "subject")},
                      "timestamp": utc(t + 2), "tsa_url": "http://tsa.example.corp/"},
    })
    if rng.random() < 0.03:
        rec["signature"]["timestamp"] = None
        del rec["signature"]["tsa_url"]


def denied(rec, rng, n, inp):
    kind = rng.random()
    if kind < 0.7:
        why, status = "%s: no approval matches SHA-256 %s (default deny)" % (
            inp["name"], inp["sha256"]), "denied"
    elif kind < 0.9:
        why, status = "%s: truncated: DOS header ends at 64, beyond the end of the file (9 bytes)" % (
            inp["name"]), "format"
        del inp["format"], inp["signed_before"]
    else:
        why, status = "%s: digest is revoked: vendor recall CVE-2026-%04d" % (
            inp["name"], n), "denied"
    rec.update({"action": "sign", "decision": "denied", "status": status, "reasons": [why]})


def failed(rec, rng, inp):
    err = rng.choice([
        "every timestamp server failed: http://tsa.example.corp/: connection refused (2 attempts)",
        "osslsigncode exited with status 1: Failed to read PE header",
        "%s: cannot write the output: No space left on device" % inp["name"]])
    rec.update({"action": "sign", "decision": "failed", "status": "tool", "reasons": [],
                "error": err})


def record(rng, seq, t):
    hostile = HOSTILE[seq % len(HOSTILE)] if rng.random() < 0.002 else None
    n, product, inp = make_input(rng, seq, hostile)
    rec = {"actor": {"host": "sign01", "uid": 998, "user": "signgate"}, "input": inp,
           "osslsigncode_version": "2.9", "seq": seq, "signgate_version": "0.1.0",
           "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "time": utc(t)}
    roll = rng.random()
    if roll < 0.70:
        signed(rec, rng, t, n, product, inp)
        rec["confinement"] = confinement(True)
    elif roll < 0.90:
        denied(rec, rng, n, inp)
        rec["confinement"] = confinement(False)
    elif roll < 0.96:
        failed(rec, rng, inp)
        rec["confinement"] = confinement(False)
    else:
        rec.update({"action": "check", "decision": "approved", "status": "ok",
                    "reasons": ["approved by app-%d" % n], "confinement": confinement(False)})
    return rec


class Writer:
    def __init__(self):
        self.prev = "0" * 64
        self.out = None

    def line(self, rec):
        rec["prev"] = self.prev
        rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
        line = dump(rec)
        self.out.write(line + "\n")
        self.prev = hashlib.sha256(line.encode()).hexdigest()


def write_policy(folder):
    """The 2,000 approvals the log's signings name (app-0 ... app-1999), one
    in 20 expired since, one in 50 of their digests revoked: a report with
    this policy lists about 7 % of the signings as no longer approved."""
    approvals, revoked = [], []
    for n in range(2000):
        a = {"id": "app-%d" % n, "product": PRODUCTS[n % len(PRODUCTS)],
             "vendor": "Vendor %d" % (n % 9), "version": "%d.%d" % (20 + n % 7, n % 40),
             "sha256": hashlib.sha256(b"input %d" % n).hexdigest(),
             "approved_by": USERS[n % 3], "ticket": "CHG-%05d" % n,
             "approved_at": "2025-05-01"}
        if n % 20 == 7:
            a["expires"] = "2026-01-31"
        approvals.append(a)
        if n % 50 == 11:
            revoked.append({"sha256": a["sha256"], "reason": "vendor recall %d" % n})
    os.makedirs(folder, mode=0o755, exist_ok=True)
    with open(os.path.join(folder, "approvals.json"), "w", encoding="ascii") as out:
        json.dump({"approvals": approvals}, out, indent=1)
    with open(os.path.join(folder, "revoked.json"), "w", encoding="ascii") as out:
        json.dump({"revoked": revoked}, out, indent=1)


def main():
    if sys.argv[1] == "--policy":
        write_policy(sys.argv[2])
        return
    folder, count = sys.argv[1], int(sys.argv[2])
    days = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    archives = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    rng = random.Random(count * 1000 + days)
    step = days * 86400 / count
    per_file = count // (archives + 1)
    log = os.path.join(folder, "audit.jsonl")
    files, w, seq = [], Writer(), 0
    for part in range(archives + 1):
        last = part == archives
        t0 = START + int(seq * step)
        path = log if last else "%s.%s" % (log, utc(START + int((seq + per_file) * step))
                                           .replace("-", "").replace(":", ""))
        w.out = open(path, "w", encoding="ascii")
        if part:
            seq += 1
            w.line({"action": "rotate", "decision": "rotated", "actor": {
                "host": "sign01", "uid": 0, "user": "root"},
                "previous": {"file": os.path.basename(files[-1]), "last_seq": seq - 1,
                             "head": w.prev},
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "time": utc(t0),
                "seq": seq, "signgate_version": "0.1.0", "osslsigncode_version": None})
        end = count if last else (part + 1) * per_file
        while seq < end:
            seq += 1
            w.line(record(rng, seq, START + int(seq * step)))
        w.out.close()
        files.append(path)
    print("\n".join(files))


if __name__ == "__main__":
    main()
