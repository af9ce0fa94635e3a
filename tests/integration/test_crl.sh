#!/usr/bin/env bash
# A CRL file that cannot be used (missing, a folder, no PEM CRL in it) is a
# configuration error (exit 2) naming the file and the reason, found before
# any input: `verify` (config or --crl) and `sign` record no verdict against
# any file. Before, a correctly signed file was recorded `invalid` (exit 3).
. "$(dirname -- "$0")/lib.sh"

# set_crl FILE: the config's trust.crl_file.
set_crl() {
	/usr/bin/python3 - "$CFG" "$1" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["trust"]["crl_file"] = sys.argv[2]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
}

records() { if [ -e "$LOG" ]; then wc -l <"$LOG"; else echo 0; fi; }

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_in "$T/out" "valid    $T/signed.exe: valid: signed by"
expect_in "$T/out" "revocation checked"

mkdir "$T/crl-folder.pem"
cp "$PKI/root.pem" "$T/no-crl.pem" # PEM, but certificates only
: >"$T/empty.pem"
for bad in "$T/missing.pem:cannot read the CRLs: No such file or directory" \
	"$T/crl-folder.pem:cannot read the CRLs: Is a directory" \
	"$T/no-crl.pem:cannot load the CRLs: the file holds no PEM CRL" \
	"$T/empty.pem:cannot load the CRLs: the file holds no PEM CRL"; do
	file=${bad%%:*}
	why=${bad#*:}
	set_crl "$file"
	before=$(records)

	sg 2 verify --config "$CFG" "$T/signed.exe"
	expect_in "$T/err" "signgate: $file: $why"
	expect_not_in "$T/out" "invalid"

	sg 2 verify --ca "$PKI/root.pem" --crl "$file" "$T/signed.exe"
	expect_in "$T/err" "signgate: $file: $why"
	expect_not_in "$T/out" "invalid"

	sg 2 sign --config "$CFG" --out "$T/again.exe" "$INST/hello-setup.exe"
	expect_in "$T/err" "signgate: $file: $why"
	expect_absent "$T/again.exe"

	# cert lint reads the CRLs too: the same error, not a lint finding.
	sg 2 cert lint --config "$CFG"
	expect_in "$T/err" "signgate: $file: $why"
	sg 2 cert lint --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" --ca "$PKI/root.pem" --crl "$file"
	expect_in "$T/err" "signgate: $file: $why"

	# No verdict (and no failure) recorded against any file.
	expect_same "$(records)" "$before"
done

# A FIFO (or another non-regular file) as the CRLs or trust anchors must not
# hang signgate waiting for a writer: a configuration error naming it.
mkfifo "$T/crl.fifo"
run_bounded() {
	local want=$1 rc=0
	shift
	timeout 20 "$SG_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 124 ] || fail "signgate $* hung on a FIFO"
	[ "$rc" -eq "$want" ] || fail "signgate $* exited $rc, expected $want"
	ok
}
before=$(records)
run_bounded 2 verify --ca "$PKI/root.pem" --crl "$T/crl.fifo" "$T/signed.exe"
expect_in "$T/err" "signgate: $T/crl.fifo: cannot read the CRLs: not a regular file"
run_bounded 2 verify --ca "$T/crl.fifo" "$T/signed.exe"
expect_in "$T/err" "signgate: $T/crl.fifo: cannot read the trust anchors: not a regular file"
set_crl "$T/crl.fifo"
run_bounded 2 verify --config "$CFG" "$T/signed.exe"
expect_in "$T/err" "$T/crl.fifo"
run_bounded 2 sign --config "$CFG" --out "$T/again.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/crl.fifo"
expect_absent "$T/again.exe"
expect_same "$(records)" "$before"

# An expired CRL is a stale configuration, not a fault of the file: exit 2
# naming the CRL's issuer and when it expired, no verdict recorded.
# issuing_crl OUT LAST NEXT: a CRL of the fixture's issuing CA whose
# lastUpdate and nextUpdate are LAST and NEXT days from now.
issuing_crl() {
	/usr/bin/python3 - "$PKI" "$1" "$2" "$3" <<'PY'
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
pki, out, last, nxt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
key = serialization.load_pem_private_key(open(pki + "/issuing.key", "rb").read(),
                                         open(pki + "/ca.pass", "rb").read().strip())
ca = x509.load_pem_x509_certificate(open(pki + "/issuing.pem", "rb").read())
now = datetime.datetime.now(datetime.timezone.utc)
crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
       .last_update(now + datetime.timedelta(days=last))
       .next_update(now + datetime.timedelta(days=nxt)).sign(key, hashes.SHA256()))
open(out, "wb").write(crl.public_bytes(serialization.Encoding.PEM))
PY
}
issuing_crl "$T/expired-issuing.pem" -40 -10
cat "$T/expired-issuing.pem" "$PKI/root.crl.pem" >"$T/expired.pem"
chmod 0644 "$T/expired.pem"
set_crl "$T/expired.pem"
before=$(records)
sg 2 verify --ca "$PKI/root.pem" --crl "$T/expired.pem" "$T/signed.exe"
expect_in "$T/err" "signgate: $T/expired.pem: the CRL of"
expect_in "$T/err" "expired on"
expect_not_in "$T/out" "invalid"
sg 2 verify --config "$CFG" "$T/signed.exe"
expect_in "$T/err" "expired on"
sg 2 sign --config "$CFG" --out "$T/again.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "expired on"
expect_absent "$T/again.exe"
expect_same "$(records)" "$before"

# A CRL that is not valid yet (lastUpdate ahead of the clock): the same.
issuing_crl "$T/future-issuing.pem" 2 30
cat "$T/future-issuing.pem" "$PKI/root.crl.pem" >"$T/future.pem"
chmod 0644 "$T/future.pem"
sg 2 verify --ca "$PKI/root.pem" --crl "$T/future.pem" "$T/signed.exe"
expect_in "$T/err" "signgate: $T/future.pem: the CRL of"
expect_in "$T/err" "is not valid until"
expect_not_in "$T/out" "invalid"
expect_same "$(records)" "$before"

# A CRL file removed while signgate runs (a renewal that is not atomic):
# the wrapper removes it as osslsigncode verifies the first file. That file
# is checked against the CRLs as they were read (valid); the next is a
# configuration error (exit 2) with no record against it.
cp "$PKI/crl.pem" "$T/going.pem"
chmod 0644 "$T/going.pem"
cp "$T/signed.exe" "$T/signed2.exe"
cat >"$T/osslsigncode" <<SH
#!/bin/bash
[ "\$1" = verify ] && rm -f "$T/going.pem"
exec /usr/bin/osslsigncode "\$@"
SH
chmod 0755 "$T/osslsigncode"
config_set osslsigncode "\"$T/osslsigncode\""
set_crl "$T/going.pem"
before=$(records)
# (Landlock would keep the wrapper from removing it: off for this run.)
SIGNGATE_CONFINE_FORCE=landlock=0 sg 2 verify --config "$CFG" "$T/signed.exe" "$T/signed2.exe"
expect_in "$T/out" "valid    $T/signed.exe: valid: signed by"
expect_in "$T/out" "$T/signed2.exe: $T/going.pem: cannot read the CRLs: No such file or directory"
expect_not_in "$T/out" "invalid"
expect_same "$(records)" "$((before + 1))"
expect_same "$(audit_field 0 decision)" "valid"
config_set osslsigncode "\"/usr/bin/osslsigncode\""

# The good CRL again: the same file is valid, and that verdict is recorded.
set_crl "$PKI/crl.pem"
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_same "$(audit_field 0 decision)" "valid"
expect_not_in "$LOG" '"decision":"invalid"'
sg 0 audit verify --config "$CFG"
done_ok
