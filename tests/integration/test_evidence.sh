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

# Sealed: 3 checks, then the seal record (seq 4), which the seal covers.
check
check
sg 0 audit seal --config "$CFG"
expect_same "$(lines "$LOG")" 4
expect_same "$(audit_field 0 action)" seal
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "sealed   1 seal matches the chain; the newest covers seq 4"
expect_not_in "$T/out" "not sealed yet"
check
sg 0 audit verify --config "$CFG" --json
expect_same "$(jq -r '.seals_checked, .sealed_seq, .last_seq, .valid' "$T/out" | tr '\n' ' ')" \
	"1 4 5 true "

# Records cut off the end, back behind the seal: the seal names the loss.
cp "$LOG" "$T/log.bak"
head -n 2 "$T/log.bak" >"$LOG"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "the chain ends at seq 2, but seq 4 was sealed"
expect_in "$T/out" "records were cut off the end"
# Cut back to the head the seal before it covered (seq 3), dropping the seal's
# own record and everything after: found, since the seal covers its record.
head -n 3 "$T/log.bak" >"$LOG"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "the chain ends at seq 3, but seq 4 was sealed"
# Cut to the sealed record itself: only unsealed records are gone (a seal
# covers what it covers; seal often).
head -n 4 "$T/log.bak" >"$LOG"
sg 0 audit verify --config "$CFG"

# A chain rewritten from scratch (every hash recomputed): the seal does not match.
/usr/bin/python3 "$SG_SRC/bench/audit_log.py" "$LOG" 6
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "line 4: the seal of seq 4"
expect_in "$T/out" "the record was rewritten after it was sealed"
cp "$T/log.bak" "$LOG"

# The seals file deleted: a sealing run creates it before its record, so a
# seal record without a seals file is no crash.
cp "$SEALS" "$T/seals.1"
sg 0 audit seal --config "$CFG"
mv "$SEALS" "$T/seals.2"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "line 4: this record says a seal was made, but the seals file does not exist: it was deleted"
# Swapped for an older copy: the newest seal record lacks its seal. Locally
# that is what a crash between record and seal leaves, and is reported so.
cp "$T/seals.1" "$SEALS"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "line 6: interrupted seal: seal record seq 6 has no seal (1 such record after the newest seal)"
expect_in "$T/out" "run \`signgate audit seal\` again"
expect_in "$T/out" "audit verify --against"
expect_not_in "$T/out" "tamper"
# The off-host copy of the seals (syslog lines as a SIEM keeps them) tells
# the two apart: it holds the seal the local file lost.
sed 's/^/Dec  3 10:00:00 buildhost signgate[4242]: audit-seal /' "$T/seals.2" >"$T/siem.txt"
sg 3 audit verify --config "$CFG" --against "$T/siem.txt"
expect_in "$T/out" "seq 6 was sealed on"
expect_in "$T/out" "(off-host copy line 2), but the seals file lacks that seal: seals were deleted from it"
cp "$T/seals.2" "$SEALS"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "sealed   2 seals match the chain; the newest covers seq 6"
sg 0 audit verify --config "$CFG" --against "$T/siem.txt"
expect_in "$T/out" "against  2 seals of the off-host copy $T/siem.txt agree with the seals file and the chain"

# A crash between the seal record and its seal (signgate killed as it writes
# the seal line): an interrupted seal, not tampering; `audit seal` mends it.
if strace -f -qq -o /dev/null true 2>/dev/null; then
	rc=0
	# strace kills signgate at its first write() to the seals file: the seal line.
	{ strace -f -qq -o /dev/null -P "$SEALS" -e trace=write -e inject=write:signal=KILL \
		"$SG_BIN" audit seal --config "$CFG" >"$T/out" 2>"$T/err"; } 2>/dev/null || rc=$?
	expect_same "$rc" 137
	expect_same "$(audit_field 0 action)" seal
	expect_same "$(lines "$SEALS")" 2
	crashed=$(lines "$LOG")
	sg 3 audit verify --config "$CFG"
	expect_in "$T/out" "interrupted $LOG: line $crashed: interrupted seal: seal record seq $crashed has no seal"
	expect_not_in "$T/out" "invalid"
	expect_not_in "$T/out" "tamper"
	sg 3 audit verify --config "$CFG" --json
	expect_same "$(jq -c '[.valid, .interrupted, .interrupted_seals, .bad_line]' "$T/out")" \
		"[false,true,1,$crashed]"
	expect_in "$T/out" "the sealing run stopped before writing it"
	sg 0 audit seal --config "$CFG"
	sg 0 audit verify --config "$CFG"
	expect_in "$T/out" "sealed   3 seals match the chain; the newest covers seq $((crashed + 1))"
	expect_in "$T/out" "note     seal record seq $crashed has no seal of its own (1 such record: a sealing run stopped before writing it); the seal of seq $((crashed + 1)) covers it"
	sg 0 audit verify --config "$CFG" --json
	expect_same "$(jq -r '.interrupted_seals, .unsealed_seal_records' "$T/out" | tr '\n' ' ')" "0 1 "
	# A sealing run that completes while verify is between loading the seals
	# and reading the log (held there 3 s by strace) is no interrupted seal.
	rc=0
	# (LeakSanitizer cannot run under ptrace: a sanitizer build turns it off here.)
	{ ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o /dev/null -P "$LOG" -e trace=openat -e inject=openat:delay_enter=3000000:when=1 \
		"$SG_BIN" audit verify --config "$CFG" >"$T/race.out" 2>&1; } 2>/dev/null &
	racer=$!
	sleep 1
	sg 0 audit seal --config "$CFG"
	wait "$racer" || rc=$?
	expect_same "$rc" 0
	expect_in "$T/race.out" "sealed   $(lines "$SEALS") seals match the chain"
else
	echo "strace cannot trace here: the crash and race cases are not run"
fi

# The log and its seals file cut back together, consistently: no local check
# can tell. The seals forwarded off the host can.
cp "$LOG" "$T/log.full"
cp "$SEALS" "$T/seals.full"
sed 's/^/<133>Dec  3 10:00:00 signgate[1]: audit-seal /' "$T/seals.full" >"$T/siem.txt"
printf 'Dec  3 10:00:01 host other[2]: not a seal {"a":1}\n' >>"$T/siem.txt"
head -n 4 "$T/log.full" >"$LOG"
head -n 1 "$T/seals.full" >"$SEALS"
sg 0 audit verify --config "$CFG"
sg 3 audit verify --config "$CFG" --against "$T/siem.txt"
expect_in "$T/out" "the chain ends at seq 4, but seq"
expect_in "$T/out" "(off-host copy line $(lines "$T/seals.full")): records were cut off the end of the log, and the seals file was cut back with it"
# A forged seal injected into syslog by a local user (anyone can write to it)
# is ignored and counted, never trusted.
cp "$T/log.full" "$LOG"
cp "$T/seals.full" "$SEALS"
sed -n 1p "$T/seals.full" | sed 's/"seq":4/"seq":9999/; s/^/Dec  3 10:00:02 host signgate[3]: audit-seal /' >>"$T/siem.txt"
sg 0 audit verify --config "$CFG" --against "$T/siem.txt"
expect_in "$T/out" "note     1 line of $T/siem.txt looks like seals but does not verify: ignored"
printf 'nothing here\n' >"$T/empty-siem.txt"
sg 2 audit verify --config "$CFG" --against "$T/empty-siem.txt"
expect_in "$T/err" "holds no seal of audit.jsonl made with $T/seal.pem"
sg 2 audit verify --log "$LOG" --against "$T/siem.txt"
expect_in "$T/err" "--against needs the sealing certificate"

# A reviewer handed the files: --seals and --seal-cert, no config.
sg 0 audit verify --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "sealed   $(lines "$SEALS") seals"
sg 3 audit verify --log "$LOG" --seals "$SEALS" --seal-cert "$T/other.pem"
expect_in "$T/out" "$SEALS"
sg 2 audit verify --log "$LOG" --seals "$SEALS"
expect_in "$T/err" "give --seals FILE and --seal-cert FILE together"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" "no seals checked"

# Rotation: the old records move to an archive, the new file chains on.
records=$(lines "$LOG")
sealed=$(lines "$SEALS")
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
# The current file alone: the archive's seals cannot be checked, so it fails
# unless a partial check is asked for, which says what it did not check.
first_seq=$(head -n 1 "$SEALS" | jq -r .seq)
last_old=$(sed -n "${sealed}p" "$SEALS" | jq -r .seq)
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "it starts at seq $((records + 1)) with a rotate record, and $sealed seals (seals lines 1-$sealed, seq $first_seq-$last_old) cover records before it"
expect_in "$T/out" "give them first with --log (oldest first), or ask for --partial"
sg 0 audit verify --config "$CFG" --partial
expect_in "$T/out" "continues a rotated log"
expect_in "$T/out" "sealed   1 seal matches the chain; the newest covers seq $((records + 3))"
expect_in "$T/out" "partial  $sealed seals NOT checked (seals lines 1-$sealed, seq $first_seq-$last_old): they cover records before seq $((records + 1)), in archives not given"
sg 0 audit verify --config "$CFG" --partial --json
expect_same "$(jq -c '[.partial, .seals_before, .seals_before_lines, .seals_before_seqs]' "$T/out")" \
	"[true,$sealed,[1,$sealed],[$first_seq,$last_old]]"
# Archive then current file: every seal checked.
sg 0 audit verify --config "$CFG" --log "$archive"
expect_in "$T/out" "valid    2 files"
expect_in "$T/out" "sealed   $((sealed + 1)) seals match the chain"
expect_not_in "$T/out" "partial"
sg 0 audit verify --log "$archive" --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem" --json
expect_same "$(jq -r '.records, .first_seq, .seals_checked' "$T/out" | tr '\n' ' ')" \
	"$((records + 3)) 1 $((sealed + 1)) "

# A forged log: a fake rotate record that copies the newest sealed head out
# of the seals file as its prev, and a few records, with the genuine seals.
forge() { # forge OUT FIRST_SEQ PREV ARCHIVE_NAME
	/usr/bin/python3 - "$@" <<'PY'
import hashlib, json, sys, uuid
out, seq, prev, archive = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
dump = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
with open(out, "w") as f:
    for i in range(4):
        rec = {"action": "check", "decision": "approved", "reasons": [], "status": "ok"}
        if i == 0:
            rec = {"action": "rotate", "decision": "rotated",
                   "previous": {"file": archive, "last_seq": seq - 1, "head": prev}}
        rec.update({"actor": {"host": "h", "uid": 0, "user": "root"}, "id": str(uuid.uuid4()),
                    "prev": prev, "seq": seq + i, "time": "2026-12-01T00:00:00Z"})
        rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
        line = dump(rec)
        f.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
PY
}
newest_seq=$(tail -n 1 "$SEALS" | jq -r .seq)
newest_head=$(tail -n 1 "$SEALS" | jq -r .head)
forge "$T/forged.jsonl" $((newest_seq + 1)) "$newest_head" "${archive##*/}"
sg 3 audit verify --log "$T/forged.jsonl" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "it starts at seq $((newest_seq + 1)) with a rotate record, and $((sealed + 1)) seals"
expect_in "$T/out" "cannot be checked without the archives it continues"
sg 3 audit verify --log "$T/forged.jsonl" --seals "$SEALS" --seal-cert "$T/seal.pem" --partial
expect_in "$T/out" "no seal falls within the files given: all $((sealed + 1)) seals (seals lines 1-$((sealed + 1)), seq $first_seq-$newest_seq) cover records before their first, seq $((newest_seq + 1)), and none was checked"
# Given after the genuine files, the fake rotate record does not describe them.
forge "$T/forged.jsonl" $((records + 4)) "$(sed -n 3p "$LOG" | tr -d '\n' | sha256sum | cut -d' ' -f1)" "${archive##*/}"
sg 3 audit verify --log "$archive" --log "$LOG" --log "$T/forged.jsonl"
expect_in "$T/out" "this rotate record continues the archive ${archive##*/}, but the file given before it is ${LOG##*/}"
forge "$T/forged.jsonl" $((records + 4)) "$(sed -n 3p "$LOG" | tr -d '\n' | sha256sum | cut -d' ' -f1)" "${LOG##*/}"
sg 0 audit verify --log "$archive" --log "$LOG" --log "$T/forged.jsonl"
/usr/bin/python3 - "$T/forged.jsonl" <<'PY'
import hashlib, json, sys
p = sys.argv[1]
lines = open(p).read().splitlines()
rec = json.loads(lines[0])
rec["previous"]["last_seq"] -= 1
del rec["hash"]
dump = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
open(p, "w").write(dump(rec) + "\n")
PY
sg 3 audit verify --log "$archive" --log "$LOG" --log "$T/forged.jsonl"
expect_in "$T/out" "this rotate record says the log before it ended at seq $((records + 2))"
expect_in "$T/out" "but the chain before it ends at seq $((records + 3))"

# A record after seq 2^63-1 (the largest a record may carry): no next seq
# exists, so it is named as such (computing "expected" overflowed, UBSan).
/usr/bin/python3 - "$T/max.jsonl" <<'PY'
import hashlib, json, sys, uuid
dump = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
prev = "0" * 64
with open(sys.argv[1], "w") as f:
    for seq in (2**63 - 1, 1):
        rec = {"action": "rotate", "decision": "rotated", "seq": seq, "prev": prev,
               "actor": {"host": "h", "uid": 0, "user": "root"}, "id": str(uuid.uuid4()),
               "time": "2026-12-01T00:00:00Z"}
        rec["hash"] = hashlib.sha256(dump(rec).encode()).hexdigest()
        f.write(dump(rec) + "\n")
        prev = hashlib.sha256(dump(rec).encode()).hexdigest()
PY
sg 3 audit verify --log "$T/max.jsonl"
expect_in "$T/out" "$T/max.jsonl: line 2: a record follows seq 9223372036854775807, the largest seq a record can have"

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
sg 0 audit verify --config "$CFG" --log "$archive" --log "$archive2"
expect_in "$T/out" "no seals yet"
sg 0 audit seal --config "$CFG"
sg 0 audit verify --config "$CFG" --log "$archive" --log "$archive2"
expect_in "$T/out" "sealed   1 seal matches the chain"
sg 0 audit verify --log "$archive" --log "$archive2" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "sealed   $((sealed + 1)) seals match the chain"
# ...but an old seals file deleted is still found with the old certificate.
mv "$SEALS" "$T/seals.old"
sg 3 audit verify --log "$archive" --log "$archive2" --seals "$SEALS" --seal-cert "$T/seal.pem"
expect_in "$T/out" "the seals file does not exist: it was deleted"
# show, summary and repair read one file.
sg 2 audit show --log "$archive" --log "$LOG"
expect_in "$T/err" "only 'audit verify' takes more than one --log"
sg 2 audit show --log "$LOG" --partial
expect_in "$T/err" "go with 'audit verify'"
# A rotation of a missing log is an error, and creates nothing.
sg 2 audit rotate --log "$T/nope.jsonl"
expect_in "$T/err" "$T/nope.jsonl: no such file or folder (given as --log)"
expect_absent "$T/nope.jsonl"

done_ok
