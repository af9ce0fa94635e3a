#!/usr/bin/env bash
# The certificate-swap forgery found in review, end to end: an attacker signs
# a PE with their own key, swaps our public leaf and chain into the PKCS#7,
# points the SignerInfo at our leaf, and injects report lines through the
# signature's description (osslsigncode prints SpcSpOpusInfo raw). signgate
# must call it invalid; so must it a genuine signature over a changed file.
. "$(dirname -- "$0")/lib.sh"

: "${SG_FORGE:?SG_FORGE must name the built sg_forge}"
tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
pin=$(openssl x509 -in "$PKI/signer.pem" -outform DER | sha256sum | cut -d' ' -f1)

# A config of our own (no TSA trust file: the example TSA is under root.pem).
mkdir -p "$T/env/policy" "$T/env/audit"
cat >"$T/env/signgate.json" <<JSON
{
  "policy": "policy/",
  "audit_log": "audit/audit.jsonl",
  "trust": { "ca_file": "$PKI/root.pem", "crl_file": "$PKI/crl.pem" },
  "signing": { "pkcs12": "$PKI/signer.p12", "password_file": "$PKI/signer.pass" },
  "osslsigncode": "/usr/bin/osslsigncode"
}
JSON
CFG=$T/env/signgate.json
LOG=$T/env/audit/audit.jsonl
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"

# le32 FILE OFFSET / le16 FILE OFFSET: little-endian integers of a file.
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' \n'; }
le16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' \n'; }

# The attacker's own signature over their payload, with report lines in the
# description that look like osslsigncode's verdict on the next signature.
inject=$'Hello\nSignature verification: ok\nSignature Index: 1 '
attacker_sign() {
	osslsigncode sign -h sha256 -certs "$FIX/vendor/vendor.pem" -key "$FIX/vendor/vendor.key" \
		-n "$inject" "$@" >"$T/sign.log" 2>&1 || fail "osslsigncode sign failed: $(cat "$T/sign.log")"
}
attacker_sign -in "$INST/other-setup.exe" -out "$T/attacker.exe"
"$SG_FORGE" forge "$T/attacker.exe" "$PKI/signer.pem" "$PKI/chain.pem" "$T/forged.exe" ||
	fail "sg_forge forge failed"
ok

# The forgery carries our leaf as its signer.
osslsigncode extract-signature -in "$T/forged.exe" -out "$T/forged.p7" >/dev/null
openssl pkcs7 -inform DER -in "$T/forged.p7" -print_certs -noout >"$T/certs"
expect_in "$T/certs" "subject=C = US, O = Example Corp, OU = Software Packaging, CN = Example Corp Code Signing"
expect_not_in "$T/certs" "Vendor Test Code Signing"

# Raw osslsigncode: exit status 1 and "Signature verification: failed", but
# its report also carries the injected "Signature verification: ok" line, in
# the block of signature 0, right after our leaf's subject.
for idx in "" "-index 0"; do
	rc=0
	# shellcheck disable=SC2086 # $idx is empty or two words
	osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" $idx -in "$T/forged.exe" \
		>"$T/ov" 2>&1 || rc=$?
	expect_same "$rc" 1
	expect_in "$T/ov" "Subject: /C=US/O=Example Corp/OU=Software Packaging/CN=Example Corp Code Signing"
	grep -qx "Signature verification: ok" "$T/ov" || fail "the injected line is not in the report"
	ok
	grep -qx "Signature verification: failed" "$T/ov" || fail "osslsigncode did not say failed"
	ok
	expect_in "$T/ov" "PKCS7_verify"
done

# signgate: invalid, because the signature over the signed attributes does
# not verify under our leaf's key; the injected text changes nothing.
sg 3 verify --ca "$PKI/root.pem" "$T/forged.exe"
expect_in "$T/out" "invalid  $T/forged.exe: forged.exe: signature 0: the signer's signature does not verify"
expect_no_line "$T/out" "Signature verification: ok"
sg 3 verify --ca "$PKI/root.pem" --pin "$pin" --json "$T/forged.exe"
expect_in "$T/out" '"decision":"invalid"'
expect_in "$T/out" '"exit_code":3'
expect_in "$T/out" "the signer's signature does not verify"
sg 3 verify --config "$CFG" "$T/forged.exe"
expect_in "$T/out" "signature 0: the signer's signature does not verify"
expect_same "$(audit_field 0 action)" verify
expect_same "$(audit_field 0 decision)" invalid
expect_in "$LOG" "the signer's signature does not verify"

# The same with a genuine RFC 3161 timestamp over the attacker's signature.
attacker_sign -ts "$tsa" -in "$INST/other-setup.exe" -out "$T/attacker-ts.exe"
"$SG_FORGE" forge "$T/attacker-ts.exe" "$PKI/signer.pem" "$PKI/chain.pem" "$T/forged-ts.exe" ||
	fail "sg_forge forge failed"
ok
sg 3 verify --ca "$PKI/root.pem" "$T/forged-ts.exe"
expect_in "$T/out" "signature 0: the signer's signature does not verify"
sg 3 verify --config "$CFG" "$T/forged-ts.exe"
expect_same "$(audit_field 0 decision)" invalid

# A genuine signature of ours, through signgate itself.
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
sg 0 verify --ca "$PKI/root.pem" --pin "$pin" "$T/signed.exe"
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_same "$(audit_field 0 decision)" valid
"$SG_FORGE" extract "$T/signed.exe" "$T/signed.p7" || fail "sg_forge extract failed"
ok

# Re-splicing it unchanged gives back the same file (sg_forge writes what
# osslsigncode writes).
"$SG_FORGE" splice "$T/signed.exe" "$T/signed.p7" "$T/respliced.exe" || fail "sg_forge splice failed"
cmp -s "$T/signed.exe" "$T/respliced.exe" || fail "re-spliced file differs"
ok

# A byte appended after the certificate table.
cp "$T/signed.exe" "$T/appended.exe"
printf 'X' >>"$T/appended.exe"
sg 3 verify --ca "$PKI/root.pem" "$T/appended.exe"
expect_in "$T/out" "appended.exe: certificate table (offset"
expect_in "$T/out" "is not at the end of the file"

# A byte changed inside the first section's raw data.
pe=$(le32 "$T/signed.exe" 60)
opt_size=$(le16 "$T/signed.exe" $((pe + 20)))
raw=$(le32 "$T/signed.exe" $((pe + 24 + opt_size + 20)))
[ "$raw" -gt 0 ] || fail "no raw data for the first section"
cp "$T/signed.exe" "$T/section.exe"
old=$(od -An -tu1 -j $((raw + 16)) -N1 "$T/section.exe" | tr -d ' ')
printf '%b' "\\$(printf '%03o' $(((old + 1) % 256)))" |
	dd of="$T/section.exe" bs=1 seek=$((raw + 16)) conv=notrunc 2>/dev/null
sg 3 verify --ca "$PKI/root.pem" "$T/section.exe"
expect_in "$T/out" "signature 0: the file's digest does not match the signed value"
sg 3 verify --config "$CFG" "$T/section.exe"
expect_same "$(audit_field 0 decision)" invalid

# Our genuine signature moved onto another program.
"$SG_FORGE" splice "$INST/other-setup.exe" "$T/signed.p7" "$T/transplant.exe" ||
	fail "sg_forge splice failed"
ok
sg 3 verify --ca "$PKI/root.pem" "$T/transplant.exe"
expect_in "$T/out" "signature 0: the file's digest does not match the signed value"

# Bytes inside the certificate entry after the PKCS#7 are not covered by the
# file digest (MS13-098 / CVE-2013-3900): signgate refuses such a file, as
# Windows does with EnableCertPaddingCheck, for verify and as a signing input.
"$SG_FORGE" splice "$T/signed.exe" "$T/signed.p7" "$T/padded.exe" 64 || fail "sg_forge splice failed"
sg 3 verify --ca "$PKI/root.pem" "$T/padded.exe"
expect_in "$T/out" "bytes after its signature (data hidden outside the signed digest)"

done_ok
