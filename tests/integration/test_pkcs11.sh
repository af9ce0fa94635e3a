#!/usr/bin/env bash
# The signing key in a PKCS#11 token (SoftHSM2, made by the fixture with
# certs-example/softhsm-token.sh): RSA and ECDSA keys sign through
# osslsigncode's PKCS#11 support; the PIN goes through a pipe, never on argv
# or in an environment; a wrong PIN, a missing token and a missing module
# fail with the cause, exit 1, no output and a record, and a token that
# refused the PIN is not asked again for the next input.
. "$(dirname -- "$0")/lib.sh"

pin=$(cat "$PKI/token.pin")
[ -n "$pin" ] || fail "the fixture has no token PIN"

token_env rsa.json signgate-pkcs11.json
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/rsa" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
expect_in "$T/out" "signer SHA-1 $thumb"
expect_same "$(audit_field 0 signature.key_helper.key_source)" pkcs11-engine
sg 0 verify --config "$CFG" "$T/rsa/hello-setup.exe" "$T/rsa/hello-1.0.msi"
expect_in "$T/out" "revocation checked"

token_env ec.json signgate-pkcs11-ec.json
sg 0 sign --config "$CFG" --out "$T/ec.exe" "$INST/hello-setup.exe"
ec_thumb=$(openssl x509 -in "$PKI/signer-ec.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
expect_in "$T/out" "signer SHA-1 $ec_thumb"
sg 0 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" --json "$T/ec.exe"
expect_in "$T/out" "\"sha1_thumbprint\":\"$ec_thumb\""

# osslsigncode never sees the token: the key helper signs, and osslsigncode
# only attaches the finished signature to the MSI, with no module, no key
# URI, no PIN and not even the module's environment.
spy=$T/spy
mkdir -p "$spy"
cat >"$spy/osslsigncode" <<SH
#!/bin/bash
printf '%s\n' "\$0" "\$@" >>"$spy/argv"
env >>"$spy/env"
exec /usr/bin/osslsigncode "\$@"
SH
chmod 0755 "$spy/osslsigncode"
token_env spy.json signgate-pkcs11.json
sed -i "s#\"/usr/bin/osslsigncode\"#\"$spy/osslsigncode\"#" "$CFG"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
# The spy writes its notes beside itself: no Landlock for it (the rest of its confinement stays).
SIGNGATE_CONFINE_FORCE=landlock=0 sg 0 sign --config "$CFG" --out-dir "$T/spied" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$spy/argv" "attach-signature"
expect_not_in "$spy/argv" "pkcs11"
expect_not_in "$spy/argv" "$pin"
expect_not_in "$spy/env" "$pin"
expect_not_in "$spy/env" "SOFTHSM2_CONF="

# /proc sampling while the token signs (a slow TSA stretches the signing).
token_env sweep.json signgate-pkcs11.json
start_slow_tsa
sed -i "s#\"timestamp_urls\": \[\]#\"timestamp_urls\": [\"$SLOW_TSA\"]#" "$CFG"
sweep_for_secret "$pin" sign --config "$CFG" --out "$T/swept.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/swept.exe"

# A wrong PIN: the key helper logs in before any input is read, so the run
# stops there: exit 1, the token's own words, no output, nothing given to
# osslsigncode, and every input has a "failed" record saying it was not
# signed. The token is asked once per run, never once per input.
token_env wrong.json signgate-pkcs11.json
printf '999999' >"$T/wrong.pin"
chmod 0600 "$T/wrong.pin"
sed -i "s#\"$PKI/token.pin\"#\"$T/wrong.pin\"#" "$CFG"
sed -i "s#\"/usr/bin/osslsigncode\"#\"$spy/osslsigncode\"#" "$CFG"
: >"$spy/argv"
before=$(wc -l <"$LOG" 2>/dev/null || echo 0)
sg 1 sign --config "$CFG" --out-dir "$T/w" -j 4 "$INST/other-setup.exe" "$INST/hello-setup.exe" \
	"$INST/hello-1.0.msi"
for f in other-setup.exe hello-setup.exe hello-1.0.msi; do
	expect_in "$T/out" "failed   $INST/$f: $f: not signed: "
	expect_absent "$T/w/$f"
done
expect_same "$(wc -c <"$spy/argv")" 0
expect_same "$(($(wc -l <"$LOG") - before))" 3
grep -q 'PIN incorrect\|Login failed\|Login to token failed' "$T/err" || fail "the PIN failure is not named: $(cat "$T/err")"
ok

# signing.pkcs11_engine: the key helper loads the engine from that file;
# one that is not an engine stops the run before any input, named.
engine=$(find /usr/lib -path '*/engines-3/pkcs11.so' -print -quit)
[ -n "$engine" ] || fail "libengine-pkcs11-openssl's pkcs11.so not found"
token_env engine.json signgate-pkcs11.json
config_set_signing pkcs11_engine "\"$engine\""
sg 0 sign --config "$CFG" --out "$T/engine.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/engine.exe"
notengine=$(find /usr/lib -path '*/engines-3/padlock.so' -print -quit)
[ -n "$notengine" ] || fail "no padlock.so to stand for a wrong engine"
config_set_signing pkcs11_engine "\"$notengine\""
sg 1 sign --config "$CFG" --out "$T/notengine.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$notengine"
expect_absent "$T/notengine.exe"

# A missing token (wrong label) and a missing module.
token_env notoken.json signgate-pkcs11.json
sed -i "s#token=signgate;#token=no-such-token;#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/nt.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "No matching initialized token was found"
expect_absent "$T/nt.exe"
token_env nomodule.json signgate-pkcs11.json
sed -i "s#/usr/lib/softhsm/libsofthsm2.so#/usr/lib/softhsm/no-such-module.so#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/nm.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "/usr/lib/softhsm/no-such-module.so: cannot use the PKCS#11 module: No such file or directory"
expect_in "$T/out" "failed   $INST/hello-setup.exe: hello-setup.exe: not signed: "
expect_absent "$T/nm.exe"
sg 0 audit verify --log "$LOG"
done_ok
