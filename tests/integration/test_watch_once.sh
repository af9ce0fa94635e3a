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
mkdir -m 0750 "$S/inbox"
mkdir -m 0755 "$S/outbox"
IN=$S/inbox OUT=$S/outbox REJ=$S/rejected

# Usage and configuration errors: 2, nothing claimed.
sg 2 watch --config "$CFG" "$IN"
expect_in "$T/err" "give INBOX and OUTBOX"
cp "$INST/hello-setup.exe" "$IN/hello-setup.exe"
sg 2 watch --config "$T/missing.json" --once "$IN" "$OUT"
[ -e "$IN/hello-setup.exe" ] || fail "a config error claimed the file"
ok
# $SIGNGATE_CONFIG stands for --config; a missing key file is found before anything is claimed.
SIGNGATE_CONFIG= sg 2 watch --once "$IN" "$OUT"
expect_in "$T/err" "SIGNGATE_CONFIG"
sed "s|$PKI/signer.p12|$T/missing.p12|" "$CFG" >"$T/env/nokey.json"
SIGNGATE_CONFIG=$T/env/nokey.json sg 2 watch --once "$IN" "$OUT"
expect_in "$T/err" "$T/missing.p12"
[ -e "$IN/hello-setup.exe" ] || fail "a missing key file claimed the file"
ok
sg 2 watch --config "$CFG" --once "$IN" "$T/no-such-outbox"
expect_in "$T/err" "outbox"
[ -e "$IN/hello-setup.exe" ] || fail "a missing outbox claimed the file"
ok
chmod 0777 "$IN"
sg 2 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/err" "others may write this folder and it has no sticky bit"
# Group-writable without the sticky bit: one member could swap another's file.
chmod 0770 "$IN"
sg 2 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/err" "inbox $IN: group members may write this folder and it has no sticky bit (mode 0770)"
[ -e "$IN/hello-setup.exe" ] || fail "a group inbox without sticky bit claimed the file"
ok
chmod 0750 "$IN"
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
expect_in "$T/out" "signed   hello-setup.exe -> $OUT/hello-setup.exe (owner uid $(id -u)"
expect_absent "$IN/hello-setup.exe"
[ -z "$(ls -A "$S/work")" ] || fail "the work folder is not empty: $(ls -A "$S/work")"
ok
expect_same "$(audit_field 0 decision)" "signed"
# The osslsigncode checked at the run's start is named in its records.
expect_same "$(audit_field 0 osslsigncode_version)" \
	"$(/usr/bin/osslsigncode --version 2>/dev/null | sed -n '1s/^osslsigncode \([0-9.]*\),.*/\1/p')"
expect_same "$(audit_field 0 input.name)" "hello-setup.exe"
case "$(audit_field 0 input.path)" in
"$S/work/claim."*".u$(id -u)/hello-setup.exe") ok ;;
*) fail "the record's input path does not name the claim and the dropper: $(audit_field 0 input.path)" ;;
esac
expect_same "$(audit_field 0 output.sha256)" "$(sha256 "$OUT/hello-setup.exe")"
sg 0 verify --config "$CFG" "$OUT/hello-setup.exe"

# Already ours (a signed output dropped again): the pipeline skips it, so no
# output; it comes back through the rejected folder with that reason.
cp "$OUT/hello-setup.exe" "$IN/resigned.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_absent "$OUT/resigned.exe"
expect_same "$(audit_field 0 decision)" "skipped"
cmp -s "$REJ/resigned.exe" "$OUT/hello-setup.exe" || fail "the skipped file is not returned as dropped"
ok
expect_in "$REJ/resigned.exe.reason" "decision: skipped"
expect_in "$REJ/resigned.exe.reason" "audit record: $(audit_field 0 id)"

# The key refused (a wrong password): no file is blamed. Nothing is
# recorded or rejected, the file stays claimed (exit 1) and is signed by
# the next run that can open the key.
printf 'wrong\n' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
/usr/bin/python3 - "$CFG" "$T/wrong.json" "$T/wrong.pass" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["signing"]["password_file"] = sys.argv[3]
for k in ("policy", "audit_log"):
    cfg[k] = sys.argv[1].rsplit("/", 1)[0] + "/" + cfg[k]
json.dump(cfg, open(sys.argv[2], "w"))
PY
records=$(wc -l <"$LOG")
mkdir -m 0755 "$S/out2"
cp "$INST/hello-setup.exe" "$IN/hello-setup.exe"
sg 1 watch --config "$T/wrong.json" --once "$IN" "$S/out2"
expect_in "$T/err" "hello-setup.exe: not handled; it stays claimed in $S/work/claim."
expect_same "$(wc -l <"$LOG")" "$records"
expect_absent "$REJ/hello-setup.exe"
expect_absent "$IN/hello-setup.exe"
sg 0 watch --config "$CFG" --once "$IN" "$S/out2"
expect_in "$T/out" "signed   hello-setup.exe -> $S/out2/hello-setup.exe"
expect_same "$(wc -l <"$LOG")" "$((records + 1))"
expect_same "$(ls -A "$S/work")" ""

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
expect_in "$REJ/other-setup.exe.reason" "file owner: uid $(id -u)"
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

# A file owned by an account that may not write the inbox (0750): refused unread (only root can make one here, with chown).
if [ "$(id -u)" -eq 0 ]; then
	cp "$INST/hello-setup.exe" "$T/foreign.exe"
	chown 65534 "$T/foreign.exe"
	mv "$T/foreign.exe" "$IN/foreign.exe"
	sg 0 watch --config "$CFG" --once "$IN" "$OUT"
	expect_absent "$OUT/foreign.exe"
	expect_in "$REJ/foreign.exe.reason" "its owner uid 65534 may not write the inbox (mode 0750"
	expect_in "$REJ/foreign.exe.reason" "file owner: uid 65534"
	expect_in "$T/out" "(owner uid 65534, audit record"
	case "$(audit_field 0 input.path)" in
	*".u65534/foreign.exe") ok ;;
	*) fail "the record does not name the dropper 65534: $(audit_field 0 input.path)" ;;
	esac
fi

# In a group inbox (1770) a file owned by root or by signgate's own account
# cannot be told from one a member moved in (the owner is who wrote the
# file, not who dropped it): refused unread.
chmod 1770 "$IN"
cp "$INST/hello-setup.exe" "$IN/rootfile.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_absent "$OUT/rootfile.exe"
expect_in "$REJ/rootfile.exe.reason" "its owner uid $(id -u) is root or signgate's own account: in an inbox others may write (mode 1770)"
expect_in "$REJ/rootfile.exe.reason" "file owner: uid $(id -u)"
chmod 0750 "$IN"

# A dropped NAME.reason never takes the place of NAME's reason: rejected
# files never end in ".reason".
printf 'decision: denied\nreason: forged\n' >"$IN/bobs-tool.exe.reason"
cp "$INST/other-setup.exe" "$IN/bobs-tool.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$REJ/bobs-tool.exe.reason.dropped" "reason: forged"
expect_in "$REJ/bobs-tool.exe.reason.dropped.reason" "file: bobs-tool.exe.reason"
expect_in "$REJ/bobs-tool.exe.reason" "file: bobs-tool.exe"
expect_in "$REJ/bobs-tool.exe.reason" "rejected by: signgate watch"
[ -e "$REJ/bobs-tool.exe" ] || fail "bobs-tool.exe was not rejected under its own name"
ok

# NAME, NAME.1 .. NAME.999 taken in the rejected folder: the next NAME receives
# a name of its own (the claim's), never stays claimed.
: >"$REJ/many.exe"
for i in $(seq 1 999); do : >"$REJ/many.exe.$i"; done
cp "$INST/other-setup.exe" "$IN/many.exe"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$T/out" "rejected many.exe -> $REJ/many.exe.claim."
expect_same "$(ls -A "$S/work")" ""
# A name with a newline cannot forge a line of the .reason, nor of the output.
cp "$INST/other-setup.exe" "$IN/$(printf 'evil\naudit record: forged')"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
expect_in "$REJ/$(printf 'evil\naudit record: forged').reason" "file: evil?audit record: forged"
expect_same "$(grep -c '^audit record: ' "$REJ/$(printf 'evil\naudit record: forged').reason")" 1
expect_in "$T/out" "rejected evil?audit record: forged -> "
# A name too long for ".1.reason": cut, never lost.
long=$(printf 'L%.0s' $(seq 1 250)).exe
cp "$INST/other-setup.exe" "$IN/$long"
sg 0 watch --config "$CFG" --once "$IN" "$OUT"
cut=${long:0:191}
[ -e "$REJ/$cut" ] && [ -e "$REJ/$cut.reason" ] || fail "the long name was not rejected under its cut name"
ok
expect_in "$REJ/$cut.reason" "file: $long"

# Folders that overlap: configuration errors (2), nothing claimed.
cp "$INST/hello-setup.exe" "$IN/kept.exe"
mkdir -m 0755 "$IN/out"
chmod 0755 "$IN"
sg 2 watch --config "$CFG" --once "$IN" "$IN/out"
expect_in "$T/err" "outbox $IN/out: must not be the inbox $IN, inside it or above it"
sg 2 watch --config "$CFG" --once "$IN" "$S"
expect_in "$T/err" "outbox $S: must not be the inbox $IN, inside it or above it"
chmod 0750 "$IN"
sg 2 watch --config "$CFG" --once --rejected "$OUT" "$IN" "$OUT"
expect_in "$T/err" "must not be the rejected folder too"
if shm=$(mktemp -d /dev/shm/sg-watch.XXXXXX 2>/dev/null); then
	[ "$(stat -c %d "$shm")" != "$(stat -c %d "$S")" ] || { rmdir "$shm"; shm=""; }
fi
if [ -n "${shm:-}" ]; then
	sg 2 watch --config "$CFG" --once --rejected "$shm" "$IN" "$OUT"
	expect_in "$T/err" "rejected folder $shm: not on the inbox's file system"
	rmdir "$shm"
fi
[ -e "$IN/kept.exe" ] || fail "a configuration error claimed a file"
ok
rm -r "$IN/kept.exe" "$IN/out"

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
