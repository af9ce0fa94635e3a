#!/usr/bin/env bash
# signgate watch as the service runs it: an unprivileged account (nobody,
# with setpriv) that owns the state folders, a sticky group inbox (1770):
# its own file is signed, root's file is decided (root may drop), a file of
# an account outside the inbox's group is refused unread; a sticky inbox it
# does not own, or one it may not write, is a configuration error (2).
. "$(dirname -- "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/bin/setpriv ] || ! id nobody >/dev/null 2>&1; then
	echo "needs root, setpriv and the account nobody: skipped"
	exit 77
fi
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
# The account's own folder (its key copy, log, state); the fixture's PKI is root's alone.
H=$T/home
mkdir -m 0755 "$T/pub" "$T/pub/policy"
mkdir -m 0700 "$H" "$H/audit" "$H/state" "$H/tmp"
cp "$PKI/signer.p12" "$PKI/signer.pass" "$H/"
chmod 0600 "$H/signer.p12" "$H/signer.pass"
cp "$PKI/root.pem" "$PKI/crl.pem" "$T/pub/"
chmod 0755 "$T"
cat >"$T/pub/policy/hello.json" <<JSON
{ "approvals": [ {
  "id": "hello-exe", "product": "Hello", "vendor": "Example", "version": "1.0",
  "file": "hello-setup.exe", "sha256": "$(sha256 "$INST/hello-setup.exe")",
  "source": "https://example.invalid/download",
  "approved_by": "j.doe", "ticket": "SEC-1", "approved_at": "2026-01-01"
} ] }
JSON
cat >"$T/pub/signgate.json" <<JSON
{
  "policy": "$T/pub/policy/",
  "audit_log": "$H/audit/audit.jsonl",
  "trust": { "ca_file": "$T/pub/root.pem", "crl_file": "$T/pub/crl.pem" },
  "signing": { "pkcs12": "$H/signer.p12", "password_file": "$H/signer.pass" },
  "osslsigncode": "/usr/bin/osslsigncode"
}
JSON
LOG=$H/audit/audit.jsonl
S=$H/state
mkdir -m 1770 "$S/inbox"
mkdir -m 0755 "$S/outbox"
chown -R "$NOBODY" "$H"
# The droppers' group: daemon's (daemon is the dropper; bin is not a member).
chgrp daemon "$S/inbox"
# as_nobody EXPECTED_EXIT: one --once pass as nobody.
as_nobody() {
	local want=$1 rc=0
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups env TMPDIR="$H/tmp" \
		"$SG_BIN" watch --config "$T/pub/signgate.json" --once "$S/inbox" "$S/outbox" \
		>"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "watch as nobody exited $rc, expected $want"
	ok
}

cp "$INST/hello-setup.exe" "$S/inbox/hello-setup.exe"
chown daemon "$S/inbox/hello-setup.exe"
cp "$INST/other-setup.exe" "$S/inbox/other-setup.exe"
chown daemon "$S/inbox/other-setup.exe"
cp "$INST/hello-setup.exe" "$S/inbox/bin.exe"
chown bin "$S/inbox/bin.exe"
# Owned by signgate's own account or root in a group inbox: who moved it in
# is unknown (a member may rename any file she can reach): refused.
cp "$INST/hello-setup.exe" "$S/inbox/own.exe"
chown "$NOBODY" "$S/inbox/own.exe"
cp "$INST/hello-setup.exe" "$S/inbox/root.exe"
# A folder nobody may move (moving it rewrites its ".."): ignored, left as it is.
mkdir -m 0755 "$S/inbox/rootdir"
as_nobody 0
[ -d "$S/inbox/rootdir" ] || fail "the folder was taken"
ok
rmdir "$S/inbox/rootdir"
expect_in "$T/out" "signed   hello-setup.exe -> $S/outbox/hello-setup.exe (owner uid $(id -u daemon),"
expect_in "$T/out" "rejected other-setup.exe -> $S/rejected/other-setup.exe: denied:"
expect_in "$S/rejected/bin.exe.reason" "its owner uid $(id -u bin) may not write the inbox (mode 1770"
expect_in "$S/rejected/own.exe.reason" "its owner uid $NOBODY is root or signgate's own account: in an inbox others may write (mode 1770)"
expect_in "$S/rejected/root.exe.reason" "its owner uid 0 is root or signgate's own account"
expect_same "$(stat -c %U "$S/outbox/hello-setup.exe")" nobody
expect_same "$(ls -A "$S/inbox")" ""
expect_same "$(ls -A "$S/work")" ""
sg 0 audit verify --log "$LOG"
sg 0 verify --ca "$T/pub/root.pem" --crl "$T/pub/crl.pem" "$S/outbox/hello-setup.exe"
expect_in "$T/out" "valid"

# A folder claimed (0777) and then made 0555 by its owner (who kept an fd):
# signgate may not move it (its ".." would change); the claim folder, ours,
# goes to the rejected folder instead: one outcome, no pass fails for it.
mkdir -m 0777 "$S/inbox/junk"
chown daemon "$S/inbox/junk"
rc=0
setsid -w env SG_WATCH_KILL_AT=reason LD_PRELOAD="$SG_WATCH_KILL_SHIM" \
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups env TMPDIR="$H/tmp" \
	"$SG_BIN" watch --config "$T/pub/signgate.json" --once "$S/inbox" "$S/outbox" \
	>"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 137 ] || fail "the watcher was not killed before the .reason (exit $rc)"
ok
claimed=$(find "$S/work" -mindepth 2 -maxdepth 2 -name junk -type d)
[ -n "$claimed" ] || fail "the folder was not claimed"
ok
chmod 0555 "$claimed"
as_nobody 0
expect_in "$T/out" "rejected junk -> $S/rejected/junk"
[ -d "$S/rejected/junk/junk" ] || fail "the claim folder was not moved to the rejected folder"
ok
expect_in "$S/rejected/junk.reason" "a folder, not a regular file"
expect_same "$(ls -A "$S/work")" ""
as_nobody 0
expect_same "$(ls -A "$S/rejected" | grep -c '^junk')" 2

# A sticky inbox that is root's: nobody could take only its own files.
chown root:"$NOGROUP" "$S/inbox"
cp "$INST/hello-setup.exe" "$S/inbox/kept.exe"
as_nobody 2
expect_in "$T/err" "sticky and owned by uid 0: signgate (uid $NOBODY) could take only its own files"
# Not writable by nobody at all.
chmod 0755 "$S/inbox"
as_nobody 2
expect_in "$T/err" "may not take files from it: Permission denied"
[ -e "$S/inbox/kept.exe" ] || fail "a configuration error claimed a file"
ok
done_ok
