#!/usr/bin/env bash
# Each audit record can also leave the machine as it is written: with
# "audit_syslog" a line with its id, seq and line hash goes to syslog(3),
# for signing decisions and for the log's own records (rotate, seal).
# The test listens on /dev/log itself (when no syslog daemon owns it).
. "$(dirname -- "$0")/lib.sh"

if [ -e /dev/log ]; then
	echo "/dev/log belongs to this machine's syslog daemon: not intercepting it here"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
/usr/bin/python3 - "$T/syslog.txt" "$T/syslog.ready" >"$T/listener.log" 2>&1 <<'PY' &
import os, socket, sys
out, ready = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(60)
open(ready, "w").close()
try:
    with open(out, "ab", buffering=0) as f:
        while True:
            f.write(s.recv(65536) + b"\n")
except socket.timeout:
    pass
finally:
    os.unlink("/dev/log")
PY
listener=$!
trap 'kill $listener 2>/dev/null; sleep 0.2; rm -f /dev/log; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -e "$T/syslog.ready" ] && break; sleep 0.1; done
[ -e "$T/syslog.ready" ] || fail "could not listen on /dev/log: $(cat "$T/listener.log")"

new_env
sed -i 's#"osslsigncode": "/usr/bin/osslsigncode"#"audit_syslog": { "facility": "local3", "tag": "signgate-test" },\n  &#' "$CFG"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/s.exe" "$INST/hello-setup.exe"
sg 3 check --config "$CFG" "$INST/other-setup.exe"
for _ in $(seq 1 50); do [ "$(grep -c 'audit id=' "$T/syslog.txt" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
expect_same "$(grep -c 'audit id=' "$T/syslog.txt")" 2
# local3.notice is <157> (19 * 8 + 5); the line names the record and the hash of its line.
line1=$(sed -n 1p "$LOG")
expect_in "$T/syslog.txt" "<157>"
expect_in "$T/syslog.txt" "signgate-test["
expect_in "$T/syslog.txt" "seq=1 line_sha256=$(printf '%s' "$line1" | sha256sum | cut -d' ' -f1) action=sign decision=signed input=hello-setup.exe"
expect_in "$T/syslog.txt" "signer_sha1=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
expect_in "$T/syslog.txt" "seq=2 line_sha256="
expect_in "$T/syslog.txt" "action=check decision=denied input=other-setup.exe"
# The log's own records go out too: a rotation's first record (seq 3).
sg 0 audit rotate --config "$CFG"
for _ in $(seq 1 50); do [ "$(grep -c 'audit id=' "$T/syslog.txt" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
expect_in "$T/syslog.txt" "seq=3 line_sha256=$(head -n 1 "$LOG" | tr -d '\n' | sha256sum | cut -d' ' -f1) action=rotate decision=rotated"
# And a seal's record (seq 4), with the example PKI's sealing key.
config_set audit_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$PKI/seal.pass\"}"
sg 0 audit seal --config "$CFG"
for _ in $(seq 1 50); do [ "$(grep -c 'audit id=' "$T/syslog.txt" 2>/dev/null)" -ge 4 ] && break; sleep 0.1; done
expect_in "$T/syslog.txt" "seq=4 line_sha256=$(sed -n 2p "$LOG" | tr -d '\n' | sha256sum | cut -d' ' -f1) action=seal decision=sealed"
# The seal itself follows its record, whole: the off-host copy that
# `audit verify --against` reads back, here straight from the syslog stream.
for _ in $(seq 1 50); do grep -q 'audit-seal {' "$T/syslog.txt" 2>/dev/null && break; sleep 0.1; done
expect_in "$T/syslog.txt" "audit-seal $(cat "$LOG.seals")"
archive=$(ls "$LOG".2*)
sg 0 audit verify --config "$CFG" --log "$archive" --against "$T/syslog.txt"
expect_in "$T/out" "against  1 seal of the off-host copy $T/syslog.txt agrees with the seals file and the chain"
# The log and its seals file cut back together: consistent locally, not
# against the copy that left the machine.
cp "$LOG" "$T/log.bak"
cp "$LOG.seals" "$T/seals.bak"
head -n 1 "$T/log.bak" >"$LOG"
: >"$LOG.seals"
sg 0 audit verify --config "$CFG" --log "$archive"
sg 3 audit verify --config "$CFG" --log "$archive" --against "$T/syslog.txt"
expect_in "$T/out" "the chain ends at seq 3, but seq 4 was sealed"
expect_in "$T/out" "and the seals file was cut back with it"
cp "$T/log.bak" "$LOG"
cp "$T/seals.bak" "$LOG.seals"
# A bad facility is a configuration error.
sed -i 's#"facility": "local3"#"facility": "local9"#' "$CFG"
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "\"audit_syslog.facility\" must be user, auth, authpriv, daemon or local0..local7"
done_ok
