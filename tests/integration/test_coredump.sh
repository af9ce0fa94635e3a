#!/usr/bin/env bash
# Secrets stay out of core dumps. While signgate signs (held by a TSA that
# answers slowly, after the key helper has signed), signgate and its key
# helper are not dumpable, their core limits are 0, and cores forced from
# both with gcore do not hold the password (signgate itself never had it;
# the helper keeps it in its secure heap and wipes it once the key is
# open); a control shows that the same grep finds the password in the core
# of a process that holds it plainly. Without a secure heap it can lock,
# signgate refuses to run (exit 2) before touching input.
. "$(dirname -- "$0")/lib.sh"

[ -x /usr/bin/gcore ] && [ -x /usr/bin/gdb ] || fail "gdb (gcore) is not installed: scripts/setup.sh installs it"
# ASan reserves terabytes of shadow memory: gcore cannot dump such a process.
if readelf -s "$SG_BIN" 2>/dev/null | grep '__asan_init' >/dev/null; then
	echo "skipped: $SG_BIN is built with AddressSanitizer"
	exit 77
fi

own_pass=$(openssl rand -hex 24)
printf '%s' "$own_pass" >"$T/own.pass"
chmod 0600 "$T/own.pass"
openssl pkcs12 -export -inkey "$PKI/signer.key" -passin "file:$PKI/signer.pass" \
	-in "$PKI/signer.pem" -certfile "$PKI/issuing.pem" -passout "file:$T/own.pass" \
	-out "$T/own.p12" 2>/dev/null || fail "could not make the test's own PKCS#12"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$PKI/signer.key" -passin "file:$PKI/signer.pass" \
	-passout "file:$T/own.pass" -out "$T/own.key" 2>/dev/null || fail "could not make the test's own PEM key"
chmod 0600 "$T/own.p12" "$T/own.key"

# Long enough for two gdb runs and two cores on a loaded machine.
start_slow_tsa 12

# core_count PID: how many times the password is in a core forced from PID.
core_count() {
	rm -f "$T/core.$1"
	/usr/bin/gcore -o "$T/core" "$1" >"$T/gcore.log" 2>&1 || fail "gcore $1 failed: $(tail -3 "$T/gcore.log")"
	[ -s "$T/core.$1" ] || fail "gcore wrote no core for $1"
	grep -c -F -- "$own_pass" "$T/core.$1" || true
}

# limits_zero PID WHAT: the process's core limit is 0, soft and hard.
limits_zero() {
	grep -Eq '^Max core file size +0 +0 ' "/proc/$1/limits" ||
		fail "$2's core limit is not 0: $(grep -i core "/proc/$1/limits")"
	ok
}

# not_dumpable PID WHAT: PR_GET_DUMPABLE (3), asked inside the process, is 0.
not_dumpable() {
	/usr/bin/gdb -p "$1" -batch -ex 'print (int)prctl(3, 0, 0, 0, 0)' >"$T/gdb.log" 2>&1 || true
	grep -q '^\$1 = 0$' "$T/gdb.log" || fail "$2 is dumpable: $(tail -3 "$T/gdb.log")"
	ok
}

# watch_signing OUT ARGS...: sign in the background; once signgate waits for
# the TSA (the key helper has signed), check signgate and its key helper and
# force a core from each; let the signing finish.
watch_signing() {
	local out=$1 sg_pid kh= pid
	shift
	"$SG_BIN" "$@" >"$T/out" 2>"$T/err" &
	sg_pid=$!
	for _ in $(seq 1 300); do
		# Three sockets: the key helper's, the timestamp fetcher's and the one its
		# answer comes back on (the fetcher holds the connection to the TSA). The
		# key helper is the first child running signgate (the osslsigncode
		# --version child has ended by then).
		if [ "$(find "/proc/$sg_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)" -ge 3 ]; then
			kh=
			for pid in $(cat "/proc/$sg_pid/task/$sg_pid/children" 2>/dev/null); do
				[ "$(readlink "/proc/$pid/exe")" = "$(readlink "/proc/$sg_pid/exe")" ] &&
					kh=$pid && break
			done
			[ -n "$kh" ] && break
		fi
		sleep 0.05
	done
	[ -n "$kh" ] || fail "the key helper never started"
	[ "$(readlink "/proc/$kh/exe")" = "$(readlink "/proc/$sg_pid/exe")" ] || fail "pid $kh is not the key helper"
	find "/proc/$sg_pid/fd" -lname 'socket:*' | wc -l | grep -qx 3 || fail "signgate never asked the TSA"
	for pid in "$sg_pid" "$kh"; do
		limits_zero "$pid" "signgate pid $pid"
		not_dumpable "$pid" "signgate pid $pid"
		expect_same "$(core_count "$pid")" 0
		# The core is the process's memory: signgate's arguments are in it.
		grep -qF -- "$out" "$T/core.$pid" || fail "the core of $pid does not hold signgate's argv"
		rm -f "$T/core.$pid"
	done
	wait "$sg_pid" || fail "signgate $* failed: $(cat "$T/out" "$T/err")"
	expect_in "$T/out" "signed   $INST/hello-setup.exe -> $out"
}

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"

# 1. PKCS#12, password from a file.
config_set signing "{\"pkcs12\": \"$T/own.p12\", \"password_file\": \"$T/own.pass\", \"timestamp_urls\": [\"$SLOW_TSA\"]}"
watch_signing "$T/p12.exe" sign --config "$CFG" --out "$T/p12.exe" "$INST/hello-setup.exe"

# 2. Encrypted PEM key, password from the environment.
config_set signing "{\"cert_chain\": \"$PKI/signer-chain.pem\", \"key\": \"$T/own.key\", \"password_env\": \"SG_CORE_PASSWORD\", \"timestamp_urls\": [\"$SLOW_TSA\"]}"
SG_CORE_PASSWORD=$own_pass watch_signing "$T/pem.exe" sign --config "$CFG" --out "$T/pem.exe" "$INST/hello-setup.exe"

# 3. Control: the same grep finds the password in a core of a process that
# holds it plainly, so the zeros above are not vacuous.
/usr/bin/python3 -c 'import sys, time
secret = open(sys.argv[1]).read()
open(sys.argv[2], "w").close()
time.sleep(60)' "$T/own.pass" "$T/ready" &
holder=$!
for _ in $(seq 1 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
n=$(core_count "$holder")
kill "$holder" 2>/dev/null || true
rm -f "$T/core.$holder"
[ "$n" -ge 1 ] || fail "control: the password was not found in the core of a process holding it"
ok

# 5. The other commands that hold a secret: audit seal, policy cosign and
# policy approve (encrypted PEM keys). Each is stopped by gdb where it signs
# (CMS_sign: the key is open, the password was just used) and at exit, and a
# core is forced there.
# gdb_core_count SECRET BREAK ARGS...: how many times SECRET is in a core of
# signgate ARGS stopped at BREAK (fails when BREAK is never reached).
gdb_core_count() {
	local secret=$1 brk=$2
	shift 2
	rm -f "$T/gcore"
	/usr/bin/gdb -batch -nx -ex 'set breakpoint pending on' -ex "break $brk" -ex run \
		-ex "gcore $T/gcore" -ex kill --args "$SG_BIN" "$@" >"$T/gdb.log" 2>&1 || true
	[ -s "$T/gcore" ] || fail "signgate $* never reached $brk: $(grep -m3 'signgate:' "$T/gdb.log")"
	grep -c -a -F -- "$secret" "$T/gcore" || true
}
openssl pkey -in "$PKI/seal.key" -passin "file:$PKI/seal.pass" -aes256 \
	-passout "file:$T/own.pass" -out "$T/seal.key" 2>/dev/null || fail "could not re-encrypt the sealing key"
openssl pkey -in "$PKI/approver-bob.key" -aes256 -passout "file:$T/own.pass" \
	-out "$T/bob.key" 2>/dev/null || fail "could not encrypt bob's key"
openssl pkey -in "$PKI/approver-alice.key" -aes256 -passout "file:$T/own.pass" \
	-out "$T/alice.key" 2>/dev/null || fail "could not encrypt alice's key"
chmod 0600 "$T/seal.key" "$T/bob.key" "$T/alice.key"
config_set signing "{\"pkcs12\": \"$T/own.p12\", \"password_file\": \"$T/own.pass\", \"certificate\": \"$PKI/signer.pem\"}"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
config_set audit_seal "{\"key\": \"$T/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$T/own.pass\", \"file\": \"$LOG.seals\"}"
for brk in CMS_sign exit; do
	expect_same "$(gdb_core_count "$own_pass" "$brk" audit seal --config "$CFG")" 0
	expect_same "$(gdb_core_count "$own_pass" "$brk" policy cosign --approvers-ca "$PKI/approvers-ca.pem" \
		--cert "$PKI/approver-bob.pem" --key "$T/bob.key" --password-file "$T/own.pass" \
		"$T/env/policy/hello-exe.json")" 0
done
expect_same "$(gdb_core_count "$own_pass" CMS_sign policy approve --config "$CFG" \
	--approvers-ca "$PKI/approvers-ca.pem" --product P --vendor V --version 1 --ticket T-1 \
	--sha256 "$(sha256 "$INST/hello-setup.exe")" --cert "$PKI/approver-alice.pem" \
	--key "$T/alice.key" --password-file "$T/own.pass" "$INST/hello-setup.exe")" 0

# 6. A sealing key in a PKCS#11 token: the PIN goes to libp11, which copies
# it into the ordinary heap. signgate takes the engine's copy back once the
# key is loaded; libp11 keeps one more (the slot's, for logging in again)
# until the process ends. README "Secrets and core dumps" says so; this
# pins that count so that a change either way shows.
export SOFTHSM2_CONF=$PKI/softhsm/softhsm2.conf
pin=$(cat "$PKI/token.pin")
config_set audit_seal "{\"key\": \"pkcs11:token=signgate;object=seal;type=private\", \"pkcs11_module\": \"/usr/lib/softhsm/libsofthsm2.so\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$PKI/token.pin\", \"file\": \"$LOG.seals\"}"
expect_same "$(gdb_core_count "$pin" CMS_sign audit seal --config "$CFG")" 1
unset SOFTHSM2_CONF
rm -f "$T/gcore"

# 7. The password variable twice in the environment (execve allows it):
# getenv() returns the first, and the second copy stayed in the
# environment block, in every core. Both are wiped.
cat >"$T/launch.py" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
args = [a.encode() for a in sys.argv[2:]]
env = [b"SG_CORE_PASSWORD=" + sys.argv[1].encode()] * 2 + [b"PATH=/usr/bin:/bin"]
libc.execve(args[0], (ctypes.c_char_p * (len(args) + 1))(*args, None),
            (ctypes.c_char_p * (len(env) + 1))(*env, None))
sys.exit("execve failed: %d" % ctypes.get_errno())
PY
config_set signing "{\"cert_chain\": \"$PKI/signer-chain.pem\", \"key\": \"$T/own.key\", \"password_env\": \"SG_CORE_PASSWORD\"}"
# The key helper, stopped where it checks the key (the password was just used).
# Every process of the run stays under gdb (signgate forks a throw-away child
# to probe the kernel's confinement before it forks the helper): when one
# ends, the others go on, until the helper stops at the breakpoint.
cat >"$T/helper-core.py" <<'PY'
import gdb, os
stops = []
gdb.events.stop.connect(lambda e: stops.append(isinstance(e, gdb.BreakpointEvent)))
for cmd in ("set detach-on-fork off", "set schedule-multiple on", "set breakpoint pending on",
            "break X509_check_private_key", "run"):
    gdb.execute(cmd)
for _ in range(10):
    if stops and stops[-1]:
        gdb.execute("gcore " + os.environ["SG_GCORE"])
        break
    live = [i for i in gdb.inferiors() if i.pid]
    if not live:
        break
    gdb.execute("inferior %d" % live[0].num)
    gdb.execute("continue")
PY
rm -f "$T/gcore"
SG_GCORE=$T/gcore /usr/bin/gdb -batch -nx -x "$T/helper-core.py" \
	--args /usr/bin/python3 "$T/launch.py" "$own_pass" \
	"$SG_BIN" sign --config "$CFG" --out "$T/dup.exe" "$INST/hello-setup.exe" >"$T/gdb.log" 2>&1 || true
[ -s "$T/gcore" ] || fail "the key helper never opened the key: $(tail -3 "$T/gdb.log")"
expect_same "$(grep -c -a -F -- "$own_pass" "$T/gcore" || true)" 0
# signgate itself, stopped at its first input: the helper has read the
# secret, and signgate wiped both copies of the variable from its own block.
rm -f "$T/gcore"
/usr/bin/gdb -batch -nx -ex 'set follow-fork-mode parent' -ex 'set breakpoint pending on' \
	-ex 'break sg_pipeline_run' -ex run -ex "gcore $T/gcore" -ex kill \
	--args /usr/bin/python3 "$T/launch.py" "$own_pass" \
	"$SG_BIN" sign --config "$CFG" --out "$T/dup.exe" "$INST/hello-setup.exe" >"$T/gdb.log" 2>&1 || true
[ -s "$T/gcore" ] || fail "signgate never reached its first input: $(tail -3 "$T/gdb.log")"
expect_same "$(grep -c -a -F -- "$own_pass" "$T/gcore" || true)" 0
rm -f "$T/gcore"

# 4. No secure heap, no run: with no locked memory allowed (and without
# CAP_IPC_LOCK, which would ignore the limit), signgate stops first.
before=$(wc -l <"$LOG")
rc=0
(
	ulimit -l 0
	exec /usr/bin/setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
		"$SG_BIN" sign --config "$CFG" --out "$T/nolock.exe" "$INST/hello-setup.exe"
) >"$T/out" 2>"$T/err" || rc=$?
expect_same "$rc" 2
expect_in "$T/err" "signgate: cannot lock OpenSSL's secure heap (64 KiB) into memory: the locked-memory limit (RLIMIT_MEMLOCK) is 0 KiB"
expect_absent "$T/nolock.exe"
expect_same "$(wc -l <"$LOG")" "$before"
done_ok
