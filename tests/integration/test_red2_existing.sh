#!/usr/bin/env bash
# Red team R2: "already signed" games the count (sg_authenticode_count) lets
# through. README "Signed by the vendor: what counts" says a container that
# holds "a signature nobody can check" is denied as malformed under every
# rule. A SignedData with one signer over arbitrary content (no
# SpcIndirectData, self-made certificate) is such a signature, and so is a
# real vendor signature lifted from another file (its SpcIndirectData signs
# another file's digest): signgate's own Authenticode digest of the input
# shows it at no trust cost. Today both count as "signed by the vendor"
# (signed_before true, replace signs over them, refuse denies them as a
# readable existing signature, vendor_signs passes them).
# FAILS on 33e5803: case 1 and 2 are taken as vendor-signed.
. "$(dirname -- "$0")/lib.sh"

new_env
vpe=$INST/vendor-signed-hello-setup.exe


# 1. One signer, any content: a CMS over "hello" by a throw-away key.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 2 \
	-subj "/CN=Totally The Vendor" >/dev/null 2>&1
echo hello >"$T/content"
openssl cms -sign -binary -nodetach -outform DER -in "$T/content" -out "$T/one.der" \
	-signer "$T/c.pem" -inkey "$T/k.pem" -md sha256
put_table "$INST/hello-setup.exe" "$T/one.der" "$T/one-setup.exe"
# 2. The vendor's real signature on a PE it does not sign (one byte of code changed).
osslsigncode extract-signature -in "$vpe" -out "$T/vendor.der" >/dev/null 2>&1 ||
	fail "cannot extract the vendor's signature"
/usr/bin/python3 - "$INST/hello-setup.exe" "$T/other.exe" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0xff
open(sys.argv[2], "wb").write(b)
PY
put_table "$T/other.exe" "$T/vendor.der" "$T/lifted-setup.exe"

for k in one lifted; do
	f=$T/$k-setup.exe
	for rule in refuse replace nest; do
		rm -f "$T/env/policy/"*.json
		approval "$k" "$k-setup.exe" "$(sha256 "$f")" ", \"existing_signature\": \"$rule\""
		sg 3 sign --config "$CFG" --out "$T/o-$k-$rule.exe" "$f"
		expect_in "$T/out" "claims a signature signgate cannot read"
		expect_absent "$T/o-$k-$rule.exe"
		expect_same "$(audit_field 0 decision)" denied
		expect_same "$(audit_field 0 status)" format
	done
done
done_ok
