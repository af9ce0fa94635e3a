#!/usr/bin/env bash
# The two-person rule at signing: with "require_cosign": true, an approval
# signs only with a valid co-signature by an approver other than the one who
# wrote it. A missing, invalid (the approval edited after co-signing, or
# garbage), self-made (a certificate the approvers' CA did not issue) and
# the approver's own co-signature are each denied with that reason; a valid
# one lets the file through, and the audit record names both people.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
POL=$T/env/policy
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"}"
echo '{ "require_cosign": true }' >"$POL/rules.json"
SIGNGATE_APPROVER=alice sg 0 policy approve --config "$CFG" --product Hello --vendor Example \
	--version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$INST/hello-setup.exe")" "$INST/hello-setup.exe"
A=$POL/hello-1.0.json
cosign() { sg "$1" policy cosign --config "$CFG" --cert "$PKI/approver-$2.pem" \
	--key "$PKI/approver-$2.key" "${@:3}" "$A"; }

# Missing.
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "approval hello-1.0 has no valid co-signature (two-person rule)"
expect_in "$T/out" "no co-signature $A.cosign.p7s"
expect_same "$(audit_field 0 decision)" denied

# By the approver herself.
cosign 0 alice
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "approval hello-1.0 is co-signed by alice, who approved it"

# Self-made: bob's name on a certificate the approvers' CA did not issue.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=bob" \
	-addext "keyUsage=digitalSignature" -addext "extendedKeyUsage=emailProtection" \
	-keyout "$T/fake-bob.key" -out "$T/fake-bob.pem" 2>/dev/null
openssl cms -sign -binary -md sha256 -outform DER -in "$A" -signer "$T/fake-bob.pem" \
	-inkey "$T/fake-bob.key" -out "$A.cosign.p7s"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "has no valid co-signature"
expect_in_i "$T/out" "approvers"

# Valid: bob co-signs. Then the approval is edited: the co-signature is void.
cosign 0 bob --replace
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 approval.approved_by)" alice
expect_same "$(audit_field 0 approval.cosigned_by.name)" bob
expect_same "$(audit_field 0 approval.cosigned_by.cert_sha256)" \
	"$(openssl x509 -in "$PKI/approver-bob.pem" -outform DER | sha256sum | cut -d' ' -f1)"
expect_same "$(audit_field 0 approval.policy_file_sha256)" "$(sha256 "$A")"
cp "$A" "$T/approval.bak"
sed -i 's/"ticket": "CHG-7"/"ticket": "CHG-8"/' "$A"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "has no valid co-signature"
cp "$T/approval.bak" "$A"
# Garbage in place of the co-signature.
cp "$A.cosign.p7s" "$T/cosig.bak"
echo "not CMS" >"$A.cosign.p7s"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "has no valid co-signature"
cp "$T/cosig.bak" "$A.cosign.p7s"

# Signing with a valid co-signature: the record names both people.
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 decision)" signed
expect_same "$(audit_field 0 approval.approved_by)" alice
expect_same "$(audit_field 0 approval.cosigned_by.name)" bob

# The rule needs the approvers' CA in the config.
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\"}"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "names no trust.approvers_ca_file"
# Without require_cosign, no co-signature is needed.
rm "$POL/rules.json" "$A.cosign.p7s"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_not_in "$LOG" "\"cosigned_by\":{\"cert_sha256\":\"\""
done_ok
