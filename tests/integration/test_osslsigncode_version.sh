#!/usr/bin/env bash
# Which osslsigncode signgate runs: asked once per run (--version, confined),
# before any input is touched; one older than 2.9, or one that does not
# answer as osslsigncode does, is a configuration error (exit 2) and nothing
# is signed or recorded. Every audit record carries "signgate_version" and
# "osslsigncode_version"; a log written before they existed stays valid.
. "$(dirname -- "$0")/lib.sh"
: "${SG_FAKE_OSSLSIGNCODE:?SG_FAKE_OSSLSIGNCODE must name the built fake osslsigncode}"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
real_version=$(/usr/bin/osslsigncode --version 2>/dev/null | sed -n '1s/^osslsigncode \([0-9.]*\),.*/\1/p')
[ -n "$real_version" ] || fail "cannot read the real osslsigncode's version"
signgate_version=$("$SG_BIN" --version | sed -n '1s/^signgate \([^ ]*\) .*/\1/p')

# 1. The real one: every record of a signing names both versions.
sg 0 sign --config "$CFG" --out "$T/ok.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 osslsigncode_version)" "$real_version"
expect_same "$(audit_field 0 signgate_version)" "$signgate_version"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 action)" check
expect_same "$(audit_field 0 osslsigncode_version)" "$real_version"
# show --csv lists both.
sg 0 audit show --config "$CFG" --csv --action sign
expect_in "$T/out" "\"$signgate_version\",\"$real_version\","
# A record of a run that runs no osslsigncode (a rotation) says so with null.
sg 0 audit rotate --config "$CFG"
expect_same "$(audit_field 0 action)" rotate
expect_same "$(audit_field 0 osslsigncode_version)" None
expect_same "$(audit_field 0 signgate_version)" "$signgate_version"
sg 0 audit verify --config "$CFG" --log "$(ls "$T"/env/audit/audit.jsonl.2* | head -n 1)"

# 2. An old osslsigncode (the fake answers "osslsigncode 2.5, using:"): refused
# with the reason, exit 2, before any input: nothing signed, nothing recorded.
mkdir -p "$T/fake"
cp "$SG_FAKE_OSSLSIGNCODE" "$T/fake/version-2.5-old"
cp "$SG_FAKE_OSSLSIGNCODE" "$T/fake/noversion-x"
cp "$SG_FAKE_OSSLSIGNCODE" "$T/fake/version-2.10-new"
chmod 0755 "$T/fake" "$T/fake/"*
lines=$(wc -l <"$LOG")
CFG_REAL=$CFG
cp "$CFG_REAL" "$T/env/old.json"
CFG=$T/env/old.json config_set osslsigncode "\"$T/fake/version-2.5-old\""
for cmd in sign check; do
	out=()
	[ "$cmd" = sign ] && out=(--out "$T/old.exe")
	sg 2 "$cmd" --config "$T/env/old.json" "${out[@]}" "$INST/hello-setup.exe"
	expect_in "$T/err" "$T/env/old.json: \"osslsigncode\": $T/fake/version-2.5-old is osslsigncode 2.5: signgate needs 2.9 or newer"
	expect_in "$T/err" "bookworm-backports"
	expect_same "$(cat "$T/out")" ""
done
expect_absent "$T/old.exe"
expect_same "$(wc -l <"$LOG")" "$lines"
sg 2 verify --config "$T/env/old.json" "$T/ok.exe"
expect_in "$T/err" "is osslsigncode 2.5: signgate needs 2.9 or newer"
expect_not_in "$T/out" "valid"

# 3. Something that is not osslsigncode; a newer one (2.10 > 2.9, not "2.1").
CFG=$T/env/old.json config_set osslsigncode "\"$T/fake/noversion-x\""
sg 2 sign --config "$T/env/old.json" --out "$T/nov.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/fake/noversion-x: does not answer --version as osslsigncode does (it exited with status 0 and printed \"usage: fake [--help]\")"
expect_absent "$T/nov.exe"
CFG=$T/env/old.json config_set osslsigncode "\"$T/fake/version-2.10-new\""
sg 0 check --config "$T/env/old.json" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 osslsigncode_version)" "2.10"

# 4. A log written before the fields existed (lines without them) verifies,
# shows and filters, and later records chain onto it.
new_env
mkdir -p "$T/old"
/usr/bin/python3 - "$T/env/audit/audit.jsonl" <<'PY'
import hashlib, json, sys
prev, lines = "0" * 64, []
for seq in (1, 2):
    rec = {"action": "check", "decision": "approved", "seq": seq, "prev": prev,
           "id": "00000000-0000-4000-8000-00000000000%d" % seq, "time": "2026-01-01T00:00:0%dZ" % seq,
           "actor": {"user": "old", "uid": 1000, "host": "h"}, "input": {"name": "a.exe"}}
    text = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    rec["hash"] = hashlib.sha256(text.encode()).hexdigest()
    line = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    lines.append(line)
    prev = hashlib.sha256(line.encode()).hexdigest()
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
chmod 0600 "$LOG"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" "2 records, chain intact"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" "3 records, chain intact"
sg 0 audit show --log "$LOG" --csv
expect_in "$T/out" '"old","","",""'
expect_in "$T/out" "\"$signgate_version\",\"$real_version\","
done_ok
