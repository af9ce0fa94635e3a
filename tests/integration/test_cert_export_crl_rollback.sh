#!/usr/bin/env bash
# cert export (issue 16, red team B finding 4): trust.crl_file rolled back to
# an OLDER CRL of the same CA (a lower CRL number; it does not list a
# certificate revoked since). --check calls it an OLDER CRL (a rollback),
# not "a new CRL"; export --force refuses to replace the folder's newer CRL
# (exit 2, naming both numbers and thisUpdates, nothing replaced) unless
# --allow-older-crl.
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
ca_two_crls "$ca" "Rollback Test Root"
cp "$ca/crl-new.pem" "$ca/crl.pem"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
sg 0 cert export "${args[@]}" --out-dir "$T/d"
cp "$T/d/crl-1.crl" "$T/newer.crl"

# The rollback: --check says OLDER, not "a new CRL".
cp "$ca/crl-old.pem" "$ca/crl.pem"
sg 3 cert export "${args[@]}" --check "$T/d"
expect_in "$T/out" "changed    crl-1.crl: an OLDER CRL of the same CA (a rollback: it may not list a certificate revoked since; export --force refuses it): number 2 -> 1, this update "
expect_not_in "$T/out" "a new CRL"

# export --force refuses it: exit 2, both numbers, nothing replaced.
sg 2 cert export "${args[@]}" --force --out-dir "$T/d"
expect_in "$T/err" "$T/d/crl-1.crl: holds a newer CRL of \"CN=Rollback Test Root\" (number 2, this update "
expect_in "$T/err" "than the one export would write (number 1, this update "
expect_in "$T/err" "a rollback, nothing replaced (--allow-older-crl replaces it)"
cmp -s "$T/d/crl-1.crl" "$T/newer.crl" || fail "a refused export replaced crl-1.crl"
ok
[ -z "$(ls -A "$T/d" | grep -v -e '\.cer$' -e '\.p7b$' -e '\.crl$' -e '\.txt$' -e '\.ps1$')" ] ||
	fail "a temporary file was left: $(ls -A "$T/d")"
ok
# --check with the option: a usage error.
sg 2 cert export "${args[@]}" --check "$T/d" --allow-older-crl
expect_in "$T/err" "--check writes nothing: --allow-older-crl goes with --out-dir"

# Said explicitly: replaced.
sg 0 cert export "${args[@]}" --force --allow-older-crl --out-dir "$T/d"
openssl crl -inform DER -in "$T/d/crl-1.crl" -noout -crlnumber >"$T/num"
expect_in "$T/num" "crlNumber=0x01"
sg 0 cert export "${args[@]}" --check "$T/d"

# Forward again: a newer CRL over an older one is a new CRL, replaced with --force.
cp "$ca/crl-new.pem" "$ca/crl.pem"
sg 3 cert export "${args[@]}" --check "$T/d"
expect_in "$T/out" "changed    crl-1.crl: a new CRL: number 1 -> 2"
sg 0 cert export "${args[@]}" --force --out-dir "$T/d"
cmp -s "$T/d/crl-1.crl" "$T/newer.crl" || fail "the newer CRL was not written"
ok
done_ok
