#!/usr/bin/env bash
# Every osslsigncode run is confined (README "Confinement"). A hostile
# osslsigncode (tests/tools/fake_osslsigncode.c, named in the config) tries,
# one thing per run, to read a file outside its allowance, create a file
# outside its folder, connect to a loopback listener, ptrace signgate, and
# write past its file size limit: on the MSI attach path, on the nest path
# (where signgate first extracts the input's signature) and in `signgate
# verify`. Each is blocked, the run fails with the reason, nothing is
# published, and the audit record is "failed" with the reason and, for a
# violation, confinement.*.violation. The lower kernels are forced with
# SIGNGATE_CONFINE_FORCE; the real osslsigncode keeps signing throughout.
. "$(dirname -- "$0")/lib.sh"

: "${SG_FAKE_OSSLSIGNCODE:?SG_FAKE_OSSLSIGNCODE must name the built fake osslsigncode}"
# The kernel's Landlock ABI; without Landlock and seccomp there is nothing to show.
abi=$(/usr/bin/python3 -c 'import ctypes; print(max(0, ctypes.CDLL(None).syscall(444, None, 0, 1)))')
if [ "$abi" -lt 1 ]; then
	echo "no Landlock on this kernel: skipped"
	exit 77
fi

msi=$INST/hello-1.0.msi
vmsi=$INST/vendor-signed-hello-1.0.msi
new_env
approval hello-msi hello-1.0.msi "$(sha256 "$msi")"
approval vendor-msi vendor-signed-hello-1.0.msi "$(sha256 "$vmsi")" ', "existing_signature": "nest"'
real_cfg=$T/env/real.json
cp "$CFG" "$real_cfg"

d=$T/fake
mkdir -p "$d"
echo "the fake must never read this" >"$d/secret"
# use_fake NAME: a copy of the fake named NAME is the config's osslsigncode.
use_fake() {
	install -m 0755 "$SG_FAKE_OSSLSIGNCODE" "$d/$1"
	config_set osslsigncode "\"$d/$1\""
}
# record FIELD: the last audit record's FIELD (dotted path).
record() { audit_field 0 "$1"; }

# 1. Real osslsigncode, confined with all this kernel has: it signs an MSI.
CFG=$real_cfg sg 0 sign --config "$real_cfg" --out "$T/real.msi" "$msi"
expect_same "$(record decision)" signed
expect_same "$(record confinement.attach.landlock_abi)" "$abi"
expect_same "$(record confinement.attach.seccomp)" True
expect_same "$(record confinement.attach.named)" True
expect_same "$(record confinement.attach.network)" none
expect_same "$(record confinement.attach.netns)" True
expect_same "$(record confinement.attach.rlimits)" True
expect_not_in "$T/err" "less confinement"
sg 0 verify --config "$real_cfg" "$T/real.msi"
expect_same "$(record confinement.extract.landlock_abi)" "$abi"
expect_same "$(record confinement.verify.seccomp)" True

# 2. MSI attach: each attack in its own run.
use_fake read-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "osslsigncode attach-signature exited with status 1 and wrote no output: fake-osslsigncode: open $d/secret: Permission denied"
expect_absent "$T/o/hello-1.0.msi"
expect_same "$(record decision)" failed
expect_in <(record error) "fake-osslsigncode: open $d/secret: Permission denied"
expect_same "$(record confinement.attach.landlock_abi)" "$abi"

use_fake create-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: create $d/planted: Permission denied"
expect_absent "$d/planted"
expect_absent "$T/o/hello-1.0.msi"
expect_same "$(record decision)" failed

# A listener on 127.0.0.1 that writes down whatever reaches it.
/usr/bin/python3 - "$T/port" "$T/heard" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(20)
heard = open(sys.argv[2], "w")
try:
    while True:
        c, _ = s.accept()
        heard.write("connection: %r\n" % c.recv(64))
        heard.flush()
except socket.timeout:
    pass
PY
listener=$!
for _ in $(seq 1 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
use_fake "connect-$port"
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: socket AF_INET: Permission denied"
expect_absent "$T/o/hello-1.0.msi"
# Without seccomp (no filter against sockets either), Landlock's TCP rules
# (ABI 4) refuse the connection...
if [ "$abi" -ge 4 ]; then
	SIGNGATE_CONFINE_FORCE=seccomp=0 sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
	expect_in "$T/out" "fake-osslsigncode: connect 127.0.0.1: Permission denied"
	expect_absent "$T/o/hello-1.0.msi"
fi
# ... and without them, the network namespace alone keeps it from the listener.
SIGNGATE_CONFINE_FORCE=seccomp=0,landlock=3 sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: connect 127.0.0.1: Network is unreachable"
expect_same "$(record confinement.attach.network)" namespace
expect_same "$(record confinement.attach.seccomp)" False
expect_absent "$T/o/hello-1.0.msi"
expect_same "$(cat "$T/heard")" ""

use_fake ptrace-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "hello-1.0.msi: confinement violation in osslsigncode: system call ptrace"
expect_not_in "$T/out" "osslsigncode attach-signature exited"
expect_absent "$T/o/hello-1.0.msi"
expect_same "$(record decision)" failed
expect_in <(record error) "confinement violation in osslsigncode: system call ptrace"
expect_same "$(record confinement.attach.violation)" "system call ptrace"
# Without user notification the kernel kills it, and that is all there is to say.
SIGNGATE_CONFINE_FORCE=notify=0 sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "confinement violation in osslsigncode: killed by SIGSYS"
expect_same "$(record confinement.attach.violation)" "killed by SIGSYS"
expect_same "$(record confinement.attach.named)" False
expect_same "$(record confinement.attach.forced)" True
# Without seccomp, Landlock keeps it from a process outside its domain.
SIGNGATE_CONFINE_FORCE=seccomp=0 sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: ptrace "
expect_in "$T/out" ": Operation not permitted"
expect_absent "$T/o/hello-1.0.msi"

use_fake fsize-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "confinement violation in osslsigncode: file size limit (SIGXFSZ, "
expect_absent "$T/o/hello-1.0.msi"
expect_same "$(record decision)" failed
expect_in <(record confinement.attach.violation) "file size limit (SIGXFSZ, "
# Nothing of its output is left in the stage beside the output.
expect_same "$(find "$T/o" -mindepth 1 | wc -l)" 0

# Mode, owner, extended attributes and times, which Landlock does not govern
# (a set-user-ID bit on a program as root): seccomp refuses them (EPERM).
echo victim >"$d/victim"
chmod 0644 "$d/victim"
touch -d '2026-01-02 03:04:05' "$d/victim"
for path in attach verify; do
	use_fake "meta-$path"
	if [ "$path" = attach ]; then
		sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
	else
		sg 3 verify --config "$CFG" "$T/real.msi"
	fi
	expect_in "$T/out" "fake-osslsigncode: meta chmod: Operation not permitted; meta chown: Operation not permitted; meta setxattr: Operation not permitted; meta utimensat: Operation not permitted"
	expect_same "$(stat -c '%a %u %Y' "$d/victim")" "644 $(id -u) $(date -d '2026-01-02 03:04:05' +%s)"
	expect_same "$(/usr/bin/python3 -c 'import os, sys; print(len(os.listxattr(sys.argv[1])))' "$d/victim")" 0
done
expect_absent "$T/o/hello-1.0.msi"
# /etc/ssl/private (TLS keys), signgate's environment, a signal to signgate
# (Landlock ABI 6 scoping), a UNIX socket: refused.
use_fake peek-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: peek /etc/ssl/private: Permission denied; peek environ: Permission denied; peek kill: Operation not permitted; peek socket: Permission denied"
expect_absent "$T/o/hello-1.0.msi"
# Its limits stay (no raising them, even as root: its own user namespace),
# no System V IPC (the host's, shared with every process of the account),
# no inode flags (chattr, which Landlock does not govern),
# no descriptor of signgate's but 0 to 2.
use_fake misc-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "fake-osslsigncode: misc raise fsize: Operation not permitted; misc shmget: Operation not permitted; misc setflags: Operation not permitted; misc fds: Bad file descriptor"
expect_absent "$T/o/hello-1.0.msi"
# The x32 ABI names ptrace by another number: the filter ends it.
use_fake x32-attach
sg 1 sign --config "$CFG" --out-dir "$T/o" "$msi"
expect_in "$T/out" "confinement violation in osslsigncode: killed by SIGSYS"
expect_absent "$T/o/hello-1.0.msi"

# A process left behind in a session of its own, holding the output open,
# writes into it once signgate has checked and published it: signgate
# publishes a copy, which no one else holds.
use_fake linger-attach
sg 0 sign --config "$CFG" --out-dir "$T/lo" "$msi"
expect_same "$(record decision)" signed
for _ in $(seq 1 150); do pgrep -f "$d/linger-attach" >/dev/null || break; sleep 0.1; done
expect_same "$(head -c 8 "$T/lo/hello-1.0.msi" | od -An -c | tr -d ' ')" "$(head -c 8 "$msi" | od -An -c | tr -d ' ')"
sg 0 verify --config "$real_cfg" "$T/lo/hello-1.0.msi"

# 3. Nest: signgate first extracts the input's signature (is it ours?) with
# osslsigncode, which is then as confined.
use_fake ptrace-nest
sg 1 sign --config "$CFG" --out-dir "$T/o" "$vmsi"
expect_in "$T/out" "confinement violation in osslsigncode: system call ptrace"
expect_absent "$T/o/vendor-signed-hello-1.0.msi"
expect_same "$(record decision)" failed
expect_same "$(record confinement.extract.violation)" "system call ptrace"
use_fake read-nest
sg 1 sign --config "$CFG" --out-dir "$T/o" "$vmsi"
expect_in "$T/out" "fake-osslsigncode: open $d/secret: Permission denied"
expect_absent "$T/o/vendor-signed-hello-1.0.msi"
# The real one nests ours under the vendor's, confined.
CFG=$real_cfg sg 0 sign --config "$real_cfg" --out-dir "$T/o" "$vmsi"
expect_same "$(record decision)" signed
expect_same "$(record confinement.attach.landlock_abi)" "$abi"

# 4. signgate verify: extract-signature and verify are as confined.
use_fake read-verify
sg 3 verify --config "$CFG" "$T/real.msi"
expect_in "$T/out" "no Authenticode signature found (osslsigncode: fake-osslsigncode: open $d/secret: Permission denied)"
use_fake create-verify
sg 3 verify --config "$CFG" "$T/real.msi"
expect_in "$T/out" "fake-osslsigncode: create $d/planted: Permission denied"
expect_absent "$d/planted"
use_fake ptrace-verify
sg 1 verify --config "$CFG" "$T/real.msi"
expect_in "$T/out" "real.msi: confinement violation in osslsigncode: system call ptrace"
expect_same "$(record confinement.extract.violation)" "system call ptrace"
use_fake fsize-verify
sg 1 verify --config "$CFG" "$T/real.msi"
expect_in "$T/out" "real.msi: confinement violation in osslsigncode: file size limit (SIGXFSZ, "
expect_in <(record confinement.extract.violation) "file size limit (SIGXFSZ, "

# 5. Lower kernels, forced: Debian 12's (ABI 2), ABI 1, none.
for lower in 2 1; do
	SIGNGATE_CONFINE_FORCE=landlock=$lower sg 0 sign --config "$real_cfg" --out "$T/abi$lower.msi" "$msi"
	expect_same "$(record confinement.attach.landlock_abi)" "$lower"
	expect_same "$(record confinement.attach.forced)" True
	expect_in "$T/err" "signgate: warning: osslsigncode and gpgv run with less confinement: Landlock: ABI $lower (no TCP rules, no signal scoping); lowered by SIGNGATE_CONFINE_FORCE"
	[ "$(grep -c 'less confinement' "$T/err")" -eq 1 ] || fail "more than one warning: $(cat "$T/err")"
done
SIGNGATE_CONFINE_FORCE=landlock=0 sg 0 sign --config "$real_cfg" --out "$T/abi0.msi" "$msi"
expect_in "$T/err" "signgate: warning: osslsigncode and gpgv run with less confinement: Landlock: none (no file rules); lowered by SIGNGATE_CONFINE_FORCE (\"confinement\": \"required\" would refuse)"
expect_same "$(record confinement.attach.landlock_abi)" 0
expect_same "$(record confinement.attach.seccomp)" True
SIGNGATE_CONFINE_FORCE=seccomp=0 sg 0 sign --config "$real_cfg" --out "$T/noseccomp.msi" "$msi"
expect_same "$(record confinement.attach.seccomp)" False
expect_same "$(record confinement.attach.landlock_abi)" "$abi"

# 6. "confinement": "required" refuses to sign without Landlock or seccomp.
CFG=$real_cfg config_set confinement '"required"'
for lower in landlock=0 seccomp=0; do
	SIGNGATE_CONFINE_FORCE=$lower sg 1 sign --config "$real_cfg" --out "$T/req.msi" "$msi"
	expect_in "$T/err" "confinement: the configuration requires Landlock file rules and seccomp, and this kernel offers"
	expect_in "$T/err" "(lowered by SIGNGATE_CONFINE_FORCE)"
	expect_in "$T/out" "failed   $msi: hello-1.0.msi: not signed: confinement: the configuration requires"
	expect_absent "$T/req.msi"
	expect_same "$(record decision)" failed
done
SIGNGATE_CONFINE_FORCE=landlock=0 sg 1 verify --config "$real_cfg" "$T/real.msi"
expect_in "$T/err" "confinement: the configuration requires Landlock file rules and seccomp"
# With what it requires (Landlock ABI 2 is enough), it signs, without a warning.
SIGNGATE_CONFINE_FORCE=landlock=2 sg 0 sign --config "$real_cfg" --out "$T/req.msi" "$msi"
expect_not_in "$T/err" "less confinement"
expect_same "$(record confinement.attach.landlock_abi)" 2
CFG=$real_cfg config_set confinement '"strict"'
sg 2 sign --config "$real_cfg" --out "$T/bad.msi" "$msi"
expect_in "$T/err" "\"confinement\" must be \"auto\" or \"required\""

kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
expect_same "$(cat "$T/heard")" ""
done_ok
