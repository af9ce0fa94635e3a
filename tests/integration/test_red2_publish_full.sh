#!/usr/bin/env bash
# Red team R2: sg_publish_at (the policy index's atomic write through a
# folder descriptor) on a full disk: `policy index` fails with an I/O error
# (exit 1) naming the index, leaves no temporary file, and the old index
# stays byte for byte. A policy on a 64 KiB tmpfs (needs root to mount:
# skipped, 77, otherwise).
. "$(dirname -- "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "needs root to mount a tmpfs"; exit 77; }
new_env
mkdir "$T/mnt"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$T/mnt" || { echo "cannot mount a tmpfs"; exit 77; }
trap 'umount "$T/mnt" 2>/dev/null; rm -rf -- "$T"' EXIT
POL=$T/mnt/policy
mkdir -m 0755 "$POL"
config_set policy "\"$POL/\""
pe=$INST/hello-setup.exe
appr() { # ID SHA256: one approval file in $POL
	cat >"$POL/$1.json" <<JSON
{ "approvals": [ { "id": "$1", "product": "Hello", "vendor": "Example", "version": "1.0",
  "file": "$1.exe", "sha256": "$2", "source": "https://example.invalid/d",
  "approved_by": "j.doe", "ticket": "SEC-1", "approved_at": "2026-01-01" } ] }
JSON
}
appr hello "$(sha256 "$pe")"
sg 0 policy index --config "$CFG"
[ -s "$POL/.signgate/index" ] || fail "no index written"
ok
cp "$POL/.signgate/index" "$T/index.before"
# Approvals that make the next index larger than what is left; then fill the rest.
/usr/bin/python3 - "$POL/fillers.json" <<'PY2'
import json, sys
a = [{"id": "filler-%d" % i, "product": "Hello", "vendor": "Example", "version": "1.0",
      "file": "filler-%d.exe" % i, "sha256": "%064x" % i, "source": "https://example.invalid/d",
      "approved_by": "j.doe", "ticket": "SEC-1", "approved_at": "2026-01-01"} for i in range(1, 60)]
json.dump({"approvals": a}, open(sys.argv[1], "w"))
PY2
dd if=/dev/zero of="$T/mnt/fill" bs=1k count=64 2>/dev/null || true
df -k "$T/mnt" | tail -1 >&2
sg 1 policy index --config "$CFG"
expect_in "$T/err" "$POL/.signgate/"
expect_in "$T/err" "No space left on device"
# No temporary left, the old index intact.
expect_same "$(ls -A "$POL/.signgate" | tr '\n' ' ')" "index "
cmp -s "$POL/.signgate/index" "$T/index.before" || fail "the old index changed"
ok
# Room again: the index is written.
rm "$T/mnt/fill"
sg 0 policy index --config "$CFG"
cmp -s "$POL/.signgate/index" "$T/index.before" && fail "index not rewritten"
ok
done_ok
