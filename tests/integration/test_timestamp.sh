#!/usr/bin/env bash
# RFC 3161 timestamps from a TSA on 127.0.0.1: the first TSA that answers is
# used; all down fails the signing and says so; an untrusted TSA fails verify.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"

new_env ", \"timestamp_urls\": [\"$down\", \"$good\"], \"timestamp_timeout\": 30"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/out" ", timestamp $(date -u +%Y-%m-%d)T"
expect_same "$(audit_field 1 signature.tsa_url)" "$good"
expect_in "$LOG" "\"tsa_failures\":\"$down: osslsigncode sign exited with status"
ts=$(audit_field 1 signature.timestamp)
[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "timestamp '$ts'"
ok
sg 0 verify --config "$CFG" --json "$T/o/hello-setup.exe" "$T/o/hello-1.0.msi"
expect_in "$T/out" "\"timestamp\":\"$ts\""
osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/tsa-root.pem" -ignore-cdp \
	-in "$T/o/hello-1.0.msi" >"$T/ov" 2>&1 || fail "osslsigncode verify failed"
expect_in "$T/ov" "Timestamp Server Signature verification: ok"

# Untrusted TSA: osslsigncode still exits 0 here, signgate does not.
osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp \
	-in "$T/o/hello-setup.exe" >"$T/ov" 2>&1 && ossl_rc=0 || ossl_rc=$?
expect_in "$T/ov" "Timestamp Server Signature verification: failed"
sg 3 verify --ca "$PKI/root.pem" --tsa-ca "$PKI/root.pem" "$T/o/hello-setup.exe"
expect_in "$T/out" "Timestamp Server Signature verification: failed"
echo "osslsigncode exit status with the untrusted TSA: $ossl_rc"

# Every TSA down: signing fails, names each TSA, leaves no output.
new_env ", \"timestamp_urls\": [\"$down\", \"http://127.0.0.1:9/tsr\"], \"timestamp_timeout\": 20"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 1 sign --config "$CFG" --out "$T/none.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "timestamping is required and no TSA answered (2 tried)"
expect_in "$T/out" "$down"
expect_in "$T/out" "http://127.0.0.1:9/tsr"
expect_absent "$T/none.exe"
expect_in "$LOG" '"decision":"failed"'
done_ok
