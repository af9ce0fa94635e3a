#!/usr/bin/env bash
# signgate timestamp on every format signgate signs: each is signed while the
# TSA is down, then timestamped; the output verifies with its timestamp
# (signgate and osslsigncode), its signature is the input's plus the token,
# the input is untouched and the record names both digests. A script keeps
# its extension.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"

new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 20, \"certificate\": \"$PKI/signer.pem\""
mkdir -p "$T/in"
files="hello-1.0.msi hello-1.0.msp hello-1.0.msm hello-1.0.mst hello-1.0.cab deploy.ps1"
for f in hello-1.0.msi hello-1.0.msp hello-1.0.msm hello-1.0.mst hello-1.0.cab; do
	cp "$INST/$f" "$T/in/$f"
done
printf 'param([string]$Name = "world")\r\nWrite-Host "Hello, $Name"\r\n' >"$T/in/deploy.ps1"
for f in $files; do
	approval "a-${f//./-}" "$f" "$(sha256 "$T/in/$f")"
done
paths=()
for f in $files; do paths+=("$T/in/$f"); done
sg 0 sign --config "$CFG" --out-dir "$T/signed" "${paths[@]}"
[ "$(grep -c ', no timestamp)' "$T/out")" -eq 6 ] || fail "not six signed without a timestamp"
ok
declare -A before
signed=()
for f in $files; do
	before[$f]=$(sha256 "$T/signed/$f")
	signed+=("$T/signed/$f")
done

config_set_signing timestamp_urls "[\"$good\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "${signed[@]}"
expect_in "$T/err" "signgate: note: 6 files got a new SHA-256 and SHA-1"
for f in $files; do
	expect_in "$T/out" "timestamped $T/signed/$f: timestamped as $T/ts/$f (timestamp "
	expect_same "$(sha256 "$T/signed/$f")" "${before[$f]}"
	[ "$(sha256 "$T/ts/$f")" != "${before[$f]}" ] || fail "$f: the output has the input's SHA-256"
	ok
done
# One record per file with both digests, in the order given.
/usr/bin/python3 - "$LOG" "$T" $files <<'PY' || fail "the timestamp records do not match the files"
import hashlib, json, sys
log, t, files = sys.argv[1], sys.argv[2], sys.argv[3:]
recs = [json.loads(l) for l in open(log)]
recs = [r for r in recs if r["action"] == "timestamp"]
assert len(recs) == len(files), len(recs)
digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
for r, f in zip(recs, files):
    assert r["decision"] == "timestamped", r
    assert r["input"]["sha256"] == digest(f"{t}/signed/{f}"), f
    assert r["output"]["sha256"] == digest(f"{t}/ts/{f}"), f
    assert r["timestamping"]["replaces_sha256"] == r["input"]["sha256"]
    assert r["signature"]["timestamp"], f
    assert r["signature"]["signatures"] == 1, f
PY
ok
expect_same "$(audit_field 0 input.format)" powershell
expect_same "$(audit_field 0 timestamping.attached_by)" "osslsigncode attach-signature"
sg 0 verify --config "$CFG" --json "$T/ts/hello-1.0.msi" "$T/ts/hello-1.0.msp" "$T/ts/hello-1.0.msm" \
	"$T/ts/hello-1.0.mst" "$T/ts/hello-1.0.cab" "$T/ts/deploy.ps1"
[ "$(grep -c '"timestamp":"20' "$T/out")" -eq 6 ] || fail "not six timestamps in verify's output"
ok
for f in $files; do
	osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" \
		-TSA-CRLfile "$PKI/crl.pem" -in "$T/ts/$f" >"$T/ov" 2>&1 || fail "osslsigncode verify of $f: $(cat "$T/ov")"
	expect_in "$T/ov" "Timestamp Server Signature verification: ok"
	expect_in "$T/ov" "Signature Index: 0  (Primary Signature)"
	expect_not_in "$T/ov" "Signature Index: 1"
	expect_in "$T/ov" "Signature verification: ok"
done
# Timestamped already: skipped, for every format.
sg 0 timestamp --config "$CFG" --out-dir "$T/again" "$T/ts/hello-1.0.msi" "$T/ts/hello-1.0.cab" "$T/ts/deploy.ps1"
[ "$(grep -c '^skipped  .*: timestamped already' "$T/out")" -eq 3 ] || fail "not three skipped"
ok
expect_absent "$T/again/hello-1.0.msi"
# The same step again: each output is its input timestamped already.
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "${signed[@]}"
[ "$(grep -c '^skipped  .* is this input timestamped already (timestamp ' "$T/out")" -eq 6 ] ||
	fail "a re-run did not skip all six"
ok
# A script's output keeps its extension.
sg 2 timestamp --config "$CFG" --out "$T/ts/deploy.txt" "$T/signed/deploy.ps1"
expect_in "$T/out" "deploy.ps1: a file known by its extension (.ps1) only must keep it"
expect_absent "$T/ts/deploy.txt"
sg 0 audit verify --config "$CFG"
done_ok
