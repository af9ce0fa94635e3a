#!/usr/bin/env bash
# Retries per TSA (issue 15): signing.timestamp_retries and
# signing.timestamp_retry_wait. A TSA that fails its first two queries
# (tsa_server.py --fail-first 2, counted per URL path) timestamps with
# retries 2; with retries 1 the next TSA answers, or with none left the
# signing fails ("required") or goes on without a timestamp ("optional",
# with the warning). Every failed attempt is in the record's tsa_failures.
# Values out of range are configuration errors (exit 2) naming the key.
. "$(dirname -- "$0")/lib.sh"

/usr/bin/python3 "$SG_SRC/tests/fixtures/tsa_server.py" --port 0 --config "$PKI/tsa.cnf" \
	--port-file "$T/flaky.port" --fail-first 2 >"$T/flaky.log" 2>&1 &
FLAKY_PID=$!
trap 'kill $FLAKY_PID 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/flaky.port" ] && break; sleep 0.1; done
[ -s "$T/flaky.port" ] || fail "the flaky TSA did not start"
flaky="http://127.0.0.1:$(cat "$T/flaky.port")"
good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
today=$(date -u +%Y-%m-%d)

# signing_env URLS RETRIES WAIT [MORE]: a config with these TSAs and retries.
signing_env() {
	new_env ", \"timestamp_urls\": $1, \"timestamp_retries\": $2, \"timestamp_retry_wait\": $3${4:-}"
	approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
}

# 1. Fails twice, answers the third time: retries 2 suffice (wait 1 s, twice).
signing_env "[\"$flaky/a/tsr\", \"$good\"]" 2 1
start=$(date +%s)
sg 0 sign --config "$CFG" --out "$T/a.exe" "$INST/hello-setup.exe"
took=$(($(date +%s) - start))
[ "$took" -ge 2 ] || fail "two waits of 1 s took ${took} s"
ok
expect_in "$T/out" ", timestamp ${today}T"
expect_not_in "$T/err" "without a timestamp"
expect_same "$(audit_field 0 signature.tsa_url)" "$flaky/a/tsr"
audit_field 0 signature.tsa_failures >"$T/failures"
expect_in "$T/failures" "$flaky/a/tsr: no usable reply from the TSA: received error (code=500, reason=Internal Server Error)"
expect_in "$T/failures" " (attempts 1-2 of 3)"
expect_same "$(grep -o '127.0.0.1' "$T/failures" | wc -l)" 2
expect_same "$(grep -c '"POST /a/tsr HTTP' "$T/flaky.log")" 3
sg 0 verify --config "$CFG" "$T/a.exe"
expect_in "$T/out" ", timestamped ${today}T"

# 2. Retries 1: the flaky TSA gives up after two attempts, the next one answers.
signing_env "[\"$flaky/b/tsr\", \"$good\"]" 1 0
sg 0 sign --config "$CFG" --out "$T/b.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 signature.tsa_url)" "$good"
expect_in "$LOG" "\"tsa_failures\":\"$flaky/b/tsr: no usable reply from the TSA: received error (code=500, reason=Internal Server Error)"
expect_in "$LOG" " (attempts 1-2 of 2)\""
expect_same "$(grep -c '"POST /b/tsr HTTP' "$T/flaky.log")" 2

# 3. Retries 1 and no other TSA: "required" fails and names every attempt ...
signing_env "[\"$flaky/c/tsr\"]" 1 0
sg 1 sign --config "$CFG" --out "$T/c.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "timestamping is required and no TSA answered (1 tried): $flaky/c/tsr: no usable reply from the TSA: received error (code=500, reason=Internal Server Error)"
expect_in "$T/out" " (attempts 1-2 of 2)"
expect_absent "$T/c.exe"
expect_same "$(audit_field 0 decision)" failed
# ... "optional" signs without a timestamp, says why, and warns.
signing_env "[\"$flaky/d/tsr\"]" 1 0 ", \"timestamp\": \"optional\""
sg 0 sign --config "$CFG" --out "$T/d.exe" "$INST/hello-setup.exe"
expect_in "$T/out" ", no timestamp)"
expect_in "$T/err" "signgate: warning: $T/d.exe: signed without a timestamp: the signature dies with the certificate (not after "
expect_in "$T/err" "no TSA answered (the audit record's signature.tsa_failures says why)"
expect_in "$LOG" "(attempts 1-2 of 2)\""

# 4. The defaults (no keys): 2 retries, so the flaky TSA answers its third query.
new_env ", \"timestamp_urls\": [\"$flaky/e/tsr\"]"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
start=$(date +%s)
sg 0 sign --config "$CFG" --out "$T/e.exe" "$INST/hello-setup.exe"
took=$(($(date +%s) - start))
[ "$took" -ge 10 ] || fail "the default wait (5 s, twice) took ${took} s"
ok
expect_same "$(audit_field 0 signature.tsa_url)" "$flaky/e/tsr"
expect_in "$LOG" "(attempts 1-2 of 3)\""

# 5. No TSA at all: the warning names the output and what to do.
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/f.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: warning: $T/f.exe: signed without a timestamp: the signature dies with the certificate (not after "
expect_in "$T/err" "; name TSAs in signing.timestamp_urls"
expect_same "$(grep -c 'without a timestamp' "$T/err")" 1

# 6. Values out of range or of the wrong type: exit 2 naming the key, nothing touched.
rm -f "$LOG"
for bad in 11 -1 '"3"' 1.5 true; do
	signing_env "[\"$good\"]" "$bad" 0
	sg 2 sign --config "$CFG" --out "$T/bad.exe" "$INST/hello-setup.exe"
	expect_in "$T/err" "\"signing.timestamp_retries\" must be 0..10"
	expect_absent "$T/bad.exe"
done
for bad in 301 -1 '"10"' 0.5; do
	signing_env "[\"$good\"]" 0 "$bad"
	sg 2 check --config "$CFG" "$INST/hello-setup.exe"
	expect_in "$T/err" "\"signing.timestamp_retry_wait\" must be 0..300 seconds"
done
expect_absent "$LOG"
done_ok
