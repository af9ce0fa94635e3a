#!/usr/bin/env bash
# Install everything signgate needs to build, run its demo and its tests on
# Debian 12, as root. Safe to run again. osslsigncode must be 2.9 or newer
# (Debian 12's main archive has 2.5), and pkcs11-provider is only in
# bookworm-backports: that suite is added when needed, in a separate sources
# file that reuses the URI of the machine's own Debian source
# (debian.sources is not edited).
set -euo pipefail

prog=${0##*/}

# Another apt or dpkg run (unattended-upgrades on a fresh machine, a CI
# image's own provisioning) may hold apt's locks: every apt-get here waits
# for them, saying so, instead of failing at once. apt locks with fcntl and
# `flock` with flock(2); /proc/locks lists both. SG_APT_LOCK_WAIT: seconds
# (default 600); SG_APT_LOCKS: the lock files (tests).
apt_lock_wait=${SG_APT_LOCK_WAIT:-600}
read -r -a apt_locks <<<"${SG_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

lock_held() { # lock_held FILE: does any process hold a lock on FILE?
	local ino
	ino=$(stat -c %i -- "$1" 2>/dev/null) || return 1
	awk -v ino="$ino" '{ for (i = 2; i <= NF; i++) if ($i ~ /^[0-9a-f]+:[0-9a-f]+:[0-9]+$/) {
		split($i, d, ":"); if (d[3] == ino) held = 1; break } } END { exit !held }' /proc/locks
}

wait_for_apt_locks() { # until no apt lock is held, at most $apt_lock_wait seconds
	local waited=0 lock busy
	for (( ; ; waited++)); do
		busy=
		for lock in "${apt_locks[@]}"; do
			if lock_held "$lock"; then busy=$lock; break; fi
		done
		[ -n "$busy" ] || return 0
		[ "$waited" -gt 0 ] ||
			echo "$prog: waiting for another apt or dpkg run to release $busy (at most ${apt_lock_wait} s)" >&2
		if [ "$waited" -ge "$apt_lock_wait" ]; then
			echo "$prog: $busy is still locked after ${apt_lock_wait} s: another apt or dpkg run has not finished" >&2
			return 1
		fi
		sleep 1
	done
}

apt_get() { # apt-get, once the locks are free; apt itself waits too if another run takes them first
	wait_for_apt_locks && apt-get -o DPkg::Lock::Timeout="$apt_lock_wait" "$@"
}

# The URI of the machine's Debian source for bookworm: from the deb822
# sources file, else from a one-line sources.list; nothing (status 0) when
# neither exists or names bookworm, as on a machine with debian.sources only.
# SG_APT_SOURCES: the files (tests).
read -r -a apt_sources <<<"${SG_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources /etc/apt/sources.list}"
debian_uri() {
	local f
	for f in "${apt_sources[@]}"; do
		[ -f "$f" ] || continue
		case $f in
		*.sources) awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ { print uri; exit }' "$f" ;;
		*) awk '{ sub(/\[[^]]*\]/, "") } $1 == "deb" && $3 == "bookworm" && / main( |$)/ { print $2; exit }' "$f" ;;
		esac
	done
	return 0
}

# Sourced (tests/integration/test_setup_lock.sh): the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
	echo "Usage: $prog    (as root) install signgate's build, demo and test dependencies"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "$prog: run as root (apt-get install)" >&2; exit 1; }

packages=(
	build-essential cmake pkg-config              # build
	libssl-dev libjansson-dev uuid-dev            # libraries signgate links
	libseccomp-dev                                # seccomp filters for the children it runs
	openssl osslsigncode                          # signing and verification
	nsis wixl msitools                            # real installers for demo and tests
	gcab                                          # cabinets (.cab) made at test time
	python3 python3-pefile                        # test TSA and independent PE checks
	python3-cryptography                          # tests make expired and not-yet-valid CRLs
	softhsm2 opensc libengine-pkcs11-openssl      # PKCS#11 token for key-in-HSM tests
	libp11-kit-dev                                # pkcs11.h for the tests' PKCS#11 shim module
	gpgv gnupg                                    # vendor OpenPGP signatures (gpgv; gpg for test keys)
	jq                                            # tests check seals by hand (jq + openssl cms)
	strace                                        # a test kills a sealing run at its seal write
	gdb util-linux                                # tests force cores (gcore), drop CAP_IPC_LOCK (setpriv)
	clang                                         # the sanitizer pass (UBSan that sees NULL + 0)
	libclang-rt-14-dev                            # libFuzzer and the sanitizer runtimes (only recommended by clang)
	ca-certificates binutils
	debhelper lintian                             # the Debian package (scripts/package.sh) and its check
	scdoc zsh                                     # section-5 man pages; the zsh completion's test
	chromium python3-pil fonts-dejavu-core       # the HTML audit report rendered headless (test_report_render.sh)
	systemd                                       # units tests: systemd-analyze, systemd-sysusers/-tmpfiles --root; the package's postinst
)

export DEBIAN_FRONTEND=noninteractive
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

version_ok() { # osslsigncode --version prints "osslsigncode 2.9, using:"
	local v
	v=$(osslsigncode --version 2>/dev/null | sed -n '1s/^osslsigncode \([0-9.]*\).*/\1/p')
	[ -n "$v" ] && dpkg --compare-versions "$v" ge 2.9
}

# Is bookworm-backports among apt's sources? (apt-cache's output is read
# whole first: grep -q leaving a pipe early would fail it under pipefail.)
has_backports() {
	local policy
	policy=$(apt-cache policy 2>/dev/null) || return 1
	grep -q ' bookworm-backports/main ' <<<"$policy"
}

# bookworm-backports, added once in a sources file of its own: osslsigncode
# 2.9 when the machine's is older, and pkcs11-provider (not in Debian 12's
# main archive), which the "pkcs11-provider" key source and its tests use.
add_backports() {
	local uri
	has_backports && return 0
	uri=$(debian_uri | head -n 1)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	echo "$prog: adding bookworm-backports from $uri"
	cat >/etc/apt/sources.list.d/signgate-backports.sources <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_get update -qq
}

if ! version_ok; then
	add_backports
	apt_get install -y -qq --no-install-recommends -t bookworm-backports osslsigncode >/dev/null
	version_ok || { echo "$prog: could not install osslsigncode 2.9 or newer" >&2; exit 1; }
fi
if ! dpkg-query -W -f '${Status}' pkcs11-provider 2>/dev/null | grep -q 'ok installed'; then
	candidate=$(apt-cache policy pkcs11-provider 2>/dev/null)
	if ! grep -q 'Candidate: [0-9]' <<<"$candidate"; then
		add_backports
	fi
	if has_backports; then
		apt_get install -y -qq --no-install-recommends -t bookworm-backports pkcs11-provider >/dev/null
	else # a release that has it in its main archive
		apt_get install -y -qq --no-install-recommends pkcs11-provider >/dev/null
	fi
fi
echo "$prog: dependencies ready ($(osslsigncode --version | head -n 1 | cut -d, -f1), pkcs11-provider $(dpkg-query -W -f '${Version}' pkcs11-provider))"
