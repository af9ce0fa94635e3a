#!/usr/bin/env bash
# red15 B (merge of restamp and hygiene): `signgate timestamp` never asks
# osslsigncode its version (cmd_timestamp.c does not call
# cli_osslsigncode_check()): with an osslsigncode 2.5 it runs
# `osslsigncode attach-signature` on an MSI (the very command the 2.9
# minimum is about) and its "timestamp" record says "osslsigncode_version":
# null, which README reserves for runs that used none. It also takes no
# default config (cli_config_lookup()): --config is required.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"timestamp_retries\": 0, \"certificate\": \"$PKI/signer.pem\""
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-1.0.msi"
real_version=$(audit_field 0 osslsigncode_version)
config_set_signing timestamp_urls "[\"$good\"]"
# With the real osslsigncode the record names the version it ran.
sg 0 timestamp --config "$CFG" --out-dir "$T/ts1" "$T/signed/hello-1.0.msi"
expect_same "$(audit_field 0 timestamping.attached_by)" "osslsigncode attach-signature"
expect_same "$(audit_field 0 osslsigncode_version)" "$real_version"
# An old one is refused before any input, as sign refuses it.
mkdir -p "$T/fake"
cat >"$T/fake/osslsigncode" <<'SH'
#!/bin/bash
if [ "$1" = --version ]; then echo "osslsigncode 2.5, using:"; exit 0; fi
exec /usr/bin/osslsigncode "$@"
SH
chmod 0755 "$T/fake" "$T/fake/osslsigncode"
config_set osslsigncode "\"$T/fake/osslsigncode\""
lines=$(wc -l <"$LOG")
sg 2 timestamp --config "$CFG" --out-dir "$T/ts2" "$T/signed/hello-1.0.msi"
expect_in "$T/err" "is osslsigncode 2.5: signgate needs 2.9 or newer"
expect_absent "$T/ts2/hello-1.0.msi"
expect_same "$(wc -l <"$LOG")" "$lines"
done_ok
