#!/usr/bin/env bash
# red16 A: every string of a signing and a denial record hostile at once (markup,
# CSS url(), a javascript: TSA URL, bidi override and isolate, zero-width,
# BEL, ESC, U+2028, quotes, 3000 characters): the HTML has only the report's
# own elements, no raw bidi / zero-width / control character, no attribute
# from a record; the JSON is ASCII with no raw control character and reads
# back exactly; an approver whose "approved_by_from" is not exactly
# "certificate" is given the typed badge.
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"
APPEND=$(dirname -- "$0")/audit_append.py

fields=$(python3 - <<'PY'
import json
bad = ("x<script>alert(1)</script><img src=http://127.0.0.1:9/a><svg onload=alert(1)>"
       "<meta http-equiv=refresh content=0;url=http://e.invalid><base href=http://e.invalid/>"
       "\u202egnp.exe\u2066\u200b\u200d\ufeff\u0007\u001b[31m&quot;\"' style=background:url(http://e.invalid)"
       "\u2028" + "A" * 3000)
print(json.dumps({"action": "sign", "decision": "signed",
    "input": {"name": bad, "sha256": "a" * 64, "size": 1}, "reasons": [bad], "error": bad,
    "actor": {"user": bad, "uid": 0, "host": bad},
    "approval": {"id": bad, "product": bad, "vendor": bad, "version": bad, "ticket": bad,
                 "approved_by": bad, "approved_by_from": "certificate\u200b",
                 "cosigned_by": {"name": bad, "subject": bad, "email": bad, "cert_sha256": bad}},
    "signature": {"signer": {"subject": bad, "sha1_thumbprint": bad, "sha256": bad,
                             "not_after": "2027-01-01T00:00:00Z"},
                  "timestamp": bad, "tsa_url": "javascript:alert(1)"}}))
PY
)
python3 "$APPEND" "$T/log.jsonl" 2026-12-01T00:00:00Z "$fields"
python3 "$APPEND" "$T/log.jsonl" 2026-12-01T00:00:01Z "${fields/\"decision\": \"signed\"/\"decision\": \"denied\"}"
sg 0 audit report --log "$T/log.jsonl" --out "$T/r.html"
sg 0 audit report --log "$T/log.jsonl" --json --out "$T/r.json"
python3 - "$T/r.html" <<'PY' || fail "the HTML report carries something from a record"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "section", "p",
           "ul", "li", "pre", "span", "strong", "dl", "dt", "dd", "table", "thead", "tbody",
           "tr", "th", "td", "div", "br", "figure", "figcaption", "svg", "line", "rect", "text",
           "footer", "code", "g", "title"}
tags = set(t.lower() for t in re.findall(r"<\s*([A-Za-z][A-Za-z0-9-]*)", html))
assert tags <= allowed, tags - allowed
# The markup alone (text between tags and the constant style sheet removed).
markup = re.sub(r">[^<]*<", "><", re.sub(r"<style>.*?</style>", "", html, flags=re.S)).lower()
for bad in ("onload", "onerror", "href", "src=", "javascript:", "refresh", "url(", "style="):
    assert bad not in markup, bad
for ch in "\u202e\u2066\u200b\u200d\ufeff\u0007\u001b\u2028":
    assert ch not in html, "raw U+%04X" % ord(ch)
# the typed badge for anything but exactly "certificate"
assert 'badge src-cert' not in html, "a not-exactly-certificate source shown as a certificate"
PY
ok
python3 - "$T/r.json" "$fields" <<'PY' || fail "the JSON report is not ASCII, or does not read back"
import json, sys
raw = open(sys.argv[1], "rb").read()
assert all(b < 0x80 for b in raw), "non-ASCII byte"
assert all(b >= 0x20 or b == 0x0a for b in raw), "raw control byte"
doc = json.loads(raw)
want = json.loads(sys.argv[2])
assert doc["signings"][0]["input"]["name"] == want["input"]["name"]
assert doc["problems"][0]["reasons"] == want["reasons"]
PY
ok
done_ok
