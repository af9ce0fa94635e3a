#!/usr/bin/env bash
# scripts/setup.sh waits for apt's locks held by another apt or dpkg run
# (flock(2) or fcntl, as apt takes them), saying so, instead of failing; and
# gives up after SG_APT_LOCK_WAIT seconds with the lock named. Only its
# waiting function runs here (sourced), on lock files of the test's own.
. "$(dirname -- "$0")/lib.sh"
: "${SG_SRC:?SG_SRC must name the source folder}"

touch "$T/lists.lock" "$T/dpkg.lock"
export SG_APT_LOCKS="$T/dpkg.lock $T/lists.lock" SG_APT_LOCK_WAIT=20
export SG_APT_SOURCES="$T/debian.sources $T/sources.list"
# shellcheck source=../../scripts/setup.sh
. "$SG_SRC/scripts/setup.sh"
declare -F wait_for_apt_locks >/dev/null || fail "setup.sh has no wait_for_apt_locks"
ok

# The Debian source's URI for bookworm-backports, under setup.sh's own
# set -euo pipefail: a machine with debian.sources and no sources.list
# (Debian 12's default) must not stop setup.sh with grep's status 2.
uri_of() { (set -euo pipefail; u=$(debian_uri | head -n 1); printf '%s' "$u") }
cat >"$T/debian.sources" <<'SRC'
Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
SRC
expect_same "$(uri_of)" http://mirror.example/debian
ok
rm "$T/debian.sources"
expect_same "$(uri_of)" ""
ok
printf '%s\n' 'deb http://security.example/debian-security bookworm-security main' \
	'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://old.example/debian bookworm main' >"$T/sources.list"
expect_same "$(uri_of)" http://old.example/debian
ok

# Free: no wait, no message.
start=$(date +%s)
wait_for_apt_locks 2>"$T/err" || fail "waited for free locks"
expect_same "$(cat "$T/err")" ""
[ $(($(date +%s) - start)) -le 1 ] || fail "waited for free locks"
ok

# held_for SECONDS KIND FILE: hold FILE's lock in the background (flock, or fcntl as apt does).
held_for() {
	if [ "$2" = flock ]; then
		flock -x "$3" sleep "$1" &
	else
		/usr/bin/python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
time.sleep(float(sys.argv[2]))' "$3" "$1" &
	fi
	holder=$!
	for _ in $(seq 1 50); do lock_held "$3" && return 0; sleep 0.1; done
	fail "the $2 lock on $3 was never seen"
}

for kind in flock fcntl; do
	held_for 3 "$kind" "$T/lists.lock"
	start=$(date +%s)
	wait_for_apt_locks 2>"$T/err" || fail "gave up on a lock held for 3 s ($kind)"
	took=$(($(date +%s) - start))
	[ "$took" -ge 2 ] || fail "did not wait for the $kind lock (${took} s)"
	ok
	expect_in "$T/err" "waiting for another apt or dpkg run to release $T/lists.lock (at most 20 s)"
	expect_same "$(grep -c waiting "$T/err")" 1
	wait "$holder"
done

# Held past the limit: status 1, the lock named.
SG_APT_LOCK_WAIT=2
apt_lock_wait=2
held_for 6 flock "$T/dpkg.lock"
rc=0
wait_for_apt_locks 2>"$T/err" || rc=$?
expect_same "$rc" 1
expect_in "$T/err" "$T/dpkg.lock is still locked after 2 s: another apt or dpkg run has not finished"
wait "$holder"
done_ok
