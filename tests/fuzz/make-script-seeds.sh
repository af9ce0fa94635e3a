#!/usr/bin/env bash
# make-script-seeds.sh DIR PKI TSA_URL: the seeds of fuzz_script, made by
# make-corpus.sh: a PowerShell script in each encoding signgate takes
# (ASCII, UTF-8 with BOM, UTF-16LE), unsigned, signed by osslsigncode with
# the fixture's signer and a timestamp, and with a nested signature.
set -euo pipefail
dir=${1:?usage: make-script-seeds.sh DIR PKI TSA_URL}
pki=${2:?}
tsa=${3:?}
mkdir -p -- "$dir"
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
printf 'param([string]$Name = "world")\r\nWrite-Host "Hello, $Name"\r\n' >"$work/ascii.ps1"
printf '\xef\xbb\xbf# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\nWrite-Host "\xc3\xa9"\n' >"$work/utf8bom.ps1"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "wb").write("\ufeff@{ Description = \"\u00dcbersicht \U0001F600\" }\r\n".encode("utf-16-le"))' \
	"$work/utf16.ps1"
for f in ascii utf8bom utf16; do
	cp "$work/$f.ps1" "$dir/$f.ps1"
	osslsigncode sign -h sha256 -pkcs12 "$pki/signer.p12" -readpass "$pki/signer.pass" \
		-ts "$tsa" -in "$work/$f.ps1" -out "$work/signed-$f.ps1" >/dev/null
	cp "$work/signed-$f.ps1" "$dir/signed-$f.ps1"
done
osslsigncode sign -h sha256 -nest -pkcs12 "$pki/signer.p12" -readpass "$pki/signer.pass" \
	-in "$work/signed-ascii.ps1" -out "$dir/nested-ascii.ps1" >/dev/null
