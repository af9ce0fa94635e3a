#!/usr/bin/env bash
# Red team (issue 14, R1): what a token's module or engine prints on stderr
# reaches signgate's error message and the audit record ("the token said:
# ..."). A verbose or debugging module (OpenSC's pkcs11-spy, a debug
# libp11), or code that finding 1 of red14b-findings-R1.md lets in, prints
# the PIN there; signgate holds the PIN and must keep it (plain or hex) out
# of what it prints and records. The shim copy "pin" (tests/tools/
# pkcs11_shim.c) prints the PIN C_Login got (then fails C_Sign); the key
# URI names no object in the token, so opening the key fails after the
# login, when signgate reports what the token said.
. "$(dirname -- "$0")/lib.sh"
: "${SG_PKCS11_SHIM:?SG_PKCS11_SHIM must name the PKCS#11 shim}"

mkdir -m 0755 "$T/shim"
cp "$SG_PKCS11_SHIM" "$T/shim/pkcs11_shim_pin.so"
chmod 0755 "$T/shim/pkcs11_shim_pin.so"
token_env pin.json signgate-pkcs11.json
config_set_signing pkcs11_module "\"$T/shim/pkcs11_shim_pin.so\""
config_set_signing key '"pkcs11:token=signgate;object=no-such-key;type=private"'
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
pin=$(cat "$PKI/token.pin")
hex=$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')

sg 1 sign --config "$CFG" --out "$T/o.exe" "$INST/hello-setup.exe"
expect_absent "$T/o.exe"
# The run failed opening the key, after the login (on 1b8d2a6 the message
# then carries "the token said: pkcs11_shim: C_Login PIN <the PIN> hex ...").
expect_in "$T/err" "pkcs11:token=signgate;object=no-such-key;type=private: cannot load the signing key"
expect_not_in "$T/err" "$pin"
expect_not_in "$T/err" "$hex"
[ -s "$LOG" ] || fail "no audit record"
expect_same "$(audit_field 0 decision)" "failed"
expect_not_in "$LOG" "$pin"
expect_not_in "$LOG" "$hex"
done_ok
