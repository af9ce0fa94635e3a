#!/usr/bin/env bash
# Key source "pkcs11-provider" (lib/key_source_pkcs11_provider.c): the
# fixture's SoftHSM2 token through pkcs11-provider, OpenSSL 3's replacement
# for the libp11 engine. With the engines folder emptied (so the engine row
# cannot work) the key helper signs a PE and an MSI with the RSA key and a PE
# with the ECDSA key, and they verify; the audit log is sealed with the
# token's sealing key and the seal checks; a wrong PIN, a missing token and
# a missing module stop the run with the cause named (exit 1, no output);
# "pkcs11_engine" and an unknown "key_source" are config errors (exit 2, the
# latter as the config loads, for every command); the
# PIN is in no process's argv or environment; PKCS11_PROVIDER_MODULE in
# signgate's environment does not choose the module. An approver's token key
# signs approvals through it (policy approve/cosign --key-source).
. "$(dirname -- "$0")/lib.sh"

# pkcs11-provider opens the module with dlopen(RTLD_DEEPBIND), which
# AddressSanitizer refuses: no token can be reached from such a build.
if readelf -s "$SG_BIN" 2>/dev/null | grep '__asan_init' >/dev/null; then
	echo "skipped: $SG_BIN is built with AddressSanitizer (pkcs11-provider's RTLD_DEEPBIND)"
	exit 77
fi

pin=$(cat "$PKI/token.pin")
[ -n "$pin" ] || fail "the fixture has no token PIN"
modules=$(openssl version -m | sed 's/^MODULESDIR: "\(.*\)"$/\1/')
[ -f "$modules/pkcs11.so" ] || fail "pkcs11-provider is not installed in $modules (scripts/setup.sh)"
module=/usr/lib/softhsm/libsofthsm2.so
# No engine to fall back on: only the provider can open the key.
export OPENSSL_ENGINES=$T/no-engines
mkdir -p "$OPENSSL_ENGINES"

# provider_env NAME JSON: the fixture's token config with "key_source": "pkcs11-provider".
provider_env() {
	token_env "$1" "$2"
	config_set_signing key_source '"pkcs11-provider"'
}

provider_env rsa.json signgate-pkcs11.json
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/rsa" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/rsa/hello-setup.exe"
expect_in "$T/out" "signer SHA-1 $thumb"
# The record names the route that signed.
expect_same "$(audit_field 0 signature.key_helper.key_source)" pkcs11-provider
sg 0 verify --config "$CFG" "$T/rsa/hello-setup.exe" "$T/rsa/hello-1.0.msi"
expect_in "$T/out" "revocation checked"
# Checked by another verifier too.
osslsigncode verify -CAfile "$PKI/root.pem" -CRLfile "$PKI/crl.pem" -in "$T/rsa/hello-setup.exe" \
	>"$T/ossl" 2>&1 || fail "osslsigncode verify rejects the provider-signed PE: $(cat "$T/ossl")"
expect_in "$T/ossl" "Signature verification: ok"

# The same config through the engine row cannot open the key here: the
# provider, not the engine, signed above.
config_set_signing key_source '"pkcs11-engine"'
sg 1 sign --config "$CFG" --out "$T/engine.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "\"pkcs11\" engine"
expect_absent "$T/engine.exe"

provider_env ec.json signgate-pkcs11-ec.json
sg 0 sign --config "$CFG" --out "$T/ec.exe" "$INST/hello-setup.exe"
ec_thumb=$(openssl x509 -in "$PKI/signer-ec.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
expect_in "$T/out" "signer SHA-1 $ec_thumb"
sg 0 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" --json "$T/ec.exe"
expect_in "$T/out" "\"sha1_thumbprint\":\"$ec_thumb\""

# Whoever sets PKCS11_PROVIDER_MODULE does not choose the module signgate loads.
provider_env envmod.json signgate-pkcs11.json
PKCS11_PROVIDER_MODULE=/usr/lib/softhsm/no-such-module.so \
	sg 0 sign --config "$CFG" --out "$T/envmod.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/envmod.exe"

# The PIN is never in a process's argv or environment (a slow TSA stretches the signing).
provider_env sweep.json signgate-pkcs11.json
start_slow_tsa
sed -i "s#\"timestamp_urls\": \[\]#\"timestamp_urls\": [\"$SLOW_TSA\"]#" "$CFG"
sweep_for_secret "$pin" sign --config "$CFG" --out "$T/swept.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/swept.exe"

# A wrong PIN: the run stops before any input is signed, the cause named.
provider_env wrong.json signgate-pkcs11.json
printf '999999' >"$T/wrong.pin"
chmod 0600 "$T/wrong.pin"
sed -i "s#\"$PKI/token.pin\"#\"$T/wrong.pin\"#" "$CFG"
sg 1 sign --config "$CFG" --out-dir "$T/w" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/err" "pkcs11:token=signgate;object=signer;type=private: cannot load the signing key: wrong PIN (the token refused the login; module $module)"
expect_in "$T/out" "failed   $INST/hello-setup.exe: hello-setup.exe: not signed: "
expect_absent "$T/w/hello-setup.exe"
expect_absent "$T/w/hello-1.0.msi"

# A token that is not there, a key that is not in it, a module that is not there.
provider_env notoken.json signgate-pkcs11.json
sed -i "s#token=signgate;#token=no-such-token;#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/nt.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "pkcs11:token=no-such-token;object=signer;type=private: cannot load the signing key: no token matches the URI"
expect_absent "$T/nt.exe"
provider_env nokey.json signgate-pkcs11.json
sed -i "s#object=signer;#object=no-such-key;#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/nk.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "object=no-such-key;type=private: cannot load the signing key: the token holds no private key that matches the URI"
expect_absent "$T/nk.exe"
provider_env nomodule.json signgate-pkcs11.json
sed -i "s#$module#/usr/lib/softhsm/no-such-module.so#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/nm.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "/usr/lib/softhsm/no-such-module.so: cannot use the PKCS#11 module: No such file or directory"
expect_absent "$T/nm.exe"

# Settings that do not go with the provider, and a key source signgate does not know.
provider_env engine.json signgate-pkcs11.json
config_set_signing pkcs11_engine "\"$module\""
sg 2 sign --config "$CFG" --out "$T/ce.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "\"signing.pkcs11_engine\" does not go with \"key_source\" \"pkcs11-provider\""
provider_env unknown.json signgate-pkcs11.json
config_set_signing key_source '"pkcs11-providr"'
sg 2 sign --config "$CFG" --out "$T/cu.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "\"signing.key_source\" \"pkcs11-providr\" is none of \"pkcs12\", \"pem\", \"pkcs11-engine\", \"pkcs11-provider\""
# Refused as the config loads: also by commands that never open a key, naming the file.
for args in "policy show" "audit verify" "policy lint"; do
	# shellcheck disable=SC2086
	sg 2 $args --config "$CFG"
	expect_in "$T/err" "$CFG: \"signing.key_source\" \"pkcs11-providr\" is none of \"pkcs12\", \"pem\""
done

# The audit log sealed with the token's sealing key through the provider (in
# signgate's own process: SOFTHSM2_CONF in its environment).
provider_env seal.json signgate-pkcs11.json
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
export SOFTHSM2_CONF=$PKI/softhsm/softhsm2.conf
seal_uri="pkcs11:token=signgate;object=seal;type=private"
SEALS=$LOG.seals
config_set audit_seal "{\"key_source\": \"pkcs11-provider\", \"key\": \"$seal_uri\", \"pkcs11_module\": \"$module\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$PKI/token.pin\", \"file\": \"$SEALS\"}"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "seal line 1 of $SEALS"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "chain intact"
expect_in "$T/out" "sealed   1 seal matches the chain"
jq -r .signature "$SEALS" | base64 -d >"$T/seal.der"
jq -cjS 'del(.signature)' "$SEALS" >"$T/seal.txt"
openssl cms -verify -binary -inform DER -in "$T/seal.der" -content "$T/seal.txt" \
	-certfile "$PKI/seal.pem" -nointern -noverify -out /dev/null >"$T/cms" 2>&1 ||
	fail "openssl cms -verify rejects the provider-made seal: $(cat "$T/cms")"
expect_in "$T/cms" "Verification successful"
config_set audit_seal "{\"key_source\": \"pkcs11-provider\", \"key\": \"$seal_uri\", \"pkcs11_module\": \"$module\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$T/wrong.pin\", \"file\": \"$SEALS\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$seal_uri: cannot load the sealing key: wrong PIN (the token refused the login; module $module)"
expect_same "$(wc -l <"$SEALS")" 1
unset SOFTHSM2_CONF

# An approver's key in a token through the provider (policy approve and
# policy cosign --key-source pkcs11-provider); the engine folder is empty,
# so without --key-source the same key cannot be opened.
new_env
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"approvers_ca_file\": \"$PKI/approvers-ca.pem\"}"
POL=$T/env/policy
rm -f -- "$POL"/*
softhsm_token approver "$PKI/approver-alice.key" alice
auri="pkcs11:token=approver;object=alice;type=private"
EXE=$INST/hello-setup.exe
ap=(policy approve --config "$CFG" --product Hello --vendor Example --version 2.0 --ticket T
	--sha256 "$(sha256 "$EXE")" --cert "$PKI/approver-alice.pem" --key "$auri"
	--pkcs11-module "$module" --password-file "$T/token.pin")
sg 0 "${ap[@]}" --key-source pkcs11-provider "$EXE"
expect_in "$T/out" "signed $POL/hello-2.0.json.approve.p7s"
openssl cms -verify -binary -inform DER -in "$POL/hello-2.0.json.approve.p7s" \
	-content "$POL/hello-2.0.json" -CAfile "$PKI/approvers-ca.pem" -purpose any \
	-out /dev/null >"$T/cms" 2>&1 || fail "the provider-made approval signature: $(cat "$T/cms")"
expect_in "$T/cms" "Verification successful"
co=(policy cosign --approvers-ca "$PKI/approvers-ca.pem" --cert "$PKI/approver-alice.pem"
	--key "$auri" --pkcs11-module "$module" --password-file "$T/token.pin")
cp "$POL/hello-2.0.json" "$T/copy.json"
sg 0 "${co[@]}" --key-source pkcs11-provider "$T/copy.json"
expect_in "$T/out" "cosigned $T/copy.json as "
expect_same "$(ls "$T"/copy.json.cosign.p7s)" "$T/copy.json.cosign.p7s"
# The engine route (no --key-source) has no engine here.
sg 1 "${co[@]}" --replace "$T/copy.json"
expect_in "$T/err" "\"pkcs11\" engine"
# A wrong PIN, an unknown source, a source without a key.
printf 13579 >"$T/bad.pin" && chmod 0600 "$T/bad.pin"
sg 1 "${co[@]}" --key-source pkcs11-provider --replace --password-file "$T/bad.pin" "$T/copy.json"
expect_in "$T/err" "$auri: cannot load the approver's key: wrong PIN"
sg 2 "${co[@]}" --key-source pkcs11-providr --replace "$T/copy.json"
expect_in "$T/err" "\"pkcs11-providr\" is none of \"pkcs12\", \"pem\", \"pkcs11-engine\", \"pkcs11-provider\""
sg 2 policy approve --config "$CFG" --product Hello --vendor Example --version 3.0 --ticket T \
	--sha256 "$(sha256 "$EXE")" --key-source pkcs11-provider "$EXE"
expect_in "$T/err" "--key-source"
unset SOFTHSM2_CONF
done_ok
