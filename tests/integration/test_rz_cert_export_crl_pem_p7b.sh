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
mkdir -p "$ca/db"
: >"$ca/db/index.txt"
echo 01 >"$ca/db/crlnumber"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
	-subj "/CN=Folder CRL Root" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
cat >"$ca/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database         = $ca/db/index.txt
crlnumber        = $ca/db/crlnumber
certificate      = $ca/ca.pem
private_key      = $ca/ca.key
default_md       = sha256
default_crl_days = 7
CNF
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$ca/ext"
for n in leaf stolen; do
	openssl req -new -newkey rsa:3072 -nodes -keyout "$ca/$n.key" -subj "/CN=Folder $n" \
		-out "$ca/$n.csr" 2>/dev/null
	openssl x509 -req -in "$ca/$n.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 20 -sha256 -extfile "$ca/ext" \
		-out "$ca/$n.pem" 2>/dev/null
done
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-old.pem" 2>/dev/null
openssl ca -config "$ca/ca.cnf" -revoke "$ca/stolen.pem" 2>/dev/null
sleep 1
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-new.pem" 2>/dev/null
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
