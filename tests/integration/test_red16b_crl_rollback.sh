#!/usr/bin/env bash
# Red team B (issue 16): trust.crl_file replaced by an OLDER CRL of the same
# CA (a lower CRL number; it does not list a certificate revoked since).
# --check must not call it "a new CRL" (main 0637183 says "a new CRL: number
# 2 -> 1"), and export --force must not replace the newer crl-1.crl without
# saying so (main: exit 0, silently; Windows hosts given that folder no
# longer see the revocation). Fails on main.
. "$(dirname -- "$0")/lib.sh"

ca=$T/ca
mkdir -p "$ca/db"
: >"$ca/db/index.txt"
echo 01 >"$ca/db/crlnumber"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
	-subj "/CN=Rollback Test Root" -addext "basicConstraints=critical,CA:TRUE" \
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
	openssl req -new -newkey rsa:2048 -nodes -keyout "$ca/$n.key" -subj "/CN=Rollback $n" \
		-out "$ca/$n.csr" 2>/dev/null
	openssl x509 -req -in "$ca/$n.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 20 -sha256 -extfile "$ca/ext" \
		-out "$ca/$n.pem" 2>/dev/null
done
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-old.pem" 2>/dev/null
openssl ca -config "$ca/ca.cnf" -revoke "$ca/stolen.pem" 2>/dev/null
sleep 1
openssl ca -config "$ca/ca.cnf" -gencrl -out "$ca/crl-new.pem" 2>/dev/null
cp "$ca/crl-new.pem" "$ca/crl.pem"
args=(--cert "$ca/leaf.pem" --ca "$ca/ca.pem" --crl "$ca/crl.pem")
sg 0 cert export "${args[@]}" --out-dir "$T/d"
cp "$T/d/crl-1.crl" "$T/newer.crl"

# The rollback.
cp "$ca/crl-old.pem" "$ca/crl.pem"
sg 3 cert export "${args[@]}" --check "$T/d"
expect_in "$T/out" "changed    crl-1.crl"
expect_not_in "$T/out" "crl-1.crl: a new CRL"
expect_in_i "$T/out" "older"

# export --force: either refused (the newer CRL stays) or said loudly.
rc=0
"$SG_BIN" cert export "${args[@]}" --force --out-dir "$T/d" >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -eq 0 ]; then
	expect_in_i "$T/err" "older"
else
	cmp -s "$T/d/crl-1.crl" "$T/newer.crl" || fail "a failed export replaced crl-1.crl"
	ok
fi
done_ok
