#!/usr/bin/env bash
# signgate policy cosign: an approver of the example PKI co-signs an approval
# file (CA from --config or --approvers-ca); the co-signature checks by hand
# with openssl cms as include/signgate/cosign.h says, and stops checking once
# the file changes; an existing one is replaced only with --replace; a
# certificate from another CA (the code-signing root's), a wrong CA file, a
# key that is not private, not the certificate's or encrypted without (or
# with a wrong) password are refused with the cause and leave no file; usage
# mistakes exit 2.
. "$(dirname -- "$0")/lib.sh"

if [ ! -s "$PKI/approvers-ca.pem" ] || [ ! -s "$PKI/approver-bob.key" ]; then
	fail "the fixture has no approvers' CA (make-pki.sh)"
fi

new_env
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"}"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
F=$T/env/policy/hello-exe.json
SIG=$F.cosign.p7s
bob=(--cert "$PKI/approver-bob.pem" --key "$PKI/approver-bob.key")
alice=(--cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key")

# by_hand FILE: the co-signature of FILE checks with openssl alone.
by_hand() {
	openssl cms -verify -binary -inform DER -in "$1.cosign.p7s" -content "$1" \
		-CAfile "$PKI/approvers-ca.pem" -partial_chain -purpose smimesign \
		-out /dev/null 2>"$T/cms.err"
}

# --- bob co-signs, with the CA from the config ---
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$F"
expect_same "$(cat "$T/out")" \
	"cosigned $F as bob (CN=bob,OU=Approvers,O=Example Corp,C=US), signature $SIG, file SHA-256 $(sha256 "$F")"
[ -s "$SIG" ] || fail "no co-signature written"
by_hand "$F" || fail "openssl cms does not verify the co-signature: $(cat "$T/cms.err")"
ok
# The policy loader reads *.json only: the co-signature beside it is no policy file.
sg 0 check --config "$CFG" "$INST/hello-setup.exe"

# --- an existing co-signature stays unless --replace ---
cp -- "$SIG" "$T/first.p7s"
sg 1 policy cosign --config "$CFG" "${alice[@]}" "$F"
expect_in "$T/err" "$SIG: a second approver's signature exists already; --replace replaces it"
cmp -s "$SIG" "$T/first.p7s" || fail "the existing co-signature was changed"
ok
sg 0 policy cosign --approvers-ca "$PKI/approvers-ca.pem" "${alice[@]}" --replace --json "$F"
expect_same "$(jq -r '.cosigner + " " + .email + " " + .signature' "$T/out")" \
	"alice alice@example.com $SIG"
expect_same "$(jq -r .cert_sha256 "$T/out")" \
	"$(openssl x509 -in "$PKI/approver-alice.pem" -outform DER | sha256sum | cut -d' ' -f1)"
now=$(date +%s)
[ "$(jq -r .signing_time "$T/out")" -ge $((now - 60)) ] || fail "signing_time is not now"
ok
for f in "$T/env/policy"/*.cosign.p7s.*; do
	[ ! -e "$f" ] || fail "a temporary file was left behind: $f"
done
ok

# --- the co-signature is of the bytes: one changed byte and it no longer checks ---
sed -i 's/SEC-1/SEC-2/' "$F"
if by_hand "$F"; then fail "the co-signature still verifies after the file changed"; fi
ok

# --- refused: nothing is written ---
approval second hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
F2=$T/env/policy/second.json
sg 3 policy cosign --config "$CFG" --cert "$PKI/signer.pem" --key "$PKI/signer.key" \
	--password-file "$PKI/signer.pass" "$F2"
expect_in "$T/err" "$F2: the new second approver's signature would not count, nothing was written: the certificate of CN=Example Corp Code Signing"
expect_in "$T/err" "is not issued by the approvers' CA $PKI/approvers-ca.pem"
sg 3 policy cosign --approvers-ca "$PKI/root.pem" "${bob[@]}" "$F2"
expect_in "$T/err" "the certificate of CN=bob,OU=Approvers,O=Example Corp,C=US is not issued by the approvers' CA $PKI/root.pem"
sg 1 policy cosign --config "$CFG" --cert "$PKI/approver-alice.pem" --key "$PKI/approver-bob.key" "$F2"
expect_in "$T/err" "$PKI/approver-bob.key: the key does not match the certificate $PKI/approver-alice.pem"
cp -- "$PKI/approver-bob.key" "$T/open.key"
chmod 0644 "$T/open.key"
sg 2 policy cosign --config "$CFG" --cert "$PKI/approver-bob.pem" --key "$T/open.key" "$F2"
expect_in "$T/err" "$T/open.key: key file is accessible by group or others (mode 0644)"
sg 2 policy cosign --approvers-ca "$PKI/approver-bob.pem" "${bob[@]}" "$F2"
expect_in "$T/err" "$PKI/approver-bob.pem: certificate 1 (CN=bob,OU=Approvers,O=Example Corp,C=US) is not a CA certificate"
sg 1 policy cosign --config "$CFG" "${bob[@]}" "$T/env/policy/none.json"
expect_in "$T/err" "$T/env/policy/none.json: no such approval file"
expect_absent "$F2.cosign.p7s"

# --- the approvers' CA decides who approved: held to the strict rule when it
# is read, given on the command line too (it was only warned about), and read
# on the descriptor that was checked ---
cp -- "$PKI/approvers-ca.pem" "$T/ca-open.pem"
chmod 0664 "$T/ca-open.pem"
sg 2 policy cosign --approvers-ca "$T/ca-open.pem" "${bob[@]}" "$F2"
expect_in "$T/err" "$T/ca-open.pem: writable by group"
expect_not_in "$T/err" "warning"
: >"$T/ca-empty.pem"
sg 2 policy cosign --approvers-ca "$T/ca-empty.pem" "${bob[@]}" "$F2"
expect_in "$T/err" "$T/ca-empty.pem: no PEM certificate in the approvers' CA"
expect_absent "$F2.cosign.p7s"

# --- an approval file too large to be one: the policy's fault (exit 2), not I/O ---
truncate -s $((16 * 1024 * 1024 + 1)) "$T/env/policy/huge.json"
sg 2 policy cosign --config "$CFG" "${bob[@]}" "$T/env/policy/huge.json"
expect_in "$T/err" "$T/env/policy/huge.json: larger than 16777216 bytes"
expect_absent "$T/env/policy/huge.json.cosign.p7s"
rm -f "$T/env/policy/huge.json"

# --- an encrypted key: its password from a private file only ---
printf 'bob-key-password' >"$T/bob.pass"
chmod 0600 "$T/bob.pass"
openssl pkey -in "$PKI/approver-bob.key" -aes256 -passout "file:$T/bob.pass" -out "$T/bob-enc.key"
chmod 0600 "$T/bob-enc.key"
enc=(--cert "$PKI/approver-bob.pem" --key "$T/bob-enc.key")
sg 2 policy cosign --config "$CFG" "${enc[@]}" "$F2"
expect_in "$T/err" "$T/bob-enc.key: the approver's key is encrypted but no password was given"
printf 'wrong' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
sg 1 policy cosign --config "$CFG" "${enc[@]}" --password-file "$T/wrong.pass" "$F2"
expect_in "$T/err" "$T/bob-enc.key: cannot read the approver's key: wrong password"
chmod 0644 "$T/bob.pass"
sg 2 policy cosign --config "$CFG" "${enc[@]}" --password-file "$T/bob.pass" "$F2"
expect_in "$T/err" "$T/bob.pass: secret file is accessible by group or others"
chmod 0600 "$T/bob.pass"
rc=0
setsid "$SG_BIN" policy cosign --config "$CFG" "${enc[@]}" --password-prompt "$F2" \
	</dev/null >"$T/out" 2>"$T/err" || rc=$?
expect_same "$rc" 2
expect_in "$T/err" "--password-prompt: no terminal to ask on"
expect_absent "$F2.cosign.p7s"
sg 0 policy cosign --config "$CFG" "${enc[@]}" --password-file "$T/bob.pass" "$F2"
expect_in "$T/out" "cosigned $F2 as bob"
by_hand "$F2" || fail "openssl cms does not verify the co-signature: $(cat "$T/cms.err")"
ok

# --- usage ---
sg 2 policy cosign "${bob[@]}" "$F2"
expect_in "$T/err" "give one of --approvers-ca and --config"
sg 2 policy cosign --config "$CFG" --approvers-ca "$PKI/approvers-ca.pem" "${bob[@]}" "$F2"
expect_in "$T/err" "give one of --approvers-ca and --config"
sg 2 policy cosign --config "$CFG" --key "$PKI/approver-bob.key" "$F2"
expect_in "$T/err" "--cert and --key are required"
sg 2 policy cosign --config "$CFG" "${bob[@]}"
expect_in "$T/err" "APPROVAL_FILE is missing"
sg 2 policy cosign --config "$CFG" "${bob[@]}" --password-file "$T/bob.pass" --password-prompt "$F2"
expect_in "$T/err" "--password-file and --password-prompt exclude each other"
sg 2 policy cosign --config "$CFG" "${bob[@]}" --password "x" "$F2"
config_set trust "{\"ca_file\": \"$PKI/root.pem\"}"
sg 2 policy cosign --config "$CFG" "${bob[@]}" --replace "$F2"
expect_in "$T/err" "$CFG: no \"trust.approvers_ca_file\""
sg 0 policy cosign --help
expect_in "$T/out" "Usage: signgate policy cosign"

done_ok
