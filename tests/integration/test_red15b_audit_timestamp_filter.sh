#!/usr/bin/env bash
# red15 B (merge of restamp and hygiene): hygiene moved the --action and
# --decision words into one table (lib/audit/audit_query.c sg_audit_actions /
# sg_audit_decisions) that does not know restamp's "timestamp" and
# "timestamped": after the merge an auditor cannot list the timestamping
# records (`audit show --action timestamp` is a usage error, exit 2).
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"timestamp_retries\": 0, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
config_set_signing timestamp_urls "[\"$good\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe"
sg 0 audit show --config "$CFG" --action timestamp --json
expect_same "$(jq -r .decision "$T/out")" timestamped
sg 0 audit show --config "$CFG" --decision timestamped --json
expect_same "$(jq -r .action "$T/out")" timestamp
sg 0 audit show --help
expect_in "$T/out" "timestamp"
done_ok
