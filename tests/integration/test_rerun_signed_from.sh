#!/usr/bin/env bash
# red15 B11: the "already signed" (skipped) record names the signing record of
# the output's exact bytes it relied on (`signed_from`: record id, seq, time,
# input SHA-256), as README "On a build server" says; before: no signed_from.
. "$(dirname -- "$0")/lib.sh"

new_env
exe_sha=$(sha256 "$INST/hello-setup.exe")
approval hello-exe hello-setup.exe "$exe_sha"
sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
n=$(wc -l <"$LOG")
expect_same "$(audit_field "$n" decision)" signed
signed_seq=$(audit_field "$n" seq)
signed_id=$(audit_field "$n" id)
signed_time=$(audit_field "$n" time)
sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
expect_in "$T/out" "already signed"
m=$(wc -l <"$LOG")
expect_same "$m" $((n + 1))
expect_same "$(audit_field "$m" decision)" skipped
expect_same "$(audit_field "$m" signed_from.record)" "$signed_id"
expect_same "$(audit_field "$m" signed_from.seq)" "$signed_seq"
expect_same "$(audit_field "$m" signed_from.time)" "$signed_time"
expect_same "$(audit_field "$m" signed_from.input_sha256)" "$exe_sha"
sg 0 audit verify --config "$CFG"
done_ok
