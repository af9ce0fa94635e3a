#!/usr/bin/env bash
# cert export's import script (issue 16, red team B finding 8), checked as
# text only: no Windows here, the script is never run by this test. Each
# Test-Cer line carries the SHA-256 of the exact bytes of its .cer; the
# script reads each file once (ReadAllBytes), compares Get-FileHash of those
# bytes, builds the checked certificate from them and adds that object to
# the store (X509Store.Add), never Import-Certificate (which re-reads the
# file and imports every certificate of a PKCS#7).
. "$(dirname -- "$0")/lib.sh"

cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
sg 0 cert export --cert "$T/leaf-chain.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem" --out-dir "$T/d"
ps1=$T/d/import-signgate-trust.ps1
tr -d '\r' <"$ps1" >"$T/ps1"

n=0
for f in "$T"/d/*.cer; do
	name=${f##*/}
	sha=$(sha256sum "$f" | cut -d' ' -f1 | tr a-f A-F)
	tp=$(openssl x509 -inform DER -in "$f" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
	expect_in "$T/ps1" "Test-Cer '$name' '$tp' '$sha'"
	expect_same "$(grep -c "^Test-Cer '$name' " "$T/ps1")" 1
	n=$((n + 1))
done
expect_same "$n" 3
expect_same "$(grep -c "^Test-Cer " "$T/ps1")" 3

# One read per file; hash and certificate from the same bytes; the checked object imported.
expect_same "$(grep -c 'ReadAllBytes' "$T/ps1")" 1
expect_in "$T/ps1" '$hash = (Get-FileHash -Algorithm SHA256 -InputStream ([System.IO.MemoryStream]::new($bytes))).Hash'
expect_in "$T/ps1" 'X509Certificate2]::new($bytes)'
expect_in "$T/ps1" '$script:checked[$File] = $cert'
expect_in "$T/ps1" 'try { $s.Add($cert) } finally { $s.Close() }'
if grep -q 'Import-Certificate' "$T/ps1"; then fail "the script still calls Import-Certificate"; fi
ok
if grep -q 'X509Certificate2 \$path\|X509Certificate2]::new(\$path' "$T/ps1"; then
	fail "the script loads a certificate from the path"
fi
ok
# Every Test-Cer still comes before the first Import-Cer.
expect_same "$(grep -n "^Test-Cer\|^Import-Cer" "$T/ps1" | cut -d: -f2 | cut -c1-8 | uniq | tr '\n' ' ')" "Test-Cer Import-C "
done_ok
