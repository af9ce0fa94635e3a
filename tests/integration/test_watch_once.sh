#!/usr/bin/env bash
# signgate watch --once: the inbox convention (NAME.part and dot-files are
# not taken; a file renamed in is), signing into the outbox, rejection with
# NAME.reason naming the audit record, and files that are refused unread
# (symbolic link, hard link, FIFO, folder), each with its record.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
S=$T/state
mkdir -m 0700 "$S"
mkdir -m 0770 "$S/inbox"
mkdir -m 0755 "$S/outbox"
IN=$S/inbox OUT=$S/outbox REJ=$S/rejected

# Usage and configuration errors: 2, nothing claimed.
sg 2 watch --config "$CFG" "$IN"
expect_in "$T/err" "give INBOX and OUTBOX"
cp "$INST/hello-setup.exe" "$IN/hello-setup.exe"
sg 2 watch --config "$T/missing.json" --once "$IN" "$OUT"
[ -e "$IN/hello-setup.exe" ] || fail "a config error claimed the file"
ok
sg 2 watch --config "$CFG" --once "$IN" "$T/no-such-outbox"
expect_in "$T/err" "outbox"
[ -e "$IN/hello-setup.exe" ] || fail "a missing outbox claimed the file"
ok
chmod 0777 "$IN"
sg 2 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/err" "others may write this folder and it has no sticky bit"
chmod 0770 "$IN"
rm "$IN/hello-setup.exe"

# In progress (.part), hidden (.x): never taken, left as they are.
cp "$INST/hello-setup.exe" "$IN/hello-setup.exe.part"
cp "$INST/hello-setup.exe" "$IN/.hidden.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
[ -e "$IN/hello-setup.exe.part" ] && [ -e "$IN/.hidden.exe" ] || fail "a .part or dot-file was taken"
ok
expect_absent "$OUT/hello-setup.exe"
[ ! -s "$LOG" ] || fail "a record was written for files not complete"
ok

# Renamed in: signed into the outbox, the inbox and the work folder emptied.
mv "$IN/hello-setup.exe.part" "$IN/hello-setup.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/out" "signed   hello-setup.exe -> $OUT/hello-setup.exe (dropped by uid $(id -u)"
expect_absent "$IN/hello-setup.exe"
[ -z "$(ls -A "$S/work")" ] || fail "the work folder is not empty: $(ls -A "$S/work")"
ok
expect_same "$(audit_field 0 decision)" "signed"
expect_same "$(audit_field 0 input.name)" "hello-setup.exe"
case "$(audit_field 0 input.path)" in
"$S/work/claim."*".u$(id -u)/hello-setup.exe") ok ;;
*) fail "the record's input path does not name the claim and the dropper: $(audit_field 0 input.path)" ;;
esac
expect_same "$(audit_field 0 output.sha256)" "$(sha256 "$OUT/hello-setup.exe")"
sg 0 verify --config "$CFG" "$OUT/hello-setup.exe"

# Not approved: rejected, with its reason naming the record.
cp "$INST/other-setup.exe" "$IN/.other.tmp"
mv "$IN/.other.tmp" "$IN/other-setup.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_absent "$OUT/other-setup.exe"
cmp -s "$REJ/other-setup.exe" "$INST/other-setup.exe" || fail "the rejected file is not the file dropped"
ok
id=$(audit_field 0 id)
expect_same "$(audit_field 0 decision)" "denied"
expect_in "$REJ/other-setup.exe.reason" "audit record: $id"
expect_in "$REJ/other-setup.exe.reason" "decision: denied"
expect_in "$REJ/other-setup.exe.reason" "dropped by: uid $(id -u)"
expect_in "$REJ/other-setup.exe.reason" "reason: "
expect_in "$T/out" "rejected other-setup.exe -> $REJ/other-setup.exe: denied:"
expect_in "$T/out" "audit record $id"

# The same name again: the first rejection stays, the second is NAME.1.
cp "$INST/other-setup.exe" "$IN/other-setup.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
[ -e "$REJ/other-setup.exe.1" ] && [ -e "$REJ/other-setup.exe.1.reason" ] || fail "second rejection not NAME.1"
ok
expect_in "$REJ/other-setup.exe.1.reason" "audit record: $(audit_field 0 id)"

# Refused unread: a symbolic link (to an approved file), a hard link, a FIFO, a folder.
records=$(wc -l <"$LOG")
ln -s "$INST/hello-setup.exe" "$IN/link.exe"
cp "$INST/hello-setup.exe" "$T/hl.exe"
ln "$T/hl.exe" "$IN/hard.exe"
mkfifo "$IN/fifo.exe"
mkdir "$IN/folder.exe"
timeout 60 "$SG_BIN" watch --config "$CFG" --once "$IN" "$OUT" >"$T/out" 2>"$T/err" || fail "watch exited $?"
ok
for n in link.exe hard.exe fifo.exe folder.exe; do
	expect_absent "$OUT/$n"
	[ -e "$REJ/$n" ] || [ -L "$REJ/$n" ] || fail "$n not in the rejected folder"
	ok
	expect_in "$REJ/$n.reason" "refused unread by signgate watch"
done
expect_in "$REJ/link.exe.reason" "a symbolic link, not a regular file"
[ -L "$REJ/link.exe" ] || fail "the link was not moved as a link"
ok
expect_in "$REJ/hard.exe.reason" "the file has 2 hard links"
expect_in "$REJ/fifo.exe.reason" "a FIFO, not a regular file"
expect_in "$REJ/folder.exe.reason" "a folder, not a regular file"
expect_same "$(wc -l <"$LOG")" "$((records + 4))"
expect_same "$(audit_field 0 decision)" "failed"
expect_same "$(audit_field 0 status)" "format"
expect_in "$LOG" '"reasons":["folder.exe: refused unread by signgate watch: a folder, not a regular file"]'
expect_in "$LOG" '"reasons":["link.exe: refused unread by signgate watch: a symbolic link, not a regular file"]' 
sg 0 audit verify --log "$LOG"

# A second watcher while one holds the inbox: refused, nothing claimed.
cp "$INST/hello-setup.exe" "$IN/again.exe"
exec 9<"$S/work"
flock -x 9
sg 1 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/err" "another signgate watch holds this inbox"
[ -e "$IN/again.exe" ] || fail "a refused watcher claimed a file"
ok
exec 9<&-
done_ok
