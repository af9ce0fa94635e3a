#!/usr/bin/env bash
# `signgate audit report --policy`: the approvals in force now, and the
# signings whose input the policy would no longer approve. Real signings
# (each input a distinct copy of the fixture's NSIS installer), then the
# policy changes under them: a revocation by SHA-256; a revocation by
# SHA-512 alone of an input signed when the policy named no SHA-512 (the
# record holds none: "cannot be checked", then "revoked" once an approval
# pairs that SHA-512 with the input's SHA-256); a revocation by SHA-512 of
# an input whose record holds it; an approval expired since; a name-bound
# approval now naming another file; an approval removed. The report lists
# exactly those signings, each with its status and reason, and the
# approvals in force are exactly the live ones; an approval's typed
# "approved_by" (markup, a bidi override) is shown as typed text, never as
# verified. The policy given with --policy is held to the strict modes (a
# file or folder others may write: exit 2), "files" gives each policy file
# with the SHA-256 of the bytes judged, and an index beside it changes nothing.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"timestamp_urls\": [\"http://127.0.0.1:$(cat "$FIX/tsa.port")/\"]"
POL=$T/env/policy
mkdir -p "$T/in" "$T/signed"
today=$(date -u +%Y-%m-%d)
yesterday=$(date -u -d yesterday +%Y-%m-%d)

# input NAME: a distinct copy of the NSIS installer (one more byte in its overlay).
input() {
	cp "$INST/hello-setup.exe" "$T/in/$1"
	printf '%s' "$1" >>"$T/in/$1"
}
# approve ID NAME [EXTRA_JSON]: an approval of input NAME in its own policy file.
approve() { approval "$1" "$2" "$(sha256 "$T/in/$2")" "${3:-}"; }
sign() { # sign NAME: signed (exit 0), its record's seq in SEQ_<name without .exe>
	sg 0 sign --config "$CFG" --out-dir "$T/signed" "$T/in/$1"
	expect_same "$(audit_field 0 decision)" signed
	eval "SEQ_${1%.exe}=$(audit_field 0 seq)"
}
revoke() { # revoke FILE KEY DIGEST REASON: a revocation in its own policy file
	printf '{ "revoked": [ { "%s": "%s", "reason": "%s" } ] }\n' "$2" "$3" "$4" >"$POL/$1.json"
}

for n in keep rev256 rev512 exp named gone s512; do input "$n.exe"; done
approve keep keep.exe
approve rev256 rev256.exe
approve rev512 rev512.exe
approve exp exp.exe ", \"expires\": \"$today\""
approve named named.exe
approve gone gone.exe
# Typed by a person: whatever it claims, it is the file's text.
approval typed nothing.exe "$(printf '%064d' 7)" \
	', "approved_by": "Security Officer <b>verified</b> \u202e"'
sed -i 's/"approved_by": "j.doe", //' "$POL/typed.json"
for n in keep rev256 rev512 exp named gone; do sign "$n.exe"; done
# No approval named a SHA-512 so far: the records hold none.
expect_same "$(audit_field 0 input.sha512 2>/dev/null || echo none)" none

# An approval by both digests: from now on the records hold the SHA-512.
approve s512 s512.exe ", \"sha512\": \"$(sha512 "$T/in/s512.exe")\""
sign s512.exe
expect_same "$(audit_field 0 input.sha512)" "$(sha512 "$T/in/s512.exe")"

# --- the policy changes ---
revoke r-256 sha256 "$(sha256 "$T/in/rev256.exe")" "vendor recall 256"
revoke r-512 sha512 "$(sha512 "$T/in/rev512.exe")" "vendor recall 512"
revoke r-s512 sha512 "$(sha512 "$T/in/s512.exe")" "vendor recall s512"
sed -i "s/\"expires\": \"$today\"/\"expires\": \"$yesterday\"/" "$POL/exp.json"
sed -i 's/"file": "named.exe"/"file": "named-2.exe"/' "$POL/named.json"
rm "$POL/gone.json"

report() { # report EXIT ARGS...: the JSON report into $T/r.json
	sg "$1" audit report --config "$CFG" --json "${@:2}"
	cp "$T/out" "$T/r.json"
	jq -e . "$T/r.json" >/dev/null || fail "the report is not JSON"
	ok
}
q() { jq -r "$1" "$T/r.json"; }
row() { q ".no_longer_approved[] | select(.seq == $1) | $2"; }

report 0 --policy "$POL"
expect_same "$(q .verdict.status)" intact
# Exactly these signings, in the log's order, each with its status. keep.exe
# too: a revocation names a SHA-512 no approval pairs with a SHA-256, and its
# record holds no SHA-512, so nothing shows it is not the file revoked.
expect_same "$(q '[.no_longer_approved[] | "\(.seq):\(.status)"] | join(" ")')" \
	"$SEQ_keep:not_approved $SEQ_rev256:revoked $SEQ_rev512:not_approved $SEQ_exp:not_approved $SEQ_named:not_approved $SEQ_gone:not_approved $SEQ_s512:revoked"
expect_same "$(q .policy.no_longer_approved)" 7
expect_same "$(row "$SEQ_keep" '.reasons | length')" 1
expect_in <(row "$SEQ_keep" '.reasons[0]') "holds no SHA-512 of keep.exe"
expect_same "$(q '.signings | length')" 7
# Field by field: the revocation by SHA-256.
expect_same "$(row "$SEQ_rev256" .input.name)" rev256.exe
expect_same "$(row "$SEQ_rev256" .input.sha256)" "$(sha256 "$T/in/rev256.exe")"
expect_same "$(row "$SEQ_rev256" .output_sha256)" "$(sha256 "$T/signed/rev256.exe")"
expect_same "$(row "$SEQ_rev256" .approval_id)" rev256
expect_same "$(row "$SEQ_rev256" '.reasons[0]')" "rev256.exe: digest is revoked: vendor recall 256"
# A revocation by SHA-512 alone, the record holding no SHA-512: never passed as approved.
expect_in <(row "$SEQ_rev512" '.reasons | join(" | ")') "holds no SHA-512 of rev512.exe"
expect_in <(row "$SEQ_rev512" '.reasons | join(" | ")') "whether it is revoked cannot be checked"
# The record holding the SHA-512: revoked.
expect_same "$(row "$SEQ_s512" '.reasons[0]')" "s512.exe: digest is revoked: vendor recall s512"
expect_in <(row "$SEQ_exp" '.reasons[0]') "approval exp expired on $yesterday"
expect_in <(row "$SEQ_named" '.reasons[0]') 'approval named is for file "named-2.exe", not "named.exe"'
expect_in <(row "$SEQ_gone" '.reasons[0]') "gone.exe: no approval matches SHA-256 $(sha256 "$T/in/gone.exe")"
expect_same "$(row "$SEQ_gone" .approval_id)" gone
# The approvals: the live ones, each by SHA-256 alone with no SHA-512 paired,
# while r-512 names a SHA-512 no approval pairs: none is shown plainly in
# force, each is listed apart as "cannot be checked" (signing rev512.exe now
# is refused, and nothing in the policy tells which file r-512 names).
expect_same "$(q '[.policy.approvals_in_force[].id] | join(" ")')" ""
expect_same "$(q '[.policy.approvals_unchecked[].id] | sort | join(" ")')" "keep named rev512 typed"
expect_same "$(q '.policy.approvals_unchecked[] | select(.id == "keep") | .reason')" \
	"approval keep names no SHA-512 of its file and no approval pairs its SHA-256 with one, and 1 revocation(s) of the policy name a SHA-512 that no approval pairs with a SHA-256: it is in force unless one of them names its file, and whether it is revoked cannot be checked"
expect_same "$(q '.policy.approvals_unchecked[] | select(.id == "named") | .file')" named-2.exe
# Typed text is never shown as verified.
expect_same "$(q '[.policy.approvals_unchecked[].approved_by_from] | unique | join(",")')" \
	"approval file (not verified)"
expect_same "$(q '.policy.approvals_unchecked[] | select(.id == "typed") | .approved_by')" \
	"$(printf 'Security Officer <b>verified</b> \u202e')"
# The page: none in force, the four apart, counted and marked.
sg 0 audit report --config "$CFG" --policy "$POL" --out "$T/r0.html"
expect_in "$T/r0.html" "<h3>Approvals in force (0)</h3>"
expect_in "$T/r0.html" "<dt>Approvals that cannot be checked</dt><dd class=\"warn\">4</dd>"
expect_in "$T/r0.html" "Approvals that cannot be checked (4)</h3>"
expect_in "$T/r0.html" "approval rev512 names no SHA-512 of its file"
[ "$(grep -o '<tr class="warnrow"><td>' "$T/r0.html" | wc -l)" -ge 4 ] || fail "unchecked approvals not marked"
ok
expect_in "$T/r.json" 'Security Officer <b>verified</b> \u202E'
# The signing rows say where their approver came from, as the records do.
expect_same "$(q '[.signings[].approval.approved_by_from] | unique | join(",")')" \
	"approval file (not verified)"
# "files": each policy file read, with the SHA-256 of the bytes judged; a folder has no one digest.
expect_same "$(q '[.files[] | select(.role == "policy") | "\(.sha256)  \(.path)"] | join("\n")')" \
	"$(LC_ALL=C sha256sum -- "$POL"/*.json)"
expect_same "$(q .policy.path)" "$POL"
expect_same "$(q .policy.sha256)" null

# An approval now pairs the revoked SHA-512 with the input's SHA-256: revoked.
sed -i "s/\"file\": \"rev512.exe\"/\"file\": \"rev512.exe\", \"sha512\": \"$(sha512 "$T/in/rev512.exe")\"/" "$POL/rev512.json"
report 0 --policy "$POL"
expect_same "$(q '[.no_longer_approved[] | "\(.seq):\(.status)"] | join(" ")')" \
	"$SEQ_rev256:revoked $SEQ_rev512:revoked $SEQ_exp:not_approved $SEQ_named:not_approved $SEQ_gone:not_approved $SEQ_s512:revoked"
expect_same "$(row "$SEQ_rev512" .status)" revoked
expect_in <(row "$SEQ_rev512" '.reasons[0]') "rev512.exe: digest is revoked: vendor recall 512 (revoked by SHA-512, which approval rev512 gives for this SHA-256)"
expect_same "$(q '[.policy.approvals_in_force[].id] | sort | join(" ")')" "keep named typed"
expect_same "$(q '.policy.approvals_unchecked | length')" 0

# The HTML page: the same rows, the typed approver escaped and marked as typed, never as a certificate's.
sg 0 audit report --config "$CFG" --policy "$POL" --out "$T/r.html"
expect_in "$T/r.html" "Security Officer &lt;b&gt;verified&lt;/b&gt;"
expect_not_in "$T/r.html" "<b>verified</b>"
expect_not_in "$T/r.html" "$(printf '\u202e')"
expect_not_in "$T/r.html" "badge src-cert"
expect_in "$T/r.html" "U+202E"
[ "$(grep -o 'badge src-typed' "$T/r.html" | wc -l)" -ge 10 ] || fail "typed approvers not marked"
ok
expect_in "$T/r.html" "rev512.exe: digest is revoked: vendor recall 512"
expect_in "$T/r.html" "approval exp expired on $yesterday"

# An index beside the policy changes nothing: the report reads every file.
sg 0 policy index --policy "$POL"
[ -e "$POL/.signgate/index" ] || fail "no index written"
cp "$T/r.json" "$T/r-before.json"
report 0 --policy "$POL"
expect_same "$(q '[.policy.approvals_in_force[].id] | sort | join(" ")')" "keep named typed"
expect_same "$(q '.no_longer_approved | length')" 6

# A single policy file works too: the approvals in force are its own.
report 0 --policy "$POL/keep.json"
expect_same "$(q '[.policy.approvals_in_force[].id] | join(" ")')" keep
expect_same "$(q '.files[] | select(.role == "policy") | .sha256')" "$(sha256 "$POL/keep.json")"
expect_same "$(q .policy.sha256)" "$(sha256 "$POL/keep.json")"
expect_same "$(q "[.no_longer_approved[].seq] | index($SEQ_keep)")" null

# --- a policy others may write decides nothing ---
chmod o+w "$POL/keep.json"
sg 2 audit report --config "$CFG" --json --policy "$POL"
expect_in "$T/err" "$POL/keep.json"
expect_in "$T/err" "writable by others"
[ ! -s "$T/out" ] || fail "a report was written with a policy others may write"
ok
chmod o-w "$POL/keep.json"
chmod g+w "$POL"
sg 2 audit report --config "$CFG" --json --policy "$POL"
expect_in "$T/err" "writable by group"
chmod g-w "$POL"
# With --log, no config: the same part, and the same refusal.
sg 0 audit report --log "$LOG" --json --policy "$POL"
expect_same "$(jq -r '.policy.no_longer_approved' "$T/out")" 6
chmod o+w "$POL/named.json"
sg 2 audit report --log "$LOG" --json --policy "$POL"
expect_in "$T/err" "$POL/named.json: writable by others"
chmod o-w "$POL/named.json"
# Without --policy: no policy part at all.
report 0
expect_same "$(q .policy)" null
expect_same "$(q 'has("no_longer_approved")')" false
done_ok
