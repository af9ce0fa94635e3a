#!/usr/bin/env bash
# red16 A: the HTML report states the seals as the JSON verdict has them:
# a log sealed up to its last record is shown as sealed (seq and time), not
# as "NOT checked"; a seals file that does not exist is not shown as sealed.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
seal_config
sg 0 audit report --config "$CFG"
expect_not_in "$T/out" "Sealed up to record seq"
sg 0 audit seal --config "$CFG"
sg 0 audit report --config "$CFG" --json
cp "$T/out" "$T/r.json"
expect_same "$(jq -c '.verdict.seals | [.checked, .sealed_seq, .unsealed_records]' "$T/r.json")" '[1,2,0]'
sg 0 audit report --config "$CFG"
expect_not_in "$T/out" "Seals are configured but were NOT checked"
expect_in "$T/out" "Sealed up to record seq 2 at"
expect_in "$T/out" "Every record is sealed."
done_ok
