#!/usr/bin/env bash
# Red team Z (issue 16, fourth pass): the shadow check of the approvals list
# (lib/report/report_policy.c approval_shadowed()) asks the decision which
# approval signing takes first for an *unsigned* input (has_signature 0). For a
# product the catalog lists as vendor_signs the file ships signed: an earlier
# approval of the same bytes that is not co-signed and says
# existing_signature=replace refuses the unsigned stand-in (vendor_signs
# without accept_unsigned), so does the co-signed one, the decision approves
# nothing, and approval_shadowed() returns 0: the co-signed approval is listed
# in approvals_in_force. `signgate check` of the real (vendor-signed) bytes
# takes the earlier approval (it allows a signed input) and refuses them under
# the two-person rule. The test asks only that the report and signing agree.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

cosign_env vendor-signed-hello-setup.exe ", \"require_cosign\": true"
echo '{ "products": [ { "product": "Hello", "vendor_signs": true } ] }' >"$POL/catalog.json"
x=$(sha256 "$EXE")

SIGNGATE_APPROVER="Security Officer" sg 0 policy approve --config "$CFG" "${alice[@]}" \
	--product Hello --vendor Example --version 1.0 --ticket CHG-7 --sha256 "$x" \
	--existing-signature replace "$EXE"
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$A"
id=$(jq -r '.approvals[0].id' "$A")
sg 0 check --config "$CFG" "$EXE"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(jq -r '[.policy.approvals_in_force[].id] | join(",")' "$T/out")" "$id"

# An older approval of the same bytes, not co-signed, in a file that sorts first.
jq --arg x "$x" '.approvals[0] | .id = "hello-old" | .ticket = "CHG-1" | .sha256 = $x |
	{approvals: [.]}' "$A" >"$POL/a-old.json"
rc=0; "$SG_BIN" check --config "$CFG" "$EXE" >"$T/check.out" 2>&1 || rc=$?
expect_same "$rc" 3
expect_in "$T/check.out" "approval hello-old is not signed by two approvers"
sg 0 audit report --config "$CFG" --policy "$POL" --json
listed=$(jq -r "[.policy.approvals_in_force[] | select(.sha256 == \"$x\") | .id] | join(\",\")" "$T/out")
# Fails on main: $id is listed in force.
[ -z "$listed" ] || fail "signing refuses the vendor-signed $x ($(tr '\n' ' ' <"$T/check.out")) but the report lists approval(s) in force: $listed"
ok
# Shadowed: the product ships signed (vendor_signs, no accept_unsigned), so
# only a signed file is approved at all, and signing one takes hello-old.
expect_same "$(jq -r '[.policy.approvals_shadowed[].id] | join(",")' "$T/out")" "$id"
expect_in "$T/out" "signing this file when it carries a signature takes approval hello-old first"

done_ok

