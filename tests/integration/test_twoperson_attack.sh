#!/usr/bin/env bash
# The two-person rule attacked by ONE approver (alice: her certificate and
# key from the approvers' CA, write access to the policy folder, any file
# crafted by hand). Each attempt to pass with a single person is denied
# (exit 3) with its reason:
#  - CMS tricks: two signers in one signature, another approver's
#    certificate in the signature's bag beside her own (or alone), an
#    attached signature, one signature file linked to the other;
#  - a certificate the approvers' CA issued with the power to issue others
#    (basicConstraints CA:TRUE, or keyUsage keyCertSign without
#    basicConstraints): it is no approver's certificate, and the approvers it
#    issues do not count, since only the CAs of trust.approvers_ca_file make
#    a chain, never those a signature carries (nor does a code-signing CA
#    under a company root named as the approvers' CA);
#  - a second certificate for her whose CN differs only in punctuation
#    ("Alice.", "a-lice"), or whose email differs in a trailing dot, or
#    whose CN hides an invisible character (zero-width, bidi override);
#  - a policy file that says "require_cosign": false (the config's rule
#    stands), an approval of her own served through an index she rebuilt;
#  - swapping the file between the second approver's review and signature:
#    `policy cosign --sha256` signs only the bytes reviewed.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
POL=$T/env/policy
trust() { config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$1\", \"require_cosign\": true}"; }
trust "$PKI/approvers-ca.pem"
EXE=$INST/hello-setup.exe
A=$POL/hello-1.0.json
approval hello-1.0 hello-setup.exe "$(sha256 "$EXE")"

# sig SUFFIX CERT KEY [OPENSSL CMS OPTIONS...]: a signature of $A made by hand.
sig() {
	local suffix=$1 cert=$2 key=$3
	shift 3
	openssl cms -sign -binary -md sha256 -outform DER -in "$A" -signer "$cert" \
		-inkey "$key" -out "$A.$suffix.p7s" "$@"
}
# mkcert NAME SUBJECT EXTENSIONS [CA CAKEY]: a certificate for a new EC key in
# $T/NAME.key, issued by CA (default: the approvers' CA), with EXTENSIONS.
mkcert() {
	local ca=${4:-$PKI/approvers-ca.pem} cakey=${5:-$PKI/approvers-ca.key}
	printf '[ v3 ]\n%s\n' "$3" >"$T/$1.cnf"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
	chmod 0600 "$T/$1.key"
	openssl req -new -utf8 -key "$T/$1.key" -subj "$2" -out "$T/$1.csr" 2>/dev/null
	openssl x509 -req -in "$T/$1.csr" -CA "$ca" -CAkey "$cakey" -passin "file:$PKI/ca.pass" \
		-set_serial "0x$(openssl rand -hex 12)" -days 30 -sha256 -extfile "$T/$1.cnf" \
		-extensions v3 -out "$T/$1.pem" 2>/dev/null
}
LEAF='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = emailProtection'
CA_LEAF='basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = emailProtection'
NOBC_LEAF='keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = emailProtection'
denied() { # denied TEXT...: check is denied (exit 3) with each TEXT in its output
	sg 3 check --config "$CFG" "$EXE"
	for t in "$@"; do expect_in "$T/out" "$t"; done
	expect_same "$(audit_field 0 decision)" denied
}
RULE="approval hello-1.0 is not signed by two approvers (two-person rule)"
SECOND="the second approver's signature $A.cosign.p7s"
alice=("$PKI/approver-alice.pem" "$PKI/approver-alice.key")
sig approve "${alice[@]}"

# --- CMS tricks with her own key ---
sig cosign "${alice[@]}" -signer "$PKI/approver-bob.pem" -inkey "$PKI/approver-bob.key"
denied "$RULE: $SECOND: has 2 signers; an approver's signature has exactly one"
sig cosign "${alice[@]}" -certfile "$PKI/approver-bob.pem"
denied "$RULE: both signatures are by one approver: the same certificate (CN=alice"
sig cosign "${alice[@]}" -keyid -certfile "$PKI/approver-bob.pem"
denied "$RULE: both signatures are by one approver: the same certificate (CN=alice"
sig cosign "${alice[@]}" -nocerts -certfile "$PKI/approver-bob.pem"
denied "$RULE: $SECOND: carries no signer certificate"
sig cosign "${alice[@]}" -nodetach
denied "$RULE: $SECOND: not a detached CMS signature (DER)"
# Too large to be a signature: denied as a damaged one is (exit 3), not an I/O error.
rm "$A.cosign.p7s" && truncate -s $((1024 * 1024 + 1)) "$A.cosign.p7s"
denied "$RULE: $SECOND: larger than 1048576 bytes, not a signature"
rm "$A.cosign.p7s" && ln -s "$A.approve.p7s" "$A.cosign.p7s"
denied "$RULE: both signatures are by one approver: the same certificate (CN=alice"
rm "$A.cosign.p7s" && ln "$A.approve.p7s" "$A.cosign.p7s"
denied "$RULE: both signatures are by one approver: the same certificate (CN=alice"
rm "$A.cosign.p7s"

# --- a certificate able to issue others is no approver's ---
mkcert catrue "/O=Example Corp/CN=mallory" "$CA_LEAF"
sig cosign "$T/catrue.pem" "$T/catrue.key"
denied "$RULE: $SECOND: the certificate of CN=mallory,O=Example Corp is a CA certificate (basicConstraints CA:TRUE or keyUsage keyCertSign): an approver's certificate must not be able to issue certificates"
rm "$A.cosign.p7s"
sg 3 policy cosign --config "$CFG" --cert "$T/catrue.pem" --key "$T/catrue.key" "$A"
expect_in "$T/err" "is a CA certificate"
expect_absent "$A.cosign.p7s"
mkcert nobc "/O=Example Corp/CN=mallory" "$NOBC_LEAF"
sig cosign "$T/nobc.pem" "$T/nobc.key"
denied "$RULE: $SECOND: the certificate of CN=mallory,O=Example Corp is a CA certificate"

# --- ... and the approvers it issues do not count ---
# An approvers' CA without a path length limit, whose CA issued mallory a
# CA certificate by mistake: mallory makes two approvers of her own, each
# signature carrying her certificate as their CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/O=Example Corp/CN=Approvers CA 2" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$T/ca2.key" -out "$T/ca2.pem" \
	2>/dev/null
cp "$PKI/ca.pass" "$T/ca.pass"
mkcert mal "/O=Example Corp/CN=mallory" "$CA_LEAF" "$T/ca2.pem" "$T/ca2.key"
mkcert m1 "/O=Example Corp/CN=mallory one" "$LEAF" "$T/mal.pem" "$T/mal.key"
mkcert m2 "/O=Example Corp/CN=mallory two" "$LEAF" "$T/mal.pem" "$T/mal.key"
cat "$PKI/approvers-ca.pem" "$T/ca2.pem" >"$T/approvers.pem"
trust "$T/approvers.pem"
sig approve "$T/m1.pem" "$T/m1.key" -certfile "$T/mal.pem"
sig cosign "$T/m2.pem" "$T/m2.key" -certfile "$T/mal.pem"
openssl cms -verify -binary -inform DER -in "$A.cosign.p7s" -content "$A" -CAfile "$T/ca2.pem" \
	-purpose smimesign -out /dev/null 2>/dev/null || fail "openssl does not verify m2's chain"
denied "$RULE: the first approver's signature $A.approve.p7s: the certificate of CN=mallory one,O=Example Corp is not issued by the approvers' CA $T/approvers.pem (only the CAs in that file count, not those a signature carries)"
sig approve "${alice[@]}"
denied "$RULE: $SECOND: the certificate of CN=mallory two,O=Example Corp is not issued by the approvers' CA"

# The approvers' CA is the company root, which also has the code-signing CA
# under it: whoever runs that CA makes approvers of its own, whose
# signatures carry it. They do not count: it is not in the approvers' CA file.
mkcert cs1 "/O=Example Corp/CN=cs one" "$LEAF" "$PKI/issuing.pem" "$PKI/issuing.key"
mkcert cs2 "/O=Example Corp/CN=cs two" "$LEAF" "$PKI/issuing.pem" "$PKI/issuing.key"
trust "$PKI/root.pem"
sig approve "$T/cs1.pem" "$T/cs1.key" -certfile "$PKI/issuing.pem"
sig cosign "$T/cs2.pem" "$T/cs2.key" -certfile "$PKI/issuing.pem"
denied "$RULE: the first approver's signature $A.approve.p7s: the certificate of CN=cs one,O=Example Corp is not issued by the approvers' CA $PKI/root.pem (only the CAs in that file count, not those a signature carries)"
sig approve "${alice[@]}"

# --- a second certificate for her under a name that differs only in punctuation ---
trust "$PKI/approvers-ca.pem"
mkcert dot "/C=US/O=Example Corp/OU=Finance/CN=Alice." "$LEAF"
sig cosign "$T/dot.pem" "$T/dot.key"
denied "$RULE: both signatures are by one approver: two certificates with the same CN \"alice\" (CN=alice,OU=Approvers,O=Example Corp,C=US and CN=Alice.,OU=Finance,O=Example Corp,C=US; CNs are compared ignoring case, spaces and punctuation)"
mkcert dash "/C=US/O=Example Corp/OU=Approvers/CN=a-lice" "$LEAF"
sig cosign "$T/dash.pem" "$T/dash.key"
denied "$RULE: both signatures are by one approver: two certificates with the same CN \"alice\""
mkcert mail "/C=US/O=Example Corp/OU=Approvers/CN=A. Smith" "$LEAF
subjectAltName = email:Alice@Example.com."
sig cosign "$T/mail.pem" "$T/mail.key"
denied "$RULE: both signatures are by one approver: two certificates with the same email alice@example.com"
# ... or that hides a character: a zero-width space, a right-to-left override.
mkcert zw "/C=US/O=Example Corp/OU=Approvers/CN=al$(printf '\u200b')ice" "$LEAF"
sig cosign "$T/zw.pem" "$T/zw.key"
denied "$RULE: $SECOND: the certificate of CN=al\\E2\\80\\8Bice,OU=Approvers,O=Example Corp,C=US has an unprintable CN (control or invisible characters)"
mkcert rlo "/C=US/O=Example Corp/OU=Approvers/CN=$(printf '\u202e')ecila" "$LEAF"
sig cosign "$T/rlo.pem" "$T/rlo.key"
denied "$RULE: $SECOND: the certificate of CN=\\E2\\80\\AEecila,OU=Approvers,O=Example Corp,C=US has an unprintable CN"
rm "$A.cosign.p7s"

# --- the rule switched off by a policy file, or an approval of her own through the index ---
echo '{ "require_cosign": false }' >"$POL/rules.json"
denied "$RULE: no second approver's signature $A.cosign.p7s"
rm "$POL/rules.json"
B=$POL/mine.json
cp "$A" "$B" && rm "$A" "$A.approve.p7s"
sed -i 's/"id": "hello-1.0"/"id": "mine"/' "$B"
openssl cms -sign -binary -md sha256 -outform DER -in "$B" -signer "${alice[0]}" \
	-inkey "${alice[1]}" -out "$B.approve.p7s"
sg 0 policy index --config "$CFG"
sg 3 check --config "$CFG" "$EXE"
expect_in "$T/out" "approval mine is not signed by two approvers (two-person rule): no second approver's signature $B.cosign.p7s"
expect_not_in "$T/err" "index is not used"
rm -r "$B" "$B.approve.p7s" "$POL/.signgate"
approval hello-1.0 hello-setup.exe "$(sha256 "$EXE")"

# --- the second approver signs what they reviewed, not what is there later ---
bob=(--cert "$PKI/approver-bob.pem" --key "$PKI/approver-bob.key")
reviewed=$(sha256 "$A")
cp "$A" "$T/reviewed.json"
# bob has reviewed the file; alice swaps it before bob's command reads it.
sed -i 's/"ticket": "SEC-1"/"ticket": "SEC-666"/' "$A"
sig approve "${alice[@]}"
sg 3 policy cosign --config "$CFG" "${bob[@]}" --sha256 "$reviewed" "$A"
expect_in "$T/err" "$A: its SHA-256 is $(sha256 "$A"), not $reviewed: the file is not the one you reviewed (it changed since); nothing was signed"
expect_absent "$A.cosign.p7s"
sg 2 policy cosign --config "$CFG" "${bob[@]}" --sha256 "${reviewed:0:40}" "$A"
expect_in "$T/err" "--sha256 takes 64 hex digits"
cp "$T/reviewed.json" "$A"
sig approve "${alice[@]}"
sg 0 policy cosign --config "$CFG" "${bob[@]}" --sha256 "${reviewed^^}" "$A"
expect_in "$T/out" "cosigned $A as bob (CN=bob,OU=Approvers,O=Example Corp,C=US), signature $A.cosign.p7s, file SHA-256 $reviewed"
sg 0 check --config "$CFG" "$EXE"
expect_in "$T/out" "approved by hello-1.0 (approvers alice and bob by their certificates"
done_ok
