#!/usr/bin/env bash
# Red team C (issue 16): with "trust.require_cosign" (or the policy's
# "require_cosign"), signing refuses an approval whose file no longer carries
# two valid approvers' signatures. `audit report --config --policy` must not
# call such an approval "in force", nor a signing it covered "approved now":
# here the co-signature is removed after the signing, so `signgate check`
# refuses the same input, and the report must list the signing under
# "no_longer_approved" and leave the approval out of "approvals_in_force".
. "$(dirname -- "$0")/lib.sh"

cosign_env hello-setup.exe ", \"require_cosign\": true"

SIGNGATE_APPROVER="Security Officer" sg 0 policy approve --config "$CFG" "${alice[@]}" \
	--product Hello --vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$EXE")" "$EXE"
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$A"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_same "$(audit_field 0 decision)" signed
id=$(jq -r '.approvals[0].id' "$A")

# Both signatures in place: approved now, shown from the certificate.
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 0
expect_same "$(jq -r ".policy.approvals_in_force[] | select(.id == \"$id\") | .approved_by_from" "$T/out")" certificate

# The co-signature goes: signing now refuses the input.
rm -f -- "$A.cosign.p7s"
sg 3 check --config "$CFG" "$EXE"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 1
expect_same "$(jq -r '.no_longer_approved[0].status' "$T/out")" not_approved
expect_same "$(jq -r ".policy.approvals_in_force | map(select(.id == \"$id\")) | length" "$T/out")" 0
done_ok
