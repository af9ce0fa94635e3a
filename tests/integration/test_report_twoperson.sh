#!/usr/bin/env bash
# `audit report --policy` judges with the two-person rule as signing does
# (lib/sign/pipeline.c check_cosign): under the policy's "require_cosign" or
# the config's trust.require_cosign, an approval counts only when its file
# carries two valid approvers' signatures. Without --config (no approvers'
# CA) the pair cannot be checked: no approval is in force and the signing
# is "not_approved", "cannot be checked", never approved. An approval edited
# after its signatures is "not signed by two approvers", as `check` says.
# The summary's "two_person_rule" says which rule applies and whether it
# was checked; the HTML page shows it. Without the rule the same edited
# approval still approves (the rule, not the edit, decides).
. "$(dirname -- "$0")/lib.sh"

cosign_env hello-setup.exe ""
LOG=$T/env/audit/audit.jsonl
trust() { config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\"$1}"; }
CA=", \"approvers_ca_file\": \"$PKI/approvers-ca.pem\""
SIGNGATE_APPROVER="Security Officer" sg 0 policy approve --config "$CFG" "${alice[@]}" \
	--product Hello --vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$EXE")" "$EXE"
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$A"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_same "$(audit_field 0 decision)" signed
id=$(jq -r '.approvals[0].id' "$A")
q() { jq -r "$1" "$T/out"; }
in_force() { q "[.policy.approvals_in_force[] | select(.id == \"$id\")] | length"; }

# No rule anywhere: "two_person_rule" null.
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule')" null
expect_same "$(in_force)" 1

# The policy's own rule (a file of the folder), the pair valid: in force, approved.
printf '{"require_cosign": true}\n' >"$POL/rule.json"
sg 0 check --config "$CFG" "$EXE"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule | [.required_by, .checked] | join(",")')" policy,true
expect_same "$(q '.policy.no_longer_approved')" 0
expect_same "$(in_force)" 1

# Without --config: no approvers' CA, the pair cannot be checked: nothing approved.
sg 0 audit report --log "$LOG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule | [.required_by, .checked] | join(",")')" policy,false
expect_in "$T/out" "without --config there is no approvers' CA"
expect_same "$(in_force)" 0
expect_same "$(q '.policy.no_longer_approved')" 1
expect_same "$(q '.no_longer_approved[0].status')" not_approved
expect_same "$(q '.no_longer_approved[0].reasons[0]')" \
	"approval $id: the two-person rule applies and whether its file is signed by two approvers cannot be checked, so it is not taken as approved: co-signatures cannot be checked without --config (no approvers' CA, trust.approvers_ca_file)"
sg 0 audit report --log "$LOG" --policy "$POL" --out "$T/r.html"
expect_in "$T/r.html" '<dt>Two-person rule</dt><dd class="warn">required by <span class="v">policy</span>: <span class="v">without --config there is no approvers&#39; CA'
expect_in "$T/r.html" "cannot be checked, so it is not taken as approved"

# The policy's rule and a config without approvers' CA: signing denies, so does the report.
trust ''
sg 3 check --config "$CFG" "$EXE"
expect_in "$T/out" "names no trust.approvers_ca_file"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule | [.required_by, .checked] | join(",")')" "policy,false"
expect_same "$(in_force)" 0
expect_same "$(q '.policy.no_longer_approved')" 1
expect_in "$T/out" "the config names no trust.approvers_ca_file"

# The approval edited after both signatures (one byte of its ticket): both void.
trust "$CA, \"require_cosign\": true"
sed -i 's/"CHG-7"/"CHG-8"/' "$A"
sg 3 check --config "$CFG" "$EXE"
expect_in "$T/out" "approval $id is not signed by two approvers (two-person rule): "
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule | [.required_by, .checked] | join(",")')" "config and policy,true"
expect_same "$(in_force)" 0
expect_same "$(q '.policy.no_longer_approved')" 1
expect_same "$(q '.no_longer_approved[0] | [.status, .approval_id] | join(",")')" "not_approved,$id"
case "$(q '.no_longer_approved[0].reasons[0]')" in
"approval $id is not signed by two approvers (two-person rule): "*) ;;
*) fail "reason: $(q '.no_longer_approved[0].reasons[0]')" ;;
esac

# No rule: the edited approval approves again (it is the rule that refused it).
trust "$CA"
rm -f -- "$POL/rule.json"
sg 0 check --config "$CFG" "$EXE"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(q '.policy.two_person_rule')" null
expect_same "$(q '.policy.no_longer_approved')" 0
expect_same "$(in_force)" 1
done_ok
