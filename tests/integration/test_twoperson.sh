#!/usr/bin/env bash
# The two-person rule: under "require_cosign" (the config's
# trust.require_cosign or the policy's), an approval signs only with two
# valid signatures over its file's exact bytes, <file>.approve.p7s and
# <file>.cosign.p7s, by two different approvers' certificates from the
# approvers' CA. Each way one person could pass alone is denied with its
# reason: one certificate twice, one key under two certificates, two
# certificates with one subject (also in another case or spacing), one CN
# or email under another OU; so are an approval edited after either
# signature, a revoked approver (CRL configured), a certificate from
# another CA and a missing signature. Two real approvers sign, and the
# audit record, `policy show` and --json name them from their certificates,
# never from the approval's "approved_by" text. `policy approve` writes the
# first approval of an empty folder, and signs it with --cert/--key (a PEM
# key or a PKCS#11 token); `policy lint` lists approvals missing a signature.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
POL=$T/env/policy
trust() { config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"$1}"; }
trust ', "require_cosign": true'
EXE=$INST/hello-setup.exe
A=$POL/hello-1.0.json
alice=(--cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key")
bob=(--cert "$PKI/approver-bob.pem" --key "$PKI/approver-bob.key")
cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# mkcert NAME SUBJECT [KEY]: an approver certificate from the approvers' CA
# (the fixture's), with a new EC key in $T/NAME.key unless KEY is given.
cat >"$T/approver.cnf" <<'CNF'
[ v3_approver ]
basicConstraints = critical, CA:FALSE
keyUsage         = critical, digitalSignature
extendedKeyUsage = emailProtection
CNF
mkcert() {
	local key=${3:-$T/$1.key}
	[ -n "${3:-}" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$key" 2>/dev/null
	chmod 0600 "$key"
	openssl req -new -key "$key" -subj "$2" -out "$T/$1.csr" 2>/dev/null
	openssl x509 -req -in "$T/$1.csr" -CA "$PKI/approvers-ca.pem" \
		-CAkey "$PKI/approvers-ca.key" -passin "file:$PKI/ca.pass" \
		-set_serial "0x$(openssl rand -hex 12)" -days 30 -sha256 \
		-extfile "$T/approver.cnf" -extensions v3_approver -out "$T/$1.pem" 2>/dev/null
}
# by_hand SUFFIX NAME: a signature of $A made with openssl alone, no checks.
by_hand() {
	openssl cms -sign -binary -md sha256 -outform DER -in "$A" -signer "$T/$2.pem" \
		-inkey "$T/$2.key" -out "$A.$1.p7s"
}
denied() { # denied TEXT...: check is denied (exit 3) with each TEXT in its output
	sg 3 check --config "$CFG" "$EXE"
	for t in "$@"; do expect_in "$T/out" "$t"; done
	expect_same "$(audit_field 0 decision)" denied
}

# --- the first approval of an empty policy folder, signed by its approver ---
[ -z "$(ls -A "$POL")" ] || fail "the policy folder is not empty"
SIGNGATE_APPROVER="Alice A." sg 0 policy approve --config "$CFG" "${alice[@]}" --product Hello \
	--vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$EXE")" "$EXE"
expect_in "$T/out" "approved by alice (self-declared: Alice A.) (certificate CN=alice,OU=Approvers,O=Example Corp,C=US), signed $A.approve.p7s"
expect_in "$T/out" "a second approver signs it with 'signgate policy cosign'"
[ -s "$A.approve.p7s" ] || fail "no first approver's signature written"
openssl cms -verify -binary -inform DER -in "$A.approve.p7s" -content "$A" \
	-CAfile "$PKI/approvers-ca.pem" -partial_chain -purpose smimesign -out /dev/null \
	2>/dev/null || fail "openssl does not verify the first approver's signature"
expect_same "$(jq -r '.approvals[0].provenance.approver.certificate.cert_sha256' "$A")" \
	"$(cert_sha "$PKI/approver-alice.pem")"
expect_same "$(jq -r '.approvals[0].provenance.approver.display_name_is' "$A")" \
	"self-declared (SIGNGATE_APPROVER), not verified"
expect_same "$(audit_field 0 approval.approved_by_cert.name)" alice
denied "approval hello-1.0 is not signed by two approvers (two-person rule): no second approver's signature $A.cosign.p7s"
# The denial's record names nobody as the approver and does not claim a certificate.
expect_same "$(tail -n 1 "$LOG" | jq -c '.approval | [.approved_by, .approved_by_from, has("cosigned_by")]')" \
	'[null,"approval file (not verified)",false]'

# --- one approver signing twice ---
sg 3 policy cosign --config "$CFG" "${alice[@]}" "$A"
expect_in "$T/err" "$A: the first approver's signature $A.approve.p7s is by the same approver (the same certificate (CN=alice,OU=Approvers,O=Example Corp,C=US))"
expect_absent "$A.cosign.p7s"
cp "$A.approve.p7s" "$A.cosign.p7s"
denied "both signatures are by one approver: the same certificate (CN=alice,OU=Approvers,O=Example Corp,C=US)"

# --- the same key under two certificates ---
cp "$PKI/approver-alice.key" "$T/alice.key" && chmod 0600 "$T/alice.key"
mkcert alice-2 "/C=US/O=Example Corp/OU=Approvers/CN=Alice Other" "$T/alice.key"
cp "$T/alice.key" "$T/alice-2.key"
sg 3 policy cosign --config "$CFG" --cert "$T/alice-2.pem" --key "$T/alice.key" --replace "$A"
expect_in "$T/err" "is by the same approver (the same key under two certificates (CN=Alice Other"
by_hand cosign alice-2
denied "both signatures are by one approver: the same key under two certificates (CN=alice,OU=Approvers,O=Example Corp,C=US and CN=Alice Other,OU=Approvers,O=Example Corp,C=US)"

# --- two certificates with the same subject, and names that differ only in case or spaces ---
mkcert twin "/C=US/O=Example Corp/OU=Approvers/CN=alice"
by_hand cosign twin
denied "both signatures are by one approver: two certificates with the same subject (CN=alice,OU=Approvers,O=Example Corp,C=US and CN=alice,OU=Approvers,O=Example Corp,C=US"
mkcert case "/C=us/O=EXAMPLE corp/OU=approvers/CN=ALICE"
by_hand cosign case
denied "two certificates with the same subject (CN=alice,OU=Approvers,O=Example Corp,C=US and CN=ALICE,OU=approvers,O=EXAMPLE corp,C=us; names are compared ignoring case and spaces)"
mkcert spaces "/C=US/O=Example   Corp/OU=Approvers/CN=alice "
by_hand cosign spaces
denied "two certificates with the same subject (CN=alice,OU=Approvers,O=Example Corp,C=US and CN=alice"
# The same person under an attribute nobody reads: another OU, or another CN with her email.
mkcert other-ou "/C=US/O=Example Corp/OU=Finance/CN=Alice"
by_hand cosign other-ou
denied "both signatures are by one approver: two certificates with the same CN \"alice\""
mkcert same-mail "/C=US/O=Example Corp/OU=Approvers/CN=A. Smith/emailAddress=ALICE@example.com"
by_hand cosign same-mail
denied "both signatures are by one approver: two certificates with the same email alice@example.com"

# --- a certificate not from the approvers' CA ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=bob" \
	-addext "keyUsage=digitalSignature" -addext "extendedKeyUsage=emailProtection" \
	-keyout "$T/fake-bob.key" -out "$T/fake-bob.pem" 2>/dev/null
by_hand cosign fake-bob
denied "the second approver's signature $A.cosign.p7s: the certificate of CN=bob is not issued by the approvers' CA $PKI/approvers-ca.pem"

# --- two real approvers: signed, and the record names both from their certificates ---
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$A"
expect_in "$T/out" "cosigned $A as bob (CN=bob,OU=Approvers,O=Example Corp,C=US), signature $A.cosign.p7s"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$EXE"
expect_same "$(audit_field 0 decision)" signed
expect_same "$(audit_field 0 approval.approved_by)" alice
expect_same "$(audit_field 0 approval.approved_by_from)" certificate
expect_same "$(audit_field 0 approval.approved_by_cert.cert_sha256)" "$(cert_sha "$PKI/approver-alice.pem")"
expect_same "$(audit_field 0 approval.cosigned_by.name)" bob
expect_same "$(audit_field 0 approval.cosigned_by.cert_sha256)" "$(cert_sha "$PKI/approver-bob.pem")"
expect_same "$(audit_field 0 approval.policy_file_sha256)" "$(sha256 "$A")"
sg 0 check --config "$CFG" "$EXE"
expect_in "$T/out" "approved by hello-1.0 (approvers alice and bob by their certificates, ticket CHG-7)"

# --- the approval edited after either signature ---
cp "$A" "$T/approval.bak"
sed -i 's/"ticket": "CHG-7"/"ticket": "CHG-8"/' "$A"
denied "the first approver's signature $A.approve.p7s: does not match $A: the file changed after it was signed"
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$A" # bob signs the edited file
denied "the first approver's signature $A.approve.p7s: does not match $A"
cp "$T/approval.bak" "$A"
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$A"
sg 0 check --config "$CFG" "$EXE"
sed -i 's/"ticket": "CHG-7"/"ticket": "CHG-8"/' "$A"
sg 0 policy cosign --config "$CFG" --first "${alice[@]}" --replace "$A" # alice re-signs the edit
denied "the second approver's signature $A.cosign.p7s: does not match $A: the file changed after it was signed"
cp "$T/approval.bak" "$A"
sg 0 policy cosign --config "$CFG" --first "${alice[@]}" --replace "$A"
sg 0 check --config "$CFG" "$EXE"

# --- a revoked approver (the approvers' CRL configured) ---
mkcert carol "/C=US/O=Example Corp/OU=Approvers/CN=carol"
sg 0 policy cosign --config "$CFG" --cert "$T/carol.pem" --key "$T/carol.key" --replace "$A"
sg 0 check --config "$CFG" "$EXE"
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
cat >"$T/ca/ca.cnf" <<CNF
[ ca ]
default_ca = approvers
[ approvers ]
database         = $T/ca/index.txt
default_md       = sha256
default_crl_days = 7
CNF
ca() { openssl ca -config "$T/ca/ca.cnf" -cert "$PKI/approvers-ca.pem" \
	-keyfile "$PKI/approvers-ca.key" -passin "file:$PKI/ca.pass" "$@" 2>/dev/null; }
ca -gencrl -out "$T/approvers-crl.pem"
cp "$T/approvers-crl.pem" "$T/old-crl.pem" # before carol's revocation
trust ', "require_cosign": true, "approvers_crl_file": "'"$T/approvers-crl.pem"'"'
sg 0 check --config "$CFG" "$EXE"
ca -revoke "$T/carol.pem" -crl_reason keyCompromise
ca -gencrl -out "$T/approvers-crl.pem"
denied "the second approver's signature $A.cosign.p7s: the certificate of CN=carol,OU=Approvers,O=Example Corp,C=US is revoked"
sg 3 policy cosign --config "$CFG" --cert "$T/carol.pem" --key "$T/carol.key" --replace "$A"
expect_in "$T/err" "the certificate of CN=carol,OU=Approvers,O=Example Corp,C=US is revoked"
# The CRL may also sit in trust.crl_file beside the code-signing CRLs.
cat "$PKI/crl.pem" "$T/approvers-crl.pem" >"$T/all-crl.pem"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$T/all-crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\", \"require_cosign\": true}"
denied "CN=carol,OU=Approvers,O=Example Corp,C=US is revoked"
# A damaged CRL after a good one voids the file (the good one alone would
# leave carol unrevoked): a configuration error, no verdict on the file.
{ echo "-----BEGIN X509 CRL-----"; echo "not base64 ###"; echo "-----END X509 CRL-----"; } >"$T/bad-block.pem"
cat "$T/old-crl.pem" "$T/bad-block.pem" >"$T/mixed-crl.pem"
trust ', "require_cosign": true, "approvers_crl_file": "'"$T/mixed-crl.pem"'"'
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/out" "failed   $EXE: $T/mixed-crl.pem: no PEM CRL in the file (or a damaged one"
expect_same "$(audit_field 0 decision)" failed
# Configured but unreadable: a configuration error, no verdict on the file.
trust ', "require_cosign": true, "approvers_crl_file": "'"$T/none.pem"'"'
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/out" "failed   $EXE: $T/none.pem: cannot read the CRL file: No such file or directory"
expect_same "$(audit_field 0 decision)" failed
trust ', "require_cosign": true'
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$A"

# --- policy show and lint name the approvers from their certificates ---
sg 0 policy show --config "$CFG"
expect_in "$T/out" "CHG-7"
expect_same "$(awk 'NR == 2 { print $7 }' "$T/out")" alice
sg 0 policy show --config "$CFG" --json
expect_same "$(jq -r '.approved_by + " " + .cosigned_by.name + " " + .approved_by_from' "$T/out")" \
	"alice bob certificate"
# A hand-written approval that names someone else: its text is never who approved.
approval typed hello-setup.exe "$(sha256 "$EXE")" ', "expires": "2099-01-01"'
sed -i 's/"j.doe"/"bob"/' "$POL/typed.json"
sg 0 policy lint --config "$CFG"
expect_in "$T/out" "warning  $POL/typed.json: approval typed: no first approver's signature $POL/typed.json.approve.p7s and no second approver's signature $POL/typed.json.cosign.p7s"
expect_not_in "$T/out" "approval hello-1.0:"
sg 0 policy lint --policy "$POL" --json
expect_same "$(jq -rs '[.[] | select(.approval == "typed")] | length' "$T/out")" 1
sg 0 policy show --config "$CFG" --json
expect_same "$(jq -rs '.[] | select(.id == "typed") | .approved_by' "$T/out")" null
expect_same "$(jq -rs '.[] | select(.id == "typed") | .state' "$T/out")" unusable
expect_same "$(jq -rs '.[] | select(.id == "hello-1.0") | .state' "$T/out")" valid
# Migration: an old approval with a co-signature only is denied, naming what is missing.
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$POL/typed.json"
rm "$A" "$A.approve.p7s" "$A.cosign.p7s"
denied "approval typed is not signed by two approvers (two-person rule): no first approver's signature $POL/typed.json.approve.p7s"
sg 0 policy cosign --config "$CFG" --first "${alice[@]}" "$POL/typed.json"
sg 0 check --config "$CFG" "$EXE"
expect_same "$(audit_field 0 approval.approved_by)" alice
expect_same "$(audit_field 0 approval.cosigned_by.name)" bob

# --- through the policy index, the decisions are the full load's, for a big file too ---
/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["comment"] = "x" * 1200000
json.dump(d, open(sys.argv[1], "w"), indent=2)' "$POL/typed.json"
sg 0 policy cosign --config "$CFG" --first "${alice[@]}" --replace "$POL/typed.json"
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$POL/typed.json"
sg 0 policy index --config "$CFG"
sg 0 check --config "$CFG" "$EXE"
expect_not_in "$T/err" "index is not used"
expect_same "$(audit_field 0 approval.approved_by)" alice
cp "$POL/typed.json.approve.p7s" "$POL/typed.json.cosign.p7s"
denied "both signatures are by one approver: the same certificate"
expect_not_in "$T/err" "index is not used"
sg 0 policy cosign --config "$CFG" "${bob[@]}" --replace "$POL/typed.json"

# --- the rule from the policy file, and without the approvers' CA ---
trust ''
sg 0 check --config "$CFG" "$EXE"
echo '{ "require_cosign": true }' >"$POL/rules.json"
rm "$POL/typed.json.approve.p7s"
denied "no first approver's signature $POL/typed.json.approve.p7s"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\"}"
denied "names no trust.approvers_ca_file"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"require_cosign\": true}"
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "\"trust.require_cosign\" needs \"trust.approvers_ca_file\""
# Without the rule, the approval's own text is recorded as unverified.
rm "$POL/rules.json"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\"}"
sg 0 check --config "$CFG" "$EXE"
expect_same "$(audit_field 0 approval.approved_by)" bob
expect_same "$(audit_field 0 approval.approved_by_from)" "approval file (not verified)"

# --- policy approve: usage of the signing options ---
trust ', "require_cosign": true'
rm "$POL"/typed.json*
ap=(policy approve --config "$CFG" --product Hello --vendor Example --version 2.0 --ticket T
	--sha256 "$(sha256 "$EXE")")
sg 2 "${ap[@]}" --cert "$PKI/approver-alice.pem" "$EXE"
expect_in "$T/err" "--cert and --key go together"
sg 2 "${ap[@]}" --password-prompt "$EXE"
expect_in "$T/err" "go with --cert and --key"
sg 2 policy approve --policy "$POL" --product Hello --vendor Example --version 2.0 --ticket T \
	--sha256 "$(sha256 "$EXE")" "${alice[@]}" "$EXE"
expect_in "$T/err" "--cert needs the approvers' CA: --approvers-ca or --config"
sg 2 "${ap[@]}" --cert "$PKI/approver-alice.pem" --key "pkcs11:token=x;object=y" "$EXE"
expect_in "$T/err" "a pkcs11: URI as --key needs --pkcs11-module"
sg 3 "${ap[@]}" --cert "$PKI/signer.pem" --key "$PKI/signer.key" --password-file \
	"$PKI/signer.pass" "$EXE"
expect_in "$T/out" "denied   $POL/hello-2.0.json: the new first approver's signature would not count, nothing was written: the certificate of CN=Example Corp Code Signing"
expect_absent "$POL/hello-2.0.json"

# --- policy approve with the first approver's key in a PKCS#11 token ---
if [ -e /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util >/dev/null; then
	mkdir -p "$T/hsm"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$T/hsm" >"$T/softhsm2.conf"
	export SOFTHSM2_CONF=$T/softhsm2.conf
	softhsm2-util --init-token --free --label approver --so-pin 12345678 --pin 246810 >/dev/null
	openssl pkcs8 -topk8 -nocrypt -in "$PKI/approver-alice.key" -out "$T/alice.p8"
	softhsm2-util --import "$T/alice.p8" --token approver --label alice --id 01 \
		--pin 246810 >/dev/null
	printf 246810 >"$T/pin" && chmod 0600 "$T/pin"
	uri="pkcs11:token=approver;object=alice;type=private"
	sg 0 "${ap[@]}" --cert "$PKI/approver-alice.pem" --key "$uri" \
		--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --password-file "$T/pin" "$EXE"
	expect_in "$T/out" "signed $POL/hello-2.0.json.approve.p7s"
	sg 0 policy cosign --config "$CFG" "${bob[@]}" "$POL/hello-2.0.json"
	sg 0 policy lint --config "$CFG"
	expect_not_in "$T/out" "approval hello-2.0:"
	printf 999999 >"$T/pin"
	sg 1 "${ap[@]}" --id wrong-pin --cert "$PKI/approver-alice.pem" --key "$uri" \
		--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --password-file "$T/pin" "$EXE"
	expect_in "$T/err" "$uri: cannot load the approver's key from the token"
	expect_absent "$POL/wrong-pin.json"
	# Taken back when the policy would not load with it: no signature is left either.
	printf 246810 >"$T/pin"
	sg 2 "${ap[@]}" --id clash --version 3.0 --cert "$PKI/approver-alice.pem" --key "$uri" \
		--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --password-file "$T/pin" "$EXE"
	expect_in "$T/out" "$POL/clash.json was taken back"
	expect_absent "$POL/clash.json"
	expect_absent "$POL/clash.json.approve.p7s"
fi
done_ok
