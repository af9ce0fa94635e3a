#!/usr/bin/env bash
# red15 B: `signgate timestamp` extends the life of a signature whose input is
# no longer approved (revoked between the signing and the timestamping), and
# timestamps a file of ours that the audit log never saw (our signed output
# with bytes changed outside the signed range). A timestamp turns a signature
# that dies with the certificate into one valid for ever: it should pass the
# policy again, as `sign` does for an input already signed by us (the origin
# traced through the audit log, still approved).
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
in=$T/signed/hello-setup.exe

# 1. The approval is withdrawn (the vendor file turned out bad): signing it is denied...
rm -f "$T/env/policy/"*.json
empty_policy
sg 3 sign --config "$CFG" --out-dir "$T/again" "$INST/hello-setup.exe"
# ...but the signature made while it was approved receives a timestamp all the same.
config_set_signing timestamp_urls "[\"$good\"]"
rc=0
"$SG_BIN" timestamp --config "$CFG" --out-dir "$T/ts" "$in" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out" "$T/err"
[ "$rc" -ne 0 ] || fail "a signature of an input that is no longer approved was timestamped (exit 0)"
expect_absent "$T/ts/hello-setup.exe"
# Denied (exit 3) for the policy's reason, and recorded so.
[ "$rc" -eq 3 ] || fail "exit $rc, expected 3 (denied)"
expect_in "$T/out" "hello-setup.exe: not timestamped: already signed by us ("
expect_in "$T/out" "is no longer approved: "
expect_same "$(audit_field 0 action)" timestamp
expect_same "$(audit_field 0 decision)" denied
expect_same "$(audit_field 0 signed_from.input_sha256)" "$(sha256 "$INST/hello-setup.exe")"
done_ok
