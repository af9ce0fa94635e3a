#!/usr/bin/env bash
# red16 A: a record string made of one letter and a long run of combining marks
# (Thai U+0E49, Tibetan U+0F90: outside the ranges report_html_text.c marks)
# is one grapheme: no line break inside it, so one hostile vendor file name
# widens the "Signed files" table until the approver (with its "approval file
# (not verified)" badge), signer and timestamp columns of every row leave the
# page; with a font that has the marks they stack over the lines below. The
# HTML must not pass such a run through as raw marks: at most a few
# combining marks in a row (the rest shown as code points, or the run cut).
. "$(dirname -- "$0")/lib.sh"
APPEND=$(dirname -- "$0")/audit_append.py

name=$(python3 -c 'print("Setup" + "\u0e49" * 1500 + ".exe")')
id=$(python3 -c 'print("app" + "\u0f90" * 400)')
python3 "$APPEND" "$T/log.jsonl" 2026-12-01T00:00:00Z "$(jq -cn --arg n "$name" --arg id "$id" \
	'{action:"sign",decision:"signed",input:{name:$n,sha256:("a"*64),size:1},
	  approval:{id:$id,approved_by:"mallory",approved_by_from:"approval file (not verified)"}}')"
python3 "$APPEND" "$T/log.jsonl" 2026-12-01T00:00:01Z \
	'{"action":"sign","decision":"signed","input":{"name":"other.exe"},"approval":{"id":"b","approved_by":"eve","approved_by_from":"approval file (not verified)"}}'
sg 0 audit report --log "$T/log.jsonl" --out "$T/r.html"
# The longest run of combining marks (Mn, Me) in the page's text, tags removed.
run=$(python3 - "$T/r.html" <<'PY'
import re, sys, unicodedata
text = re.sub(r"<[^>]*>", "", open(sys.argv[1], encoding="utf-8").read())
best = cur = 0
for ch in text:
    cur = cur + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
    best = max(best, cur)
print(best)
PY
)
echo "longest run of raw combining marks in the HTML: $run" >&2
[ "$run" -le 4 ] || fail "the HTML passes $run combining marks in a row (one unbreakable grapheme)"
ok
# The warning of the other row is still there, as text.
expect_in "$T/r.html" "approval file (not verified)"
done_ok
