#!/usr/bin/env bash
# cert export: the CRL rollback check compares the CRLs export writes with
# every CRL of the folder (red team X observation), not only with the file
# of the same name: a newer CRL of the same CA at crl-2.crl, or under any
# other name, makes the export a rollback (exit 2, nothing replaced) unless
# --allow-older-crl. Then the newer CRL is left where it is and reported
# (export removes no file it does not write); --check lists it and the next
# export refuses again until it is removed. A crl-*.crl that cannot be read
# as a CRL cannot be checked: refused the same way.
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_two_crls "$ca" "Folder CRL Root"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
d=$T/d
snap() { (cd "$d" && sha256sum -- *); }

# Two CRLs of the one CA: crl-1.crl the older (number 1), crl-2.crl the newer (2).
cat "$ca/crl-old.pem" "$ca/crl-new.pem" >"$ca/crl.pem"
sg 0 cert export "${args[@]}" --out-dir "$d"
cp "$d/crl-2.crl" "$T/newer.crl"
snap >"$T/before"

# Only the older CRL now: export writes crl-1.crl (the same as the folder's),
# and crl-2.crl, the newer, is compared too (fails on main: exported).
cp "$ca/crl-old.pem" "$ca/crl.pem"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/crl-2.crl: holds a newer CRL of \"CN=Folder CRL Root\" (number 2, this update "
expect_in "$T/err" "than the one export would write (number 1, this update "
expect_in "$T/err" "; a rollback, nothing replaced (--allow-older-crl exports anyway; export never removes this file)"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a refused export changed the folder: $(diff "$T/before" "$T/after")"
ok
[ -z "$(ls -A "$d" | grep '^\.')" ] || fail "a hidden file was left: $(ls -A "$d")"
ok

# Said explicitly: exported; crl-2.crl is left (not removed) and reported.
sg 0 cert export "${args[@]}" --force --allow-older-crl --out-dir "$d"
expect_in "$T/err" "warning: $d/crl-2.crl: holds a newer CRL of \"CN=Folder CRL Root\" (number 2, this update "
expect_in "$T/err" "; left in the folder (--allow-older-crl): remove it if the older CRL is meant, or Windows may be given either (until then --check lists it and export refuses without --allow-older-crl)"
cmp -s "$d/crl-2.crl" "$T/newer.crl" || fail "crl-2.crl was changed"
ok
openssl crl -inform DER -in "$d/crl-1.crl" -noout -crlnumber >"$T/num"
expect_in "$T/num" "crlNumber=0x01"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "extra      crl-2.crl: a file export would not write"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/crl-2.crl: holds a newer CRL"
rm "$d/crl-2.crl"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
expect_not_in "$T/err" "warning"

# The newer CRL under another name, DER or PEM (any file that parses as a CRL).
cp "$T/newer.crl" "$d/latest.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/latest.crl: holds a newer CRL of \"CN=Folder CRL Root\" (number 2, "
rm "$d/latest.crl"
{ echo "notes"; cat "$ca/crl-new.pem"; } >"$d/ca-bundle.pem"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/ca-bundle.pem: holds a newer CRL of \"CN=Folder CRL Root\" (number 2, "
rm "$d/ca-bundle.pem"

# A crl-*.crl that cannot be read as a CRL cannot be checked: refused, unless --allow-older-crl.
echo "not a CRL" >"$d/crl-7.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/crl-7.crl: cannot be checked: not a DER or PEM CRL; nothing replaced (remove it, or --allow-older-crl exports anyway)"
rm "$d/crl-7.crl"
ln -s "$T/newer.crl" "$d/crl-8.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/crl-8.crl: cannot be checked: a symbolic link (never followed); nothing replaced"
sg 0 cert export "${args[@]}" --force --allow-older-crl --out-dir "$d"
expect_in "$T/err" "warning: $d/crl-8.crl: cannot be checked: a symbolic link (never followed)"
rm "$d/crl-8.crl"

# Other files that are no CRL (the certificates, README.txt, a note) do not matter.
echo "hello" >"$d/notes.txt"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
done_ok
