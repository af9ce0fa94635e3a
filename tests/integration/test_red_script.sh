#!/usr/bin/env bash
# Red team of the PowerShell script row (issue 14): what a vendor controls in
# a script and what the signing path does with it.
#  - a 1-3 byte script: osslsigncode (helpers.c get_file_size) refuses any
#    file under 4 bytes, so signgate's structure check denies it first;
#  - a signed UTF-8-with-BOM script re-encoded to UTF-16LE (text and block)
#    keeps its Authenticode digest, so our signature still verifies on it:
#    `verify` says valid, but `sign` must not skip it as "already signed and
#    approved" (the audit log has no signing record of those bytes);
#  - a script that merely mentions the marker text (in a string, lower
#    case) is refused: a false positive signgate accepts for safety;
#  - a signature does not bind the extension: an approved .psd1 (a data
#    file) must not come out under a .ps1 name (refused), though a signed
#    script stays valid under any script name (documented in README).
. "$(dirname -- "$0")/lib.sh"

D=$T/in
mkdir -p "$D"
new_env ""

# 1. Tiny script: denied by the structure check before osslsigncode sees it.
printf 'ls\n' >"$D/tiny.ps1"
approval tiny tiny.ps1 "$(sha256 "$D/tiny.ps1")"
sg 3 sign --config "$CFG" --out-dir "$T/o1" "$D/tiny.ps1"
expect_in "$T/out" "denied   $D/tiny.ps1: "
expect_in "$T/out" "tiny.ps1: 3 bytes: too short for a script signgate signs (at least 4)"
expect_absent "$T/o1/tiny.ps1"

# 2. Re-encoded signed script: same digest, other bytes.
printf '\xef\xbb\xbfWrite-Host "caf\xc3\xa9"\r\n' >"$D/enc.ps1"
approval enc enc.ps1 "$(sha256 "$D/enc.ps1")"
sg 0 sign --config "$CFG" --out-dir "$T/o2" "$D/enc.ps1"
/usr/bin/python3 -c 'import sys; open(sys.argv[2], "wb").write(open(sys.argv[1], "rb").read().decode("utf-8-sig").encode("utf-16-le").join([b"\xff\xfe", b""]))' \
	"$T/o2/enc.ps1" "$T/enc16.ps1"
[ "$(head -c 2 "$T/enc16.ps1" | od -An -tx1 | tr -d ' ')" = fffe ] || fail "not re-encoded"
ok
sg 0 verify --config "$CFG" "$T/enc16.ps1"
expect_in "$T/out" "valid    $T/enc16.ps1: valid: signed by"
mkdir -p "$T/d2" && cp "$T/enc16.ps1" "$T/d2/enc.ps1"
sg 3 sign --config "$CFG" --out-dir "$T/o3" "$T/d2/enc.ps1"
expect_in "$T/out" "but the audit log holds no signing record of this file (SHA-256 $(sha256 "$T/enc16.ps1"))"
expect_absent "$T/o3/enc.ps1"

# 3. The marker text in a string.
printf '$c = $c -replace "(?s)# sig # begin signature block.*", ""\r\n' >"$D/strip.ps1"
approval strip strip.ps1 "$(sha256 "$D/strip.ps1")"
sg 3 sign --config "$CFG" --out-dir "$T/o4" "$D/strip.ps1"
expect_in "$T/out" "strip.ps1: a signature block without its end: \"SIG # Begin signature block\" at offset 24"

# 4. .psd1 approved, signed as .ps1.
printf '@{ ModuleVersion = "1.0" }\r\n' >"$D/Data.psd1"
approval data Data.psd1 "$(sha256 "$D/Data.psd1")"
sg 2 sign --config "$CFG" --out "$T/Data.ps1" "$D/Data.psd1"
expect_in "$T/out" "Data.psd1: a powershell file is known by its extension (.psd1) only: the output must keep that extension, not name it Data.ps1"
expect_absent "$T/Data.ps1"
sg 0 sign --config "$CFG" --out "$T/Data.psd1" "$D/Data.psd1"
expect_in "$T/out" "signed   $D/Data.psd1 -> $T/Data.psd1 (approval data"
# The same signature holds under any script name: the digest is of the text only.
cp "$T/Data.psd1" "$T/Data.psm1"
sg 0 verify --config "$CFG" "$T/Data.psm1"
expect_in "$T/out" "valid    $T/Data.psm1"
done_ok
