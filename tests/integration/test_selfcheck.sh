#!/usr/bin/env bash
# Signing, signgate judges the output with its own checks only (issue 12):
# its own Authenticode digest of the output must be the digest the key
# helper signed, and the signature in the output must be, byte for byte,
# the one signgate made (no other signed or unsigned attribute). A PE is
# signed without osslsigncode at all; an MSI's signature is attached by a
# keyless osslsigncode attach-signature, and an osslsigncode that changes
# the output, attaches another signature or adds to ours is caught.
. "$(dirname -- "$0")/lib.sh"
# The wrappers log beside themselves, which Landlock forbids an osslsigncode
# run (test_confine.sh shows it): here, Landlock is off; seccomp, the rlimits,
# the network namespace and the hidden key files stay.
export SIGNGATE_CONFINE_FORCE=landlock=0

# wrapper NAME BODY: an osslsigncode in $T/NAME that logs its subcommand to
# $T/NAME.log, then runs BODY (bash, with $in and $out set from -in/-out).
wrapper() {
	cat >"$T/$1" <<SH
#!/bin/bash
echo "\$1" >>"$T/$1.log"
# The run's version query (before any input) is answered as osslsigncode does.
[ "\$*" != --version ] || exec /usr/bin/osslsigncode --version
in= out= prev=
for a in "\$@"; do
	case "\$prev" in -in) in=\$a ;; -out) out=\$a ;; esac
	prev=\$a
done
$2
SH
	chmod 0755 "$T/$1"
}
use_osslsigncode() { sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$1\"#" "$CFG"; }

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"

# 1. A spy: an unsigned PE is signed and checked without any osslsigncode
# run but the run's version query (`--version`, before any input); an MSI only receives its signature attached; `signgate verify` runs
# osslsigncode's own verification as a second opinion.
wrapper spy 'exec /usr/bin/osslsigncode "$@"'
use_osslsigncode "$T/spy"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
expect_same "$(cat "$T/spy.log")" "--version"
expect_same "$(audit_field 0 decision)" signed
expect_same "$(audit_field 0 signature.attached_by)" signgate
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_same "$(tail -n 1 "$T/spy.log")" "verify"
: >"$T/spy.log"
sg 0 sign --config "$CFG" --out "$T/signed.msi" "$INST/hello-1.0.msi"
expect_same "$(head -n 2 "$T/spy.log")" "--version
attach-signature"
expect_no_line "$T/spy.log" "sign"
expect_no_line "$T/spy.log" "verify"
expect_same "$(audit_field 0 signature.attached_by)" "osslsigncode attach-signature"
# What signgate's own checks passed, osslsigncode's pass too.
for f in signed.exe signed.msi; do
	/usr/bin/osslsigncode verify -in "$T/$f" -CAfile "$PKI/root.pem" -CRLfile "$PKI/crl.pem" \
		>"$T/ossl.out" 2>&1 || fail "osslsigncode does not verify signgate's $f"
	ok
done

# 2. An osslsigncode that changes the MSI after attaching: a byte of the
# package's content differs, so the output's own digest is not the signed one.
wrapper after '/usr/bin/osslsigncode "$@" || exit
/usr/bin/python3 - "$out" <<PY
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.find(b"Hello")  # a string in the MSI tables, not in the signature
assert i > 0
data[i] ^= 0x20
open(sys.argv[1], "wb").write(bytes(data))
PY
exit 0'
use_osslsigncode "$T/after"
sg 3 sign --config "$CFG" --out "$T/after.msi" "$INST/hello-1.0.msi"
expect_in "$T/out" "hello-1.0.msi: the signed file's own Authenticode digest"
expect_in "$T/out" "is not the one signed"
expect_absent "$T/after.msi"
expect_same "$(audit_field 0 decision)" invalid

# 3. One that attaches another signature: it signs the MSI itself with a key
# of its own (the vendor's) instead of attaching signgate's.
wrapper other 'exec /usr/bin/osslsigncode sign -h sha256 -certs "'"$FIX"'/vendor/vendor.pem" \
	-key "'"$FIX"'/vendor/vendor.key" -in "$in" -out "$out"'
use_osslsigncode "$T/other"
sg 3 sign --config "$CFG" --out "$T/other.msi" "$INST/hello-1.0.msi"
expect_absent "$T/other.msi"
expect_same "$(audit_field 0 decision)" invalid
expect_same "$(grep -vx -- --version "$T/other.log" | head -n 1)" "attach-signature"
expect_no_line "$T/other.log" "verify"

# 4. One that attaches signgate's signature and adds an unsigned blob to it:
# something could leave inside a signature; the exact check refuses it.
wrapper blob '/usr/bin/osslsigncode "$@" || exit
/usr/bin/osslsigncode add -addUnauthenticatedBlob -in "$out" -out "$out.b" >/dev/null || exit
mv "$out.b" "$out"'
use_osslsigncode "$T/blob"
sg 3 sign --config "$CFG" --out "$T/blob.msi" "$INST/hello-1.0.msi"
expect_absent "$T/blob.msi"
expect_same "$(audit_field 0 decision)" invalid
grep -q 'attribute\|not the signature signgate' "$T/out" || fail "the blob is not named: $(cat "$T/out")"
ok

done_ok
