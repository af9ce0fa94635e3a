#!/usr/bin/env bash
# PowerShell scripts through the whole path: a .ps1 (ASCII), a .psm1 (UTF-8
# with BOM, non-ASCII) and a .psd1 (UTF-16LE) written here; approved with
# `policy approve` (a vendor SHA256SUMS); `sign --recursive` picks them up
# (and nothing else in the folder) and signs them with a timestamp through
# the key helper and a keyless osslsigncode attach; osslsigncode verify and
# signgate verify accept them, the encoding is kept and the script text is
# unchanged; a re-run skips them as already signed; vendor-signed scripts
# are refused or replaced as the approval says, never nested; refused encodings
# and hostile signature blocks are denied or invalid with the reason.
. "$(dirname -- "$0")/lib.sh"

tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
V=$FIX/vendor
D=$T/in
mkdir -p "$D/sub"
printf 'param([string]$Name = "world")\r\nWrite-Host "Hello, $Name"\r\n' >"$D/deploy.ps1"
printf '\xef\xbb\xbffunction Get-Caf\xc3\xa9 { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" }\nExport-ModuleMember -Function Get-Caf\xc3\xa9\n' \
	>"$D/sub/Tools.psm1"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "wb").write("\ufeff@{ ModuleVersion = \"1.0\"; Description = \"\u00dcbersicht \u20ac\" }\r\n".encode("utf-16-le"))' \
	"$D/sub/Tools.psd1"
printf 'Write-Host "not taken"\r\n' >"$D/notes.txt"
ln -s "$D/deploy.ps1" "$D/link.ps1"
ok

new_env ", \"timestamp_urls\": [\"$tsa\"]"
POL=$T/env/policy
(cd "$D" && sha256sum deploy.ps1 sub/Tools.psm1 sub/Tools.psd1 | sed 's| sub/| |' >"$T/SHA256SUMS")
for f in deploy.ps1 sub/Tools.psm1 sub/Tools.psd1; do
	sg 0 policy approve --config "$CFG" --vendor Example --ticket CHG-77 --product "Tools ${f##*.}" \
		--version 1.0 --not-in-catalog "test scripts (CHG-77)" --manifest "$T/SHA256SUMS" \
		--source https://example.invalid/ "$D/$f"
	expect_in "$T/out" "approved ${f##*/}: wrote $POL/"
done
expect_same "$(jq -r '.approvals[0].provenance.installer.format' "$POL"/tools-psd1-1.0.json)" powershell
expect_same "$(jq -r '.approvals[0].provenance.installer.signed' "$POL"/tools-psd1-1.0.json)" false

# --recursive: the three scripts, in name order; notes.txt and the link left out.
sg 0 sign --config "$CFG" --out-dir "$T/o" -r "$D"
expect_same "$(awk '{ print $1, $2 }' "$T/out" | tr '\n' ' ')" \
	"signed $D/deploy.ps1 signed $D/sub/Tools.psd1 signed $D/sub/Tools.psm1 "
expect_not_in "$T/out" "notes.txt"
expect_not_in "$T/out" "link.ps1"
for f in deploy.ps1 Tools.psm1 Tools.psd1; do
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp \
		-CRLfile "$PKI/crl.pem" -TSA-CRLfile "$PKI/crl.pem" -index 0 -in "$T/o/$f" >"$T/ov" 2>&1 ||
		fail "osslsigncode verify failed on $f: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
	expect_not_in "$T/ov" "MISMATCH"
done
# The record: format, the keyless attach, the digest signed is osslsigncode's calculated one.
/usr/bin/python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("decision") == "signed":
        print(r["input"]["path"].rsplit("/", 1)[1], r["input"]["format"], r["signature"]["attached_by"])' \
	"$LOG" >"$T/rec"
expect_in "$T/rec" "deploy.ps1 powershell osslsigncode attach-signature"
expect_in "$T/rec" "Tools.psm1 powershell osslsigncode attach-signature"
expect_in "$T/rec" "Tools.psd1 powershell osslsigncode attach-signature"
sg 0 verify --config "$CFG" "$T/o/deploy.ps1" "$T/o/Tools.psm1" "$T/o/Tools.psd1"
expect_same "$(grep -c '^valid ' "$T/out")" 3

# The script text is unchanged, in its encoding, and the block follows it in that encoding.
for f in deploy.ps1 sub/Tools.psm1 sub/Tools.psd1; do
	n=$(stat -c %s "$D/$f")
	cmp -n "$n" "$D/$f" "$T/o/${f##*/}" || fail "${f##*/}: the script text changed"
	ok
done
head -c 2 "$T/o/Tools.psd1" | od -An -tx1 | grep -q 'ff fe' || fail "Tools.psd1 lost its BOM"
tail -c 60 "$T/o/Tools.psd1" | iconv -f UTF-16LE -t UTF-8 | grep -q "SIG # End signature block" ||
	fail "Tools.psd1: its block is not UTF-16LE"
tail -c 29 "$T/o/deploy.ps1" | od -c | grep -q '\\r  \\n' || fail "deploy.ps1: the block does not end with CRLF"
ok

# Already signed: a re-run skips them, tracing each to the vendor script.
sg 0 sign --config "$CFG" --out-dir "$T/again" "$T/o/deploy.ps1" "$T/o/Tools.psd1"
expect_in "$T/out" "skipped  $T/o/deploy.ps1: already signed: it carries our valid signature"
expect_in "$T/out" "signed from deploy.ps1 (SHA-256 $(sha256 "$D/deploy.ps1")"
expect_in "$T/out" "skipped  $T/o/Tools.psd1: already signed"
expect_absent "$T/again/deploy.ps1"

# A tampered signed script (one character of the text): invalid, the digests named.
sed 's/Hello, /Hallo, /' "$T/o/deploy.ps1" >"$T/tampered.ps1"
sg 3 verify --config "$CFG" "$T/tampered.ps1"
expect_in "$T/out" "invalid  $T/tampered.ps1: tampered.ps1: signature 0: the file's digest does not match the signed value (the file was changed after signing): signgate computed "
# Text hidden after the block, a second block: refused by the structure check: invalid.
{ cat "$T/o/deploy.ps1"; printf 'Remove-Item C:\\\\ -Recurse\r\n'; } >"$T/after.ps1"
sg 3 verify --config "$CFG" "$T/after.ps1"
expect_in "$T/out" "invalid  $T/after.ps1: after.ps1: text after the signature block: \"SIG # End signature block\" (offset"
{ cat "$T/o/deploy.ps1"; tail -c +$(($(stat -c %s "$D/deploy.ps1") + 1)) "$T/o/deploy.ps1"; } >"$T/two.ps1"
sg 3 verify --config "$CFG" "$T/two.ps1"
expect_in "$T/out" "invalid  $T/two.ps1: two.ps1: more than one signature block: a second \"SIG # Begin signature block\""
# The same hidden text in an input to sign: denied before anything else reads it.
cp "$T/after.ps1" "$T/in-after.ps1"
approval after in-after.ps1 "$(sha256 "$T/in-after.ps1")" ', "existing_signature": "replace"'
sg 3 sign --config "$CFG" --out-dir "$T/o2" "$T/in-after.ps1"
expect_in "$T/out" "denied   $T/in-after.ps1: in-after.ps1: text after the signature block"
expect_absent "$T/o2/in-after.ps1"

# Encodings signgate refuses, with the reason; nothing written.
printf 'Write-Host "caf\xc3\xa9"\r\n' >"$T/nobom.ps1"
printf '\xfe\xff\0W\0r' >"$T/be.ps1"
printf 'W\0r\0i\0t\0e\0' >"$T/nobom16.ps1"
printf '\xef\xbb\xbfWrite-Host "\xc0\xaf"\r\n' >"$T/overlong.ps1"
for f in nobom.ps1 be.ps1 nobom16.ps1 overlong.ps1; do
	approval "e-${f%%.*}" "$f" "$(sha256 "$T/$f")"
done
sg 3 sign --config "$CFG" --out-dir "$T/o3" "$T/nobom.ps1" "$T/be.ps1" "$T/nobom16.ps1" "$T/overlong.ps1"
expect_in "$T/out" "nobom.ps1: byte 0xc3 at offset 15 is not ASCII, and the file has no byte order mark"
expect_in "$T/out" "be.ps1: UTF-16BE (byte order mark FE FF) is not supported"
expect_in "$T/out" "nobom16.ps1: a NUL character at offset 1 (UTF-16 without a byte order mark?"
expect_in "$T/out" "overlong.ps1: invalid UTF-8 at offset 15: an overlong encoding"
[ -z "$(ls -A "$T/o3" 2>/dev/null)" ] || fail "a refused script was written"
ok
# An output name without a script extension: refused (osslsigncode and Windows go by it).
sg 2 sign --config "$CFG" --out "$T/deploy.txt" "$D/deploy.ps1"
expect_in "$T/out" "deploy.ps1: a powershell file is known by its extension (.ps1) only: the output must keep that extension, not name it deploy.txt"
expect_absent "$T/deploy.txt"

# Vendor-signed scripts: refuse (default), replace; nest is refused.
osslsigncode sign -h sha256 -certs "$V/vendor.pem" -key "$V/vendor.key" \
	-in "$D/deploy.ps1" -out "$T/vendor.ps1" >/dev/null || fail "cannot vendor-sign"
vsha=$(sha256 "$T/vendor.ps1")
approval vendor vendor.ps1 "$vsha"
sg 3 sign --config "$CFG" --out-dir "$T/v" "$T/vendor.ps1"
expect_in "$T/out" "input already carries an Authenticode signature and approval vendor says existing_signature=refuse"
approval vendor vendor.ps1 "$vsha" ', "existing_signature": "replace"'
sg 0 sign --config "$CFG" --out-dir "$T/v" "$T/vendor.ps1"
osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" \
	-TSA-CRLfile "$PKI/crl.pem" -in "$T/v/vendor.ps1" >"$T/ov" 2>&1 || fail "replaced: osslsigncode verify"
expect_in "$T/ov" "Number of verified signatures: 1"
expect_not_in "$T/ov" "Vendor Test Code Signing"
sg 0 verify --config "$CFG" "$T/v/vendor.ps1"
# nest: PowerShell checks only the one block, so a nested signature would
# never be checked; the approval's nest is refused for a script (issue 14 red team).
approval vendor vendor.ps1 "$vsha" ', "existing_signature": "nest"'
sg 3 sign --config "$CFG" --out "$T/nested.ps1" "$T/vendor.ps1"
expect_in "$T/out" "approval vendor says existing_signature=nest, but PowerShell checks only a script's one signature block: a nested signature would never be checked (use replace or refuse)"
expect_absent "$T/nested.ps1"
expect_same "$(sha256 "$T/vendor.ps1")" "$vsha"
done_ok
