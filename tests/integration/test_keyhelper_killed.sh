#!/usr/bin/env bash
# The key helper killed in the middle of a run (every worker starts at once
# now): the input it already signed completes, every input after it fails
# with a record saying it was not signed and leaves no output, no second
# helper is started (a token would be asked for its PIN again), and
# signgate exits 1 rather than hanging or dying of SIGPIPE.
. "$(dirname -- "$0")/lib.sh"

start_slow_tsa 4
new_env ", \"timestamp_urls\": [\"$SLOW_TSA\"]"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval other-exe other-setup.exe "$(sha256 "$INST/other-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
"$SG_BIN" sign --config "$CFG" -j 1 --out-dir "$T/o" "$INST/hello-setup.exe" \
	"$INST/other-setup.exe" "$INST/hello-1.0.msi" >"$T/out" 2>"$T/err" &
sg_pid=$!
kh=
for _ in $(seq 1 400); do
	# Two sockets: the key helper's socketpair and the connection to the TSA
	# (the first input is signed and waits for its timestamp). The key helper
	# is the child running signgate (the osslsigncode --version child ends first).
	if [ "$(find "/proc/$sg_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)" -ge 2 ]; then
		kh=
		for c in $(cat "/proc/$sg_pid/task/$sg_pid/children" 2>/dev/null); do
			[ "$(readlink "/proc/$c/exe")" = "$(readlink "/proc/$sg_pid/exe")" ] && kh=$c && break
		done
		[ -n "$kh" ] && break
	fi
	sleep 0.05
done
[ -n "$kh" ] || fail "the key helper never started"
[ "$(readlink "/proc/$kh/exe")" = "$(readlink "/proc/$sg_pid/exe")" ] || fail "pid $kh is not the key helper"
[ "$(find "/proc/$sg_pid/fd" -lname 'socket:*' | wc -l)" -ge 2 ] || fail "signgate never reached the TSA"
kill -9 "$kh"
rc=0
wait "$sg_pid" || rc=$?
expect_same "$rc" 1
ok
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/o/hello-setup.exe"
expect_in "$T/out" "failed   $INST/other-setup.exe: other-setup.exe: cannot send to the key helper: Broken pipe"
expect_in "$T/out" "failed   $INST/hello-1.0.msi: hello-1.0.msi: the key helper is out of use after an earlier failure"
expect_in "$T/err" "3 inputs: 1 signed, 0 skipped, 0 denied, 2 failed"
for f in other-setup.exe hello-1.0.msi; do
	expect_absent "$T/o/$f"
done
# Nothing half-made is left beside the outputs.
expect_same "$(find "$T/o" -mindepth 1 -name '.signgate-*' | wc -l)" 0
# Three records; the one signature made, by the helper that was killed.
/usr/bin/python3 - "$LOG" >"$T/recs" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(len(recs), sorted(r.get("decision") for r in recs))
print({r["signature"]["key_helper"]["pid"] for r in recs if r.get("decision") == "signed"})
PY
expect_same "$(sed -n 1p "$T/recs")" "3 ['failed', 'failed', 'signed']"
expect_same "$(sed -n 2p "$T/recs")" "{$kh}"
sg 0 verify --config "$CFG" "$T/o/hello-setup.exe"
done_ok
