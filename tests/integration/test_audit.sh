#!/usr/bin/env bash
# audit verify detects an edited, deleted, reordered or duplicated record and
# names the first bad line; audit show prints the records.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
for i in 1 2 3 4 5; do
	sg 0 check --config "$CFG" "$INST/hello-setup.exe"
done
sg 3 check --config "$CFG" "$INST/other-setup.exe"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "6 records, chain intact"
sg 0 audit verify --log "$LOG" --json
expect_in "$T/out" '"valid":true'
expect_in "$T/out" '"records":6'

sg 0 audit show --config "$CFG"
expect_in "$T/out" "SEQ"
expect_in "$T/out" "check  approved hello-setup.exe"
expect_in "$T/out" "check  denied   other-setup.exe"
expect_in "$T/out" "hello-exe"
sg 0 audit show --config "$CFG" --json
expect_same "$(wc -l <"$T/out")" 6
cmp -s "$T/out" "$LOG" || fail "audit show --json differs from the log lines"
ok

good=$T/good.jsonl
cp "$LOG" "$good"
try() { # try NAME EXPECTED_LINE TEXT: the tampered copy in $T/t.jsonl
	sg 3 audit verify --log "$T/t.jsonl"
	expect_in "$T/out" "line $2"
	expect_in "$T/out" "$3"
}

# Edited: a denial turned into an approval in record 6 (the last).
sed '6s/"decision":"denied"/"decision":"approved"/' "$good" >"$T/t.jsonl"
try edited 6 "hash does not match"
# Edited in the middle: record 3's input name.
sed '3s/"name":"hello-setup.exe"/"name":"hello-setup2.exe"/' "$good" >"$T/t.jsonl"
try edited-middle 3 "hash does not match"
# Deleted: record 3 removed.
sed '3d' "$good" >"$T/t.jsonl"
try deleted 3 "seq is 4, expected 3"
# Reordered: records 2 and 3 swapped.
awk 'NR == 2 { held = $0; next } NR == 3 { print; print held; next } { print }' "$good" >"$T/t.jsonl"
try reordered 2 "seq is 3, expected 2"
# Duplicated: record 4 twice.
sed '4p' "$good" >"$T/t.jsonl"
try duplicated 5 "seq is 4, expected 5"
# The last line with its "hash" member moved out of sorted order: the content
# still hashes right, but the bytes are not what signgate wrote.
/usr/bin/python3 - "$good" "$T/t.jsonl" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
m = re.search(r',"hash":"[0-9a-f]{64}"', lines[-1])
lines[-1] = lines[-1][:m.start()] + lines[-1][m.end():-1] + m.group(0) + "}"
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
try moved-hash 6 "not in the canonical form"
# Torn: the last line cut.
head -c -20 "$good" >"$T/t.jsonl"
try torn 6 "torn"

# The real log was never touched by any of this.
cmp -s "$good" "$LOG" || fail "the log changed"
ok
# An append onto a torn log is refused: the decision does not count. The
# job's code is the log's (tampered, exit 3, as audit verify says), not an
# I/O error that a retry could mend.
head -c -20 "$good" >"$LOG"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "failed   $INST/hello-setup.exe: hello-setup.exe: the decision could not be recorded, so it does not count: $LOG: last line 6 is torn"
expect_in "$T/err" "1 input: 0 approved, 0 skipped, 0 denied, 1 failed"
# A missing log is an I/O error (exit 1), not tampering.
# A log that is not there is said to be missing (a usage error), not "invalid".
sg 2 audit verify --log "$T/nope.jsonl"
expect_in "$T/err" "$T/nope.jsonl: no such file or folder (given as --log)"
expect_not_in "$T/out" "invalid"

# Review: filters, CSV and the summary, on a log with signatures and denials.
new_env
rm -f "$LOG"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/r1.exe" "$INST/hello-setup.exe"
sg 3 check --config "$CFG" "$INST/other-setup.exe" "$INST/notes.txt"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
sg 0 audit show --config "$CFG" --decision denied --json
expect_same "$(wc -l <"$T/out")" 2
expect_in "$T/out" '"name":"other-setup.exe"'
expect_in "$T/out" '"name":"notes.txt"'
sg 0 audit show --config "$CFG" --approval hello-exe --action check --json
expect_same "$(wc -l <"$T/out")" 1
sg 0 audit show --config "$CFG" --sha256 "$(sha256 "$T/r1.exe" | cut -c1-10 | tr a-f A-F)" --json
expect_same "$(wc -l <"$T/out")" 1
expect_in "$T/out" '"decision":"signed"'
sg 0 audit show --config "$CFG" --thumbprint "$(echo "$thumb" | tr A-F a-f)" --json
expect_same "$(wc -l <"$T/out")" 1
sg 0 audit show --config "$CFG" --actor "$(id -un)" --since "$(date -u +%F)" --until "$(date -u +%F)" --json
expect_same "$(wc -l <"$T/out")" 4
sg 0 audit show --config "$CFG" --until 2000-01-01 --json
expect_same "$(wc -l <"$T/out")" 0
sg 0 audit show --config "$CFG" --csv --decision signed
expect_same "$(head -n 1 "$T/out" | tr -d '\r')" '"seq","time","action","decision","input.name","input.sha256","approval.id","approval.product","approval.version","actor.user","output.sha256","signature.signer.sha1_thumbprint","signgate_version","osslsigncode_version","why"'
expect_in "$T/out" "\"$thumb\""
expect_same "$(wc -l <"$T/out")" 2
sg 2 audit show --config "$CFG" --csv --json
sg 0 audit summary --config "$CFG"
expect_in "$T/out" "4 records, 2 denied, failed or invalid"
expect_in "$T/out" "Denials and failures:"
expect_in "$T/out" "other-setup.exe"
grep -A4 "^By decision:" "$T/out" | grep -q "denied *2" || fail "summary: 2 denials expected"
ok
# Every file signed with one certificate: what must be re-signed when it goes.
sg 0 audit summary --config "$CFG" --thumbprint "$thumb"
expect_in "$T/out" "1 record, 0 denied, failed or invalid"
expect_in "$T/out" "Files signed with certificate $thumb:"
expect_in "$T/out" "hello-setup.exe"

# No signature without its record: when the log cannot be written (here its
# path is a folder), signing fails with exit 1 and publishes nothing.
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
rm -f "$LOG"
mkdir -p "$LOG"
sg 1 sign --config "$CFG" --out "$T/unlogged.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "the decision could not be recorded, so it does not count"
expect_absent "$T/unlogged.exe"
ls -A "$T" | grep -c '^\.unlogged\.exe\.sg-' >"$T/stray" || true
expect_same "$(cat "$T/stray")" 0
rmdir "$LOG"

# A full disk: the log's folder on a 64 KiB tmpfs, filled up before the first
# record. Signing fails with exit 1, names the cause, publishes nothing, and
# the log holds no partial line. Needs mount(2): skipped where that is denied.
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
rm -rf "$T/env/audit"
mkdir "$T/env/audit"
if mount -t tmpfs -o size=64k,mode=0700 signgate-test "$T/env/audit" 2>/dev/null; then
	trap 'umount "$T/env/audit" 2>/dev/null || true; rm -rf -- "$T"' EXIT
	dd if=/dev/zero of="$T/env/audit/filler" bs=4k 2>/dev/null || true
	sg 1 sign --config "$CFG" --out "$T/full.exe" "$INST/hello-setup.exe"
	expect_in "$T/out" "No space left on device"
	expect_in "$T/out" "the decision could not be recorded, so it does not count"
	expect_absent "$T/full.exe"
	expect_same "$(stat -c %s "$LOG")" 0
	rm "$T/env/audit/filler"
	sg 0 sign --config "$CFG" --out "$T/full.exe" "$INST/hello-setup.exe"
	sg 0 audit verify --config "$CFG"
	expect_in "$T/out" "1 record, chain intact"
	umount "$T/env/audit"
	trap 'rm -rf -- "$T"' EXIT
else
	echo "mount(2) is not allowed here: the full-disk case is skipped"
fi

# A crash mid-append leaves a torn last line: verify says torn (exit 3), the
# next append is refused, `audit repair` sets the bytes aside and records it,
# and the log is whole again. A garbage line before the tail is not a crash.
new_env
rm -f "$LOG"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
printf '{"action":"check","seq":3,"tor' >>"$LOG"
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "torn"
sg 3 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "run \`signgate audit repair\` to set the torn bytes aside"
sg 0 audit repair --config "$CFG"
expect_in "$T/out" "repaired $LOG: 30 torn bytes"
q=$(ls "$LOG".torn-*)
expect_same "$(cat "$q")" '{"action":"check","seq":3,"tor'
expect_same "$(stat -c %a "$q")" 600
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "3 records, chain intact"
expect_same "$(audit_field 3 action)" repair
expect_same "$(audit_field 3 torn_bytes)" 30
expect_same "$(audit_field 3 torn_sha256)" "$(printf '%s' '{"action":"check","seq":3,"tor' | sha256sum | cut -d' ' -f1)"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit repair --config "$CFG"
expect_in "$T/out" "nothing to repair"
printf 'garbage\n{"torn' >>"$LOG"
sg 3 audit repair --config "$CFG"
expect_in "$T/err" "the line before the torn bytes is not a valid record"
expect_in "$T/err" "nothing was changed"
done_ok
