#!/usr/bin/env bash
# `signgate audit seal --if-needed`, the seal timer's command: on a fresh host
# nothing to seal; records not sealed yet are sealed; a head sealed already
# is not sealed again (exit 0, "already", nothing written, the key not even
# opened); an interrupted seal, a torn seal line and new records are sealed;
# runs at once seal once; a cut or rewritten log is still refused (exit 3).
# Without the flag, `audit seal` seals every time, as before.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
SEALS=$LOG.seals
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
install -m 0600 "$PKI/seal.pass" "$T/seal.pass"
config_set audit_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$T/seal.pass\"}"
line_sha() { sed -n "$1p" "$2" | tr -d '\n' | sha256sum | cut -d' ' -f1; }
state() { sha256sum "$LOG" "$SEALS" 2>/dev/null | cut -d' ' -f1 | tr '\n' ' '; }

# 1. A fresh host: no log yet. Nothing to seal, nothing written.
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "nothing  $LOG: nothing to seal yet (the log has no record); nothing was written"
expect_absent "$LOG"
expect_absent "$SEALS"

# 2. Two records, no seal: sealed (the seal record is seq 3).
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "sealed   $LOG: seq 3, head $(line_sha 3 "$LOG" | cut -c1-16)..., seal line 1 of $SEALS"
expect_same "$(wc -l <"$SEALS")" 1

# 3. Nothing since: "already", nothing written. The sealing key is not
# opened: its password file is gone, and the run still succeeds.
before=$(state)
mv "$T/seal.pass" "$T/seal.pass.away"
sg 0 audit seal --config "$CFG" --if-needed
expect_same "$(wc -l <"$T/out")" 1
expect_in "$T/out" "already  $LOG: seq 3, head $(line_sha 3 "$LOG" | cut -c1-16)..., is sealed by seal line 1 of $SEALS ("
expect_in "$T/out" "); no record since: nothing was written"
expect_same "$(state)" "$before"
expect_same "$(wc -l <"$LOG")" 3
sg 0 audit seal --config "$CFG" --if-needed --json
expect_same "$(jq -c '[.sealed, .already, .seq, .line, .head == "'"$(line_sha 3 "$LOG")"'", .file]' "$T/out")" \
	"[false,true,3,1,true,\"$SEALS\"]"
expect_same "$(state)" "$before"
# Without the flag it seals every time, as before: here it needs the key.
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$T/seal.pass: cannot open the secret file: No such file or directory"
expect_same "$(state)" "$before"
mv "$T/seal.pass.away" "$T/seal.pass"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "sealed   $LOG: seq 4,"
expect_same "$(wc -l <"$SEALS")" 2

# 4. A record since the seal: sealed again.
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "sealed   $LOG: seq 6, head $(line_sha 6 "$LOG" | cut -c1-16)..., seal line 3 of $SEALS"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "already  $LOG: seq 6,"

# 5. An interrupted seal (the seal record is there, its seal is not): the
# newest seal covers seq 4, the head is seq 6: sealed, which mends it.
head -n 2 "$SEALS" >"$T/seals" && cat "$T/seals" >"$SEALS"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "interrupted seal"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "sealed   $LOG: seq 7,"
sg 0 audit verify --config "$CFG"

# 6. A torn last seal line (a run killed inside its write): set aside, sealed.
printf '{"head":"torn' >>"$SEALS"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "repaired $SEALS: its last line was torn (an interrupted write): 13 bytes moved aside"
expect_in "$T/out" "sealed   $LOG: seq 8,"
sg 0 audit verify --config "$CFG"

# 7. Runs at once after one new record: one seal between them. Each looks
# before opening the key, and again under the seals file's lock.
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
n_before=$(wc -l <"$SEALS")
pids=()
for i in 1 2 3 4; do
	"$SG_BIN" audit seal --config "$CFG" --if-needed >"$T/par$i.out" 2>"$T/par$i.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel seal failed: $(cat "$T"/par*.err)"; done
expect_same "$(wc -l <"$SEALS")" $((n_before + 1))
expect_same "$(cat "$T"/par*.out | grep -c '^sealed   ')" 1
expect_same "$(cat "$T"/par*.out | grep -c '^already  ')" 3
expect_same "$(grep -c '"action":"seal"' "$LOG")" 6
sg 0 audit verify --config "$CFG"
expect_not_in "$T/out" "not sealed yet"

# 8. A log cut behind its newest seal, or rewritten at the sealed seq, is
# still refused: exit 3, nothing written.
cp "$LOG" "$T/log.bak"
head -n 5 "$T/log.bak" >"$LOG"
before=$(state)
sg 3 audit seal --config "$CFG" --if-needed
expect_in "$T/err" "records were cut off the log; nothing was sealed"
expect_same "$(state)" "$before"
sed '$ s/"decision":"sealed"/"decision":"sealeD"/' "$T/log.bak" >"$LOG"
sg 3 audit seal --config "$CFG" --if-needed
expect_not_in "$T/out" "already"
cp "$T/log.bak" "$LOG"
sg 0 audit seal --config "$CFG" --if-needed
expect_in "$T/out" "already  $LOG: seq 10,"

# The help names the flag.
sg 0 audit seal --help
expect_in "$T/out" "--if-needed     seal only when a record was appended since the newest seal"
done_ok
