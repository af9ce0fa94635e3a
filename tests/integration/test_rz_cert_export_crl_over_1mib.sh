#!/usr/bin/env bash
# Red team Z (issue 16, fourth pass): the CRL rollback check reads each entry
# of the folder up to 1 MiB (lib/crypto/cert_export_rollback.c entry_crls(),
# EXPORT_CRL_MAX), while export itself takes a --crl of up to 4 MiB
# (cert_export.c CERT_FILE_MAX) and CRLs of busy CAs are often larger than
# 1 MiB. An entry over 1 MiB counts as "cannot be read" (SG_ERR_CONFIG), which
# look_at() skips silently unless it is named crl-*.crl:
#  1. the CA's newer CRL (number 2, 1.5 MiB) held as issuing.crl is not seen:
#     exporting CRL number 1 is a rollback, exported with exit 0;
#  2. the folder export itself wrote (crl-1.crl, 1.5 MiB) is refused on the
#     same export run again ("cannot be checked").
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_root "$ca" "Folder CRL Root"
ca_leaf "$ca" leaf "Folder leaf"
ca_leaf "$ca" stolen "Folder stolen"
/usr/bin/python3 - "$ca/db/index.txt" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(45000):
        f.write("R\t301231000000Z\t250101000000Z\t%016X\tunknown\t/CN=old %d\n" % (0x1000000000000000 + i, i))
PY
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-old.pem" 2>/dev/null
openssl ca -config "$ca/ca.cnf" -revoke "$ca/stolen.pem" 2>/dev/null
sleep 1
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-new.pem" 2>/dev/null
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
openssl crl -in "$ca/crl-new.pem" -outform DER -out "$T/new.der"
[ "$(stat -c %s "$T/new.der")" -gt 1100000 ] || fail "the CRL is not over 1 MiB"
openssl crl -inform DER -in "$T/new.der" -noout -crlnumber | grep -q "crlNumber=0x02" ||
	fail "not CRL number 2"
cp "$ca/crl-old.pem" "$ca/crl.pem"

# 1. A newer CRL over 1 MiB beside the export (fails on main: exit 0).
d=$T/d1
mkdir "$d"
cp "$T/new.der" "$d/issuing.crl"
sg 2 cert export "${args[@]}" --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: "
[ ! -e "$d/crl-1.crl" ] || fail "a rollback was exported beside a newer CRL"

# 2. The same export twice: nothing rolls back.
d=$T/d2
sg 0 cert export "${args[@]}" --out-dir "$d"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
# 3. --check reads back what export wrote, over 1 MiB too: up to date.
sg 0 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "up to date"
done_ok
