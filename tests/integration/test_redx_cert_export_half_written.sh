#!/usr/bin/env bash
# Red team X (issue 16, second pass): cert export "every name is checked
# before the first rename ... nothing replaced". publish()
# (tools/cmd_cert_export.c) checks each destination with lstat() only
# (replaceable(): absent, a regular file or a link), then renames the files
# one by one: a rename that fails after the first (here README.txt, the last
# one, immutable: chattr +i; likewise a file created at a name in the
# meantime without --force, or any EPERM/EBUSY) leaves the folder half
# new, half old: the new signer.cer, thumbprint.txt and import script beside
# the old README.txt, which names the old thumbprint to check out of band.
# Needs root (chattr +i); skipped otherwise.
. "$(dirname -- "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "not root: chattr +i is not possible here"; exit 77; }
command -v chattr >/dev/null || { echo "no chattr"; exit 77; }

old=(--cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
new=(--cert "$PKI/signer-ec.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
sg 0 cert export "${old[@]}" --out-dir "$T/d"
(cd "$T/d" && sha256sum -- *) >"$T/before"
chattr +i "$T/d/README.txt" 2>/dev/null || { echo "chattr +i refused by this file system"; exit 77; }
trap 'chattr -i "$T/d/README.txt" 2>/dev/null; rm -rf -- "$T"' EXIT
rc=0
"$SG_BIN" cert export "${new[@]}" --force --out-dir "$T/d" >"$T/out" 2>"$T/err" || rc=$?
chattr -i "$T/d/README.txt"
[ "$rc" -ne 0 ] || fail "the export over an immutable README.txt succeeded"
ok
# A failed export replaces nothing (fails on main: signer.cer, the chain,
# thumbprint.txt and the import script are the new signer's, README.txt the old one's).
(cd "$T/d" && sha256sum -- *) >"$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || fail "a failed export left the folder half written: $(cat "$T/diff")"
ok
# Fixer fe: and no hidden file (a kept old file, a new one not moved in) is
# left, each file has one name again, and the message says so.
[ -z "$(ls -A "$T/d" | grep '^\.')" ] || fail "hidden files left: $(ls -A "$T/d")"
ok
[ -z "$(find "$T/d" -type f -links +1)" ] || fail "files with a second name left: $(find "$T/d" -type f -links +1)"
ok
expect_in "$T/err" "$T/d/README.txt: cannot move the output into place: Operation not permitted; nothing replaced (put back as they were: 8 old file(s) restored, 0 new name(s) removed)"
# The first name immutable: refused before anything is replaced, likewise.
chattr +i "$T/d/root.cer"
trap 'chattr -i "$T/d/README.txt" "$T/d/root.cer" 2>/dev/null; rm -rf -- "$T"' EXIT
rc=0
"$SG_BIN" cert export "${new[@]}" --force --out-dir "$T/d" >"$T/out" 2>"$T/err" || rc=$?
chattr -i "$T/d/root.cer"
[ "$rc" -eq 1 ] || fail "the export over an immutable root.cer exited $rc, expected 1"
ok
(cd "$T/d" && sha256sum -- *) >"$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || fail "a failed export changed the folder: $(cat "$T/diff")"
ok
[ -z "$(ls -A "$T/d" | grep '^\.')" ] || fail "hidden files left: $(ls -A "$T/d")"
ok
expect_in "$T/err" "$T/d/root.cer: cannot move the output into place: Operation not permitted; nothing replaced"
done_ok
