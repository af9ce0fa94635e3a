#!/usr/bin/env bash
# Red team Y (issue 16, third pass): a wrong SHA-256/SHA-512 pair given by an
# approval outweighs the SHA-512 the signing record itself holds. The record
# of X holds X's real SHA-512 Y (the policy named a SHA-512 when it was
# signed). Approval b-typo pairs X with W (a typo, or another file's
# SHA-512) and a revocation names W. Signing the same bytes now: signgate
# computes Y, find_revocation() does not match W, approval hello-exe (X by
# SHA-256) allows it: exit 0. The report's rp_pairing_revoked()
# (report_pairing.c) looks the record's SHA-256 up in via256 before anything
# else and calls the earlier signing "revoked" on the pair's word, although
# the record proves the pair wrong (its SHA-512 is Y, not W).
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
x=$(sha256 "$INST/hello-setup.exe")
w=$(printf 'another file' | sha512sum | cut -d' ' -f1)
approval hello-exe hello-setup.exe "$x"
/usr/bin/python3 - "$T/env/policy/zz.json" "$x" "$w" <<'PY'
import json, sys
path, x, w = sys.argv[1:4]
json.dump({"approvals": [{"id": "b-typo", "product": "Hello", "vendor": "Example",
                          "version": "1.0", "file": "hello-setup.exe", "sha256": x, "sha512": w,
                          "approved_by": "j.doe", "ticket": "SEC-2", "approved_at": "2026-01-01"}],
           "revoked": [{"sha512": w, "reason": "recall of another file"}]},
          open(path, "w"))
PY
# The policy names a SHA-512: the record holds the input's real one.
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
expect_same "$(head -n 1 "$LOG" | jq -r '.input.sha512')" "$(sha512 "$INST/hello-setup.exe")"
# Signing the same bytes again now, same policy: approved (holds on main).
sg 0 sign --config "$CFG" --out "$T/s2.exe" "$INST/hello-setup.exe"
sg 0 audit report --config "$CFG" --policy "$T/env/policy" --json
# Neither signing is "no longer approved" (fails on main: both "revoked").
expect_same "$(jq -r '[.no_longer_approved[] | "\(.seq):\(.status)"] | join(",")' "$T/out")" ""
done_ok
