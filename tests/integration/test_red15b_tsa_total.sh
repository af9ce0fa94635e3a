#!/usr/bin/env bash
# red15 B: retries are bounded per input only. A TSA that accepts the
# connection and never answers costs (1 + retries) x timeout + retries x wait
# for EVERY input of a batch: nothing remembers, within a run, that it is
# dead. With the defaults (timeout 60, retries 2, wait 5) that is 190 s per
# TSA per input (before issue 15: 60 s); 100 inputs and 2 dead TSAs: 10.5 h.
# Expected: a TSA that failed every attempt for one input is not retried for
# the next (or a run-wide deadline), so the batch costs about one input's
# worth. Measured here with timeout 2, retries 2, wait 1 (8 s per input).
. "$(dirname -- "$0")/lib.sh"

/usr/bin/python3 - "$T/hang.port" >"$T/hang.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)   # read nothing, answer nothing
PY
HANG_PID=$!
trap 'kill $HANG_PID 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/hang.port" ] && break; sleep 0.1; done
hang="http://127.0.0.1:$(cat "$T/hang.port")/tsr"
new_env ", \"timestamp_urls\": [\"$hang\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 2, \"timestamp_retries\": 2, \"timestamp_retry_wait\": 1"
set -- hello-setup.exe other-setup.exe hello-1.0.msi hello-1.0.cab
for f in "$@"; do approval "a-$f" "$f" "$(sha256 "$INST/$f")"; done
start=$(date +%s)
sg 0 sign --config "$CFG" --out-dir "$T/o" -j 1 "${@/#/$INST/}"
took=$(($(date +%s) - start))
echo "4 inputs took ${took} s (one input's worth: 8 s)"
# Fixed: the first input 3 x 2 s + 2 x 1 s = 8 s, each later one a single 2 s
# attempt (14 s and the signing); before, 4 x 8 = 32 s and more.
[ "$took" -lt 22 ] || fail "a dead TSA was waited for again for every input: ${took} s for 4 inputs"
ok
done_ok
