#!/usr/bin/env bash
# red15 B: `signgate timestamp` checks "the output would replace the input"
# per input, while it runs (cmd_timestamp.c output_for() in run_inputs()),
# not for all inputs before the first (as `sign` does). With --force and
# --out-dir D, an earlier input's output replaces a later INPUT that lies in
# D under the same name; only then is that input refused (exit 2): a file
# named on the command line is gone, against "inputs are never modified".
# Expected: every output checked against every input (and two inputs with one
# output name refused) before anything runs, exit 2, nothing changed.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval other-exe other-setup.exe "$(sha256 "$INST/other-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/A" "$INST/hello-setup.exe"
mkdir -p "$T/D"
sg 0 sign --config "$CFG" --out "$T/D/hello-setup.exe" "$INST/other-setup.exe"
before=$(sha256 "$T/D/hello-setup.exe")
config_set_signing timestamp_urls "[\"$good\"]"
sg 2 timestamp --config "$CFG" --force --out-dir "$T/D" "$T/A/hello-setup.exe" "$T/D/hello-setup.exe"
expect_same "$(sha256 "$T/D/hello-setup.exe")" "$before"
expect_in "$T/err" "would replace the input $T/D/hello-setup.exe; an input is never modified"
# Two inputs with one output name: refused before anything runs.
mkdir -p "$T/B" "$T/E"
cp "$T/A/hello-setup.exe" "$T/B/hello-setup.exe"
lines=$(wc -l <"$LOG")
sg 2 timestamp --config "$CFG" --out-dir "$T/E" "$T/A/hello-setup.exe" "$T/B/hello-setup.exe"
expect_in "$T/err" "would both be written there (nothing was timestamped)"
expect_absent "$T/E/hello-setup.exe"
expect_same "$(wc -l <"$LOG")" "$lines"
done_ok
