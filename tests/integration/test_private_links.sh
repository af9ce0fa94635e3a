#!/usr/bin/env bash
# Private folders against links and mounts (issue 13, red team). signgate
# checks every folder the kernel crosses to reach its private folders, along
# the path given and with every symbolic link resolved: a TMPDIR that is a
# link into a folder of another account is refused, naming that folder (a
# check of the link's own path alone passed it), and so is a link owned by
# another account on the way to TMPDIR or to an output folder. The left-over cleanup never enters a mount point:
# a bind of a precious folder at a left-over's name, or inside a left-over,
# keeps its contents.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
# 1. A TMPDIR that is a link (of root) to a root folder inside a folder of
# another account (uid 65534), who could rename the target away and put a
# folder of theirs, with the run's folder name, in its place.
mkdir "$T/other" "$T/other/t"
chmod 0755 "$T/other" "$T/other/t"
chown 65534 "$T/other"
ln -s "$T/other/t" "$T/tl"
lines=$( [ -f "$LOG" ] && wc -l <"$LOG" || echo 0)
TMPDIR=$T/tl sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/other: owned by another account (uid 65534)"
TMPDIR=$T/tl sg 2 verify --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/other: owned by another account (uid 65534)"
expect_same "$(find "$T/other/t" -mindepth 1 | wc -l)" 0
expect_same "$( [ -f "$LOG" ] && wc -l <"$LOG" || echo 0)" "$lines"
# The same link into a folder of root alone is fine; nothing stays behind.
mkdir "$T/mine"
ln -s "$T/mine" "$T/ml"
TMPDIR=$T/ml sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_same "$(find "$T/mine" -mindepth 1 | wc -l)" 0

# A link of another account, even to a folder of root: its owner may point it
# elsewhere at any time. Refused for TMPDIR and for the folder of --out.
ln -s "$T/mine" "$T/theirs"
lines=$( [ -f "$LOG" ] && wc -l <"$LOG" || echo 0)
chown -h 65534 "$T/theirs"
TMPDIR=$T/theirs sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: TMPDIR $T/theirs: a symbolic link of another account (uid 65534)"
sg 2 sign --config "$CFG" --out "$T/theirs/out.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: output folder $T/theirs: a symbolic link of another account (uid 65534)"
expect_same "$(find "$T/mine" -mindepth 1 | wc -l)" 0
expect_same "$( [ -f "$LOG" ] && wc -l <"$LOG" || echo 0)" "$lines"

# 2. Binds at and inside left-over names (a mount namespace of this test's own).
if ! unshare -m --propagation private true 2>/dev/null; then
	echo "note: no mount namespace here (unshare -m): the bind part is not run"
	done_ok
	exit 0
fi
for d in precious precious2; do
	mkdir -m 0700 "$T/$d"
	echo keep >"$T/$d/file"
done
mkdir -m 0700 "$T/tmp/signgate-work.Bind01" "$T/tmp/signgate-work.Bind02" \
	"$T/tmp/signgate-work.Bind02/sub"
echo junk >"$T/tmp/signgate-work.Bind02/junk"
rc=0
unshare -m --propagation private bash -c '
	mount --bind "$1/precious" "$1/tmp/signgate-work.Bind01" &&
	mount --bind "$1/precious2" "$1/tmp/signgate-work.Bind02/sub" &&
	"$2" check --config "$3" "$4" >"$1/out" 2>"$1/err"' _ "$T" "$SG_BIN" "$CFG" \
	"$INST/hello-setup.exe" || rc=$?
expect_same "$rc" 0
expect_same "$(cat "$T/precious/file")" keep
expect_same "$(cat "$T/precious2/file")" keep
# Neither is said to be removed; the bound one is left whole, the other emptied around its mount.
expect_not_in "$T/err" "signgate-work.Bind01"
expect_not_in "$T/err" "signgate-work.Bind02"
expect_absent "$T/tmp/signgate-work.Bind02/junk"
[ -d "$T/tmp/signgate-work.Bind02/sub" ] || fail "the mount point inside the left-over went"
ok
done_ok
