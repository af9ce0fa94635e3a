#!/usr/bin/env bash
# The HTML audit report rendered by Debian's chromium, headless, as CI has it
# (README "Audit report"): a report made by the real command over real sign /
# deny / fail runs, records of past days and hostile records (a file named
# <img src=http://127.0.0.1:PORT/...>, an <svg onload>, a <link>, an <iframe>,
# a meta refresh, a bidi override, a zero-width space, look-alike letters).
#  - the screenshot is not blank: enough non-white pixels and colours, and
#    the chart's three colours (used nowhere else on the page) in bars;
#  - the browser's log (--enable-logging=stderr) has no console message and
#    no Content Security Policy violation;
#  - no request reaches a listener on 127.0.0.1 while the page renders;
#  - the hostile strings are text in the DOM (--dump-dom), escaped, the
#    override shown as a mark; the page has no element a string could add.
# Each detector is shown to fire on a page spoiled on purpose: a console
# error, a CSP violation, an image that does reach the listener.
# Skips (77) only when chromium is missing; scripts/setup.sh installs it.
. "$(dirname -- "$0")/lib.sh"

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is missing (scripts/setup.sh installs it)"
	exit 77
fi
/usr/bin/python3 -c 'import PIL' 2>/dev/null || fail "python3-pil is missing (scripts/setup.sh installs it)"
APPEND_DIR=$(cd -- "$(dirname -- "$0")" && pwd -P)

# A listener on 127.0.0.1 that logs the path of every request it receives.
/usr/bin/python3 - "$T/port" "$T/requests" <<'PY' &
import http.server, sys
port_file, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PY
LISTENER=$!
trap 'kill "$LISTENER" 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "the loopback listener did not start"
PORT=$(cat "$T/port")
: >"$T/requests"

# chrome MODE PAGE OUT: run chromium on PAGE with a fresh profile; MODE
# "shot" writes the screenshot OUT.png, "dom" the serialized DOM to OUT.dom;
# the browser's log goes to OUT.log.
runs=0
chrome() {
	local mode=$1 page=$2 out=$3 rc=0
	runs=$((runs + 1))
	local args=(--headless --no-sandbox --disable-gpu --disable-background-networking
		--disable-component-update --disable-sync --no-first-run --disable-default-apps
		--no-proxy-server --user-data-dir="$T/profile.$runs" --enable-logging=stderr
		--window-size=1280,2400)
	if [ "$mode" = shot ]; then
		timeout 120 "$CHROMIUM" "${args[@]}" --screenshot="$out.png" "file://$page" \
			>"$out.log" 2>&1 || rc=$?
		[ -s "$out.png" ] || { cat "$out.log" >&2; fail "chromium wrote no screenshot (exit $rc)"; }
	else
		timeout 120 "$CHROMIUM" "${args[@]}" --dump-dom "file://$page" \
			>"$out.dom" 2>"$out.log" || rc=$?
		grep -q '</html>' "$out.dom" || { cat "$out.log" >&2; fail "chromium dumped no DOM (exit $rc)"; }
	fi
	[ "$rc" -eq 0 ] || { cat "$out.log" >&2; fail "chromium exited $rc on ${page##*/}"; }
	ok
}

# The page's console messages and CSP reports in a browser log: chromium
# writes each console message as a line with "CONSOLE" (INFO:CONSOLE:N] or
# CONSOLE(N)), a CSP violation as a console message naming the policy. Its
# own D-Bus, GPU and sandbox warnings are not the page's and do not count.
page_messages() { grep -E 'CONSOLE[:(]|Content.Security.Policy|Uncaught' "$1" || true; }
expect_quiet_log() {
	local m
	m=$(page_messages "$1")
	[ -z "$m" ] || fail "the browser log of ${1##*/} has page messages: $m"
	ok
}

# png_ok PNG: not blank, and the chart's colours in blocks of bars.
png_ok() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = list(im.getdata())
nonwhite = sum(1 for p in px if p != (255, 255, 255))
colours = len(set(px))
chart = {"signed": (0x2e, 0x7d, 0x32), "denied": (0xef, 0x6c, 0x00), "failed": (0xc6, 0x28, 0x28)}
counts = {k: sum(1 for p in px if all(abs(a - b) <= 6 for a, b in zip(p, c))) for k, c in chart.items()}
print("size %dx%d, non-white %d (%.1f%%), colours %d, chart %s"
      % (w, h, nonwhite, 100.0 * nonwhite / len(px), colours, counts))
# a legend square is about 13x13 pixels: bars must add well over that
ok = nonwhite >= 0.03 * len(px) and colours >= 50 and all(n >= 600 for n in counts.values())
sys.exit(0 if ok else 1)
PY
}

# count FILE REGEX: how many times REGEX matches in FILE.
count() { { grep -o -- "$2" "$1" || true; } | wc -l; }

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"

# 1. Real runs: a signing, a denial of a hostile name, a failure.
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
hostile=$(printf 'evil\342\200\256gnp<img src=x onerror=alert(1)>.exe')
cp "$INST/hello-setup.exe" "$T/$hostile"
sg 3 sign --config "$CFG" --out-dir "$T/o" "$T/$hostile"
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing.exe"

# 2. Records of the 20 days before (the real signing's fields, other days),
# then hostile records naming the listener.
/usr/bin/python3 - "$APPEND_DIR" "$LOG" "$PORT" <<'PY'
import datetime, fcntl, json, sys
sys.path.insert(0, sys.argv[1])
import audit_append as aa
log, port = sys.argv[2], sys.argv[3]
first = json.loads(open(log).readline())
signed = {k: first[k] for k in ("action", "decision", "input", "output", "approval", "signature")
          if k in first}
today = datetime.datetime.now(datetime.timezone.utc).date()
url = "http://127.0.0.1:%s" % port
with open(log, "a+b") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    for back in range(20, 0, -1):
        day = (today - datetime.timedelta(days=back)).isoformat()
        for i in range(back % 4 + 2):
            aa.append(f, "%sT%02d:00:00Z" % (day, 8 + i), signed)
        if back % 3 == 0:
            aa.append(f, day + "T15:00:00Z", {"action": "sign", "decision": "denied",
                      "reasons": ["no approval matches"], "input": {"name": "tool.exe"}})
        if back % 4 == 0:
            aa.append(f, day + "T16:00:00Z", {"action": "sign", "decision": "failed",
                      "error": "every timestamp server failed"})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    aa.append(f, now, {"action": "sign", "decision": "denied",
        "input": {"name": "<img src=%s/img>\u202egpj.exe" % url,
                  "sha256": "<svg onload=\"fetch('%s/svg')\">" % url},
        "approval_id": "<iframe src=%s/frame></iframe>" % url,
        "reasons": ["<link rel=stylesheet href=%s/css>" % url,
                    "<meta http-equiv=refresh content=\"0;url=%s/meta\">" % url,
                    "<style>@import url(%s/imp);</style>" % url,
                    "<object data=%s/obj></object><video poster=%s/poster>" % (url, url)]})
    aa.append(f, now, {"action": "sign", "decision": "failed",
        "input": {"name": "setup\u200b.exe"},
        "error": "<script src=%s/js></script><a href=%s/a>click</a>" % (url, url)})
    rec = dict(signed)
    rec["approval"] = dict(rec["approval"], approved_by="j.d\u043ee",
                           ticket="</td></tr></table><h1>FORGED VERDICT: INTACT</h1>")
    aa.append(f, now, rec)
PY

# 3. The report, as the auditor receives it.
sg 0 audit report --config "$CFG" --out "$T/report.html"
P=$T/report.html
expect_in "$P" 'Verdict: INTACT'
expect_in "$P" "&lt;img src=http://127.0.0.1:$PORT/img&gt;<span class=\"cp\">$(printf '\342\200\271')U+202E"
expect_in "$P" "&lt;svg onload=&quot;fetch(&#39;http://127.0.0.1:$PORT/svg&#39;)&quot;&gt;"
expect_in "$P" 'evil<span class="cp">'
expect_in "$P" "setup<span class=\"cp\">$(printf '\342\200\271')U+200B"
expect_in "$P" 'non-ASCII: U+043E'
expect_in "$P" '&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;FORGED VERDICT'
for raw in '\342\200\256' '\342\200\213'; do
	if grep -q "$(printf "$raw")" "$P"; then fail "a raw $raw in the page"; fi
	ok
done
for tag in '<img' '<script' '<iframe' '<link' '<object' '<video' '<a ' '<meta http-equiv="refresh' \
	'<meta http-equiv=refresh' 'src=' 'href=' 'url(' '@import' 'onload' 'onerror'; do
	# outside escaped text: a real attribute or tag starts right after '<' or a space inside a tag
	if grep -o '<[^>]*>' "$P" | grep -qiF -- "$tag"; then fail "the page's markup has $tag"; fi
	ok
done
expect_same "$(count "$P" '<svg')" 1
expect_same "$(count "$P" '<h1>')" 1

# 4. Rendered: the DOM holds the strings as text, no element they could add.
chrome dom "$P" "$T/page"
D=$T/page.dom
for el in img script iframe link object video a style; do
	n=$(count "$D" "<$el[ >]")
	[ "$el" = style ] && want=1 || want=0
	expect_same "$el:$n" "$el:$want"
done
expect_same "$(count "$D" '<svg')" 1
expect_same "$(count "$D" '<h1>')" 1
expect_in "$D" "&lt;img src=http://127.0.0.1:$PORT/img&gt;"
expect_in "$D" '&lt;h1&gt;FORGED VERDICT: INTACT&lt;/h1&gt;'
expect_quiet_log "$T/page.log"

chrome shot "$P" "$T/page"
expect_quiet_log "$T/page.log"
png_ok "$T/page.png" || fail "the screenshot looks blank or lacks the chart"
ok
[ ! -s "$T/requests" ] || fail "the report made requests to the listener: $(cat "$T/requests")"
ok

# 5. The detectors fire. A page with the policy and an injected image: a CSP
# violation in the log, and still no request.
sed "s#<h1>#<img src=\"http://127.0.0.1:$PORT/blocked\"><h1>#" "$P" >"$T/csp.html"
chrome shot "$T/csp.html" "$T/csp"
page_messages "$T/csp.log" | grep -q "Content Security Policy" || fail "no CSP violation logged for an injected image"
ok
[ ! -s "$T/requests" ] || fail "an image blocked by the policy reached the listener"
ok
# Without the policy, an injected image reaches the listener and a script's
# console.error shows in the log.
sed -e '/Content-Security-Policy/d' \
	-e "s#<h1>#<img src=\"http://127.0.0.1:$PORT/control\"><script>console.error('sg-deliberate-error')</script><h1>#" \
	"$P" >"$T/open.html"
grep -q 'Content-Security-Policy' "$T/open.html" && fail "the control page still has the policy"
chrome shot "$T/open.html" "$T/open"
page_messages "$T/open.log" | grep -q 'sg-deliberate-error' || fail "a deliberate console error is not seen in the log"
ok
grep -qx '/control' "$T/requests" || fail "the control image did not reach the listener: the request check cannot fail"
ok

# 6. A blank page is not taken for a report.
printf '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>\n' >"$T/blank.html"
chrome shot "$T/blank.html" "$T/blank"
if png_ok "$T/blank.png"; then fail "a blank page passed the screenshot check"; fi
ok

done_ok
