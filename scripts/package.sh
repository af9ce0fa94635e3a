#!/usr/bin/env bash
# Build signgate's Debian package with dpkg-buildpackage from a copy of this
# tree (so that nothing is written beside the repository), check it with
# lintian (any warning or error fails), and print the .deb's path as the
# last line of output.
#   SG_DEB_DIR   where to build (default: build-deb/ in the repository)
#   SG_JOBS      parallel jobs (default: the number of cores)
set -euo pipefail

prog=${0##*/}
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
	echo "Usage: $prog    build the .deb (debian/, dpkg-buildpackage, lintian); prints its path"
	exit 0
fi
root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
out=${SG_DEB_DIR:-$root/build-deb}
jobs=${SG_JOBS:-$(nproc)}

for tool in dpkg-buildpackage lintian; do
	command -v "$tool" >/dev/null ||
		{ echo "$prog: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done
rm -rf -- "$out"
mkdir -p -- "$out/src"
# The working tree as it is (uncommitted changes too), without build output.
tar -C "$root" --exclude=./.git --exclude='./build*' --exclude=./demo-out -cf - . |
	tar -C "$out/src" -xf -
(
	cd "$out/src"
	# Source and binary (lintian then checks debian/ too); -us -uc:
	# unsigned (CI has no maintainer key).
	DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc >"$out/build.log" 2>&1
) || { tail -n 40 "$out/build.log" >&2; echo "$prog: dpkg-buildpackage failed (log: $out/build.log)" >&2; exit 1; }
deb=$(find "$out" -maxdepth 1 -name 'signgate_*.deb' | head -n 1)
changes=$(find "$out" -maxdepth 1 -name 'signgate_*.changes' | head -n 1)
[ -n "$deb" ] || { echo "$prog: no .deb in $out" >&2; exit 1; }
# Lintian clean (the source, the .deb and its -dbgsym): overrides, each with
# its reason, are in debian/source/lintian-overrides. Lintian warns about
# running as root; that line is dropped.
if ! lintian --fail-on error,warning --display-info "$changes" >"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log" >&2
	echo "$prog: lintian found problems" >&2
	exit 1
fi
grep -v 'running with root privileges' "$out/lintian.log" | sed 's/^/lintian: /' >&2 || true
echo "$deb"
