#!/usr/bin/env bash
# Red team Z (issue 16, fourth pass): the CRL rollback check over the folder
# (lib/crypto/cert_export_rollback.c crls_of()) reads a DER PKCS#7 for its
# CRLs (der_next()), but a PEM file is read only for "-----BEGIN X509 CRL"
# blocks (pem_crls()): a PEM PKCS#7 ("-----BEGIN PKCS7-----", what
# `openssl crl2pkcs7` writes and what certutil/Windows import as a .p7b)
# holding the CA's newer CRL counts as no CRL at all and is skipped
# silently. Exporting CRL number 1 beside it is a rollback; the same CRL in a
# DER PKCS#7 is found (holds); in a PEM PKCS#7 it is exported (exit 0).
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_two_crls "$ca" "Folder CRL Root"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
d=$T/d
snap() { (cd "$d" && sha256sum -- *); }
cp "$ca/crl-old.pem" "$ca/crl.pem"
sg 0 cert export "${args[@]}" --out-dir "$d"
# The newer CRL in a DER PKCS#7 under another name: found (holds on main).
openssl crl2pkcs7 -in "$ca/crl-new.pem" -outform DER -out "$d/issuing.p7b"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.p7b: holds a newer CRL of \"CN=Folder CRL Root\" (number 2"
# The same PKCS#7 as PEM: OpenSSL reads CRL number 2 out of it.
rm -f "$d/issuing.p7b"
openssl crl2pkcs7 -in "$ca/crl-new.pem" -out "$d/issuing.p7b"
openssl pkcs7 -in "$d/issuing.p7b" -print_certs -noout >/dev/null
openssl pkcs7 -in "$d/issuing.p7b" -print | grep -q "crl:" || fail "no CRL in the PEM PKCS#7"
snap >"$T/before"
# Fails on main: exit 0, crl-1.crl rewritten, the newer CRL not seen.
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.p7b: "
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a rollback changed the folder"
done_ok
