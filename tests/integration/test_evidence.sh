#!/usr/bin/env bash
# The audit log as evidence, from the reviewer's side: audit verify compares
# every seal with the chain, so records cut off the end, a chain rewritten
# from scratch, a seals file deleted or swapped for an older copy, and a
# seals file pinned to another certificate are each found and named; audit
# rotate starts a new file that chains on, and verify takes the files in
# order (and names a wrong order or a missing file). The sealing key here is
# the test's own, so this test stands apart from the example PKI.
. "$(dirname -- "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=signgate test audit seal" -keyout "$T/seal.key" -out "$T/seal.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=someone else" -keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null
chmod 600 "$T/seal.key" "$T/other.key"

new_env ", \"certificate\": \"$PKI/signer.pem\""
config_set audit_seal "{\"key\": \"$T/seal.key\", \"cert\": \"$T/seal.pem\"}"
SEALS=$LOG.seals
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
check() { sg 0 check --config "$CFG" "$INST/hello-setup.exe"; }
lines() { wc -l <"$1" | tr -d ' '; }

# No seal yet: valid, and the output says what that cannot show.
check
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "no seals yet"

# Sealed: 3 checks, then the seal of seq 3 and its record (seq 4).
check
check
sg 0 audit seal --config "$CFG"
expect_same "$(lines "$LOG")" 4
expect_same "$(audit_field 0 action)" seal
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "sealed   1 seals match the chain; the newest covers seq 3"
check
sg 0 audit verify --config "$CFG" --json
expect_same "$(jq -r '.seals_checked, .sealed_seq, .last_seq, .valid' "$T/out" | tr '\n' ' ')" \
	"1 3 5 true "

# Records cut off the end, back behind the seal: the seal names the loss.
cp "$LOG" "$T/log.bak"
head -n 2 "$T/log.bak" >"$LOG"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "the chain ends at seq 2, but seq 3 was sealed"
expect_in "$T/out" "records were cut off the end"
# Cut behind the seal's own record but not behind the seal: still valid.
head -n 4 "$T/log.bak" >"$LOG"
sg 0 audit verify --config "$CFG"

# A chain rewritten from scratch (every hash recomputed): the seal does not match.
/usr/bin/python3 "$SG_SRC/bench/audit_log.py" "$LOG" 6
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "line 3: the seal of seq 3"
expect_in "$T/out" "the record was rewritten after it was sealed"
cp "$T/log.bak" "$LOG"

# The seals file deleted, or swapped for an older copy: the seal records in
# the chain show that seals existed.
cp "$SEALS" "$T/seals.1"
sg 0 audit seal --config "$CFG"
mv "$SEALS" "$T/seals.2"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "line 4: this record says seq 3 was sealed, but the seals file holds no such seal"
cp "$T/seals.1" "$SEALS"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "says seq 5 was sealed, but the seals file holds no such seal"
cp "$T/seals.2" "$SEALS"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "sealed   2 seals match the chain; the newest covers seq 5"

# A reviewer handed the files: --seals and --seal-cert, no config.
sg 0 audit verify --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "sealed   2 seals"
sg 3 audit verify --log "$LOG" --seals "$SEALS" --seal-cert "$T/other.pem"
expect_in "$T/out" "$SEALS"
sg 2 audit verify --log "$LOG" --seals "$SEALS"
expect_in "$T/err" "give --seals FILE and --seal-cert FILE together"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" "no seals checked"

# Rotation: the old records move to an archive, the new file chains on.
records=$(lines "$LOG")
sg 0 audit rotate --config "$CFG"
expect_in "$T/out" "rotated  $LOG: records up to seq $records are now in $LOG.2"
archive=$(ls "$LOG".2*)
expect_same "$(lines "$archive")" "$records"
expect_same "$(lines "$LOG")" 1
expect_same "$(audit_field 1 action)" rotate
expect_same "$(audit_field 1 previous.file)" "${archive##*/}"
expect_same "$(audit_field 1 seq)" $((records + 1))
check
sg 0 audit seal --config "$CFG"
# The current file alone: valid; seals of the archive cannot be checked.
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "continues a rotated log"
expect_in "$T/out" "older seals cover files not given"
# Archive then current file: every seal checked.
sg 0 audit verify --config "$CFG" --log "$archive"
expect_in "$T/out" "valid    2 files"
expect_in "$T/out" "sealed   3 seals match the chain"
sg 0 audit verify --log "$archive" --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem" --json
expect_same "$(jq -r '.records, .first_seq, .seals_checked' "$T/out" | tr '\n' ' ')" \
	"$((records + 3)) 1 3 "
# Wrong order, or the archive alone (the newest seal lies beyond it).
sg 3 audit verify --log "$LOG" --log "$archive"
expect_in "$T/out" "files given out of order"
sg 3 audit verify --log "$archive" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "or newer files were not given"
# A new sealing certificate: rotate, then seal into a new seals file. The old
# seal records name the old certificate, so the new seals file need not hold
# them; the old files still verify against the old seals.
sg 0 audit rotate --config "$CFG"
archive2=$(ls "$LOG".2* | grep -vxF "$archive")
config_set audit_seal "{\"key\": \"$T/other.key\", \"cert\": \"$T/other.pem\", \"file\": \"$T/new.seals\"}"
sg 0 audit seal --config "$CFG"
sg 0 audit verify --config "$CFG" --log "$archive" --log "$archive2"
expect_in "$T/out" "sealed   1 seals match the chain"
sg 0 audit verify --log "$archive" --log "$archive2" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "sealed   3 seals match the chain"
# ...but an old seals file deleted is still found with the old certificate.
mv "$SEALS" "$T/seals.old"
sg 3 audit verify --log "$archive" --log "$archive2" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "the seals file holds no such seal"
# show, summary and repair read one file.
sg 2 audit show --log "$archive" --log "$LOG"
expect_in "$T/err" "only 'audit verify' takes more than one --log"
# A rotation of a missing log is an error, and creates nothing.
sg 1 audit rotate --log "$T/nope.jsonl"
expect_in "$T/err" "cannot rotate"
expect_absent "$T/nope.jsonl"

done_ok
