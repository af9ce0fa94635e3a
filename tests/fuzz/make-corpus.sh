#!/usr/bin/env bash
# make-corpus.sh: (re)make the seed corpus of the fuzz harnesses
# (tests/fuzz/corpus/<harness>/) and the certificates they check against
# (tests/fuzz/data/), from real material: the CTest fixture's PKI and
# installers (makensis, wixl), tiny PEs written here and signed by
# signgate, the audit log and seals of those runs, the vendor manifests of
# tests/fixtures/manifests, gpg keys and gpgv's status lines. The corpus is
# committed; run this only to renew it (the certificates change with it).
#
#   SG_BIN=build-test/signgate SG_FIXTURE=build-test/tests/fixture \
#   SG_FUZZ_BIN=build-fuzz/tests/fuzz bash tests/fuzz/make-corpus.sh
. "$(dirname -- "$0")/../integration/lib.sh"
: "${SG_FUZZ_BIN:?SG_FUZZ_BIN must name the folder of the built fuzz harnesses}"

src=$(cd -- "$(dirname -- "$0")" && pwd -P)
SG_SRC=$(cd -- "$src/../.." && pwd -P)
C=$src/corpus
D=$src/data
rm -rf -- "$C"
mkdir -p -- "$C"/{pe,msi,cab,signed,authenticode,manifest,openpgp,policy,policy_index,audit,seal,config,keyhelper,script} "$D"
tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"

# Tiny PE32 and PE32+ images (1 KiB: headers, one .text section).
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
def pe(bits):
    plus = bits == 64
    opt = struct.pack("<HBBIIIII", 0x20B if plus else 0x10B, 14, 0, 0x200, 0, 0, 0x1000, 0x1000)
    opt += b"" if plus else struct.pack("<I", 0x1000)
    opt += struct.pack("<Q" if plus else "<I", 0x140000000 if plus else 0x400000)
    opt += struct.pack("<IIHHHHHHIIIIHH", 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, 0x2000, 0x200, 0, 3, 0x8160)
    opt += struct.pack("<QQQQ" if plus else "<IIII", 0x100000, 0x1000, 0x100000, 0x1000)
    opt += struct.pack("<II", 0, 16) + b"\0" * 128
    coff = struct.pack("<HHIIIHH", 0x8664 if plus else 0x14C, 1, 0, 0, 0, len(opt), 0x22 if plus else 0x102)
    sect = struct.pack("<8sIIIIIIHHI", b".text", 0x10, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    dos = bytearray(64); dos[0:2] = b"MZ"; dos[0x3C:0x40] = struct.pack("<I", 64)
    head = bytes(dos) + b"PE\0\0" + coff + opt + sect
    return head.ljust(0x200, b"\0") + (b"\x31\xc0\xc3").ljust(0x200, b"\0")
open(sys.argv[1] + "/tiny32.exe", "wb").write(pe(32))
open(sys.argv[1] + "/tiny64.exe", "wb").write(pe(64))
PY

# Sign them, the fixture's NSIS installer and MSI with signgate (timestamped
# by the fixture's TSA), and nest ours on a vendor-signed tiny PE: the audit
# log receives sign and deny records, then a seal.
new_env
config_set audit_log '"audit/audit.log"'
LOG=$T/env/audit/audit.log
config_set_signing timestamp_urls "[\"$tsa\"]"
config_set audit_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$PKI/seal.pass\"}"
osslsigncode sign -h sha256 -certs "$FIX/vendor/vendor.pem" -key "$FIX/vendor/vendor.key" \
	-in "$T/tiny32.exe" -out "$T/vendor32.exe" >/dev/null
cp "$INST/hello-1.0.msi" "$INST/other-setup.exe" "$T/"
approval tiny32 tiny32.exe "$(sha256 "$T/tiny32.exe")" ', "description": "Tiny", "url": "https://example.invalid/tiny"'
approval tiny64 tiny64.exe "$(sha256 "$T/tiny64.exe")"
approval vendor32 vendor32.exe "$(sha256 "$T/vendor32.exe")" ', "existing_signature": "nest"'
approval msi hello-1.0.msi "$(sha256 "$T/hello-1.0.msi")"
cp "$INST/hello-1.0.cab" "$T/"
approval cab hello-1.0.cab "$(sha256 "$T/hello-1.0.cab")"
mkdir -p "$T/signed"
for f in tiny32.exe tiny64.exe vendor32.exe hello-1.0.msi hello-1.0.cab; do
	sg 0 sign --config "$CFG" --out-dir "$T/signed" "$T/$f"
done
sg 3 sign --config "$CFG" --out-dir "$T/signed" "$T/other-setup.exe"
sg 0 audit seal --config "$CFG"
sg 0 sign --config "$CFG" --force --out-dir "$T/signed" "$T/tiny64.exe"
sg 0 audit seal --config "$CFG"

# pe, msi: the installers as they come and as signed.
cp "$T/tiny32.exe" "$T/tiny64.exe" "$T/vendor32.exe" "$C/pe/"
cp "$T/signed/tiny32.exe" "$C/pe/signed-tiny32.exe"
cp "$T/signed/vendor32.exe" "$C/pe/nested-vendor32.exe"
cp "$INST/hello-setup.exe" "$C/pe/nsis-hello-setup.exe"
cp "$INST/hello-1.0.msi" "$C/msi/wixl-hello.msi"
cp "$INST/vendor-signed-hello-1.0.msi" "$C/msi/vendor-signed-hello.msi"
cp "$T/signed/hello-1.0.msi" "$C/msi/signed-hello.msi"
cp "$INST/truncated.msi" "$C/msi/truncated.msi"
# cab: gcab's (stored; MSZIP with paths), vendor-signed, signed by signgate.
cp "$INST/hello-1.0.cab" "$C/cab/gcab-hello.cab"
cp "$INST/payload-2.0.cab" "$C/cab/gcab-payload.cab"
cp "$INST/vendor-signed-hello-1.0.cab" "$C/cab/vendor-signed-hello.cab"
cp "$T/signed/hello-1.0.cab" "$C/cab/signed-hello.cab"

# signed, authenticode: each signature alone (the DER osslsigncode extracts)
# with its options byte, and with the file that carries it.
for f in tiny32.exe vendor32.exe hello-1.0.msi hello-1.0.cab; do
	osslsigncode extract-signature -in "$T/signed/$f" -out "$T/$f.der" >/dev/null
	/usr/bin/python3 - "$T/$f.der" "$T/signed/$f" "$C/signed/$f.bin" "$C/authenticode/$f" <<'PY'
import sys
der, signed = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(len(der).to_bytes(2, "big") + der + signed)
msi, cab = sys.argv[2].endswith(".msi"), sys.argv[2].endswith(".cab")
for opts in (0x00, 0x08 | 0x10, 0x01, 0x02):
    opts |= 0x04 if msi else 0x20 if cab else 0
    open("%s-%02x.der" % (sys.argv[4], opts), "wb").write(bytes([opts]) + der)
PY
done

# manifest: each vendor format, behind the byte that picks the manifest's name.
# Byte 6 names it checksums.txt (the algorithm from the digest's length), 0 SHA256SUMS.
for f in "$SG_SRC"/tests/fixtures/manifests/*; do
	case $f in *.md | *.sh) continue ;; esac
	{ printf '\x06'; cat "$f"; } >"$C/manifest/${f##*/}"
done
{ printf '\x00'; cat "$SG_SRC/tests/fixtures/manifests/SHA256SUMS"; } >"$C/manifest/named-SHA256SUMS"

# openpgp: keyrings (even first byte) and gpgv's status lines (odd).
echo "release 1.0" >"$T/release.txt"
bash "$SG_SRC/tests/fixtures/make-openpgp.sh" "$T/gpg" "$T/release.txt" >/dev/null
for k in KEYS vendor.gpg other.asc; do { printf '\x00'; cat "$T/gpg/$k"; } >"$C/openpgp/keyring-$k"; done
for s in release.txt.sig release.txt.asc; do
	gpgv --homedir "$T/gpg" --status-fd 1 --keyring "$T/gpg/vendor.gpg" "$T/$s" "$T/release.txt" \
		>"$T/status" 2>/dev/null || true
	{ printf '\x01'; cat "$T/status"; } >"$C/openpgp/status-good-${s##*.}"
done
echo "release 1.1" >"$T/release.txt"
gpgv --homedir "$T/gpg" --status-fd 1 --keyring "$T/gpg/vendor.gpg" "$T/release.txt.sig" "$T/release.txt" \
	>"$T/status" 2>/dev/null || true
{ printf '\x03'; cat "$T/status"; } >"$C/openpgp/status-bad"

# policy, policy_index: the example policy and catalog, the test approvals,
# and the index signgate writes for data/policy-index.json.
cp "$SG_SRC/policy/example-policy.json" "$C/policy/"
cp "$SG_SRC/policy/catalog.json" "$C/policy/"
cp "$D/policy-index.json" "$C/policy/"
for f in "$T"/env/policy/*.json; do cp "$f" "$C/policy/approval-${f##*/}"; done
SG_FUZZ_WRITE_SEED=$C/policy_index/index "$SG_FUZZ_BIN/fuzz_policy_index" -runs=0 >/dev/null 2>&1

# audit: each record of the log; seal: the seals file, and as syslog lines.
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" >"$C/audit/record-$n"
done <"$LOG"
cp "$LOG.seals" "$C/seal/audit.log.seals"
sed 's/^/Dec  3 12:00:00 host signgate[42]: audit-seal /' "$LOG.seals" >"$C/seal/syslog"

# config: the fixture's configs and this run's.
cp "$PKI/signgate.json" "$C/config/fixture.json"
cp "$PKI/signgate-pkcs11.json" "$C/config/pkcs11.json"
cp "$CFG" "$C/config/corpus-run.json"

# script: a PowerShell script in each encoding signgate takes, unsigned,
# signed with a timestamp, and nested (tests/fuzz/make-script-seeds.sh).
bash "$src/make-script-seeds.sh" "$C/script" "$PKI" "$tsa"

# keyhelper: a request of each kind, as signgate encodes them (wire version 2:
# the kind is the format's row number in format_table.c: 1 pe, 2 msi, 7 powershell).
/usr/bin/python3 - "$C/keyhelper" <<'PY'
import sys
def req(kind, desc=b"", url=b""):
    return (b"SGKH" + bytes([2, kind, 1, 32]) + bytes(range(32)) +
            len(desc).to_bytes(2, "big") + desc + len(url).to_bytes(2, "big") + url)
open(sys.argv[1] + "/pe", "wb").write(req(1))
open(sys.argv[1] + "/msi-texts", "wb").write(req(2, b"Hello Installer", b"https://example.invalid/hello"))
open(sys.argv[1] + "/script", "wb").write(req(7, b"Deploy wrapper"))
PY

# What the harnesses check against: the roots of these signatures, the sealing certificate.
cat "$PKI/root.pem" "$FIX/vendor/vendor.pem" >"$D/authenticode-ca.pem"
cp "$PKI/seal.pem" "$D/seal-cert.pem"
du -sh "$C"
