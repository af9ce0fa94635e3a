#!/usr/bin/env bash
# The private copy lives in a stage folder beside the output (issue 12). A
# local user who can write the output folder can rename that folder and put
# one of its own, holding another file as "input", in its place. signgate
# must sign the bytes it hashed and approved, never what the path names
# later: the digest the key helper signs is taken from the copy signgate
# wrote, through the descriptor it wrote it with. The race is won for the
# attacker by an LD_PRELOAD shim (tests/tools/stage_race.c) at the first
# open of the copy by its path after it was written.
. "$(dirname -- "$0")/lib.sh"
: "${SG_STAGE_RACE:?SG_STAGE_RACE must name the stage race shim}"

new_env
# The attacker is played by a shim inside signgate's own process: its
# Landlock rules (confine.h) would keep the shim from the attacker's files
# and from making links, which is not what this test is about. Landlock is
# forced off for the runs under the shim.
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
# The attacker's PE: the approved one with its last 12 bytes its own (of the
# same size, so that the in-place attach takes it).
cp "$INST/hello-setup.exe" "$T/evil.exe"
printf 'EVIL PAYLOAD' | dd of="$T/evil.exe" bs=1 seek=$(($(stat -c %s "$T/evil.exe") - 12)) \
	conv=notrunc status=none
mkdir "$T/outdir"
# An output folder others may write without the sticky bit is refused
# (issue 13): there anyone could rename the stage away and put their own.
chmod 0777 "$T/outdir"
sg 2 sign --config "$CFG" --out "$T/outdir/hello-setup.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "output folder $T/outdir: others may write this folder and it has no sticky bit (mode 0777)"
expect_same "$(find "$T/outdir" -mindepth 1 | wc -l)" 0
# Sticky, others may still make their own entries there, not touch ours;
# the attacker below is played by a shim in signgate's own account, who can.
chmod 1777 "$T/outdir"

rc=0
SG_RACE_EVIL=$T/evil.exe SG_RACE_LOG=$T/race.log SIGNGATE_CONFINE_FORCE=landlock=0 LD_PRELOAD=$SG_STAGE_RACE \
	"$SG_BIN" sign --config "$CFG" --out "$T/outdir/hello-setup.exe" "$INST/hello-setup.exe" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_same "$(cat "$T/race.log" 2>/dev/null)" swapped
# The digest was taken and the signature attached through signgate's own
# descriptor on its copy; the swap came at the first open of the path (the
# output's check): the attacker's file there is not the one signed, and
# nothing is published.
[ "$rc" -eq 3 ] || fail "signgate sign under a stage race exited $rc, expected 3"
ok
expect_in "$T/out" "is not the one signed"
expect_absent "$T/outdir/hello-setup.exe"
expect_same "$(audit_field 0 decision)" invalid
# The digest the key helper signed is the approved file's, not the attacker's.
"$SG_BIN" sign --config "$CFG" --out "$T/clean.exe" "$INST/hello-setup.exe" >"$T/out" 2>"$T/err" ||
	fail "a clean signing failed"
expect_same "$(audit_field -1 signature.signed_digest)" "$(audit_field 0 signature.signed_digest)"

# 2. At the end of the job the stage folder is removed. The attacker has
# put a link to another folder of signgate's account in its place as the
# removal starts: nothing in that folder may be removed (the stage is
# emptied through signgate's own descriptor of it, and the name is removed
# only while it is that folder).
mkdir "$T/victim"
echo precious >"$T/victim/audit.jsonl"
rm -f "$T/race.log"
rc=0
SG_RACE_LINK=$T/victim SG_RACE_LOG=$T/race.log SIGNGATE_CONFINE_FORCE=landlock=0 LD_PRELOAD=$SG_STAGE_RACE \
	"$SG_BIN" sign --config "$CFG" --out "$T/outdir/linked.exe" "$INST/hello-setup.exe" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_same "$(cat "$T/race.log" 2>/dev/null)" linked
expect_same "$(cat "$T/victim/audit.jsonl" 2>/dev/null)" precious
[ "$rc" -eq 0 ] || fail "signgate sign with its stage linked away at the end exited $rc, expected 0"
ok
expect_same "$(audit_field 0 decision)" signed

# 3. An MSI's signature is attached by osslsigncode. Just before it runs,
# the attacker's own stage holds its MSI, a signature it found (any signed
# MSI carries one) and a link, named as the output, to a file of signgate's
# account: that file must stay as it was (osslsigncode 2.9 creates -out
# with fopen "w+bx", O_EXCL, and the attach fails), and nothing is
# published.
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out "$T/signed.msi" "$INST/hello-1.0.msi"
/usr/bin/osslsigncode extract-signature -in "$T/signed.msi" -out "$T/found.der" >/dev/null 2>&1 ||
	fail "cannot extract the signature of a signed MSI"
echo precious >"$T/victim/audit.jsonl"
rm -f "$T/race.log"
rc=0
SG_RACE_DIR=$T/outdir SG_RACE_OUT=hello-1.0.msi SG_RACE_OUTLINK=$T/victim/audit.jsonl \
	SG_RACE_MSI=$INST/hello-1.0.msi SG_RACE_SIG=$T/found.der SG_RACE_LOG=$T/race.log \
	SIGNGATE_CONFINE_FORCE=landlock=0 LD_PRELOAD=$SG_STAGE_RACE \
	"$SG_BIN" sign --config "$CFG" --out "$T/outdir/hello-1.0.msi" "$INST/hello-1.0.msi" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_same "$(cat "$T/race.log" 2>/dev/null)" planted
expect_same "$(cat "$T/victim/audit.jsonl")" precious
[ "$rc" -eq 1 ] || fail "signgate sign with a link planted for osslsigncode exited $rc, expected 1"
ok
expect_in "$T/out" "osslsigncode attach-signature"
expect_absent "$T/outdir/hello-1.0.msi"
done_ok
