#!/usr/bin/env bash
# Every kind of input the key-helper path signs (issue 12), timestamped by a
# TSA on 127.0.0.1, comes out valid for both osslsigncode verify and
# signgate verify: unsigned PE32 and PE32+ (an NSIS installer, the NSIS
# stubs Debian ships, a PE with an overlay of odd length), an MSI, and
# vendor-signed PE and MSI (with and without MsiDigitalSignatureEx) under
# `replace` and `nest`. The record says who attached the signature: signgate
# itself for a PE it signs whole, a keyless osslsigncode otherwise.
. "$(dirname -- "$0")/lib.sh"

tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
V=$FIX/vendor
mkdir -p "$T/in"
cp "$INST/hello-setup.exe" "$INST/hello-1.0.msi" "$T/in/"
cp /usr/share/nsis/Stubs/lzma-x86-unicode "$T/in/stub32.exe"
cp /usr/share/nsis/Stubs/lzma-amd64-unicode "$T/in/stub64.exe"
{ cat /usr/share/nsis/Stubs/lzma-amd64-unicode; printf 'an overlay of 29 odd bytes...'; } >"$T/in/overlay64.exe"
[ $(($(stat -c %s "$T/in/overlay64.exe") % 8)) -ne 0 ] || fail "the overlay input is 8-aligned"
# Vendor-signed inputs: a PE, an MSI, and an MSI with MsiDigitalSignatureEx.
cp "$INST/vendor-signed-hello-setup.exe" "$T/in/vpe.exe"
cp "$INST/vendor-signed-hello-1.0.msi" "$T/in/vmsi.msi"
osslsigncode sign -h sha256 -add-msi-dse -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$INST/hello-1.0.msi" -out "$T/in/vdse.msi" >/dev/null || fail "cannot make the DSE MSI"
msiinfo streams "$T/in/vdse.msi" 2>/dev/null | grep -q MsiDigitalSignatureEx ||
	/usr/bin/python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if "MsiDigitalSignatureEx".encode("utf-16-le")[2:] in d else 1)' "$T/in/vdse.msi" ||
	fail "the DSE MSI has no MsiDigitalSignatureEx stream"
ok

# over FILE INDEX: osslsigncode verifies signature INDEX of FILE, with its timestamp.
over() {
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp \
		-CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -index "$2" -in "$1" >"$T/ov" 2>&1 ||
		fail "osslsigncode verify -index $2 failed on ${1##*/}: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
	expect_not_in "$T/ov" "verification: failed"
}

new_env ", \"timestamp_urls\": [\"$tsa\"]"
for f in hello-setup.exe stub32.exe stub64.exe overlay64.exe hello-1.0.msi; do
	approval "a-${f%%.*}" "$f" "$(sha256 "$T/in/$f")"
done
for f in vpe.exe vmsi.msi vdse.msi; do
	approval "a-${f%%.*}" "$f" "$(sha256 "$T/in/$f")" ', "existing_signature": "replace"'
done
sg 0 sign --config "$CFG" --out-dir "$T/o" "$T/in"/*
n=0
for f in hello-setup.exe stub32.exe stub64.exe overlay64.exe hello-1.0.msi vpe.exe vmsi.msi vdse.msi; do
	n=$((n + 1))
	over "$T/o/$f" 0
	/usr/bin/python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("decision") == "signed" and r["input"]["path"].endswith("/" + sys.argv[2]):
        print(r["signature"]["attached_by"], r["signature"]["key_helper"]["signatures"])' "$LOG" "$f" >"$T/rec"
	case $f in
	*.exe) expect_in "$T/rec" "signgate " ;;
	*.msi) expect_in "$T/rec" "osslsigncode attach-signature " ;;
	esac
done
expect_same "$n" 8
# One key helper signed the eight, one digest each, and counted them.
expect_same "$(grep -c '"key_helper":{"key_source":"pkcs12","pid":' "$LOG")" 8
expect_in "$LOG" '"signatures":8}'
# PE32 and PE32+ both went through (the optional header's magic).
for f in stub32.exe:010b stub64.exe:020b; do
	off=$(od -An -tu4 -j60 -N4 "$T/o/${f%%:*}" | tr -d ' ')
	expect_same "$(od -An -tx2 -j$((off + 24)) -N2 "$T/o/${f%%:*}" | tr -d ' ')" "${f##*:}"
done
# replace: ours is the only signature; the DSE MSI lost the vendor's stream with it.
for f in vpe.exe vmsi.msi vdse.msi; do
	sg 0 verify --config "$CFG" --json "$T/o/$f"
	expect_in "$T/out" '"signatures":1'
	expect_in "$T/out" '"timestamp":"'
done
sg 0 verify --config "$CFG" "$T/o/hello-setup.exe" "$T/o/stub32.exe" "$T/o/stub64.exe" \
	"$T/o/overlay64.exe" "$T/o/hello-1.0.msi"
expect_same "$(grep -c '^valid ' "$T/out")" 5

# nest: the vendor's signature stays primary (and valid for the vendor's
# root), ours is appended as the last; the DSE MSI keeps its stream.
new_env ", \"timestamp_urls\": [\"$tsa\"]"
for f in vpe.exe vmsi.msi vdse.msi; do
	approval "a-${f%%.*}" "$f" "$(sha256 "$T/in/$f")" ', "existing_signature": "nest"'
done
sg 0 sign --config "$CFG" --out-dir "$T/n" "$T/in/vpe.exe" "$T/in/vmsi.msi" "$T/in/vdse.msi"
for f in vpe.exe vmsi.msi vdse.msi; do
	over "$T/n/$f" 1
	osslsigncode verify -CAfile "$V/vendor.pem" -ignore-cdp -index 0 -in "$T/n/$f" >"$T/ov" 2>&1 ||
		fail "the vendor's primary signature of $f no longer verifies: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	expect_in "$LOG" "\"attached_by\":\"osslsigncode attach-signature\""
done
/usr/bin/python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if "MsiDigitalSignatureEx".encode("utf-16-le")[2:] in d else 1)' "$T/n/vdse.msi" ||
	fail "nesting dropped MsiDigitalSignatureEx"
ok
done_ok
