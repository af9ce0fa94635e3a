#!/usr/bin/env bash
# Left-overs of killed runs (issue 13). A run locks its private folders (the
# work folder in $TMPDIR, the stage beside its outputs) while it lives; a
# run killed at any stage leaves them unlocked, and the next run removes
# exactly those, one line each, never a folder of a live run (here one
# stopped in the middle and one waiting on a slow TSA), nor anything not
# clearly ours. Also: TMPDIR and output folders others may write without the
# sticky bit are refused; --out-dir through a symbolic link is followed once,
# with a warning.
. "$(dirname -- "$0")/lib.sh"
: "${SG_KILL_AT_SHIM:?SG_KILL_AT_SHIM must name the kill shim}"

# LeakSanitizer's exit-time helper must not be what a SIGKILL or SIGSTOP hits (test_crash.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

start_slow_tsa 8
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
cp "$CFG" "$T/env/slow.json"
sed -i "s#\"password_file\": \"$PKI/signer.pass\"#&, \"timestamp_urls\": [\"$SLOW_TSA\"]#" \
	"$T/env/slow.json"
grep -qF "$SLOW_TSA" "$T/env/slow.json" || fail "the slow TSA is not in the config"
# An osslsigncode that takes its time attaching (and says it started, with its pid).
cat >"$T/slow-osslsigncode" <<SH
#!/bin/bash
if [ "\$1" = attach-signature ]; then
	echo \$\$ >"$T/attach.pid"
	exec sleep 60
fi
exec /usr/bin/osslsigncode "\$@"
SH
chmod 0755 "$T/slow-osslsigncode"
cp "$CFG" "$T/env/slowattach.json"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/slow-osslsigncode\"#" "$T/env/slowattach.json"
[ "$TMPDIR" = "$T/tmp" ] || fail "lib.sh did not give the test a TMPDIR of its own"
mkdir "$T/o"

works() { find "$T/tmp" -mindepth 1 -maxdepth 1 -name 'signgate-work.*' | sort; }
stages() { find "$T/o" -mindepth 1 -maxdepth 1 -name '.signgate-*' | sort; }
folders() { { works; stages; } | sort; }
state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true; }

# The paths a run said it removed ($T/err), sorted.
removed() {
	grep '^signgate: removed ' "$T/err" |
		sed 's/^signgate: removed \(.*\): the private folder of a run that was killed before it could remove it (no process holds its lock)$/\1/' |
		sort || true
}

# after_run [N]: the run whose output is in $T/err removed exactly the
# folders the run before it left ($T/dead), and left exactly N of its own
# (default 2: the work folder its own confinement made, holding the work
# folders of its inputs, and its stage; now $T/dead); the baseline (live
# runs' folders, entries not ours) stays.
after_run() {
	local want=${1:-2}
	removed >"$T/removed"
	diff "$T/dead" "$T/removed" >&2 || { cat "$T/err" >&2; fail "removed other than the left-over of the run before"; }
	ok
	folders | comm -23 - "$T/base" >"$T/now"
	expect_same "$(wc -l <"$T/now")" "$want"
	expect_same "$(comm -12 "$T/now" "$T/dead" | wc -l)" 0
	comm -23 "$T/base" <(folders) >"$T/gone"
	[ ! -s "$T/gone" ] || fail "a live or foreign folder was removed: $(cat "$T/gone")"
	cp "$T/now" "$T/dead"
}

# wait_new [N]: until N folders (default 1) that are neither in the baseline
# nor left over show up.
wait_new() {
	for _ in $(seq 1 300); do
		[ "$(folders | comm -23 - <(sort "$T/base" "$T/dead") | wc -l)" -ge "${1:-1}" ] && return 0
		sleep 0.1
	done
	fail "no new private folder appeared"
}

# killed N STAGE ARGS...: signgate ARGS killed by the shim at STAGE; exit 137
# (SIGKILL), leaving N private folders.
killed() {
	local n=$1 at=$2 rc=0
	shift 2
	SG_KILL_AT=$at LD_PRELOAD=$SG_KILL_AT_SHIM "$SG_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 137 ] || fail "signgate $* killed at $at exited $rc, expected 137"
	ok
	after_run "$n"
}

# Not ours: a link named as a stage (to a folder of ours), a folder of another mode.
mkdir "$T/victim"
echo precious >"$T/victim/audit.jsonl"
ln -s "$T/victim" "$T/o/.signgate-Link01"
mkdir -m 0755 "$T/o/.signgate-Mode55"
# 1. A live run, stopped in the middle: its stage made, and its second work
# folder (made to verify the signed file; the first is the one its own
# confinement made, which holds the second). It holds their locks while stopped.
SG_KILL_AT=workdir SG_KILL_NTH=2 SG_KILL_SIG=STOP LD_PRELOAD=$SG_KILL_AT_SHIM \
	"$SG_BIN" sign --config "$CFG" --out "$T/o/live1.exe" "$INST/hello-setup.exe" \
	>"$T/live1.out" 2>"$T/live1.err" &
live1=$!
for _ in $(seq 1 300); do [ "$(state $live1)" = T ] && break; sleep 0.1; done
expect_same "$(state $live1)" T
folders >"$T/base"
expect_same "$(works | wc -l)" 1
expect_same "$(stages | wc -l)" 3
: >"$T/dead"

# 2. Runs killed at each stage. Each next run removes the one before's left-over.
killed 1 workdir check --config "$CFG" "$INST/hello-setup.exe" # after its work folder is made
expect_same "$(comm -12 "$T/dead" <(works) | wc -l)" 1
killed 2 stage sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
expect_same "$(comm -12 "$T/dead" <(stages) | wc -l)" 1
killed 2 copy sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"   # during the copy
killed 2 helper sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe" # key helper busy
killed 2 publish sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
# The stage of the run killed before publishing holds the signed output; nothing was published.
expect_absent "$T/o/hello-setup.exe"
expect_same "$(find $(comm -12 "$T/dead" <(stages)) -type f | wc -l)" 1

# 3. Killed from outside while osslsigncode attaches an MSI's signature.
# The stand-in osslsigncode writes its pid beside the test: its Landlock rules
# (integration.confine shows them) are forced off for this run.
SIGNGATE_CONFINE_FORCE=landlock=0 "$SG_BIN" sign --config "$T/env/slowattach.json" --out-dir "$T/o" "$INST/hello-1.0.msi" \
	>"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 300); do [ -s "$T/attach.pid" ] && break; sleep 0.1; done
[ -s "$T/attach.pid" ] || fail "osslsigncode attach-signature never started"
ok
kill -9 "$pid" || { cat "$T/err"; cat "$T/out"; fail "the run ended before it was killed"; }
wait "$pid" || true
# osslsigncode, now an orphan, holds nothing of the run's (no descriptor leaks into a child).
expect_same "$(ls -l "/proc/$(cat "$T/attach.pid")/fd" 2>/dev/null | grep -c signgate || true)" 0
kill "$(cat "$T/attach.pid")" 2>/dev/null || true
after_run 1 # its stage only: without Landlock, signgate makes no folder of its own to confine to
expect_absent "$T/o/hello-1.0.msi"
# ... and while signing waits on the TSA (its stage is made at once; the
# TSA answers 8 s after the signature is asked for).
"$SG_BIN" sign --config "$T/env/slow.json" --out "$T/o/tsa.exe" "$INST/hello-setup.exe" \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_new 2
sleep 1.5
kill -9 "$pid" || { cat "$T/err"; cat "$T/out"; fail "the run ended before it was killed"; }
wait "$pid" || true
after_run
expect_absent "$T/o/tsa.exe"

# 4. A second live run, waiting on the slow TSA, joins the first; it
# removes the left-over of the run before, as it starts.
"$SG_BIN" sign --config "$T/env/slow.json" --out "$T/o/live2.exe" "$INST/hello-setup.exe" \
	>"$T/live2.out" 2>"$T/live2.err" &
live2=$!
wait_new 2
cp "$T/live2.err" "$T/err"
removed >"$T/removed"
diff "$T/dead" "$T/removed" >&2 || fail "the second live run removed other than the left-over"
ok
folders | comm -23 - "$T/base" >"$T/live2"
expect_same "$(wc -l <"$T/live2")" 2
sort "$T/base" "$T/live2" -o "$T/base"
: >"$T/dead"
killed 2 stage sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"

# 5. The next run removes exactly the last left-over, says so, and signs.
sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
removed >"$T/removed"
diff "$T/dead" "$T/removed" >&2 || fail "removed other than the last left-over"
ok
expect_same "$(folders)" "$(cat "$T/base")"
expect_same "$(cat "$T/victim/audit.jsonl")" precious
[ -s "$T/o/hello-setup.exe" ] || fail "the cleaning run published nothing"
ok
# A run with nothing left over says nothing about it.
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_not_in "$T/err" "removed"

# The live runs finish as if nothing happened.
kill -CONT "$live1"
rc=0
wait "$live1" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/live1.err" >&2; fail "the stopped run exited $rc after SIGCONT"; }
ok
rc=0
wait "$live2" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/live2.err" >&2; fail "the run on the slow TSA exited $rc"; }
ok
[ -s "$T/o/live1.exe" ] && [ -s "$T/o/live2.exe" ] || fail "a live run published nothing"
ok
expect_same "$(works | wc -l)" 0
expect_same "$(stages)" "$(printf '%s\n' "$T/o/.signgate-Link01" "$T/o/.signgate-Mode55")"
rm -f "$T/o/.signgate-Link01"
rmdir "$T/o/.signgate-Mode55"

# 6. A TMPDIR others may write without the sticky bit is refused, naming it;
# with the sticky bit it is fine.
mkdir "$T/open"
chmod 0777 "$T/open"
# Refused before any input: nothing signed, nothing recorded.
lines=$(wc -l <"$LOG")
TMPDIR=$T/open sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/open: others may write this folder and it has no sticky bit (mode 0777)"
TMPDIR=$T/open sg 2 sign --config "$CFG" --out-dir "$T/o2" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/open: others may write this folder"
TMPDIR=$T/open sg 2 verify --config "$CFG" "$T/o/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/open: others may write this folder"
expect_same "$(wc -l <"$LOG")" "$lines"
expect_absent "$T/o2/hello-setup.exe"
# So is an output folder below one others may write.
mkdir "$T/open/below"
sg 2 sign --config "$CFG" --out-dir "$T/open/below" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: output folder $T/open: others may write this folder and it has no sticky bit (mode 0777)"
expect_same "$(wc -l <"$LOG")" "$lines"
rmdir "$T/open/below"
chmod 1777 "$T/open"
TMPDIR=$T/open sg 0 check --config "$CFG" "$INST/hello-setup.exe"
TMPDIR=$T/open sg 0 verify --config "$CFG" "$T/o/hello-setup.exe"
expect_same "$(find "$T/open" -mindepth 1 | wc -l)" 0

# 7. --out-dir through a symbolic link: followed once, with a warning, for sign and cert export.
mkdir "$T/real"
ln -s "$T/real" "$T/linked"
sg 0 sign --config "$CFG" --out-dir "$T/linked" "$INST/hello-setup.exe"
expect_in "$T/err" "warning: --out-dir $T/linked is a symbolic link to $T/real: it is followed once"
expect_in "$T/out" "-> $T/real/hello-setup.exe"
[ -s "$T/real/hello-setup.exe" ] || fail "nothing signed through the link"
ok
# The link is resolved once: swapped for one to another folder while the
# run is stopped after making its stage, the output still goes where the
# link led at the start.
mkdir "$T/elsewhere"
SG_KILL_AT=stage SG_KILL_SIG=STOP LD_PRELOAD=$SG_KILL_AT_SHIM \
	"$SG_BIN" sign --config "$CFG" --out-dir "$T/linked" --force "$INST/hello-setup.exe" \
	>"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 300); do [ "$(state $pid)" = T ] && break; sleep 0.1; done
expect_same "$(state $pid)" T
ln -sfn "$T/elsewhere" "$T/linked"
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
expect_same "$rc" 0
expect_in "$T/out" "-> $T/real/hello-setup.exe"
expect_same "$(find "$T/elsewhere" -mindepth 1 | wc -l)" 0
ln -sfn "$T/real" "$T/linked"
sg 0 cert export --config "$PKI/signgate.json" --chain "$PKI/issuing.pem" --out-dir "$T/linked"
expect_in "$T/err" "warning: --out-dir $T/linked is a symbolic link to $T/real"
expect_in "$T/out" "wrote       $T/real/signer.cer"
# A plain folder: no warning.
sg 0 sign --config "$CFG" --out-dir "$T/o" --force "$INST/hello-setup.exe"
expect_not_in "$T/err" "symbolic link"
done_ok
