#!/usr/bin/env bash
# The PE digest the key helper signs is taken by the pass that writes the
# private copy (sg_pe_stream), which keeps only the first 64 KiB of headers.
# PEs whose headers end exactly at that edge, one byte past it, and far
# beyond it (a real NSIS stub with its headers moved) are signed, and what
# was signed is the digest osslsigncode calculates over the output: the
# streamed digest where the headers fit, the copy read again where not.
. "$(dirname -- "$0")/lib.sh"

stub=/usr/share/nsis/Stubs/lzma-x86-unicode
mkdir -p "$T/in"
# A PE32's certificate directory entry ends at e_lfanew + 24 + 96 + 40.
for v in edge:65376 past:65377 far:0x11000; do
	/usr/bin/python3 "$SG_SRC/tests/integration/pe_move_headers.py" "$stub" "$T/in/${v%%:*}.exe" "${v##*:}" ||
		fail "cannot move the headers of the stub to ${v##*:}"
done
expect_same "$(od -An -tu4 -j60 -N4 "$T/in/edge.exe" | tr -d ' ')" 65376
ok

new_env
for f in edge past far; do
	approval "a-$f" "$f.exe" "$(sha256 "$T/in/$f.exe")"
done
sg 0 sign --config "$CFG" --out-dir "$T/o" "$T/in/edge.exe" "$T/in/past.exe" "$T/in/far.exe"
for f in edge past far; do
	expect_in "$T/out" "signed   $T/in/$f.exe -> $T/o/$f.exe"
	osslsigncode verify -CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" \
		-in "$T/o/$f.exe" >"$T/ov" 2>&1 || fail "osslsigncode verify failed on $f.exe: $(tail -5 "$T/ov")"
	expect_in "$T/ov" "Signature verification: ok"
	# The digest signed is the one osslsigncode calculates over the output.
	calc=$(sed -n 's/^Calculated message digest *: *//p' "$T/ov" | tr -d ' \r' | tr a-f A-F)
	signed=$(/usr/bin/python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("decision") == "signed" and r["input"]["path"].endswith("/" + sys.argv[2]):
        print(r["signature"]["signed_digest"].upper())' "$LOG" "$f.exe")
	[ -n "$calc" ] || fail "no calculated digest for $f.exe"
	expect_same "$signed" "$calc"
	ok
done
sg 0 verify --config "$CFG" "$T/o/edge.exe" "$T/o/past.exe" "$T/o/far.exe"
expect_same "$(grep -c '^valid ' "$T/out")" 3
done_ok
