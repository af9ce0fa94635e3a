#!/usr/bin/env bash
# cert export: the CRL rollback check reads a folder entry as OpenSSL's tools
# read a CRL file (fixer gx, red team Y findings 4 and 5). DER CRLs one after
# another (a bundle), then only whitespace: every CRL of it is compared, so a
# newer CRL second in a bundle is found. An entry that starts as DER but is
# followed by other bytes, or that holds "-----BEGIN X509 CRL" blocks that do
# not all read, cannot be checked: refused (exit 2) under any name, unless
# --allow-older-crl. Text that merely starts with "0" (0x30, as a thumbprint's
# hex may) is no DER. Compared per issuer: the same two-CRL set exported
# again is no rollback, a folder CRL newer than the newest one export writes is.
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_root "$ca" "Bundle CRL Root"
ca_leaf "$ca" leaf "Bundle leaf"
ca_leaf "$ca" stolen "Bundle stolen"
for n in 1 2 3; do
	openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-$n.pem" 2>/dev/null
	openssl crl -in "$ca/crl-$n.pem" -outform DER -out "$ca/crl-$n.der"
	[ "$n" = 1 ] && openssl ca -config "$ca/ca.cnf" -revoke "$ca/stolen.pem" 2>/dev/null
	sleep 1
done
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
d=$T/d
snap() { (cd "$d" && sha256sum -- *); }

# The set of CRLs 1 and 2, exported twice: the second time is no rollback.
cat "$ca/crl-1.pem" "$ca/crl-2.pem" >"$ca/crl.pem"
sg 0 cert export "${args[@]}" --out-dir "$d"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
expect_not_in "$T/err" "rollback"
# CRL 3 in the folder is newer than the newest (2) of the set: a rollback.
cp "$ca/crl-3.der" "$d/latest.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/latest.crl: holds a newer CRL of \"CN=Bundle CRL Root\" (number 3, this update "
expect_in "$T/err" "than the newest one export would write (number 2, this update "
rm "$d/latest.crl"

# Only CRL 1 exported from now on.
cp "$ca/crl-1.pem" "$ca/crl.pem"
sg 0 cert export "${args[@]}" --force --allow-older-crl --out-dir "$d"
rm "$d/crl-2.crl"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
snap >"$T/before"

# A DER bundle: CRL 1 then CRL 2 (the newer second), and a newline: found.
cat "$ca/crl-1.der" "$ca/crl-2.der" >"$d/issuing.crl"
printf '\r\n' >>"$d/issuing.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: holds a newer CRL of \"CN=Bundle CRL Root\" (number 2, this update "
expect_in "$T/err" "than the one export would write (number 1, this update "
# The bundle of CRL 1 alone, with whitespace after it: nothing newer.
{ cat "$ca/crl-1.der"; printf ' \n\n'; } >"$d/issuing.crl"
sg 0 cert export "${args[@]}" --force --out-dir "$d"

# A DER CRL followed by garbage cannot be checked, under any name.
{ cat "$ca/crl-1.der"; printf 'junk\n'; } >"$d/issuing.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: cannot be checked: a DER CRL bundle followed by bytes that are neither whitespace nor a DER CRL (from byte "
expect_in "$T/err" "; nothing replaced (remove it, or --allow-older-crl exports anyway)"
# ... as is a DER CRL cut short, or one followed by a CRL cut short.
head -c 100 "$ca/crl-2.der" >"$d/issuing.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: cannot be checked: starts as DER but is no DER CRL, certificate or PKCS#7"
{ cat "$ca/crl-1.der"; head -c 100 "$ca/crl-2.der"; } >"$d/issuing.crl"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/issuing.crl: cannot be checked: a DER CRL bundle followed by"
# With --allow-older-crl: exported, and the entry reported as not checked.
sg 0 cert export "${args[@]}" --force --allow-older-crl --out-dir "$d"
expect_in "$T/err" "warning: $d/issuing.crl: cannot be checked: a DER CRL bundle followed by"
rm "$d/issuing.crl"

# PEM: a block that does not read (and hides the newer CRL after it) cannot be checked.
{ sed 's/^M/#/' "$ca/crl-1.pem"; cat "$ca/crl-2.pem"; } >"$d/bundle.pem"
sg 2 cert export "${args[@]}" --force --out-dir "$d"
expect_in "$T/err" "$d/bundle.pem: cannot be checked: holds 2 \"-----BEGIN \" but only 0 PEM block(s) that read"
rm "$d/bundle.pem"

# Text that starts with "0" (0x30) is not DER; a DER certificate holds no CRL.
printf '0A1B2C3D4E5F60718293A4B5C6D7E8F901234567\r\n' >"$d/notes.txt"
openssl x509 -in "$ca/leaf.pem" -outform DER -out "$d/other.cer"
sg 0 cert export "${args[@]}" --force --out-dir "$d"
rm "$d/notes.txt" "$d/other.cer"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "the folder changed: $(diff "$T/before" "$T/after")"
ok
# One order for both checks: the CRL number decides when both CRLs have one,
# even against the thisUpdates (a CRL 5 backdated before CRL 4 is the newer).
ca2=$T/ca2
ca_root "$ca2" "Order CRL Root"
ca_leaf "$ca2" leaf "Order leaf"
echo 04 >"$ca2/db/crlnumber"
openssl ca -config "$ca2/ca.cnf" -gencrl -out "$ca2/crl-4.pem" 2>/dev/null
openssl ca -config "$ca2/ca.cnf" -gencrl -crl_lastupdate "$(date -u -d '-1 day' +%y%m%d%H%M%SZ)" \
	-out "$ca2/crl-5.pem" 2>/dev/null
openssl crl -in "$ca2/crl-5.pem" -noout -crlnumber | grep -q 'crlNumber=0x05' || fail "not CRL number 5"
d=$T/order
sg 0 cert export --cert "$ca2/leaf.pem" --ca "$ca2/ca.pem" --crl "$ca2/crl-4.pem" --out-dir "$d"
sg 0 cert export --cert "$ca2/leaf.pem" --ca "$ca2/ca.pem" --crl "$ca2/crl-5.pem" --force --out-dir "$d"
sg 3 cert export --cert "$ca2/leaf.pem" --ca "$ca2/ca.pem" --crl "$ca2/crl-4.pem" --check "$d"
expect_in "$T/out" "OLDER"
done_ok
