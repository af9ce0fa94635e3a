#!/usr/bin/env bash
# A long reason reaches the user and the audit record whole: here the trust
# anchors sit under a path of about 1,300 bytes, which the reasons quote.
# (They used to pass buffers of 768, 1024 and 1536 bytes on the way, and a
# `cert lint` finding was cut at 256.)
. "$(dirname -- "$0")/lib.sh"

new_env
deep=$T
for i in 1 2 3 4 5; do
	deep=$deep/$(printf 'd%.0s' $(seq 250))
done
mkdir -p "$deep"
# Another CA than the one that issued signgate's certificate, at the long path.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -subj "/CN=Other Root" \
	-days 30 -out "$deep/other-root.pem" 2>/dev/null
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"

# Our signed file under a config whose audit log (under the long path) does
# not exist: the denial says where it looked, whole (the gap was cut at 512).
/usr/bin/python3 - "$CFG" "$deep/audit.jsonl" "$T/env/long.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["audit_log"] = sys.argv[2]
json.dump(cfg, open(sys.argv[3], "w"), indent=2)
PY
sg 3 sign --config "$T/env/long.json" --out "$T/again.exe" "$T/signed.exe"
expect_in "$T/out" "; there is no audit log at $deep/audit.jsonl: nobody can show which vendor bytes"
expect_absent "$T/again.exe"

# Two TSAs that do not answer, under URLs of 1,100 and 700 bytes: the
# failure names both, each with its reason (the fetcher's message and the
# list of attempts were each cut at 1024 bytes).
/usr/bin/python3 - "$CFG" "$T/env/tsa.json" "$(cat "$FIX/tsa-down.port")" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
s = cfg["signing"]
s["timestamp_urls"] = ["http://127.0.0.1:%s/%s" % (sys.argv[3], "u" * 1100),
                       "http://127.0.0.1:9/%s" % ("v" * 700)]
s["timestamp"] = "required"
s["timestamp_timeout"] = 20
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
sg 1 sign --config "$T/env/tsa.json" --out "$T/tsa.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "timestamping is required and no TSA answered (2 tried): http://127.0.0.1:$(cat "$FIX/tsa-down.port")/$(printf 'u%.0s' $(seq 1100)): no usable reply from the TSA: "
expect_in "$T/out" "; http://127.0.0.1:9/$(printf 'v%.0s' $(seq 700)): the TSA did not answer: cannot connect: Connection refused"
expect_absent "$T/tsa.exe"

# verify against the other CA: invalid, and the reason ends as OpenSSL said.
/usr/bin/python3 - "$CFG" "$deep/other-root.pem" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["trust"] = {"ca_file": sys.argv[2], "ignore_crl": True}
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
tail="signer chain does not verify to $deep/other-root.pem: unable to get local issuer certificate"
[ ${#tail} -gt 1300 ] || fail "the path is too short to show anything (${#tail} bytes)"
sg 3 verify --config "$CFG" "$T/signed.exe"
expect_in "$T/out" "invalid  $T/signed.exe: signed.exe: signature 0: $tail"
expect_same "$(audit_field 0 decision)" invalid
expect_same "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["reasons"][0])' "$LOG")" "signed.exe: signature 0: $tail"

# cert lint: the chain finding quotes the anchors' path whole.
sg 3 cert lint --cert "$PKI/signer.pem" --ca "$deep/other-root.pem"
expect_in "$T/out" "fail  chain        $tail"

# A denial's reasons reach the line and the record whole (each used to be
# cut at 320 bytes): an input under a 250-byte name, approved under another
# 250-byte name, is denied with a reason quoting both (over 500 bytes), and
# one nobody approved with the default deny naming it.
long_a=$(printf 'a%.0s' $(seq 246)).exe
long_b=$(printf 'b%.0s' $(seq 246)).exe
cp "$INST/hello-setup.exe" "$T/$long_b"
rm -f "$T/env/policy/"*.json
approval long-name "$long_a" "$(sha256 "$T/$long_b")"
why="approval long-name is for file \"$long_a\", not \"$long_b\""
[ ${#why} -gt 500 ] || fail "the reason is too short to show anything (${#why} bytes)"
sg 3 check --config "$CFG" "$T/$long_b"
expect_in "$T/out" "denied   $T/$long_b: $why"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["reasons"][0])' "$LOG")" "$why"
printf 'x' >>"$T/$long_b"
why="$long_b: no approval matches SHA-256 $(sha256 "$T/$long_b") (default deny)"
sg 3 check --config "$CFG" "$T/$long_b"
expect_in "$T/out" "denied   $T/$long_b: $why"
expect_same "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["reasons"][0])' "$LOG")" "$why"

done_ok
