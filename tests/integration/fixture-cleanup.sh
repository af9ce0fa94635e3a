#!/usr/bin/env bash
# CTest fixture cleanup: stop the TSAs that fixture-setup.sh started.
set -u
fix=${1:?usage: fixture-cleanup.sh FIXDIR}
for pidfile in "$fix"/*.pid; do
	[ -f "$pidfile" ] || continue
	kill "$(cat "$pidfile")" 2>/dev/null
	rm -f -- "$pidfile"
done
# fixture-setup.sh made FIXDIR a link to a folder under /tmp: remove both.
if [ -L "$fix" ]; then
	real=$(readlink -- "$fix")
	case $real in /tmp/sg-fixture.*) rm -rf -- "$real" ;; esac
	rm -f -- "$fix"
fi
exit 0
