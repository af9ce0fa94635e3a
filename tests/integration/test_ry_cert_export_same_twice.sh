#!/usr/bin/env bash
# Red team Y (issue 16, third pass): the CRL rollback check over every CRL
# of the folder (cert_export_rollback.c compare()) compares each CRL export
# writes with each CRL the folder holds, including the ones this very export
# writes again. A --crl file holding two CRLs of one CA (the older number 1
# and the newer number 2, as test_cert_export_crl_folder.sh exports them) is
# exported once; exporting the *same* input again with --force is then
# refused as "a rollback, nothing replaced (--allow-older-crl replaces it)":
# CRL number 1 it writes is older than crl-2.crl, which it writes unchanged.
# Nothing is rolled back, yet the operator is taught to add
# --allow-older-crl, which turns the check off for the next real rollback.
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_two_crls "$ca" "Folder CRL Root"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
d=$T/d
snap() { (cd "$d" && sha256sum -- *); }

cat "$ca/crl-old.pem" "$ca/crl-new.pem" >"$ca/crl.pem"
sg 0 cert export "${args[@]}" --out-dir "$d"
snap >"$T/before"
# The same set is up to date (holds on main).
sg 0 cert export "${args[@]}" --check "$d"
# Exported again, the same input: nothing changes, nothing is rolled back
# (fails on main: exit 2, "a rollback, nothing replaced").
sg 0 cert export "${args[@]}" --force --out-dir "$d"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "the same export changed the folder: $(diff "$T/before" "$T/after")"
done_ok
