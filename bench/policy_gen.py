#!/usr/bin/python3
"""Write a policy with N approvals for bench/policy_bench.sh.

Usage: policy_gen.py OUT N LAYOUT FIELDS TARGET_NAME TARGET_SHA256 TARGET_SHA512
  LAYOUT  file: OUT is one policy file holding every approval;
          folder: OUT is a folder with one file per approval (what
          `signgate policy approve` makes).
  FIELDS  minimal: the required fields and a SHA-256;
          full: also SHA-512, expiry, description and a provenance object
          like the one `signgate policy approve` records.
The approval of TARGET_NAME with its digests comes last (the worst case for a
linear search); the others have distinct made-up digests. Standard library only.
"""
import hashlib
import json
import os
import sys


def approval(i, name, sha256, sha512, full):
    a = {
        "id": f"bench-{i:06d}",
        "product": f"Bench Product {i % 5000}",
        "vendor": "Example Vendor",
        "version": f"1.{i // 5000}.{i % 5000}",
        "file": name,
        "sha256": sha256,
        "source": f"https://downloads.example.invalid/bench/{i}/{name}",
        "approved_by": "j.doe",
        "ticket": f"SEC-{10000 + i}",
        "approved_at": "2026-01-01",
    }
    if full:
        a.update({
            "sha512": sha512,
            "expires": "2036-01-01",
            "description": f"Bench Product {i % 5000} installer",
            "provenance": {
                "vendor_values": [
                    {"alg": "SHA-256", "value": sha256, "manifest": "SHA256SUMS", "line": 3},
                    {"alg": "SHA-512", "value": sha512, "manifest": "SHA512SUMS", "line": 3},
                ],
                "manifests": [
                    {"name": "SHA256SUMS", "sha256": hashlib.sha256(b"m%d" % i).hexdigest(),
                     "source": f"https://downloads.example.invalid/bench/{i}/SHA256SUMS"},
                ],
                "openpgp": {"signer": "0123456789ABCDEF0123456789ABCDEF01234567"},
                "approver": {"user": "j.doe", "host": "sec-ws-01"},
                "tool": "signgate policy approve",
            },
        })
    return a


def main():
    out, n, layout, fields, target_name, target_sha, target_sha512 = sys.argv[1:8]
    n, full = int(n), fields == "full"
    entries = []
    for i in range(n - 1):
        sha = hashlib.sha256(b"bench approval %d" % i).hexdigest()
        sha512 = hashlib.sha512(b"bench approval %d" % i).hexdigest()
        entries.append(approval(i, f"bench-{i}-setup.exe", sha, sha512, full))
    entries.append(approval(n - 1, target_name, target_sha, target_sha512, full))
    if layout == "file":
        with open(out, "w") as f:
            json.dump({"approvals": entries}, f, indent=2)
            f.write("\n")
        return
    os.makedirs(out, exist_ok=True)
    for a in entries:
        with open(os.path.join(out, a["id"] + ".json"), "w") as f:
            json.dump({"approvals": [a]}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
