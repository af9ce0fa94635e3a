#!/usr/bin/env bash
# RFC 3161 timestamps from a TSA on 127.0.0.1: the first TSA that answers is
# used; a timestamped file verifies with the enterprise root alone (the
# example TSA is issued by it); all down fails the signing and says so; an
# untrusted TSA fails verify.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"

new_env ", \"timestamp_urls\": [\"$down\", \"$good\"], \"timestamp_timeout\": 30"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/out" ", timestamp $(date -u +%Y-%m-%d)T"
expect_same "$(audit_field 1 signature.tsa_url)" "$good"
expect_in "$LOG" "\"tsa_failures\":\"$down: no usable reply from the TSA: "
ts=$(audit_field 1 signature.timestamp)
[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "timestamp '$ts'"
ok
sg 0 verify --config "$CFG" --json "$T/o/hello-setup.exe" "$T/o/hello-1.0.msi"
expect_in "$T/out" "\"timestamp\":\"$ts\""
# The issue's contract: the enterprise root alone verifies a timestamped file.
sg 0 verify --ca "$PKI/root.pem" --json "$T/o/hello-setup.exe" "$T/o/hello-1.0.msi"
expect_in "$T/out" "\"timestamp\":\"$ts\""
for f in hello-1.0.msi hello-setup.exe; do
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" \
		-in "$T/o/$f" >"$T/ov" 2>&1 || fail "osslsigncode verify of $f failed"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
done

# OpenSSL's own TS verification of a reply from the TSA, root.pem the only
# trust anchor: the reply carries the TSA certificate and its issuer.
echo "timestamp me" >"$T/data"
openssl ts -query -data "$T/data" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
/usr/bin/python3 - "$good" "$T/q.tsq" "$T/r.tsr" <<'PY' || fail "the TSA gave no reply"
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read(),
                             headers={"Content-Type": "application/timestamp-query"})
with urllib.request.urlopen(req, timeout=30) as r:
    open(sys.argv[3], "wb").write(r.read())
PY
ok
openssl ts -verify -in "$T/r.tsr" -data "$T/data" -CAfile "$PKI/root.pem" >"$T/ov" 2>&1 ||
	fail "openssl ts -verify against root.pem failed: $(cat "$T/ov")"
ok
openssl ts -reply -in "$T/r.tsr" -token_out -out "$T/tok.der" 2>/dev/null
openssl pkcs7 -inform DER -in "$T/tok.der" -print_certs -noout >"$T/ov"
expect_in "$T/ov" "CN = Example Corp Timestamping Authority"
expect_in "$T/ov" "CN = Example Corp Internal Root CA"

# Untrusted TSA: timestamps trusted only from another CA (the vendor's
# self-signed certificate). osslsigncode still exits 0 here; signgate does not.
osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$FIX/vendor/vendor.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" \
	-in "$T/o/hello-setup.exe" >"$T/ov" 2>&1 && ossl_rc=0 || ossl_rc=$?
expect_in "$T/ov" "Timestamp Server Signature verification: failed"
expect_same "$ossl_rc" 0
sg 3 verify --ca "$PKI/root.pem" --tsa-ca "$FIX/vendor/vendor.pem" "$T/o/hello-setup.exe"
expect_in_i "$T/out" "timestamp"

# Every TSA down: signing fails, names each TSA, leaves no output.
new_env ", \"timestamp_urls\": [\"$down\", \"http://127.0.0.1:9/tsr\"], \"timestamp_timeout\": 20"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 1 sign --config "$CFG" --out "$T/none.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "timestamping is required and no TSA answered (2 tried)"
expect_in "$T/out" "$down"
expect_in "$T/out" "http://127.0.0.1:9/tsr"
expect_absent "$T/none.exe"
expect_in "$LOG" '"decision":"failed"'

# "timestamp": "optional": with every TSA down the file is signed without a
# timestamp, and the record says which TSAs failed.
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 20"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/optional.exe" "$INST/hello-setup.exe"
expect_in "$T/out" ", no timestamp)"
expect_in "$LOG" "\"tsa_failures\":\"$down: no usable reply from the TSA: "
sg 0 verify --config "$CFG" "$T/optional.exe"
expect_in "$T/out" "no timestamp"
new_env ", \"timestamp\": \"required\""
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "\"signing.timestamp\" is \"required\" but \"signing.timestamp_urls\" names no TSA"
new_env ", \"timestamp_urls\": [\"$good\"], \"timestamp\": \"sometimes\""
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "\"signing.timestamp\" must be \"required\" or \"optional\""
done_ok
