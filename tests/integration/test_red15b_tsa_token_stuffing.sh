#!/usr/bin/env bash
# red15 B: a man in the middle of the TSA exchange (plain HTTP, or https,
# whose server certificate signgate does not check) adds ~4 KiB of his own
# bytes to the genuine token: an unsigned attribute (here under the nested-
# signature OID 1.3.6.1.4.1.311.2.4.1) in the TSA's SignerInfo, which the TSA's
# signature does not cover. sg_timestamp_add() checks status, imprint, nonce and
# certificate; same_signature() checks only OUR SignerInfo; so `sign` and
# `signgate timestamp` publish files signed with our key that carry the
# attacker's bytes, verify them as valid and record their digests as ours
# (installers that read a "tag" from their own signature act on such bytes).
# Expected: a token whose SignerInfo has unsigned attributes (or more than the
# TSA's chain as certificates, or CRLs) is refused as "not a token for this
# request", and the next TSA is asked.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
/usr/bin/python3 "$(dirname -- "$0")/red15b_mitm_tsa.py" "$good" "$T/mitm.port" unsigned 2>"$T/mitm.log" &
MITM_PID=$!
trap 'kill $MITM_PID 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/mitm.port" ] && break; sleep 0.1; done
[ -s "$T/mitm.port" ] || fail "the MITM TSA did not start"
mitm="http://127.0.0.1:$(cat "$T/mitm.port")/tsr"

new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"timestamp_retries\": 0, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
config_set_signing timestamp_urls "[\"$mitm\"]"
config_set_signing timestamp '"required"'
# sign: no token that carries foreign bytes; "required" then fails, nothing written.
sg 1 sign --config "$CFG" --out-dir "$T/direct" "$INST/hello-setup.exe"
expect_in "$T/out" "the TSA's token has unsigned attributes or more than one signer"
expect_absent "$T/direct/hello-setup.exe"
# timestamp: the same.
sg 1 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe"
expect_in "$T/out" "the TSA's token has unsigned attributes or more than one signer"
expect_absent "$T/ts/hello-setup.exe"
done_ok
