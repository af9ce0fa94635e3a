#!/usr/bin/env bash
# red15 B: `signgate timestamp` ignores signing.timestamp_retries (restamp.c
# loops over sg_timestamp_add_fetched() itself instead of using
# sg_timestamp_add_any()), though README "Timestamps" says it uses the same
# retry loop. A TSA that fails its first query (tsa_server.py --fail-first 1)
# timestamps a signing with retries 1, but not a `signgate timestamp`.
. "$(dirname -- "$0")/lib.sh"

/usr/bin/python3 "$SG_SRC/tests/fixtures/tsa_server.py" --port 0 --config "$PKI/tsa.cnf" \
	--port-file "$T/flaky.port" --fail-first 1 >"$T/flaky.log" 2>&1 &
FLAKY_PID=$!
trap 'kill $FLAKY_PID 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/flaky.port" ] && break; sleep 0.1; done
[ -s "$T/flaky.port" ] || fail "the flaky TSA did not start"
flaky="http://127.0.0.1:$(cat "$T/flaky.port")"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"

new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_retries\": 0, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
# Signing with retries 1 against the flaky TSA: answered at the second attempt.
config_set_signing timestamp_urls "[\"$flaky/sign/tsr\"]"
config_set_signing timestamp_retries 1
config_set_signing timestamp_retry_wait 0
sg 0 sign --config "$CFG" --out "$T/direct.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 signature.tsa_url)" "$flaky/sign/tsr"
# The same config, the same kind of TSA (a fresh path): timestamp should retry too.
config_set_signing timestamp_urls "[\"$flaky/restamp/tsr\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe"
expect_same "$(grep -c '"POST /restamp/tsr HTTP' "$T/flaky.log")" 2
expect_same "$(audit_field 0 decision)" timestamped
done_ok
