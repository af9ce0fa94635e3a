#!/usr/bin/env bash
# Signing an unsigned PE, signgate checks the output with its own digest of
# the approved bytes and a byte-for-byte comparison, not with a second run of
# osslsigncode: which checks run where, and that the own check catches an
# osslsigncode that signs other bytes than the approved ones or changes its
# output after signing.
. "$(dirname -- "$0")/lib.sh"

# wrapper NAME BODY: an osslsigncode in $T/NAME that logs its subcommand to
# $T/NAME.log, then runs BODY (bash, with $in and $out set from -in/-out).
wrapper() {
	cat >"$T/$1" <<SH
#!/bin/bash
echo "\$1" >>"$T/$1.log"
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

# 1. A spy: an unsigned PE is signed and checked without osslsigncode verify;
# an MSI is still verified by osslsigncode; `signgate verify` runs both.
wrapper spy 'exec /usr/bin/osslsigncode "$@"'
use_osslsigncode "$T/spy"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
expect_same "$(cat "$T/spy.log")" "sign"
expect_same "$(audit_field 0 decision)" signed
sg 0 verify --config "$CFG" "$T/signed.exe"
expect_same "$(tail -n 1 "$T/spy.log")" "verify"
: >"$T/spy.log"
sg 0 sign --config "$CFG" --out "$T/signed.msi" "$INST/hello-1.0.msi"
expect_same "$(tr '\n' ' ' <"$T/spy.log")" "sign extract-signature verify "
# What signgate's own check passed, osslsigncode's passes too.
/usr/bin/osslsigncode verify -in "$T/signed.exe" -CAfile "$PKI/root.pem" -CRLfile "$PKI/crl.pem" \
	>"$T/ossl.out" 2>&1 || fail "osslsigncode does not verify signgate's output"
ok

# 2. An osslsigncode that signs other bytes than the approved copy: the
# signature does not sign the approved bytes' digest.
wrapper other 'tmp=$(mktemp); cp "$in" "$tmp"
printf "Z" | dd of="$tmp" bs=1 seek=5000 conv=notrunc 2>/dev/null
shift 0; args=(); for a in "$@"; do [ "$a" = "$in" ] && a=$tmp; args+=("$a"); done
/usr/bin/osslsigncode "${args[@]}"; rc=$?; rm -f "$tmp"; exit $rc'
use_osslsigncode "$T/other"
sg 3 sign --config "$CFG" --out "$T/other.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "hello-setup.exe: signature 0 does not sign the approved bytes: their digest is"
expect_absent "$T/other.exe"
expect_same "$(audit_field 0 decision)" invalid
expect_same "$(tr '\n' ' ' <"$T/other.log")" "sign "

# 3. An osslsigncode that changes its output after signing it: the output is
# no longer the approved bytes plus a signature.
wrapper after '/usr/bin/osslsigncode "$@" || exit
[ "$1" = sign ] && printf "Z" | dd of="$out" bs=1 seek=5000 conv=notrunc 2>/dev/null
exit 0'
use_osslsigncode "$T/after"
sg 3 sign --config "$CFG" --out "$T/after.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "the signed file differs from the approved bytes at offset 5000"
expect_absent "$T/after.exe"
expect_same "$(audit_field 0 decision)" invalid

# 4. One that appends a byte to the padding's place: the table moves.
wrapper moved '/usr/bin/osslsigncode "$@" || exit
if [ "$1" = sign ]; then
	size=$(stat -c %s "$in"); pad=$(( (8 - size % 8) % 8 ))
	/usr/bin/python3 - "$out" "$size" "$pad" <<PY
import struct, sys
path, size, pad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = bytearray(open(path, "rb").read())
pe = struct.unpack_from("<I", data, 0x3c)[0]
magic = struct.unpack_from("<H", data, pe + 24)[0]
entry = pe + 24 + (96 if magic == 0x10b else 112) + 8 * 4
off, length = struct.unpack_from("<II", data, entry)
data[size + pad:size + pad] = bytes(8)  # eight more zeros before the table
struct.pack_into("<II", data, entry, off + 8, length)
open(path, "wb").write(bytes(data))
PY
fi
exit 0'
use_osslsigncode "$T/moved"
sg 3 sign --config "$CFG" --out "$T/moved.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "the certificate table is at offset 98712, not right after the approved bytes (98704)"
expect_absent "$T/moved.exe"
expect_same "$(audit_field 0 decision)" invalid

done_ok
