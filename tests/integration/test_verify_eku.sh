#!/usr/bin/env bash
# An intermediate CA (or the root) that carries extendedKeyUsage must allow
# codeSigning (or anyExtendedKeyUsage), as Windows requires; one without the
# extension is unrestricted. Each case is a PKI of its own, made here with
# openssl.
. "$(dirname -- "$0")/lib.sh"

P=$T/pki
mkdir -p "$P"
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
# issue NAME ISSUER "SUBJECT" EXTENSIONS: a certificate NAME.pem signed by ISSUER.
issue() {
	local name=$1 issuer=$2 subj=$3 ext=$4
	key "$P/$name.key"
	printf '%b\n' "$ext" >"$P/$name.ext"
	openssl req -new -key "$P/$name.key" -subj "$subj" -out "$P/$name.csr" 2>/dev/null
	openssl x509 -req -in "$P/$name.csr" -CA "$P/$issuer.pem" -CAkey "$P/$issuer.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 -extfile "$P/$name.ext" \
		-out "$P/$name.pem" 2>/dev/null || fail "cannot issue $name"
}
key "$P/root.key"
openssl req -x509 -new -key "$P/root.key" -subj "/O=EKU Test/CN=EKU Test Root" -days 30 -sha256 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out "$P/root.pem" 2>/dev/null
CA_EXT='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign'
LEAF_EXT='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning'

# case NAME EKU_LINE: an intermediate with that EKU (or none), a leaf under it, a signed file.
case_pki() {
	local name=$1 eku=$2
	issue "ica-$name" root "/O=EKU Test/CN=Intermediate $name" "$CA_EXT${eku:+\\n$eku}"
	issue "leaf-$name" "ica-$name" "/O=EKU Test/CN=Signer $name" "$LEAF_EXT"
	cat "$P/leaf-$name.pem" "$P/ica-$name.pem" >"$P/chain-$name.pem"
	/usr/bin/osslsigncode sign -certs "$P/chain-$name.pem" -key "$P/leaf-$name.key" -h sha256 \
		-in "$INST/hello-setup.exe" -out "$T/$name.exe" >/dev/null || fail "cannot sign $name"
}
case_pki serverauth 'extendedKeyUsage=serverAuth'
case_pki codesign 'extendedKeyUsage=codeSigning'
case_pki any 'extendedKeyUsage=anyExtendedKeyUsage'
case_pki none ''
openssl x509 -in "$P/ica-none.pem" -noout -ext extendedKeyUsage 2>&1 | grep -q 'No extensions' ||
	fail "the intermediate of case none carries extendedKeyUsage"

sg 3 verify --ca "$P/root.pem" "$T/serverauth.exe"
expect_in "$T/out" "invalid  $T/serverauth.exe: serverauth.exe: signature 0: signer chain does not allow code signing: CA certificate CN=Intermediate serverauth,O=EKU Test has an extendedKeyUsage without codeSigning or anyExtendedKeyUsage"
sg 0 verify --ca "$P/root.pem" "$T/codesign.exe" "$T/any.exe" "$T/none.exe"
expect_in "$T/out" "valid    $T/codesign.exe: valid: signed by CN=Signer codesign,O=EKU Test"
expect_in "$T/out" "valid    $T/any.exe: valid: signed by CN=Signer any,O=EKU Test"
expect_in "$T/out" "valid    $T/none.exe: valid: signed by CN=Signer none,O=EKU Test"

# The same rule for the root, whose extension Windows honours too.
key "$P/root2.key"
openssl req -x509 -new -key "$P/root2.key" -subj "/O=EKU Test/CN=EKU Test Root serverAuth" \
	-days 30 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -addext "extendedKeyUsage=serverAuth" \
	-out "$P/root2.pem" 2>/dev/null
issue leaf-root2 root2 "/O=EKU Test/CN=Signer root2" "$LEAF_EXT"
/usr/bin/osslsigncode sign -certs "$P/leaf-root2.pem" -key "$P/leaf-root2.key" -h sha256 \
	-in "$INST/hello-setup.exe" -out "$T/root2.exe" >/dev/null || fail "cannot sign root2"
sg 3 verify --ca "$P/root2.pem" "$T/root2.exe"
expect_in "$T/out" "signer chain does not allow code signing: CA certificate CN=EKU Test Root serverAuth,O=EKU Test has an extendedKeyUsage without codeSigning"
done_ok
