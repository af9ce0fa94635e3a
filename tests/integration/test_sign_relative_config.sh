#!/usr/bin/env bash
# A relative --config whose key and password files are relative too (the demo's
# `--config pki/signgate.json`): the config loader makes every path absolute,
# relative to the config file's folder, so the key helper (whose Landlock rules
# take absolute paths only) opens them. Before the fix: exit 1 "pki/signer.pass:
# cannot open the secret file: Permission denied".
. "$(dirname -- "$0")/lib.sh"

new_env
install -m 0600 "$PKI/signer.p12" "$T/env/signer.p12"
install -m 0600 "$PKI/signer.pass" "$T/env/signer.pass"
config_set signing '{ "pkcs12": "signer.p12", "password_file": "signer.pass" }'
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
cd "$T"
sg 0 sign --config env/signgate.json --out-dir signed "$INST/hello-setup.exe"
expect_in "$T/out" "signed"
expect_not_in "$T/err" "cannot open the secret file"
[ -s "$T/signed/hello-setup.exe" ] || fail "no signed output"
ok
sg 0 verify --config env/signgate.json "$T/signed/hello-setup.exe"
# The log went where the config says, relative to its folder.
[ -s "$T/env/audit/audit.jsonl" ] || fail "no audit log in the config's folder"
ok
cd env
sg 0 audit verify --config ./signgate.json
done_ok
