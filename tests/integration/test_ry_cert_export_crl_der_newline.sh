#!/usr/bin/env bash
# Red team Y (issue 16, third pass): the CRL rollback check over every CRL
# of the folder misses a newer CRL held as DER followed by a newline.
# crls_of() (cert_export_rollback.c) takes a file as one DER CRL only when
# d2i_X509_CRL() ends exactly at the end of the file, else it tries PEM; a
# DER CRL with a trailing "\n" (which `openssl crl -inform DER` reads as
# the CRL it is) is neither, so look_at() skips it silently when it is not
# named crl-*.crl. The folder holds the CA's CRL number 2 as issuing.crl;
# exporting CRL number 1 of the same CA is a rollback, but it is exported
# (exit 0, only the "extra file" note).
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_two_crls "$ca" "Folder CRL Root"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
d=$T/d
snap() { (cd "$d" && sha256sum -- *); }

cp "$ca/crl-old.pem" "$ca/crl.pem"
sg 0 cert export "${args[@]}" --out-dir "$d"
# The newer CRL as plain DER under another name: found (holds on main).
openssl crl -in "$ca/crl-new.pem" -outform DER -out "$d/issuing.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: holds a newer CRL of \"CN=Folder CRL Root\" (number 2"
# The same DER with a newline after it: still CRL number 2 to OpenSSL.
printf '\n' >>"$d/issuing.crl"
openssl crl -inform DER -in "$d/issuing.crl" -noout -crlnumber >"$T/num"
expect_in "$T/num" "crlNumber=0x02"
snap >"$T/before"
# Fails on main: exit 0, crl-1.crl rewritten, the newer CRL not seen.
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: "
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a rollback changed the folder"
done_ok
