#!/usr/bin/env bash
# cert export --out-dir publishes the set all or nothing (red team X 7):
# every name checked and every new file written first, then per name the new
# file swapped in (RENAME_EXCHANGE) and the old one kept under a hidden name;
# when a rename fails
# every name done is put back, no hidden file stays, and "nothing replaced"
# is said only when it is true. The shim sg_export_race ($SG_EXPORT_RACE)
# acts at the renames: a file appearing at a name meanwhile, a rename that
# fails, a roll back that fails, a SIGKILL. (The immutable README.txt is
# test_redx_cert_export_half_written.sh.)
. "$(dirname -- "$0")/lib.sh"
: "${SG_EXPORT_RACE:?SG_EXPORT_RACE must name the sg_export_race shim}"

old=(--cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
new=(--cert "$PKI/signer-ec.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
names="root.cer intermediate-1.cer signer.cer signgate-chain.p7b crl-1.crl crl-2.crl thumbprint.txt import-signgate-trust.ps1 README.txt"
root=0
[ "$(id -u)" -eq 0 ] && command -v chattr >/dev/null && root=1
trap 'chattr -R -i "$T" 2>/dev/null; rm -rf -- "$T"' EXIT

# race ENV... -- ARGS: signgate under the shim; exit code in $rc, output in $T/out, $T/err.
race() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	rc=0
	env "${envs[@]}" LD_PRELOAD="$SG_EXPORT_RACE" "$SG_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
}
no_hidden() {
	[ -z "$(ls -A "$1" | grep '^\.')" ] || fail "hidden files left in $1: $(ls -A "$1")"
	ok
}
snap() { (cd "$1" && sha256sum -- * && stat -c '%n %h %a' -- *); }
snap_but() { # snap_but DIR NAME: snap DIR, NAME left out (it may be a folder)
	local files
	files=$(ls "$1" | grep -vx "$2")
	# shellcheck disable=SC2086 # export's names hold no spaces
	(cd "$1" && sha256sum -- $files && stat -c '%n %h %a' -- $files)
}

# 1. A file appears at a name between the check and the renames, without
# --force: at the last name (fails on main: eight new files stay beside it),
# then at the first. Each time the planted file stays and nothing else.
for at in README.txt root.cer; do
	d=$T/plant-$at
	mkdir "$d"
	imm=()
	[ "$root" -eq 1 ] && imm=(SG_RACE_IMMUTABLE=1)
	race SG_RACE_DIR="$d" SG_RACE_PLANT="$at" "${imm[@]}" -- cert export "${new[@]}" --out-dir "$d"
	[ "$rc" -eq 1 ] || fail "export with $at appearing meanwhile exited $rc, expected 1"
	ok
	expect_same "$(ls -A "$d")" "$at"
	expect_same "$(cat "$d/$at")" "planted"
	expect_in "$T/err" "$d/$at: a file appeared at this name after export checked the folder: not replaced (use --force to replace it)"
	[ "$at" = root.cer ] || expect_in "$T/err" "; nothing replaced (put back as they were: 0 old file(s) restored, 8 new name(s) removed)"
	[ "$at" = README.txt ] || expect_in "$T/err" "; nothing replaced"
	expect_not_in "$T/out" "wrote"
done
[ "$root" -eq 1 ] && { lsattr "$T/plant-root.cer/root.cer" | grep -q '^....i' || fail "the planted file is not immutable"; ok; }

# 2. With --force over an earlier export: the rename over a name fails
# (EBUSY, as at a busy mount point) after the names before it were replaced:
# the last name (fails on main), then the first. Every file as before, each
# with one name (no hard link left), and no hidden file.
d=$T/force
sg 0 cert export "${old[@]}" --out-dir "$d"
snap "$d" >"$T/before"
for at in README.txt root.cer; do
	race SG_RACE_FAIL="$at" -- cert export "${new[@]}" --force --out-dir "$d"
	[ "$rc" -eq 1 ] || fail "export with the rename over $at failing exited $rc, expected 1"
	ok
	snap "$d" >"$T/after"
	diff -u "$T/before" "$T/after" >"$T/diff" || fail "a failed export changed the folder: $(cat "$T/diff")"
	ok
	no_hidden "$d"
	expect_in "$T/err" "$d/$at: cannot move the output into place: Device or resource busy; nothing replaced"
done
race SG_RACE_FAIL=README.txt -- cert export "${new[@]}" --force --out-dir "$d"
expect_in "$T/err" "nothing replaced (put back as they were: 8 old file(s) restored, 0 new name(s) removed)"

# 2b. A folder appears at a name that held a file, between the check and
# the swap (the check refuses a folder at a name): not swapped aside, the
# names before it put back, the folder left as it is.
d2=$T/folder-race
sg 0 cert export "${old[@]}" --out-dir "$d2"
snap_but "$d2" README.txt >"$T/before2"
race SG_RACE_DIR="$d2" SG_RACE_PLANT=README.txt SG_RACE_FOLDER=1 -- cert export "${new[@]}" --force --out-dir "$d2"
[ "$rc" -eq 1 ] || fail "export with a folder appearing at README.txt exited $rc, expected 1"
ok
expect_in "$T/err" "$d2/README.txt: a folder or special file appeared at this name after export checked the folder: not replaced; nothing replaced"
[ -d "$d2/README.txt" ] || fail "the folder at README.txt was moved"
ok
snap_but "$d2" README.txt >"$T/after2"
diff -u "$T/before2" "$T/after2" >"$T/diff" || fail "a failed export changed the folder: $(cat "$T/diff")"
ok
no_hidden "$d2"

# 3. The roll back fails too (putting signer.cer's old file back: EIO): no
# "nothing replaced"; the message says which names hold the new file, where
# the old one is kept, and which are as before; and it is so.
race SG_RACE_FAIL=README.txt SG_RACE_FAIL_BACK=signer.cer -- cert export "${new[@]}" --force --out-dir "$d"
[ "$rc" -eq 1 ] || fail "export with a failing roll back exited $rc, expected 1"
ok
expect_not_in "$T/err" "nothing replaced"
expect_in "$T/err" "$d/README.txt: cannot move the output into place: Device or resource busy; the roll back failed too ($d/signer.cer: cannot put the old file back: Input/output error); new now: signer.cer (the old one kept beside it as .signgate-export-"
expect_in "$T/err" ".old-signer.cer); as before: root.cer intermediate-1.cer signgate-chain.p7b crl-1.crl crl-2.crl thumbprint.txt import-signgate-trust.ps1 README.txt"
kept=$(ls -A "$d" | grep '^\.signgate-export-.*\.old-signer\.cer$')
expect_same "$(ls -A "$d" | grep -c '^\.')" 1
grep -F " signer.cer" "$T/before" | head -1 >"$T/want"
expect_same "$(cd "$d" && sha256sum -- "$kept" | sed "s/$kept/signer.cer/")" "$(cat "$T/want")"
cmp -s "$d/signer.cer" <(openssl x509 -in "$PKI/signer-ec.pem" -outform DER) || fail "signer.cer is not the new signer"
ok
# Put back by hand as the message says: the folder is the old export again.
mv "$d/$kept" "$d/signer.cer"
snap "$d" >"$T/after"
diff -u "$T/before" "$T/after" >"$T/diff" || fail "not the old export: $(cat "$T/diff")"
ok

# 4. Killed (SIGKILL) before the swap at crl-1.crl: the names before it
# hold the new files (each old one kept as .old-NAME), crl-1.crl and the
# names after it the old ones, and the hidden files stay. --check says so:
# the leftovers as extra with what they are, every name with one link; an
# export run again completes; the leftovers go by hand.
race SG_RACE_KILL=crl-1.crl -- cert export "${new[@]}" --force --out-dir "$d"
expect_same "$rc" 137
sg 3 cert export "${new[@]}" --check "$d"
for f in root.cer intermediate-1.cer signer.cer signgate-chain.p7b crl-1.crl; do
	expect_in "$T/out" "unchanged  $f"
done
expect_in "$T/out" "3 changed, 0 missing, 9 extra, 0 unsafe file(s)"
expect_in "$T/out" "changed    thumbprint.txt"
expect_in "$T/out" ".old-signer.cer: left by an export that was interrupted (\".new-NAME\": a file it had not moved in yet; \".old-NAME\": the file it was replacing at NAME): compare, then remove it; a file export would not write"
expect_in "$T/out" ".new-README.txt: left by an export that was interrupted"
expect_same "$(grep -c '^extra      \.signgate-export-' "$T/out")" 9
sg 0 cert export "${new[@]}" --force --out-dir "$d"
expect_in "$T/err" "note: $d/.signgate-export-"
sg 3 cert export "${new[@]}" --check "$d"
rm -f -- "$d"/.signgate-export-*
sg 0 cert export "${new[@]}" --check "$d"
expect_in "$T/out" "up to date"

# 5. An account that is not root replaces root's files in its own folder: the
# swap needs no hard link to a file it does not own (which
# fs.protected_hardlinks refuses it), so the export is done, nothing left.
if [ "$root" -eq 1 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 0755 "$T"
	mkdir -m 0755 "$T/bin" "$T/nrpki"
	cp "$SG_BIN" "$T/bin/signgate"
	for f in signer.pem signer-ec.pem issuing.pem root.pem crl.pem; do
		install -m 0644 "$PKI/$f" "$T/nrpki/$f"
	done
	nr_old=(--cert "$T/nrpki/signer.pem" --chain "$T/nrpki/issuing.pem" --ca "$T/nrpki/root.pem" --crl "$T/nrpki/crl.pem")
	nr_new=(--cert "$T/nrpki/signer-ec.pem" --chain "$T/nrpki/issuing.pem" --ca "$T/nrpki/root.pem" --crl "$T/nrpki/crl.pem")
	d=$T/nonroot
	sg 0 cert export "${nr_old[@]}" --out-dir "$d"
	chown nobody:nogroup "$d"
	expect_same "$(stat -c %U "$d/signer.cer")" root
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/bin/signgate" cert export "${nr_new[@]}" \
		--force --out-dir "$d" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "export as nobody over root's files exited $rc: $(cat "$T/err")"
	ok
	cmp -s "$d/signer.cer" <(openssl x509 -in "$PKI/signer-ec.pem" -outform DER) || fail "signer.cer is not the new signer"
	ok
	no_hidden "$d"
	expect_same "$(stat -c %U "$d/signer.cer")" nobody
fi
done_ok
