#!/usr/bin/env bash
# Regenerate docs/report.png, the screenshot of `signgate audit report` in
# the README: a realistic log of 1,500 records over 45 days in two files
# (bench/report_log.py: real records' shape, four signer certificates, a few
# hostile file names), its HTML report, rendered by headless chromium as
# tests/integration/test_report_render.sh does.
#   scripts/report-screenshot.sh [SIGNGATE]   (default: build/signgate, else build-test/signgate)
#   SG_SHOT_OUT=FILE   write the PNG there instead of docs/report.png
# Needs chromium and fonts-dejavu-core (scripts/setup.sh installs them).
set -euo pipefail
umask 022

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
sg=${1:-}
if [ -z "$sg" ]; then
	for b in build build-test; do
		[ -x "$root/$b/signgate" ] && { sg=$root/$b/signgate; break; }
	done
fi
[ -n "$sg" ] && sg=$(realpath -- "$sg") && [ -x "$sg" ] || { echo "report-screenshot.sh: no signgate built (give its path)" >&2; exit 2; }
command -v chromium >/dev/null || { echo "report-screenshot.sh: chromium is missing (scripts/setup.sh)" >&2; exit 2; }
out=${SG_SHOT_OUT:-$root/docs/report.png}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-shot.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
mkdir "$tmp/log"
# relative paths: the page shows log/audit.jsonl, not this temporary folder
(cd "$tmp" && /usr/bin/python3 "$root/bench/report_log.py" log 1500 45 1 >"$tmp/files")
logs=()
while IFS= read -r f; do logs+=(--log "$f"); done <"$tmp/files"
(cd "$tmp" && "$sg" audit report "${logs[@]}" --out "$tmp/report.html")

chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --disable-default-apps \
	--no-proxy-server --hide-scrollbars --user-data-dir="$tmp/profile" \
	--window-size=1280,1600 --screenshot="$tmp/report.png" "file://$tmp/report.html" \
	>"$tmp/chromium.log" 2>&1 || { cat "$tmp/chromium.log" >&2; exit 1; }
mkdir -p -- "$(dirname -- "$out")"
cp -- "$tmp/report.png" "$out.tmp"
mv -- "$out.tmp" "$out"
echo "wrote $out"
