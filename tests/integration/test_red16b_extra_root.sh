#!/usr/bin/env bash
# Red team B (issue 16): every certificate of trust.ca_file goes into
# LocalMachine\Root (root-<CN>.cer, Import-Cer ... Root, certutil -addstore
# Root, GPO, Intune, -dspublish RootCA, and signgate-chain.p7b), also an
# anchor that the signer's chain does not use. ca_file is signgate's own
# verification bundle; the Windows root store is machine-wide trust (TLS,
# everything). Expected: only the anchor of the verified chain is exported
# unless asked for explicitly. Fails on main 0637183.
. "$(dirname -- "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=Unrelated Interception Root" -addext "basicConstraints=critical,CA:TRUE" \
	-keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null
tp_other=$(openssl x509 -in "$T/other.pem" -noout -fingerprint -sha1 | sed 's/^[^=]*=//; s/://g')
cat "$PKI/root.pem" "$T/other.pem" >"$T/bundle.pem"
cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
sg 0 cert export --cert "$T/leaf-chain.pem" --ca "$T/bundle.pem" --crl "$PKI/crl.pem" --out-dir "$T/d"
expect_not_in "$T/d/import-signgate-trust.ps1" "$tp_other"
expect_not_in "$T/d/README.txt" "Unrelated Interception Root"
openssl pkcs7 -inform DER -in "$T/d/signgate-chain.p7b" -print_certs -noout >"$T/p7"
expect_not_in "$T/p7" "Unrelated Interception Root"
# Only root.cer, the chain's root; README.txt says one anchor was left out (fixer fc).
expect_same "$(ls "$T/d" | grep '^root' | tr '\n' ' ')" "root.cer "
expect_same "$(openssl x509 -inform DER -in "$T/d/root.cer")" "$(openssl x509 -in "$PKI/root.pem")"
expect_in "$T/d/README.txt" "Only the root of the signing certificate's chain is here: 1 other of the trust anchors signgate uses is left out (they are not for Windows"
done_ok
