#!/usr/bin/env bash
# Red team R2: the approvers' CA's CRL kept in trust.crl_file (beside the
# code-signing CRLs, README) and that file then holds a damaged PEM block.
# cosign.c load_crls() with `anchors` (the shared file) takes "no CRL" for
# "the file is void" without a word: no CRL_CHECK, so a revoked approver
# counts again wherever the code-signing trust is not loaded first:
# `check` (the dry run) says "approved by ... alice and carol". `sign` is
# safe only because sg_trust refuses the same file first. Expected: every command refuses (exit 2)
# naming the file, as it does for a damaged approvers_crl_file.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
POL=$T/env/policy
EXE=$INST/hello-setup.exe
A=$POL/hello-1.0.json
cat >"$T/approver.cnf" <<'CNF'
[ v3_approver ]
basicConstraints = critical, CA:FALSE
keyUsage         = critical, digitalSignature
extendedKeyUsage = emailProtection
CNF
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/carol.key" 2>/dev/null
chmod 0600 "$T/carol.key"
openssl req -new -key "$T/carol.key" -subj "/C=US/O=Example Corp/OU=Approvers/CN=carol" \
	-out "$T/carol.csr" 2>/dev/null
openssl x509 -req -in "$T/carol.csr" -CA "$PKI/approvers-ca.pem" -CAkey "$PKI/approvers-ca.key" \
	-passin "file:$PKI/ca.pass" -set_serial "0x$(openssl rand -hex 12)" -days 30 -sha256 \
	-extfile "$T/approver.cnf" -extensions v3_approver -out "$T/carol.pem" 2>/dev/null
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
printf '[ ca ]\ndefault_ca = a\n[ a ]\ndatabase = %s\ndefault_md = sha256\ndefault_crl_days = 7\n' \
	"$T/ca/index.txt" >"$T/ca/ca.cnf"
ca() { openssl ca -config "$T/ca/ca.cnf" -cert "$PKI/approvers-ca.pem" \
	-keyfile "$PKI/approvers-ca.key" -passin "file:$PKI/ca.pass" "$@" 2>/dev/null; }
ca -revoke "$T/carol.pem" -crl_reason keyCompromise
ca -gencrl -out "$T/approvers-crl.pem"
cat "$PKI/crl.pem" "$T/approvers-crl.pem" >"$T/all-crl.pem"
trust() { config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$1\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\", \"require_cosign\": true}"; }
trust "$PKI/crl.pem"
sg 0 policy approve --config "$CFG" --cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key" \
	--product Hello --vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$EXE")" "$EXE"
# carol signs before anyone knows of her revocation
sg 0 policy cosign --config "$CFG" --cert "$T/carol.pem" --key "$T/carol.key" "$A"
# The shared CRL file holds her revocation: she no longer counts.
trust "$T/all-crl.pem"
sg 3 check --config "$CFG" "$EXE"
expect_in "$T/out" "is revoked"
# The same file with a damaged block after it.
{ cat "$T/all-crl.pem"; echo "-----BEGIN X509 CRL-----"; echo "not base64 ###"; echo "-----END X509 CRL-----"; } >"$T/bad.pem"
trust "$T/bad.pem"
# FAILS on 33e5803: check approves ("approvers alice and carol"), exit 0.
# sign refuses (sg_trust loads the same file and finds it void): exit 2.
sg 2 sign --config "$CFG" --out "$T/o.exe" "$EXE"
expect_absent "$T/o.exe"
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/out" "$T/bad.pem"
# The revoked approver cannot co-sign again (today: exit 0, "cosigned ... as carol").
sg 2 policy cosign --config "$CFG" --cert "$T/carol.pem" --key "$T/carol.key" --replace "$A"
expect_in "$T/err" "$T/bad.pem"
# lint does not say "0 warnings" (today: ok, 0 warnings; with the good file: "is revoked").
rc=0
"$SG_BIN" policy lint --config "$CFG" >"$T/out" 2>"$T/err" || rc=$?
expect_not_in "$T/out" "0 warnings"
done_ok
