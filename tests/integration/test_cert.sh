#!/usr/bin/env bash
# signgate cert lint / cert export: the example PKI passes the code-signing
# profile; leaves that break it (RSA-2048, Lifetime Signing EKU, revoked),
# issued by a throwaway CA, fail with the finding; export writes the DER
# certificates, the thumbprint as Windows prints it and the import script,
# and never replaces a file without --force.
. "$(dirname -- "$0")/lib.sh"

# expect_line FILE REGEX: a line of FILE matches the extended REGEX.
expect_line() {
	grep -qE -- "$2" "$1" || fail "${1##*/} has no line matching: $2"
	ok
}

thumbprint_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g'
}

# --- lint of the example PKI (PKCS#12 key, CRLs when the PKI has them) ---
sg 0 cert lint --config "$PKI/signgate.json"
expect_line "$T/out" '^pass +key +RSA 3072 bits$'
expect_line "$T/out" '^pass +key-match +the private key \(RSA 3072 bits\) matches$'
expect_line "$T/out" '^pass +eku +extendedKeyUsage codeSigning$'
expect_line "$T/out" '^pass +eku-lifetime +no Lifetime Signing EKU'
expect_line "$T/out" "^pass +chain +chains to $PKI/root.pem"
expect_line "$T/out" '^OK +0 fail, [0-9]+ warn, [0-9]+ pass: CN=Example Corp Code Signing'
expect_not_in "$T/out" "fail  "
tp=$(thumbprint_of "$PKI/signer.pem")
expect_in "$T/out" "SHA-1 thumbprint $tp"

sg 0 cert lint --config "$PKI/signgate.json" --json
/usr/bin/python3 - "$T/out" "$tp" <<'PY' || fail "cert lint --json: wrong object"
import json, sys
rep = json.loads(open(sys.argv[1]).read())
assert rep["sha1_thumbprint"] == sys.argv[2], rep["sha1_thumbprint"]
assert "CN=Example Corp Code Signing" in rep["subject"], rep["subject"]
assert rep["counts"]["fail"] == 0 and rep["exit_code"] == 0, rep
checks = {f["check"]: f["level"] for f in rep["findings"]}
assert checks["key"] == checks["eku"] == checks["chain"] == "pass", checks
assert rep["counts"]["pass"] == list(checks.values()).count("pass"), rep
PY
ok

# A key in a PKCS#11 token (when the fixture made one) is not matched here.
if [ -f "$PKI/signgate-pkcs11.json" ]; then
	sg 0 cert lint --config "$PKI/signgate-pkcs11.json"
	expect_line "$T/out" '^warn +key-match +key in PKCS#11 token: not checked here \(signing verifies it\)$'
fi

# The same certificate from files, without a key: no key-match finding.
sg 0 cert lint --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" --ca "$PKI/root.pem"
expect_line "$T/out" '^pass +chain +chains to .*\(no CRL given: revocation not checked\)$'
expect_not_in "$T/out" "key-match"
# Without the intermediate the chain fails, and says why.
sg 3 cert lint --cert "$PKI/signer.pem" --ca "$PKI/root.pem"
expect_line "$T/out" '^fail +chain +signer chain does not verify to .*: unable to get local issuer certificate$'

# --- leaves that break the profile, from a throwaway CA ---
ca=$T/ca
mkdir -p "$ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
	-subj "/CN=Throwaway Test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
cat >"$ca/ext.cnf" <<'EOF'
[ good ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
crlDistributionPoints  = URI:http://pki.example.invalid/test.crl
authorityInfoAccess    = caIssuers;URI:http://pki.example.invalid/test.cer
[ lifetime ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning, 1.3.6.1.4.1.311.10.3.13
crlDistributionPoints  = URI:http://pki.example.invalid/test.crl
authorityInfoAccess    = caIssuers;URI:http://pki.example.invalid/test.cer
EOF

# issue NAME KEYSPEC SECTION: $ca/NAME.pem with a new key (openssl req -newkey).
issue() {
	openssl req -new -newkey "$2" -nodes -keyout "$ca/$1.key" -subj "/CN=Test $1" \
		-out "$ca/$1.csr" 2>/dev/null
	openssl x509 -req -in "$ca/$1.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
		-extfile "$ca/ext.cnf" -extensions "$3" -out "$ca/$1.pem" 2>/dev/null
}
issue rsa2048 rsa:2048 good
issue lifetime rsa:3072 lifetime
issue good rsa:3072 good

sg 3 cert lint --cert "$ca/rsa2048.pem" --ca "$ca/ca.pem"
expect_line "$T/out" '^fail +key +RSA 2048 bits: below the 3072 bits the profile requires$'
expect_line "$T/out" '^FAIL +1 fail, '
sg 3 cert lint --cert "$ca/lifetime.pem" --ca "$ca/ca.pem" --json
expect_in "$T/out" '{"check":"eku-lifetime","level":"fail","message":"Lifetime Signing EKU 1.3.6.1.4.1.311.10.3.13 present'
expect_in "$T/out" '"exit_code":3'
sg 0 cert lint --cert "$ca/good.pem" --ca "$ca/ca.pem"

# Revoked: a CRL from 'openssl ca' that lists good.pem.
ca_db "$ca"
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/empty.crl" 2>/dev/null
sg 0 cert lint --cert "$ca/good.pem" --ca "$ca/ca.pem" --crl "$ca/empty.crl"
expect_line "$T/out" '^pass +chain +chains to .*, not revoked \(CRLs .*empty.crl\)$'
openssl ca -config "$ca/ca.cnf" -batch -revoke "$ca/good.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/revoked.crl" 2>/dev/null
sg 3 cert lint --cert "$ca/good.pem" --ca "$ca/ca.pem" --crl "$ca/revoked.crl"
expect_line "$T/out" '^fail +chain +signer chain does not verify to .*: certificate revoked$'

# Usage, configuration and I/O errors.
sg 2 cert lint
sg 2 cert lint --cert "$ca/good.pem"
expect_in "$T/err" "--cert needs --ca ROOT.pem"
sg 2 cert lint --config "$PKI/signgate.json" --ca "$ca/ca.pem"
sg 2 cert frobnicate --config "$PKI/signgate.json"
sg 2 cert export --config "$PKI/signgate.json"
expect_in "$T/err" "'cert export' needs --out-dir DIR or --check DIR"
sg 2 cert lint --cert "$T/missing.pem" --ca "$ca/ca.pem"
expect_in "$T/err" "$T/missing.pem: no such file or folder (given as --cert)"
sg 2 cert lint --cert "$ca/good.pem" --ca "$T/missing-root.pem"
expect_in "$T/err" "missing-root.pem: cannot read the trust anchors: No such file or directory"

# --- export (more in test_cert_export.sh) ---
# The example config's PKCS#12 keeps its certificates encrypted and
# signing.certificate holds the leaf alone: export says where the
# intermediates must come from, and never asks for the password.
out=$T/export/site-server
sg 3 cert export --config "$PKI/signgate.json" --out-dir "$out"
expect_in "$T/err" "signing.certificate ($PKI/signer.pem): signer chain does not verify to $PKI/root.pem: unable to get local issuer certificate (export takes no intermediates from the PKCS#12 here: put them into signing.certificate after the leaf, or give --chain FILE); nothing exported"
expect_absent "$out"
sg 0 cert export --config "$PKI/signgate.json" --chain "$PKI/issuing.pem" --out-dir "$out"
expect_in "$T/out" "thumbprint  $tp"
for f in root.cer intermediate-1.cer signer.cer signgate-chain.p7b crl-1.crl crl-2.crl \
	thumbprint.txt import-signgate-trust.ps1 README.txt; do
	[ -s "$out/$f" ] || fail "export did not write $f"
	expect_in "$T/out" "wrote       $out/$f"
done
expect_absent "$out/intermediate-2.cer"
expect_same "$(cat "$out/thumbprint.txt")" "$tp"
expect_same "$(wc -c <"$out/thumbprint.txt")" 41
expect_same "$(openssl x509 -inform DER -in "$out/root.cer")" "$(openssl x509 -in "$PKI/root.pem")"
expect_same "$(openssl x509 -inform DER -in "$out/intermediate-1.cer")" \
	"$(openssl x509 -in "$PKI/chain.pem")"
expect_same "$(openssl x509 -inform DER -in "$out/signer.cer")" "$(openssl x509 -in "$PKI/signer.pem")"
ps1=$out/import-signgate-trust.ps1
expect_in "$ps1" "Import-Cer 'root.cer' 'Cert:\\LocalMachine\\Root'"
expect_in "$ps1" "Import-Cer 'intermediate-1.cer' 'Cert:\\LocalMachine\\CA'"
expect_in "$ps1" "Import-Cer 'signer.cer' 'Cert:\\LocalMachine\\TrustedPublisher'"
expect_in "$ps1" "Test-Cer 'signer.cer' '$tp'"
expect_in "$ps1" "Test-Cer 'root.cer' '$(thumbprint_of "$PKI/root.pem")'"
expect_in "$ps1" 'try { $s.Add($cert) } finally { $s.Close() }'
expect_in "$ps1" "\$thumbprint = '$tp'"
expect_in "$ps1" "Administration > Security > Certificates"
expect_same "$(stat -c %a "$out/signer.cer")" 644

# Never replaced without --force, and nothing is written when one file exists.
before=$(sha256 "$out/signer.cer")
sg 1 cert export --config "$PKI/signgate.json" --chain "$PKI/issuing.pem" --out-dir "$out"
expect_in "$T/err" "exists already (use --force to replace it)"
rm -f "$out/thumbprint.txt"
sg 1 cert export --config "$PKI/signgate.json" --chain "$PKI/issuing.pem" --out-dir "$out"
expect_absent "$out/thumbprint.txt"
if ls -A "$out" | grep -q '^\.'; then fail "a temporary file was left behind"; fi
sg 0 cert export --config "$PKI/signgate.json" --chain "$PKI/issuing.pem" --out-dir "$out" --force
expect_same "$(sha256 "$out/signer.cer")" "$before"
expect_same "$(cat "$out/thumbprint.txt")" "$tp"

# From files, with two trust anchors: only the root of the signer's chain is
# exported (root.cer); the other anchor is left out, and README.txt says so.
cat "$PKI/root.pem" "$ca/ca.pem" >"$T/roots.pem"
sg 0 cert export --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" --ca "$T/roots.pem" \
	--out-dir "$T/export2"
for f in root.cer intermediate-1.cer; do
	[ -s "$T/export2/$f" ] || fail "export did not write $f"
	expect_in "$T/export2/import-signgate-trust.ps1" "Import-Cer '$f'"
done
expect_absent "$T/export2/root-Throwaway-Test-CA.cer"
expect_not_in "$T/export2/README.txt" "Throwaway Test CA"
expect_same "$(openssl x509 -inform DER -in "$T/export2/root.cer")" "$(openssl x509 -in "$PKI/root.pem")"
expect_in "$T/export2/README.txt" "1 other of the trust anchors signgate uses is left out"

# A root the signer does not chain to is never exported (same name, other key).
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/C=US/O=Example Corp/CN=Example Corp Internal Root CA" \
	-keyout "$T/fake-root.key" -out "$T/fake-root.pem" 2>/dev/null
sg 3 cert export --cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$T/fake-root.pem" \
	--out-dir "$T/fake-export"
expect_in "$T/err" "signer chain does not verify to $T/fake-root.pem"
expect_in "$T/err" "nothing exported"
expect_absent "$T/fake-export/root.cer"
done_ok
