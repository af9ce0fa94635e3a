#!/usr/bin/env bash
# red15 B: a `signgate timestamp` re-run takes an existing output that another
# account owns and anyone may write (0666, owner nobody) as "this input
# timestamped already" (exit 0, skipped, its digests recorded). `sign` refuses
# the same ("owned by another account", strict rule in copy_output()). Worse,
# is_this_stamped() hashes the file through one descriptor but verifies it
# again BY PATH (sg_verify_file(path)), so a writer can change it in between.
# Expected: the strict rule, and every check on one private copy, as sign does.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
config_set_signing timestamp_urls "[\"$good\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe"
chmod 0666 "$T/ts/hello-setup.exe"
chown nobody "$T/ts/hello-setup.exe"
sg 1 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe"
expect_in "$T/out" "exists already"
done_ok
