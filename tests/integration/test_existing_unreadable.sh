#!/usr/bin/env bash
# "Already signed" is a signature signgate can read: one PKCS#7 SignedData
# with exactly one signer in the format's container. A container that claims
# a signature and holds anything else (not a SignedData, no signer, two
# signers) is neither vendor-signed nor unsigned: it is denied as malformed
# (exit 3) under every existing_signature rule, and for a product listed as
# vendor_signs, so that it can neither pass for the vendor's signature nor
# slip past "refuse". A real signature is judged by the rule as before;
# bytes after a real signature's DER are the structure check's refusal.
. "$(dirname -- "$0")/lib.sh"

new_env
vpe=$INST/vendor-signed-hello-setup.exe


# The DERs: the vendor's own signature, and three that claim one.
osslsigncode extract-signature -in "$vpe" -out "$T/vendor.der" >/dev/null 2>&1 ||
	fail "cannot extract the vendor's signature"
# A DER SEQUENCE that is no PKCS#7.
printf '\x30\x08\x02\x01\x05\x04\x03abc' >"$T/garbage.der"
# SignedData with certificates and no signer (a "degenerate" PKCS#7).
openssl crl2pkcs7 -nocrl -certfile "$PKI/root.pem" -outform DER -out "$T/zero.der"
# SignedData with two signers.
echo content >"$T/content"
openssl cms -sign -binary -nodetach -outform DER -in "$T/content" -out "$T/two.der" \
	-signer "$PKI/approver-alice.pem" -inkey "$PKI/approver-alice.key" \
	-signer "$PKI/approver-bob.pem" -inkey "$PKI/approver-bob.key"
# The vendor's signature with bytes after its DER.
{ cat "$T/vendor.der"; printf 'JUNKJUNKJUNK'; } >"$T/trailing.der"
for k in garbage zero two trailing; do
	put_table "$INST/hello-setup.exe" "$T/$k.der" "$T/$k-setup.exe"
done

# 1. Unreadable: denied under refuse, replace and nest, named as such.
for k in garbage zero two; do
	f=$T/$k-setup.exe
	for rule in refuse replace nest; do
		rm -f "$T/env/policy/"*.json
		approval "$k" "$k-setup.exe" "$(sha256 "$f")" ", \"existing_signature\": \"$rule\""
		sg 3 sign --config "$CFG" --out "$T/o-$k-$rule.exe" "$f"
		expect_in "$T/out" "denied   $f: $k-setup.exe: its certificate table claims a signature signgate cannot read ("
		expect_in "$T/out" "): it is neither signed nor unsigned, so it is denied whatever the approval's existing_signature says"
		expect_absent "$T/o-$k-$rule.exe"
		expect_same "$(audit_field 0 decision)" denied
		expect_same "$(audit_field 0 status)" format
		expect_same "$(audit_field 0 input.signed_before)" True
		# The key was never asked: no signature record.
		expect_same "$(python3 -c 'import json,sys; print("signature" in json.loads(open(sys.argv[1]).read().splitlines()[-1]))' "$LOG")" False
	done
done
# The same for an MSI's \x05DigitalSignature stream. osslsigncode writes
# the stream, then finds it no signature of the file (exit 1): what a vendor
# file with such a stream would be.
for k in zero two; do
	f=$T/$k-1.0.msi
	osslsigncode attach-signature -sigin "$T/$k.der" -in "$INST/hello-1.0.msi" -out "$f" \
		>/dev/null 2>&1 || true
	[ -s "$f" ] || fail "osslsigncode wrote no $k-1.0.msi"
	for rule in refuse replace nest; do
		rm -f "$T/env/policy/"*.json
		approval "$k" "$k-1.0.msi" "$(sha256 "$f")" ", \"existing_signature\": \"$rule\""
		sg 3 sign --config "$CFG" --out "$T/o-$k-$rule.msi" "$f"
		expect_in "$T/out" "denied   $f: $k-1.0.msi: its DigitalSignature stream claims a signature signgate cannot read (the signature is no SignedData with one signer): it is neither signed nor unsigned"
		expect_absent "$T/o-$k-$rule.msi"
		expect_same "$(audit_field 0 status)" format
	done
done
# The reasons name what is wrong with each.
sg 3 check --config "$CFG" "$T/two-setup.exe"
expect_in "$T/out" "the signature is no SignedData with one signer"

# 2. A product the catalog lists as vendor_signs: a claimed signature does
# not pass for the vendor's (here approved with accept_unsigned absent).
rm -f "$T/env/policy/"*.json
echo '{ "products": [ { "product": "Hello", "vendor_signs": true } ] }' >"$T/env/policy/catalog.json"
approval zero zero-setup.exe "$(sha256 "$T/zero-setup.exe")" ', "existing_signature": "replace"'
sg 3 check --config "$CFG" "$T/zero-setup.exe"
expect_in "$T/out" "zero-setup.exe: its certificate table claims a signature signgate cannot read"
# The real one passes the same catalog: the other side.
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "replace"'
sg 0 check --config "$CFG" "$vpe"
expect_in "$T/out" "approved"

# 3. A real signature is judged by the rule: refuse denies, replace and nest sign.
rm -f "$T/env/policy/"*.json
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")"
sg 3 sign --config "$CFG" --out "$T/r.exe" "$vpe"
expect_in "$T/out" "input already carries an Authenticode signature and approval vpe says existing_signature=refuse"
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out "$T/r.exe" "$vpe"
expect_same "$(audit_field 0 signature.signatures)" 1
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/n.exe" "$vpe"
expect_same "$(audit_field 0 signature.signatures)" 2

# 4. Bytes after a real signature's DER (outside every digest, CVE-2013-3900):
# the structure check refuses the file before anything asks whether it is
# signed, under every rule.
f=$T/trailing-setup.exe
for rule in refuse replace nest; do
	approval trailing trailing-setup.exe "$(sha256 "$f")" ", \"existing_signature\": \"$rule\""
	sg 3 sign --config "$CFG" --out "$T/t-$rule.exe" "$f"
	expect_in "$T/out" "denied   $f: trailing-setup.exe: certificate entry at offset"
	expect_in "$T/out" "bytes after its signature (data hidden outside the signed digest)"
	expect_absent "$T/t-$rule.exe"
done

# 5. policy approve judges "signed" by the same check as sign: a container
# that claims a signature nobody can read is refused (exit 3) with sign's
# reason, word for word, and no approval is written; before, approve showed
# such a file as "signed" and let it pass a catalog's vendor_signs.
rm -f "$T/env/policy/"*.json
echo '{ "products": [ { "product": "Hello", "vendor_signs": true } ] }' >"$T/env/policy/catalog.json"
for k in garbage zero two; do
	f=$T/$k-setup.exe
	approval "$k" "$k-setup.exe" "$(sha256 "$f")" ', "existing_signature": "replace"'
	sg 3 check --config "$CFG" "$f"
	signs=$(sed -n "s|^denied   $f: ||p" "$T/out")
	[ -n "$signs" ] || fail "check printed no denial for $k-setup.exe"
	rm -f "$T/env/policy/$k.json"
	sg 3 policy approve --config "$CFG" --vendor Example --ticket CHG-9 --product Hello \
		--version 1.0 --id "ap-$k" "--sha256=$(sha256 "$f")" "$f"
	expect_same "$(sed -n 's|^denied   ||p' "$T/out")" "$signs"
	expect_in "$T/out" "denied   $k-setup.exe: its certificate table claims a signature signgate cannot read ("
	expect_absent "$T/env/policy/ap-$k.json"
	expect_same "$(audit_field 0 action)" approve
	expect_same "$(audit_field 0 decision)" denied
	expect_same "$(audit_field 0 status)" format
	expect_same "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["reasons"][0])' "$LOG")" "$signs"
done
# The vendor's real signature is approved, shown as signed, under the same catalog.
sg 0 policy approve --config "$CFG" --vendor Example --ticket CHG-9 --product Hello \
	--version 1.0 --id ap-vpe "--sha256=$(sha256 "$vpe")" "$vpe"
expect_same "$(jq -r '.approvals[0].provenance.installer.signed' "$T/env/policy/ap-vpe.json")" true

done_ok
