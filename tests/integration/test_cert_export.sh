#!/usr/bin/env bash
# signgate cert export from the certificates alone (issue 16): never the
# key, never its secret (a password source that is missing, unset or a
# prompt, a key file that is absent: export still works, asks nothing);
# PKCS#12 files whose certificates are readable without the password (the
# MAC unchecked: refused unless --expect-thumbprint pins the leaf; with
# signing.certificate the file is not opened), encrypted, or swapped; every file checked with
# openssl (the .cer files, signgate-chain.p7b, crl-N.crl, README.txt with
# each Windows target and the real thumbprints); hostile subjects stay
# escaped text; the import script approved, signed and verified through the
# ordinary path; --check: unchanged, renewed signer, new CRL, another root,
# missing, extra, a signed script (and a signed script with code after its
# block), links, a folder others may write, --json.
. "$(dirname -- "$0")/lib.sh"

thumbprint_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g'
}
tp=$(thumbprint_of "$PKI/signer.pem")
tp_root=$(thumbprint_of "$PKI/root.pem")
tp_int=$(thumbprint_of "$PKI/issuing.pem")
cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"

# signing JSON: the config's whole "signing" section.
new_env
signing() { config_set signing "$1"; }

# exported DIR: the nine files of the example PKI, each checked with openssl.
exported() {
	local d=$1 f
	for f in root.cer intermediate-1.cer signer.cer signgate-chain.p7b crl-1.crl crl-2.crl \
		thumbprint.txt import-signgate-trust.ps1 README.txt; do
		[ -s "$d/$f" ] || fail "export did not write $f"
		expect_same "$(stat -c %a "$d/$f")" 644
	done
	expect_same "$(openssl x509 -inform DER -in "$d/signer.cer")" "$(openssl x509 -in "$PKI/signer.pem")"
	expect_same "$(cat "$d/thumbprint.txt")" "$tp"
}

# --- 1. never the key, never the secret ---
# A PKCS#12 that is not there, a password file that is not there either.
signing "{\"pkcs12\": \"$T/absent.p12\", \"password_file\": \"$T/absent.pass\", \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --out-dir "$T/e1" </dev/null
exported "$T/e1"
expect_not_in "$T/err" "password"
# The real PKCS#12 (certificates encrypted) with a prompt: nothing is asked.
signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_prompt\": true, \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --out-dir "$T/e2" </dev/null
exported "$T/e2"
expect_not_in "$T/err" "password"
# An environment variable that is not set; a password file nobody may read.
signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_env\": \"SG_TEST_NO_SUCH_VAR\", \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --check "$T/e2"
expect_in "$T/out" "$T/e2: up to date (signer $tp)"
install -m 0000 /dev/null "$T/sealed.pass"
signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$T/sealed.pass\", \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --check "$T/e2"
# A PEM key that is absent: the leaf is cert_chain's only non-CA certificate.
signing "{\"cert_chain\": \"$PKI/signer-chain.pem\", \"key\": \"$T/absent.key\", \"password_file\": \"$T/absent.pass\"}"
sg 3 cert export --config "$CFG" --check "$T/e2"
expect_in "$T/out" "unchanged  signer.cer"
# README.txt says where the leaf came from: the only line that differs.
expect_in "$T/out" "changed    README.txt: not the text export writes now"
# A token: its cert_chain, no PIN, no module loaded (the module path does not exist).
signing "{\"pkcs11_module\": \"$T/no-such-module.so\", \"key\": \"pkcs11:token=signgate;object=signer;type=private\", \"cert_chain\": \"$PKI/signer-chain.pem\", \"certificate\": \"$PKI/signer.pem\", \"pin_file\": \"$T/absent.pin\"}"
sg 0 cert export --config "$CFG" --out-dir "$T/e3"
exported "$T/e3"
expect_not_in "$T/err" "PIN"

# --- 2. the files, checked with openssl ---
d=$T/e1
openssl pkcs7 -inform DER -in "$d/signgate-chain.p7b" -print_certs -noout >"$T/p7" ||
	fail "signgate-chain.p7b does not parse"
expect_same "$(grep -c '^subject=' "$T/p7")" 3
expect_same "$(grep '^subject=' "$T/p7" | sed -n 1p)" "$(openssl x509 -in "$PKI/signer.pem" -noout -subject)"
expect_same "$(grep '^subject=' "$T/p7" | sed -n 2p)" "$(openssl x509 -in "$PKI/issuing.pem" -noout -subject)"
expect_same "$(grep '^subject=' "$T/p7" | sed -n 3p)" "$(openssl x509 -in "$PKI/root.pem" -noout -subject)"
# No signer info, no CRL: certificates only.
openssl pkcs7 -inform DER -in "$d/signgate-chain.p7b" -print -noout >"$T/p7full"
expect_same "$(grep -A1 'signer_info:' "$T/p7full" | tail -1 | tr -d ' ')" "<EMPTY>"
expect_same "$(grep -A1 ' crl:' "$T/p7full" | tail -1 | tr -d ' ')" "<ABSENT>"
expect_same "$(openssl x509 -inform DER -in "$d/root.cer")" "$(openssl x509 -in "$PKI/root.pem")"
expect_same "$(openssl x509 -inform DER -in "$d/intermediate-1.cer")" "$(openssl x509 -in "$PKI/issuing.pem")"
# crl-1 and crl-2: the CRLs of crl.pem, in its order.
expect_same "$(openssl crl -inform DER -in "$d/crl-1.crl")" "$(openssl crl -in "$PKI/root.crl.pem")"
expect_same "$(openssl crl -inform DER -in "$d/crl-2.crl")" "$(openssl crl -in "$PKI/issuing.crl.pem")"
expect_absent "$d/crl-3.crl"
# README.txt: ASCII, every line ends CRLF, each target, the real thumbprints.
r=$d/README.txt
if LC_ALL=C grep -q '[^[:print:][:space:]]' "$r"; then fail "README.txt is not ASCII"; fi
ok
expect_same "$(grep -c $'\r$' "$r")" "$(wc -l <"$r")"
expect_same "$(tr -d '\r' <"$r" | grep -c '')" "$(grep -c $'\r$' "$r")"
for want in "SHA-1 thumbprint: $tp" "SHA-1:      $tp_root" "SHA-1:      $tp_int" \
	"THE TOP-LEVEL CONFIGMGR SITE SERVER" "LocalMachine\\Root" "LocalMachine\\CA" \
	"LocalMachine\\TrustedPublisher" "certutil -addstore -f Root root.cer" \
	"certutil -addstore -f CA intermediate-1.cer" "certutil -addstore -f TrustedPublisher signer.cer" \
	"Administration > Security > Certificates" "must not be Blocked" \
	"Public Key Policies" "Trusted Root Certification Authorities" "Trusted Publishers" \
	"Trusted certificate: one profile per .cer file" \
	"root.cer                     store: Computer certificate store - Root" \
	"intermediate-1.cer           store: Computer certificate store - Intermediate" \
	"certutil -dspublish -f root.cer RootCA" "certutil -dspublish -f intermediate-1.cer SubCA" \
	"certutil -dspublish -f crl-2.crl" "signgate-chain.p7b" \
	"helps once the root is trusted" "AllSigned" "RemoteSigned" "cannot help the first import" \
	"-ExecutionPolicy Bypass" "number 1, this update"; do
	expect_in "$r" "$want"
done
ps1=$d/import-signgate-trust.ps1
expect_in "$ps1" "Test-Cer 'root.cer' '$tp_root'"
expect_in "$ps1" "Test-Cer 'intermediate-1.cer' '$tp_int'"
expect_in "$ps1" "Test-Cer 'signer.cer' '$tp'"
expect_in "$ps1" "Import-Cer 'intermediate-1.cer' 'Cert:\\LocalMachine\\CA'"
# Every Test-Cer comes before the first Import-Cer line.
expect_same "$(grep -n "^Test-Cer\|^Import-Cer" "$ps1" | cut -d: -f2 | cut -c1-8 | uniq | tr '\n' ' ')" "Test-Cer Import-C "

# --- 3. PKCS#12 files read without their password ---
# Certificates in the clear, key encrypted with a password: read, the MAC not checked.
openssl pkcs12 -export -inkey "$PKI/signer.key" -in "$PKI/signer.pem" -certfile "$PKI/issuing.pem" \
	-certpbe NONE -keypbe AES-256-CBC -passin "file:$PKI/signer.pass" -passout pass:s3cret-export \
	-out "$T/clear-certs.p12"
chmod 0600 "$T/clear-certs.p12"
signing "{\"pkcs12\": \"$T/clear-certs.p12\", \"password_file\": \"$T/absent.pass\"}"
# Not pinned: nothing authenticates the leaf, refused with what to pin it with.
sg 2 cert export --config "$CFG" --out-dir "$T/p1"
expect_in "$T/err" "$T/clear-certs.p12: its certificates can be read without its password, so nothing authenticates them (no MAC keyed by its password is checked) and whoever can write the file would choose the signer: pin it with \"signing.certificate\" (the signing certificate, PEM) or --expect-thumbprint HEX"
expect_absent "$T/p1"
# Pinned by --expect-thumbprint (SHA-1): exported, the warning and README.txt say how.
sg 0 cert export --config "$CFG" --out-dir "$T/p1" --expect-thumbprint "$tp"
exported "$T/p1"
expect_in "$T/err" "warning: $T/clear-certs.p12: its certificates were read without its password, so its MAC (integrity) was not checked; the signer was taken because --expect-thumbprint names it and it chains to the trust anchors"
expect_in "$T/p1/README.txt" "read from a PKCS#12 file without its password (its MAC unchecked); taken because --expect-thumbprint named it"
# SHA-256, lower case with colons: the same.
tp256=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha256 | sed 's/^[^=]*=//' | tr 'A-F' 'a-f')
sg 0 cert export --config "$CFG" --check "$T/p1" --expect-thumbprint "$tp256"
expect_in "$T/out" "$T/p1: up to date (signer $tp)"
sg 2 cert export --config "$CFG" --check "$T/p1" --expect-thumbprint "$tp_root"
expect_in "$T/err" "$T/clear-certs.p12: no certificate in it has the thumbprint $tp_root (--expect-thumbprint); nothing exported"
sg 2 cert export --config "$CFG" --check "$T/p1" --expect-thumbprint "not-hex"
expect_in "$T/err" "--expect-thumbprint: 'not-hex' is not a hex thumbprint"
# signing.certificate names the leaf: the PKCS#12 is not opened (no warning, no note).
signing "{\"pkcs12\": \"$T/clear-certs.p12\", \"password_file\": \"$T/absent.pass\", \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --out-dir "$T/p2"
expect_not_in "$T/err" "MAC"
expect_not_in "$T/p2/README.txt" "MAC"
# ... so its intermediates are not taken either: signing.certificate must hold them.
signing "{\"pkcs12\": \"$T/clear-certs.p12\", \"password_file\": \"$T/absent.pass\", \"certificate\": \"$PKI/signer.pem\"}"
sg 3 cert export --config "$CFG" --out-dir "$T/p2b"
expect_in "$T/err" "(export takes no intermediates from the PKCS#12 here: put them into signing.certificate after the leaf, or give --chain FILE)"
expect_absent "$T/p2b"
# --expect-thumbprint against another source: the leaf must be that one.
sg 2 cert export --cert "$T/leaf-chain.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem" \
	--expect-thumbprint "$tp_int" --out-dir "$T/p2c"
expect_in "$T/err" "--cert ($T/leaf-chain.pem): the signer \"CN="
expect_in "$T/err" "has the thumbprint $tp (SHA-256 "
expect_in "$T/err" "not $tp_int (--expect-thumbprint); nothing exported"
expect_absent "$T/p2c"
# The empty password: its MAC can be checked, but anyone who writes the file can
# make that MAC (no secret keys it): refused unpinned all the same, taken pinned.
openssl pkcs12 -export -inkey "$PKI/signer.key" -in "$PKI/signer.pem" -certfile "$PKI/issuing.pem" \
	-passin "file:$PKI/signer.pass" -passout pass: -out "$T/empty-pass.p12"
chmod 0600 "$T/empty-pass.p12"
signing "{\"pkcs12\": \"$T/empty-pass.p12\", \"password_file\": \"$T/absent.pass\"}"
sg 2 cert export --config "$CFG" --out-dir "$T/p3"
expect_in "$T/err" "$T/empty-pass.p12: its certificates can be read without its password, so nothing authenticates them"
expect_absent "$T/p3"
sg 0 cert export --config "$CFG" --out-dir "$T/p3" --expect-thumbprint "$tp"
exported "$T/p3"
expect_in "$T/err" "the signer was taken because --expect-thumbprint names it"
# Encrypted certificates and nothing else naming the leaf: what to configure.
signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\"}"
sg 2 cert export --config "$CFG" --out-dir "$T/p4"
expect_in "$T/err" "$PKI/signer.p12: its certificates are encrypted with its password: export never uses its password: set \"signing.certificate\" to the signing certificate (PEM: the leaf, then its intermediates), or use --cert FILE [--chain FILE] --ca ROOT.pem"
expect_absent "$T/p4"

# Swapped certificate bags: another code-signing certificate of the same CA
# (issued here with the example PKI's issuing key), in the clear beside a key.
mkdir -p "$T/swap"
openssl req -new -newkey rsa:3072 -nodes -keyout "$T/swap/other.key" \
	-subj "/C=US/O=Example Corp/CN=Other Team Code Signing" -out "$T/swap/other.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$T/swap/ext"
openssl x509 -req -in "$T/swap/other.csr" -CA "$PKI/issuing.pem" -CAkey "$PKI/issuing.key" \
	-passin "file:$PKI/ca.pass" -set_serial 0x5eed -days 30 -sha256 -extfile "$T/swap/ext" \
	-out "$T/swap/other.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$T/swap/other.key" -in "$T/swap/other.pem" -certfile "$PKI/issuing.pem" \
	-certpbe NONE -passout pass:unknown -out "$T/swap/swapped.p12"
chmod 0600 "$T/swap/swapped.p12"
tp_other=$(thumbprint_of "$T/swap/other.pem")
# With signing.certificate: the PKCS#12 is not opened; its signer is exported.
signing "{\"pkcs12\": \"$T/swap/swapped.p12\", \"password_file\": \"$T/absent.pass\", \"certificate\": \"$T/leaf-chain.pem\"}"
sg 0 cert export --config "$CFG" --out-dir "$T/s1"
expect_in "$T/s1/thumbprint.txt" "$tp"
expect_not_in "$T/s1/README.txt" "$tp_other"
# Without it: refused (exit 2), nothing written; the chain holding is no pin.
signing "{\"pkcs12\": \"$T/swap/swapped.p12\", \"password_file\": \"$T/absent.pass\"}"
sg 2 cert export --config "$CFG" --out-dir "$T/s2"
expect_in "$T/err" "or --expect-thumbprint HEX"
expect_not_in "$T/err" "$tp_other"
expect_absent "$T/s2"
# Pinned to the real signer, which the file does not hold: refused.
sg 2 cert export --config "$CFG" --out-dir "$T/s2" --expect-thumbprint "$tp"
expect_in "$T/err" "$T/swap/swapped.p12: no certificate in it has the thumbprint $tp"
expect_absent "$T/s2"
# A swapped leaf, pinned, that does not chain to the trust anchors: nothing.
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$T/swap/self.key" -days 30 \
	-subj "/CN=Example Corp Code Signing" -addext "extendedKeyUsage=codeSigning" \
	-addext "basicConstraints=critical,CA:FALSE" -out "$T/swap/self.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$T/swap/self.key" -in "$T/swap/self.pem" -certpbe NONE \
	-passout pass:unknown -out "$T/swap/self.p12"
chmod 0600 "$T/swap/self.p12"
signing "{\"pkcs12\": \"$T/swap/self.p12\", \"password_file\": \"$T/absent.pass\"}"
sg 3 cert export --config "$CFG" --out-dir "$T/s3" --expect-thumbprint "$(thumbprint_of "$T/swap/self.pem")"
expect_in "$T/err" "signing.pkcs12 ($T/swap/self.p12): signer chain does not verify to $PKI/root.pem"
expect_in "$T/err" "nothing exported"
expect_absent "$T/s3"

# --- 4. the import script through the ordinary path: approve, sign, verify ---
tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\", \"certificate\": \"$T/leaf-chain.pem\", \"timestamp_urls\": [\"$tsa\"]}"
sg 0 cert export --config "$CFG" --out-dir "$T/w"
script=$T/w/import-signgate-trust.ps1
(cd "$T/w" && sha256sum import-signgate-trust.ps1 >"$T/SHA256SUMS")
sg 0 policy approve --config "$CFG" --vendor "Example Corp PKI" --ticket CHG-16 \
	--product "signgate trust import" --version 1 --not-in-catalog "our own script (CHG-16)" \
	--manifest "$T/SHA256SUMS" --source https://pki.example.invalid/ "$script"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$script"
expect_in "$T/out" "signed   $script -> $T/signed/import-signgate-trust.ps1 (approval signgate-trust-import-1, signer SHA-1 $tp, timestamp"
sg 0 verify --config "$CFG" "$T/signed/import-signgate-trust.ps1"
expect_in "$T/signed/import-signgate-trust.ps1" "# SIG # Begin signature block"
# The signed copy in place of the script: unchanged.
cp "$T/signed/import-signgate-trust.ps1" "$script"
sg 0 cert export --config "$CFG" --check "$T/w"
expect_in "$T/out" "unchanged  import-signgate-trust.ps1: a signed copy of the current script (its signature is not checked here: signgate verify does that)"
expect_in "$T/out" "$T/w: up to date (signer $tp)"
# Code after the signature block, or an edit before it: changed.
cp "$script" "$T/signed.ps1"
printf 'Invoke-Expression "evil"\r\n' >>"$script"
sg 3 cert export --config "$CFG" --check "$T/w"
expect_in "$T/out" "changed    import-signgate-trust.ps1: not the script export writes now, nor a signed copy of it"
sed 's/Import-Cer .root.cer.*/Import-Cer '"'"'evil.cer'"'"' '"'"'Cert:\\LocalMachine\\Root'"'"'\r/' "$T/signed.ps1" >"$script"
sg 3 cert export --config "$CFG" --check "$T/w"
expect_in "$T/out" "changed    import-signgate-trust.ps1: not the script export writes now, nor a signed copy of it"
# A second signature block after the first: changed.
{ cat "$T/signed.ps1"; printf '# SIG # Begin signature block\r\n# AAAA\r\n# SIG # End signature block\r\n'; } >"$script"
sg 3 cert export --config "$CFG" --check "$T/w"
expect_in "$T/out" "changed    import-signgate-trust.ps1"
cp "$T/signed.ps1" "$script"

# --- 5. --check against a PKI of this test's own: renewal, new CRL, another root ---
ca=$T/ca
ca_root "$ca" "Export Test Root"
openssl req -new -newkey rsa:3072 -nodes -keyout "$ca/leaf.key" -subj "/CN=Export Test Signer" \
	-out "$ca/leaf.csr" 2>/dev/null
# leaf N DAYS: $ca/leaf-N.pem, the same subject and key, a new serial.
leaf() {
	openssl x509 -req -in "$ca/leaf.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days "$2" -sha256 -extfile "$ca/ext" \
		-out "$ca/leaf-$1.pem" 2>/dev/null
}
leaf 1 20
leaf 2 25
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-a.pem" 2>/dev/null
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-b.pem" 2>/dev/null
cp "$ca/leaf-1.pem" "$ca/leaf.pem"
cp "$ca/crl-a.pem" "$ca/crl.pem"
x=$T/x
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
sg 0 cert export "${args[@]}" --out-dir "$x"
for f in root.cer signer.cer signgate-chain.p7b crl-1.crl thumbprint.txt import-signgate-trust.ps1 README.txt; do
	[ -s "$x/$f" ] || fail "export --cert did not write $f"
done
expect_absent "$x/intermediate-1.cer"
# The option and the file's base name: no path of the signing host.
expect_in "$x/README.txt" "read from:        \"--cert (leaf.pem)\""
expect_not_in "$x/README.txt" "$ca"
sg 0 cert export "${args[@]}" --check "$x"
expect_same "$(grep -c '^unchanged  ' "$T/out")" 7
sg 0 cert export "${args[@]}" --check "$x" --json
expect_same "$(jq -r '.format, .up_to_date, .exit_code, (.files | length)' "$T/out" | tr '\n' ' ')" \
	"signgate-cert-export-check/1 true 0 7 "

# A renewed signer: old and new thumbprint and expiry.
cp "$ca/leaf-2.pem" "$ca/leaf.pem"
t1=$(thumbprint_of "$ca/leaf-1.pem")
t2=$(thumbprint_of "$ca/leaf-2.pem")
e1=$(date -u -d "$(openssl x509 -in "$ca/leaf-1.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
e2=$(date -u -d "$(openssl x509 -in "$ca/leaf-2.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" "changed    signer.cer: a renewed signer: old \"CN=Export Test Signer\" thumbprint $t1 valid to $e1; new \"CN=Export Test Signer\" thumbprint $t2 valid to $e2"
expect_in "$T/out" "changed    thumbprint.txt: holds \"$t1\", the signer's thumbprint is $t2"
expect_in "$T/out" "changed    signgate-chain.p7b"
expect_in "$T/out" "unchanged  root.cer"
expect_in "$T/out" "unchanged  crl-1.crl"
expect_in "$T/out" "$x: differs from what export writes now: 5 changed, 0 missing, 0 extra"
sg 3 cert export "${args[@]}" --check "$x" --json
expect_same "$(jq -r '.up_to_date, .exit_code, (.files[] | select(.name == "signer.cer") | .status)' "$T/out" | tr '\n' ' ')" \
	"false 3 changed "
expect_in "$T/out" "\"reason\":\"a renewed signer: old"

# A new CRL: number, thisUpdate, nextUpdate old and new.
cp "$ca/leaf-1.pem" "$ca/leaf.pem"
cp "$ca/crl-b.pem" "$ca/crl.pem"
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" "changed    crl-1.crl: a new CRL: number 1 -> 2, this update "
expect_in "$T/out" "unchanged  signer.cer"
cp "$ca/crl-a.pem" "$ca/crl.pem"

# A CRL of another CA (the example PKI's root) beside: refused, named (exit 3).
cat "$ca/crl-a.pem" "$PKI/root.crl.pem" >"$T/foreign-crl.pem"
sg 3 cert export --cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$T/foreign-crl.pem" --out-dir "$T/c1"
expect_in "$T/err" "$T/foreign-crl.pem: CRL 2 (issuer \"$(openssl crl -in "$PKI/root.crl.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')\", number "
expect_in "$T/err" "its issuer is none of the CAs of the signer's chain; remove it from the CRL file (export takes the CRLs of the signer's CAs only); nothing exported"
expect_absent "$T/c1"
# A CRL whose signature does not verify (its last byte changed), with CRL checks
# off so that nothing else reads it: refused all the same.
openssl crl -in "$ca/crl-a.pem" -outform DER -out "$T/bad.der"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-1]^=1; open(sys.argv[1],"wb").write(b)' "$T/bad.der"
openssl crl -inform DER -in "$T/bad.der" -out "$T/bad-crl.pem"
config_set trust "{\"ca_file\": \"$ca/ca.pem\", \"crl_file\": \"$T/bad-crl.pem\", \"ignore_crl\": true}"
signing "{\"certificate\": \"$ca/leaf.pem\"}"
sg 3 cert export --config "$CFG" --out-dir "$T/c2"
expect_in "$T/err" "$T/bad-crl.pem: CRL 1 (issuer \"CN=Export Test Root\", number 1): its signature does not verify with its issuer's key; remove it from the CRL file"
expect_absent "$T/c2"
config_set trust "{\"ca_file\": \"$ca/ca.pem\", \"crl_file\": \"$ca/crl.pem\", \"ignore_crl\": true}"
sg 0 cert export --config "$CFG" --out-dir "$T/c3"
expect_in "$T/c3/README.txt" "read from:        \"signing.certificate (leaf.pem)\""

# Missing, extra (a file, a link, a folder), a link at a name export writes.
rm "$x/crl-1.crl"
echo stale >"$x/intermediate-9.cer"
ln -s /etc/passwd "$x/extra-link.cer"
mkdir "$x/sub"
mv "$x/root.cer" "$T/root.cer.saved"
ln -s "$T/root.cer.saved" "$x/root.cer"
touch "$x/evil"$'\n'"unchanged  signer.cer"
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" 'extra      evil\x0Aunchanged  signer.cer: a file export would not write'
expect_same "$(grep -c '^unchanged  signer.cer' "$T/out")" 1
expect_in "$T/out" "missing    crl-1.crl"
expect_in "$T/out" "extra      intermediate-9.cer: a file export would not write"
expect_in "$T/out" "extra      extra-link.cer: a symbolic link export would not write"
expect_in "$T/out" "extra      sub: a folder export would not write"
expect_in "$T/out" "unsafe     root.cer: a symbolic link, not the file (never followed)"
expect_in "$T/out" "differs from what export writes now: 0 changed, 1 missing, 4 extra, 1 unsafe file(s)"
# export --force replaces the link itself (the file it named is untouched)
# and notes the files it does not write.
sg 0 cert export "${args[@]}" --out-dir "$x" --force
expect_in "$T/err" "note: $x/intermediate-9.cer: a file export would not write; remove it if it is stale"
[ -L "$x/root.cer" ] && fail "root.cer is still a link"
ok
expect_same "$(stat -c %a "$T/root.cer.saved")" 644
rm -r "$x/intermediate-9.cer" "$x/extra-link.cer" "$x/sub" "$x/evil"$'\n'"unchanged  signer.cer"
sg 0 cert export "${args[@]}" --check "$x"

# Another root: the same name, another key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=Export Test Root" -keyout "$T/other-root.key" -out "$T/other-root.pem" 2>/dev/null
cp "$T/other-root.pem" "$T/x-root.pem"
openssl x509 -in "$T/other-root.pem" -outform DER -out "$x/root.cer"
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" "changed    root.cer: another root of the same name (another key): old \"CN=Export Test Root\" thumbprint $(thumbprint_of "$T/other-root.pem")"
echo "not a certificate" >"$x/root.cer"
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" "changed    root.cer: not the DER certificate export writes now (thumbprint $(thumbprint_of "$ca/ca.pem"))"
sg 0 cert export "${args[@]}" --out-dir "$x" --force

# A folder others may write: export refuses it, --check says so (exit 3).
chmod 0777 "$x"
sg 3 cert export "${args[@]}" --check "$x"
expect_in "$T/out" "unsafe     .: others may write this folder (mode 0777): whoever can change these files decides what Windows trusts (chmod go-w)"
expect_in "$T/out" "and others may write the folder"
sg 2 cert export "${args[@]}" --out-dir "$x" --force
expect_in "$T/err" "$x: others may write this folder (mode 0777)"
chmod 0755 "$x"
# A folder above it that others may write (no sticky bit): they could swap the folder.
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
mkdir -m 0755 "$T/open/x"
sg 2 cert export "${args[@]}" --out-dir "$T/open/x"
expect_in "$T/err" "export folder $T/open: others may write this folder and it has no sticky bit (mode 0777)"
expect_absent "$T/open/x/signer.cer"
cp -a "$x/." "$T/open/x/"
sg 3 cert export "${args[@]}" --check "$T/open/x"
expect_in "$T/out" "unsafe     .: export folder $T/open: others may write this folder and it has no sticky bit (mode 0777)"
# The folder as a link: followed once, with a warning.
ln -s "$x" "$T/xlink"
sg 0 cert export "${args[@]}" --check "$T/xlink"
expect_in "$T/err" "warning: --check $T/xlink is a symbolic link to $x"

# --- 6. hostile subjects stay text ---
printf '[ req ]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\nutf8 = yes\n[ dn ]\nCN = Evil\\r\\nInvoke-Evil; "q" \\\\ \xe2\x80\xaeexe.txt\n' >"$ca/hostile.cnf"
openssl req -new -newkey rsa:3072 -nodes -keyout "$ca/hostile.key" -config "$ca/hostile.cnf" \
	-out "$ca/hostile.csr" 2>/dev/null
openssl x509 -req -in "$ca/hostile.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -set_serial 0x77 \
	-days 20 -sha256 -extfile "$ca/ext" -out "$ca/hostile.pem" 2>/dev/null
# A second trust anchor whose CN would climb out of the folder.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj '/O=Say "hi"/CN=..\/..\/etc' \
	-keyout "$T/dots.key" -out "$T/dots.pem" 2>/dev/null
cat "$ca/ca.pem" "$T/dots.pem" >"$T/two-roots.pem"
# Only the root of the signer's chain is exported; the other anchor is left out, said.
sg 0 cert export --cert "$ca/hostile.pem" --ca "$T/two-roots.pem" --out-dir "$T/h"
expect_same "$(ls "$T/h" | grep '^root' | tr '\n' ' ')" "root.cer "
expect_same "$(openssl x509 -inform DER -in "$T/h/root.cer")" "$(openssl x509 -in "$ca/ca.pem")"
expect_not_in "$T/h/README.txt" "../../etc"
expect_not_in "$T/h/import-signgate-trust.ps1" "$(thumbprint_of "$T/dots.pem")"
expect_in "$T/h/README.txt" "Only the root of the signing certificate's chain is here: 1 other of the trust anchors signgate uses is left out"
for f in README.txt import-signgate-trust.ps1; do
	if LC_ALL=C grep -q '[^[:print:][:space:]]' "$T/h/$f"; then fail "$f is not ASCII"; fi
	ok
	if grep -q '^Invoke-Evil' "$T/h/$f"; then fail "$f has a line the subject started"; fi
	ok
	expect_in "$T/h/$f" 'CN=Evil\0D\0AInvoke-Evil\; q \\ \E2\80\AEexe.txt'
done
expect_in "$T/h/README.txt" "  subject:          \"CN=Evil"
# A quote in a name cannot close the quotes around it: a signer under the dots root.
openssl x509 -req -in "$ca/leaf.csr" -CA "$T/dots.pem" -CAkey "$T/dots.key" -set_serial 0x78 \
	-days 20 -sha256 -extfile "$ca/ext" -out "$T/dots-leaf.pem" 2>/dev/null
sg 0 cert export --cert "$T/dots-leaf.pem" --ca "$T/two-roots.pem" --out-dir "$T/h2"
expect_in "$T/h2/README.txt" 'subject:    "CN=../../etc,O=Say \\x22hi\\x22"'
expect_same "$(ls "$T/h2" | grep '^root' | tr '\n' ' ')" "root.cer "
expect_in "$T/h/import-signgate-trust.ps1" "# Signer:     \"CN=Evil"

# --- usage ---
sg 2 cert export --config "$CFG" --out-dir "$T/u" --check "$T/u"
expect_in "$T/err" "'cert export' needs --out-dir DIR or --check DIR"
sg 2 cert export --config "$CFG" --check "$x" --force
expect_in "$T/err" "--check writes nothing: --force goes with --out-dir"
sg 2 cert export --config "$CFG" --out-dir "$T/u" --json
expect_in "$T/err" "--json goes with 'cert lint' and 'cert export --check'"
sg 2 cert export --config "$CFG" --ca "$PKI/root.pem" --out-dir "$T/u"
expect_in "$T/err" "--ca and --crl go with --cert"
sg 1 cert export "${args[@]}" --check "$T/no-such-folder"
done_ok
