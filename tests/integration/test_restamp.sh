#!/usr/bin/env bash
# signgate timestamp (issue 15): a PE signed while every TSA was down receives its
# timestamp later, without the key: the output verifies with the timestamp,
# its signature is the input's plus the token, the record names both digests
# and the TSAs, the input is untouched. Refusals write nothing: an unsigned
# file, another signer's file, a missing TSA; an output that exists needs
# --force; a file timestamped already is skipped; the chain verifies.
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"

# The key material in copies of this test's own: the password is made wrong
# before timestamping, which would fail if anything opened the key.
mkdir -p "$T/key"
cp "$PKI/signer.p12" "$T/key/signer.p12"
cp "$PKI/signer.pass" "$T/key/signer.pass"
chmod 0600 "$T/key/signer.p12" "$T/key/signer.pass"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 20, \"timestamp_retries\": 0, \"certificate\": \"$PKI/signer.pem\""
config_set_signing pkcs12 "\"$T/key/signer.p12\""
config_set_signing password_file "\"$T/key/signer.pass\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
expect_in "$T/out" ", no timestamp)"
in=$T/signed/hello-setup.exe
in_sha=$(sha256 "$in")
in_mtime=$(stat -c %Y.%i "$in")
printf 'not the password\n' >"$T/key/signer.pass"
mkdir "$T/one" # --out's folder (not $T, which holds the key)

# --- Timestamped: the TSA that is down first, then the one that answers.
config_set_signing timestamp_urls "[\"$down\", \"$good\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$in"
out=$T/ts/hello-setup.exe
out_sha=$(sha256 "$out")
expect_in "$T/out" "timestamped $in: timestamped as $out (timestamp $(date -u +%Y-%m-%d)T"
expect_in "$T/out" "from $good); its SHA-256 is now $out_sha (was $in_sha): remake any catalog or hash list made before"
expect_in "$T/err" "signgate: note: 1 file got a new SHA-256 and SHA-1: remake any catalog (sign --catalog-out)"
# The input is untouched: same bytes, same inode and time.
expect_same "$(sha256 "$in")" "$in_sha"
expect_same "$(stat -c %Y.%i "$in")" "$in_mtime"
[ "$out_sha" != "$in_sha" ] || fail "the output has the input's SHA-256"
ok
expect_same "$(stat -c %a "$out")" 644
# --out-dir made by the run: 0755 exactly (its outputs are 0644 to be shared), not the umask's 0700.
expect_same "$(stat -c %a "$T/ts")" 755
# The record: action, both digests, the TSA used and the one that failed, who.
expect_same "$(audit_field 0 action)" timestamp
expect_same "$(audit_field 0 decision)" timestamped
expect_same "$(audit_field 0 input.sha256)" "$in_sha"
expect_same "$(audit_field 0 output.sha256)" "$out_sha"
expect_same "$(audit_field 0 output.path)" "$out"
expect_same "$(audit_field 0 timestamping.replaces_sha256)" "$in_sha"
expect_same "$(audit_field 0 timestamping.tsa_tried)" 2
expect_same "$(audit_field 0 timestamping.attached_by)" signgate
# Traced to its signing record and decided again (B1): the vendor bytes it came from.
expect_same "$(audit_field 0 signed_from.input_sha256)" "$(sha256 "$INST/hello-setup.exe")"
expect_same "$(audit_field 0 signed_from.input_name)" hello-setup.exe
expect_same "$(audit_field 0 approval.id)" hello-exe
expect_same "$(audit_field 0 signature.tsa_url)" "$good"
expect_in "$LOG" "\"tsa_failures\":\"$down: no usable reply from the TSA: "
expect_same "$(audit_field 0 actor.user)" "$(id -un)"
expect_same "$(audit_field 0 actor.uid)" "$(id -u)"
expect_same "$(audit_field 0 signature.signer.sha256)" "$(openssl x509 -in "$PKI/signer.pem" -outform DER | sha256sum | cut -d' ' -f1)"
ts=$(audit_field 0 signature.timestamp)
[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "timestamp '$ts'"
ok
# Keyless: the run's confinement record names the fetcher, no key helper.
expect_not_in <(tail -n 1 "$LOG") '"key_helper"'
expect_in <(tail -n 1 "$LOG") '"timestamp":{'

# verify shows the timestamp; osslsigncode agrees, with the TSA's chain.
sg 0 verify --config "$CFG" --json "$out"
expect_in "$T/out" "\"timestamp\":\"$ts\""
sg 0 verify --config "$CFG" "$in"
expect_in "$T/out" "no timestamp"
osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-cdp -CRLfile "$PKI/crl.pem" \
	-TSA-CRLfile "$PKI/crl.pem" -in "$out" >"$T/ov" 2>&1 || fail "osslsigncode verify failed: $(cat "$T/ov")"
expect_in "$T/ov" "Timestamp Server Signature verification: ok"
# The same signature: the signer's signature value and signed attributes are
# the input's, only the unsigned attribute (the token) is new.
for f in "$in" "$out"; do
	osslsigncode extract-signature -in "$f" -out "$T/$(basename "$(dirname "$f")").der" >/dev/null 2>&1 ||
		fail "extract-signature of $f"
done
# part DER FROM TO: the first stretch of the printed PKCS#7 from FROM to TO (the signer's own).
part() { openssl pkcs7 -inform DER -in "$1" -print -noout 2>/dev/null | sed -n "/$2/,/$3/{p;/$3/q}"; }
expect_same "$(part "$T/ts.der" enc_digest: unauth_attr: | head -n -1)" "$(part "$T/signed.der" enc_digest: unauth_attr: | head -n -1)"
expect_same "$(part "$T/ts.der" auth_attr: enc_digest)" "$(part "$T/signed.der" auth_attr: enc_digest)"
[ -n "$(part "$T/ts.der" enc_digest: unauth_attr: | head -n -1)" ] || fail "no signature value printed"
ok

# --- Timestamped already: skipped, exit 0, nothing written, recorded.
sg 0 timestamp --config "$CFG" --out "$T/one/again.exe" "$out"
expect_in "$T/out" "skipped  $out: timestamped already ($ts): nothing to do, no output written"
expect_absent "$T/one/again.exe"
expect_same "$(audit_field 0 decision)" skipped
expect_not_in "$T/err" "note:"

# --- The output exists. A re-run finds this input timestamped there: skipped
# (exit 0, nothing written, the output's digests recorded).
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$in"
expect_in "$T/out" "skipped  $in: $out is this input timestamped already (timestamp $ts): nothing to do"
expect_same "$(sha256 "$out")" "$out_sha"
expect_same "$(audit_field 0 decision)" skipped
expect_same "$(audit_field 0 output.sha256)" "$out_sha"
expect_not_in "$T/err" "note:"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" --json "$in"
/usr/bin/python3 - "$T/out" "$in_sha" "$out_sha" <<'PY' || fail "--json: $(cat "$T/out")"
import json, sys
rec = json.loads(open(sys.argv[1]).read())
assert rec["action"] == "timestamp" and rec["decision"] == "skipped", rec
assert rec["exit_code"] == 0 and rec["audit_id"], rec
assert rec["input"]["sha256"] == sys.argv[2] and rec["output"]["sha256"] == sys.argv[3], rec
assert rec["signature"]["timestamp"], rec
PY
ok
# Anything else there (another file, the input itself copied, a tampered
# copy) is left alone without --force: a failed record.
mkdir -p "$T/ts2"
for other in "$INST/hello-setup.exe" "$in"; do
	cp "$other" "$T/ts2/hello-setup.exe"
	sg 1 timestamp --config "$CFG" --out-dir "$T/ts2" "$in"
	expect_in "$T/out" "failed   $in: $T/ts2/hello-setup.exe: exists already and is not this input timestamped (use --force to replace it)"
	expect_same "$(sha256 "$T/ts2/hello-setup.exe")" "$(sha256 "$other")"
	expect_same "$(audit_field 0 decision)" failed
done
/usr/bin/python3 - "$out" "$T/ts2/hello-setup.exe" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[0x200] ^= 1  # a byte of the image: the Authenticode digest changes
open(sys.argv[2], "wb").write(data)
PY
sg 1 timestamp --config "$CFG" --out-dir "$T/ts2" "$in"
expect_in "$T/out" "exists already and is not this input timestamped"
# A FIFO put there is not opened for reading (that would wait for a writer).
mkdir "$T/ts3"
mkfifo "$T/ts3/hello-setup.exe"
sg 1 timestamp --config "$CFG" --out-dir "$T/ts3" "$in"
expect_in "$T/out" "$T/ts3/hello-setup.exe: exists already and is not this input timestamped"
[ -p "$T/ts3/hello-setup.exe" ] || fail "the FIFO was replaced"
ok
# Keyless, seen from outside: no process of the run opens the key or its
# password file (strace, where it can trace and the build has no ASan, whose
# leak check does not run under ptrace; else the run alone).
if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null &&
	! readelf -s "$SG_BIN" 2>/dev/null | grep '__asan_init' >/dev/null; then
	strace -f -qq -e trace=open,openat,openat2 -o "$T/strace.txt" "$SG_BIN" timestamp --config "$CFG" \
		--out-dir "$T/ts" --force "$in" >"$T/out" 2>"$T/err" || fail "--force under strace: $(cat "$T/out")"
	expect_in "$T/strace.txt" "$in"
	expect_not_in "$T/strace.txt" "$T/key/signer.p12"
	expect_not_in "$T/strace.txt" "$T/key/signer.pass"
else
	sg 0 timestamp --config "$CFG" --out-dir "$T/ts" --force "$in"
fi
expect_in "$T/out" "timestamped $in: timestamped as $out"
sg 0 verify --config "$CFG" "$out"
expect_same "$(sha256 "$in")" "$in_sha"

# --- Refused: an unsigned file, another signer's file; nothing written.
sg 3 timestamp --config "$CFG" --out "$T/one/unsigned.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "denied   $INST/hello-setup.exe: hello-setup.exe: carries no Authenticode signature: nothing to timestamp"
expect_absent "$T/one/unsigned.exe"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(audit_field 0 action)" timestamp
sg 3 timestamp --config "$CFG" --out "$T/one/vendor.exe" "$INST/vendor-signed-hello-setup.exe"
expect_in "$T/out" "denied   $INST/vendor-signed-hello-setup.exe: vendor-signed-hello-setup.exe: not a valid signature of the configured signing certificate made by signgate, so it is not timestamped: "
expect_absent "$T/one/vendor.exe"
# Our signature nested under the vendor's: the primary is not ours, refused.
config_set_signing timestamp_urls "[\"$down\"]"
printf '%s\n' "$(cat "$PKI/signer.pass")" >"$T/key/signer.pass"
approval vendor-exe vendor-signed-hello-setup.exe "$(sha256 "$INST/vendor-signed-hello-setup.exe")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out-dir "$T/nested" "$INST/vendor-signed-hello-setup.exe"
printf 'not the password\n' >"$T/key/signer.pass"
config_set_signing timestamp_urls "[\"$down\", \"$good\"]"
nested=$T/nested/vendor-signed-hello-setup.exe
sg 3 timestamp --config "$CFG" --out "$T/one/nested.exe" "$nested"
expect_in "$T/out" "denied   $nested: vendor-signed-hello-setup.exe: not a valid signature of the configured signing certificate made by signgate"
expect_absent "$T/one/nested.exe"
# Not a file signgate knows at all.
sg 3 timestamp --config "$CFG" --out "$T/one/notes.txt" "$INST/notes.txt"
expect_absent "$T/one/notes.txt"
expect_same "$(audit_field 0 decision)" denied

# --- Every TSA down: exit 1, no output, the failure recorded with each TSA.
config_set_signing timestamp_urls "[\"$down\", \"http://127.0.0.1:9/tsr\"]"
sg 1 timestamp --config "$CFG" --out "$T/one/down.exe" "$in"
expect_in "$T/out" "failed   $in: hello-setup.exe: no TSA answered (2 tried): $down: "
expect_in "$T/out" "http://127.0.0.1:9/tsr"
expect_absent "$T/one/down.exe"
expect_same "$(audit_field 0 decision)" failed
expect_same "$(audit_field 0 input.sha256)" "$in_sha"
expect_in <(tail -n 1 "$LOG") "\"tsa_failures\":\"$down: no usable reply from the TSA: "
expect_in <(tail -n 1 "$LOG") "; http://127.0.0.1:9/tsr: the TSA did not answer: "
[ -z "$(ls -A "$T" | grep '^\.signgate-' || true)" ] || fail "a stage folder was left in $T"
ok

# --- A token whose TSA does not chain to trust.tsa_ca_file: the output does
# not verify, so it is "invalid" (exit 3) and nothing is written.
config_set_signing timestamp_urls "[\"$good\"]"
cp "$CFG" "$T/cfg.json"
/usr/bin/python3 - "$CFG" "$FIX/vendor/vendor.pem" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["trust"]["tsa_ca_file"] = sys.argv[2]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
sg 3 timestamp --config "$CFG" --out "$T/one/untrusted.exe" "$in"
expect_in "$T/out" "invalid  $in: "
expect_in_i "$T/out" "timestamp"
expect_absent "$T/one/untrusted.exe"
expect_same "$(audit_field 0 decision)" invalid
expect_same "$(ls -A "$T/one")" ""
cp "$T/cfg.json" "$CFG"

# --- Configuration and usage: exit 2 before any input is read.
config_set_signing timestamp_urls "[]"
sg 2 timestamp --config "$CFG" --out "$T/one/x.exe" "$in"
expect_in "$T/err" "\"signing.timestamp_urls\" names no TSA"
config_set_signing timestamp_urls "[\"$good\"]"
/usr/bin/python3 - "$CFG" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
del cfg["signing"]["certificate"]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
sg 2 timestamp --config "$CFG" --out "$T/one/x.exe" "$in"
expect_in "$T/err" "timestamping needs \"signing.certificate\""
config_set_signing certificate "\"$PKI/signer.pem\""
sg 2 timestamp --config "$CFG" "$in"
expect_in "$T/err" "give exactly one of --out FILE or --out-dir DIR"
sg 2 timestamp --config "$CFG" --out "$T/one/x.exe" "$in" "$out"
expect_in "$T/err" "--out takes exactly one INPUT"
sg 2 timestamp --config "$CFG" --out-dir "$T/missing/deeper" "$in"
expect_in "$T/err" "$T/missing/deeper: cannot create the output folder: No such file or directory"
sg 2 timestamp --config "$CFG" --out "$T/missing/x.exe" "$in"
expect_in "$T/err" "$T/missing: the output folder does not exist or is not a folder"
sg 2 timestamp --config "$CFG" --out-dir "$T/signed" "$in"
expect_in "$T/err" "the output would replace the input; the input is never modified"
expect_same "$(sha256 "$in")" "$in_sha"
expect_absent "$T/one/x.exe"
sg 0 timestamp --help
expect_in "$T/out" "Keyless: no key, password, PIN or key helper is opened."
sg 0 --help
expect_in "$T/out" "  timestamp [--config FILE] (--out FILE | --out-dir DIR)"

# --- sign traces a timestamped file to the signing record of its input:
# already signed, still approved, skipped (the key is not needed for that).
printf '%s\n' "$(cat "$PKI/signer.pass")" >"$T/key/signer.pass"
sg 0 sign --config "$CFG" --out-dir "$T/resign" "$out"
expect_in "$T/out" "skipped  $out: already signed: it carries our valid signature"
expect_in "$T/out" "signed from hello-setup.exe (SHA-256 $(sha256 "$INST/hello-setup.exe"); audit record seq 1 of "
expect_absent "$T/resign/hello-setup.exe"

# --- The chain of records verifies.
sg 0 audit verify --config "$CFG"
expect_same "$(grep -c '"action":"timestamp"' "$LOG")" 15
expect_same "$(grep -c '"decision":"timestamped"' "$LOG")" 2
sg 0 audit show --config "$CFG" --action timestamp --decision timestamped --json
expect_same "$(wc -l <"$T/out")" 2
expect_in "$T/out" "\"replaces_sha256\":\"$in_sha\""
sg 0 audit summary --config "$CFG"
done_ok
