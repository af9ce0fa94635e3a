#!/usr/bin/env bash
# The systemd units of systemd/: `systemd-analyze verify` passes on every unit
# without a word (and does catch a misspelt setting and a missing program);
# `systemd-analyze security --offline=true` rates each service at or below
# its threshold (README "Service units": seal 0.5, the inbox services 1.9);
# each service carries the hardening the README promises, writes only where
# it must, and the timer is persistent.
. "$(dirname -- "$0")/lib.sh"

units=$SG_SRC/systemd
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (package systemd)"
SEAL_MAX=0.5
WATCH_MAX=1.9

# verify needs the programs of ExecStart= to exist: copies that run the
# build's binary. Documentation= names man pages of the package, not
# installed here: --man=no (debian/ checks them with lintian).
mkdir "$T/u"
for f in "$units"/*.service "$units"/*.timer "$units"/*.path; do
	sed "s#^ExecStart=/usr/bin/signgate #ExecStart=$SG_BIN #" "$f" >"$T/u/${f##*/}"
done
expect_same "$(ls "$T/u" | tr '\n' ' ')" \
	"signgate-seal.service signgate-seal.timer signgate-watch-once.path signgate-watch-once.service signgate-watch.service "
grep -q "^ExecStart=$SG_BIN " "$T/u/signgate-seal.service" || fail "ExecStart= was not rewritten"

verify() { systemd-analyze verify --man=no "$@" >"$T/out" 2>"$T/err"; }
verify "$T/u"/*.service "$T/u"/*.timer "$T/u"/*.path || fail "systemd-analyze verify failed"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "systemd-analyze verify has something to say"
ok

# The check itself can fail: a misspelt setting, a program that is not there.
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$T/u/signgate-seal.service" >"$T/u/bad-key.service"
verify "$T/u/bad-key.service" || true
expect_in "$T/err" "Unknown key 'ProtectSytem' in section [Service]"
sed "s#^ExecStart=$SG_BIN #ExecStart=/nonexistent/signgate #" "$T/u/signgate-seal.service" \
	>"$T/u/bad-exec.service"
if verify "$T/u/bad-exec.service"; then fail "verify accepts a missing program"; fi
expect_in "$T/err" "/nonexistent/signgate"
rm -f "$T/u/bad-key.service" "$T/u/bad-exec.service"

# score UNIT: the overall exposure systemd-analyze gives it (offline).
score() {
	systemd-analyze security --offline=true "$T/u/$1" >"$T/out" 2>"$T/err" ||
		fail "systemd-analyze security $1 failed"
	sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$T/out"
}
# at_most VALUE MAX: VALUE <= MAX (one decimal, as systemd prints it).
at_most() { awk -v v="$1" -v m="$2" 'BEGIN { exit !(v != "" && v + 0 <= m + 0) }'; }

for u in signgate-seal.service signgate-watch.service signgate-watch-once.service; do
	s=$(score "$u")
	max=$WATCH_MAX
	[ "$u" != signgate-seal.service ] || max=$SEAL_MAX
	at_most "$s" "$max" || fail "$u: exposure $s, above $max"
	ok
	echo "$u: exposure $s (at most $max)"
	# What the README promises is never among the findings.
	for k in NoNewPrivileges= ProtectSystem= ProtectHome= PrivateTmp= PrivateDevices= \
		CapabilityBoundingSet=~CAP_SYS_ADMIN LockPersonality= MemoryDenyWriteExecute= \
		UMask= SystemCallArchitectures= "SystemCallFilter=~@privileged" User=/DynamicUser= \
		RestrictSUIDSGID= ProtectKernelModules= ProtectControlGroups= RestrictRealtime=; do
		expect_not_in "$T/out" "✗ $k"
	done
done

# Each service: the settings themselves, and where it may write.
setting() { sed -n "s/^$2=//p" "$units/$1"; }
for u in signgate-seal.service signgate-watch.service signgate-watch-once.service; do
	for kv in ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes ProtectHome=yes \
		PrivateDevices=yes LockPersonality=yes MemoryDenyWriteExecute=yes UMask=0077 \
		CapabilityBoundingSet= SystemCallErrorNumber=EPERM; do
		expect_same "$u $kv" "$u ${kv%%=*}=$(setting "$u" "${kv%%=*}")"
	done
done
expect_same "$(setting signgate-seal.service User)/$(setting signgate-seal.service Group)" \
	"signgate-seal/signgate-audit"
expect_same "$(setting signgate-seal.service ReadWritePaths)" "/var/log/signgate"
expect_same "$(setting signgate-seal.service RestrictAddressFamilies)" "AF_UNIX"
expect_same "$(setting signgate-seal.service PrivateNetwork)" "yes"
expect_same "$(setting signgate-seal.service LoadCredential)" \
	"seal.secret:/etc/signgate/seal/seal.secret"
expect_same "$(setting signgate-seal.service ExecStart)" \
	"/usr/bin/signgate audit seal --if-needed --config /etc/signgate/signgate.json"
for u in signgate-watch.service signgate-watch-once.service; do
	expect_same "$(setting "$u" User)/$(setting "$u" Group)" "signgate/signgate"
	expect_same "$(setting "$u" ReadWritePaths)" "/var/lib/signgate /var/log/signgate"
	# A stop signals the watcher only: the file in hand is finished, not rejected.
	expect_same "$u KillMode=$(setting "$u" KillMode)" "$u KillMode=mixed"
	expect_same "$(setting "$u" RestrictAddressFamilies)" "AF_UNIX AF_INET AF_INET6"
	expect_same "$(setting "$u" LoadCredential)" \
		"signing.secret:/etc/signgate/keys/signing.secret"
	# signgate's own confinement of its children stays possible.
	for c in landlock_create_ruleset landlock_add_rule landlock_restrict_self seccomp; do
		setting "$u" SystemCallFilter | grep -qw "$c" || fail "$u: SystemCallFilter lacks $c"
		ok
	done
done
expect_same "$(setting signgate-watch.service ExecStart)" \
	"/usr/bin/signgate watch --config /etc/signgate/signgate.json /var/lib/signgate/inbox /var/lib/signgate/outbox"
expect_same "$(setting signgate-watch-once.service ExecStart)" \
	"/usr/bin/signgate watch --once --config /etc/signgate/signgate.json /var/lib/signgate/inbox /var/lib/signgate/outbox"
expect_same "$(setting signgate-watch-once.service Type)" "oneshot"
# A dropper's burst of changes never switches the .path route off.
expect_same "$(setting signgate-watch-once.path TriggerLimitIntervalSec)" "0"
expect_same "$(setting signgate-watch-once.service StartLimitIntervalSec)" "0"
expect_same "$(setting signgate-seal.service Type)" "oneshot"
expect_same "$(setting signgate-seal.timer Persistent)" "yes"
expect_same "$(setting signgate-seal.timer OnCalendar)" "*:0/5"
expect_same "$(setting signgate-watch-once.path PathChanged)" "/var/lib/signgate/inbox"
expect_same "$(setting signgate-watch-once.path DirectoryNotEmpty)" ""
done_ok
