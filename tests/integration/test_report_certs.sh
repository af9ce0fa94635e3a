#!/usr/bin/env bash
# The signer certificates of `audit report` (issue 16, red team C's C5/R1-R5):
# at most 1000 listed, the rest counted ("N more certificates not listed") with
# their signings still in the totals; counts only, never a timing. Rows flag a
# subject shared with another thumbprint (case-insensitively), an unknown
# expiry, and records that disagree about one certificate.
# Log generator: red team C's (bench/report_log.py with the signer replaced).
. "$(dirname -- "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh installs it)"
BENCH=$SG_SRC/bench

# gen DIR N MODE: report_log.py's log of N records over 400 days, each
# signing's signer changed by MODE (distinct: its own thumbprints; facts:
# four certificates in turn, see below).
gen() {
	mkdir -p "$1"
	python3 - "$1" "$2" "$3" "$BENCH" <<'PY' >/dev/null
import hashlib, sys
sys.path.insert(0, sys.argv[4])
import report_log as r
mode, orig, n = sys.argv[3], r.signer_at, [0]
def th(s):
    h = hashlib.sha256(s.encode()).hexdigest()
    return {"sha256": h, "sha1_thumbprint": h[:40].upper()}
def signer_at(t, rng):
    d = dict(orig(t, rng))
    n[0] += 1
    if mode == "distinct":
        d.update(th("distinct %d" % n[0]))
        return d
    k = n[0] % 4
    d.update(th("facts %d" % k))
    d["not_after"] = "2099-01-01T00:00:00Z"
    if k == 0:
        d["subject"] = "CN=Example Corp Code Signing,O=Example Corp"
    elif k == 1:
        d["subject"] = "cn=EXAMPLE CORP code signing,o=example corp"
    elif k == 2:
        d["subject"], d["not_after"] = "CN=No Expiry", None
    else:
        d["subject"] = "CN=Changing"
        d["not_after"] = "2099-01-01T00:00:00Z" if n[0] % 8 == 3 else "2098-01-01T00:00:00Z"
    return d
r.signer_at = signer_at
sys.argv = [sys.argv[0], sys.argv[1], sys.argv[2], "400", "0"]
r.main()
PY
}

# 1. 20 000 records, each signing its own signer: 1000 listed, the rest counted.
gen "$T/many" 20000 distinct
sg 0 audit report --log "$T/many/audit.jsonl" --json --out "$T/many.json"
signed=$(jq -r '.totals.signed' "$T/many.json")
[ "$signed" -gt 5000 ] || fail "expected thousands of signings, got $signed"
ok
expect_same "$(jq '.certificates | length' "$T/many.json")" 1000
expect_same "$(jq '.certificates_not_listed.certificates' "$T/many.json")" "$((signed - 1000))"
expect_same "$(jq '.certificates_not_listed.signings' "$T/many.json")" "$((signed - 1000))"
expect_same "$(jq '[.certificates[].signings] | add' "$T/many.json")" 1000
expect_same "$(jq -r '.certificates_not_listed.note' "$T/many.json")" \
	"$((signed - 1000)) more certificates not listed"
expect_same "$(jq '.certificates_not_listed.at_least' "$T/many.json")" false
sg 0 audit report --log "$T/many/audit.jsonl" --out "$T/many.html"
expect_in "$T/many.html" "$((signed - 1000)) more certificates not listed"

# 2. Four certificates: two share a subject (case differs), one has no
# not_after, one's records give two not_after values.
gen "$T/facts" 400 facts
sg 0 audit report --log "$T/facts/audit.jsonl" --json --out "$T/facts.json"
expect_same "$(jq '.certificates | length' "$T/facts.json")" 4
expect_same "$(jq '.certificates_not_listed.certificates' "$T/facts.json")" 0
row() { jq -c --arg s "$1" ".certificates[] | select(.subject == \$s) | $2" "$T/facts.json"; }
expect_same "$(row 'CN=Example Corp Code Signing,O=Example Corp' .same_subject_as)" 1
expect_same "$(row 'cn=EXAMPLE CORP code signing,o=example corp' .subject_warning)" \
	'"same subject as 1 other certificate(s): a renewal or an impostor"'
expect_same "$(row 'CN=No Expiry' '[.expiry_warning, .days_left, .same_subject_as]')" \
	'["expiry unknown",null,0]'
expect_same "$(row 'CN=Changing' '[.records_disagree, .records_warning]')" \
	'[true,"records disagree about this certificate"]'
expect_same "$(row 'CN=No Expiry' '[.records_disagree, .subject_warning]')" '[false,null]'
sg 0 audit report --log "$T/facts/audit.jsonl" --out "$T/facts.html"
expect_in "$T/facts.html" "same subject as 1 other certificate(s): a renewal or an impostor"
expect_in "$T/facts.html" "expiry unknown"
expect_in "$T/facts.html" "records disagree about this certificate"
expect_not_in "$T/facts.html" "more certificates not listed"
done_ok
