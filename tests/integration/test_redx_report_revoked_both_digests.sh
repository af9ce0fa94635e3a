#!/usr/bin/env bash
# Red team X (issue 16, second pass): a revocation that names BOTH a SHA-256
# and a SHA-512 is matched, for a signing record without the input's
# SHA-512, by its SHA-256 only. pairs_build() (report_policy.c) pairs only
# revocations by SHA-512 *alone*, and "unpaired" counts only those: the
# SHA-512 Y of {sha256: Z, sha512: Y} is never turned into the SHA-256 X
# that approval b-both pairs with Y. Signing X now is refused (the policy
# names a SHA-512, so signgate computes Y and find_revocation() matches
# it), yet the report lists the earlier signing of X as still approved (no
# row in no_longer_approved) and approval hello-exe (of X) as in force.
# Z is, say, the SHA-256 of the signed output pasted beside the vendor's
# SHA-512.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
x=$(sha256 "$INST/hello-setup.exe")
y=$(sha512 "$INST/hello-setup.exe")
approval hello-exe hello-setup.exe "$x"
# Signed while the policy names no SHA-512: the record holds none.
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
expect_same "$(head -n 1 "$LOG" | jq -r '.input.sha512 // "none"')" none
# Later: an approval pairs X with Y, and a revocation names Y (and another SHA-256).
/usr/bin/python3 - "$T/env/policy/zz.json" "$x" "$y" <<'PY'
import json, sys
path, x, y = sys.argv[1:4]
json.dump({"approvals": [{"id": "b-both", "product": "Hello", "vendor": "Example",
                          "version": "1.0", "file": "hello-setup.exe", "sha256": x, "sha512": y,
                          "approved_by": "j.doe", "ticket": "SEC-2", "approved_at": "2026-01-01"}],
           "revoked": [{"sha256": "ab" * 32, "sha512": y, "reason": "recall"}]},
          open(path, "w"))
PY
# Signing X now: denied, revoked (holds on main).
sg 3 sign --config "$CFG" --out "$T/s2.exe" "$INST/hello-setup.exe"
expect_in "$LOG" "digest is revoked: recall"
sg 0 audit report --config "$CFG" --policy "$T/env/policy" --json
# The first signing is of revoked bytes (fails on main: no row at all).
expect_same "$(jq -r '[.no_longer_approved[] | select(.seq == 1) | .status] | join(",")' "$T/out")" revoked
# And no approval of X is in force (fails on main: hello-exe is listed).
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" ""
done_ok
