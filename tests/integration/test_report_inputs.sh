#!/usr/bin/env bash
# audit report and what it reads (red team X's observations and findings 4-6):
# an --against or --seal-cert that is a FIFO is refused at once, never
# waited on; a path that is not valid UTF-8 is refused with the reason
# (never "out of memory"); a first line longer than a line may be, under --config, is a
# broken verdict with the bytes read; seals or an off-host copy that are not
# valid seals are listed with the digest of the bytes read; --out never
# lands in a policy folder (nor in the folder of a --policy file), never
# replaces the approvers' CA, and never makes an input that is not there
# yet (the seals before the first seal, a missing archive).
. "$(dirname -- "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing"

new_env
for i in 1 2; do
	/usr/bin/python3 "$SG_SRC/tests/integration/audit_append.py" "$LOG" "2026-11-0${i}T10:00:00Z" \
		'{"action":"sign","decision":"denied","reasons":["r"],"input":{"name":"a.exe","sha256":"'"$(printf %064d "$i")"'"}}'
done
seal_config
sg 0 audit seal --config "$CFG"
sg 0 audit report --config "$CFG" --json

# 1. --against a FIFO: refused at once (it used to block in fopen()).
mkfifo "$T/fifo"
rc=0
timeout 20 "$SG_BIN" audit report --config "$CFG" --against "$T/fifo" --json >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 124 ] || fail "audit report --against FIFO hangs"
[ "$rc" -eq 1 ] || fail "audit report --against FIFO exited $rc, expected 1"
ok
expect_in "$T/err" "$T/fifo: the off-host copy of the seals is not a regular file"
# The sealing certificate as a FIFO: the same (it was read with a plain fopen()).
rc=0
timeout 20 "$SG_BIN" audit report --log "$LOG" --seals "$LOG.seals" --seal-cert "$T/fifo" --json \
	>"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 124 ] || fail "audit report --seal-cert FIFO hangs"
[ "$rc" -eq 1 ] || fail "audit report --seal-cert FIFO exited $rc, expected 1"
ok
expect_in "$T/err" "$T/fifo: not a regular file"

# 2. A path that is not valid UTF-8: exit 2, the reason, the bytes escaped.
bad=$T/bad$'\xff'.jsonl
cp "$LOG" "$bad"
sg 2 audit report --log "$bad" --json
expect_in "$T/err" "--log $T/bad\\xff.jsonl: the path is not valid UTF-8"
expect_not_in "$T/err" "out of memory"

# 3. Seals that are not valid seals: the verdict is theirs; the seals file
# listed with the digest of the bytes read, the log as not read.
cp "$LOG.seals" "$T/seals.bak"
echo garbage >>"$LOG.seals"
sg 3 audit report --config "$CFG" --json
expect_same "$(jq -r .verdict.status "$T/out")" broken
expect_same "$(jq -c '.files[] | select(.role == "seals") | [.bytes, .sha256]' "$T/out")" \
	"[$(stat -c %s "$LOG.seals"),\"$(sha256 "$LOG.seals")\"]"
expect_same "$(jq -c '.files[] | select(.role == "log") | [.sha256, .note]' "$T/out")" \
	'[null,"not read: the seals decided the verdict"]'
cp "$T/seals.bak" "$LOG.seals"

# 4. --out inside the --policy folder (or a folder in it), or in the config's
# policy folder: refused, nothing written (the next signing would read it).
mkdir -p "$T/pol/sub"
cat >"$T/pol/approvals.json" <<JSON
{"approvals": [{"id": "a1", "product": "P", "vendor": "V", "version": "1",
  "sha256": "$(printf %064d 1)", "approved_by": "x", "ticket": "T", "approved_at": "2026-01-01"}]}
JSON
sg 0 audit report --log "$LOG" --policy "$T/pol" --json
sg 2 audit report --log "$LOG" --policy "$T/pol" --json --out "$T/pol/report.json"
expect_in "$T/err" "--out $T/pol/report.json is inside the policy folder $T/pol"
expect_absent "$T/pol/report.json"
sg 2 audit report --log "$LOG" --policy "$T/pol" --out "$T/pol/sub/r.html"
expect_absent "$T/pol/sub/r.html"
sg 2 audit report --config "$CFG" --json --out "$T/env/policy/r.json"
expect_in "$T/err" "is inside the policy folder"
expect_absent "$T/env/policy/r.json"
sg 0 audit report --log "$LOG" --policy "$T/pol" --json --out "$T/r.json"
# --policy one file of the folder: its folder is refused the same way, a
# folder in it too (also through ".."), and no report is left there.
sg 2 audit report --log "$LOG" --policy "$T/pol/approvals.json" --json \
	--out "$T/pol/sub/../sub/r.json"
expect_in "$T/err" "is inside the policy folder $T/pol (the folder of the policy file $T/pol/approvals.json)"
expect_absent "$T/pol/sub/r.json"
sg 0 audit report --log "$LOG" --policy "$T/pol/approvals.json" --json --out "$T/pol/../r2.json"

# 5. The approvers' CA (read under the two-person rule): never replaced.
cp "$PKI/root.pem" "$T/appr-ca.pem"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\", \"approvers_ca_file\": \"$T/appr-ca.pem\"}"
ca=$(sha256 "$T/appr-ca.pem")
sg 2 audit report --config "$CFG" --policy "$T/pol" --json --out "$T/appr-ca.pem" --force
expect_in "$T/err" "--out $T/appr-ca.pem is a file the report is made from"
expect_same "$(sha256 "$T/appr-ca.pem")" "$ca"
ln -s "$T/appr-ca.pem" "$T/ca-link.pem"
sg 2 audit report --config "$CFG" --policy "$T/pol" --json --out "$T/ca-link.pem" --force
expect_in "$T/err" "is a file the report is made from: give another (it is $T/appr-ca.pem)"
expect_same "$(sha256 "$T/appr-ca.pem")" "$ca"

# 6. An off-host copy that fails its own load (two seals of one seq with
# different heads): the verdict, and the copy listed with the bytes read.
mv "$LOG" "$T/log1" && mv "$LOG.seals" "$T/seals1"
for i in 3 4; do
	/usr/bin/python3 "$SG_SRC/tests/integration/audit_append.py" "$LOG" "2026-11-0${i}T10:00:00Z" \
		'{"action":"sign","decision":"denied","reasons":["other"]}'
done
sg 0 audit seal --config "$CFG"
{ sed 's/^/x audit-seal /' "$T/seals1"; sed 's/^/x audit-seal /' "$LOG.seals"; } >"$T/offhost.txt"
sg 3 audit report --config "$CFG" --against "$T/offhost.txt" --json
expect_in <(jq -r .verdict.message "$T/out") "seal seq 3 with different heads"
expect_same "$(jq -c '.files[] | select(.role == "offhost_seals") | [.path, .bytes, .sha256]' "$T/out")" \
	"[\"$T/offhost.txt\",$(stat -c %s "$T/offhost.txt"),\"$(sha256 "$T/offhost.txt")\"]"

# 7. Under --config, a first line longer than a line may be: the chain of
# archives cannot be followed. Broken, exit 3, with the bytes read of it.
/usr/bin/python3 - "$LOG" <<'PY'
import sys
open(sys.argv[1], "w").write("x" * (1024 * 1024 + 10) + "\n")
PY
sg 3 audit verify --config "$CFG"
sg 3 audit report --config "$CFG" --json
expect_same "$(jq -r .verdict.status "$T/out")" broken
expect_in <(jq -r .verdict.message "$T/out") "line 1 is longer than"
expect_same "$(jq -r .verdict.verify_command "$T/out")" "signgate audit verify --config '$CFG'"
n=$(jq -r '.files[0].bytes' "$T/out")
expect_same "$(jq -r '.files | length' "$T/out")" 1
expect_same "$(jq -r '.files[0] | [.role, .path] | join(" ")' "$T/out")" "log $LOG"
expect_same "$(jq -r '.files[0].sha256' "$T/out")" "$(head -c "$n" "$LOG" | sha256sum | cut -d' ' -f1)"
expect_in <(jq -r '.files[0].note' "$T/out") "the first $n bytes, as the check read them"

# 8. --out at an input the report names that is not there yet: compared by
# path (the real path of the folder, and the name), not only by inode.
# The configured seals before the first seal, through a symbolic link to
# the log's folder; the archive a rotate record names that is not beside
# the log. Refused, exit 2, naming the input; nothing made there.
rm -rf "$T/env"
new_env
for i in 1 2; do
	/usr/bin/python3 "$SG_SRC/tests/integration/audit_append.py" "$LOG" "2026-11-0${i}T10:00:00Z" \
		'{"action":"sign","decision":"denied","reasons":["r"]}'
done
seal_config
ln -s "$T/env/audit" "$T/audit-link"
sg 2 audit report --config "$CFG" --json --out "$T/audit-link/audit.jsonl.seals"
expect_in "$T/err" "--out $T/audit-link/audit.jsonl.seals is a file the report is made from (not there yet: the report names it): give another (it is $LOG.seals)"
expect_absent "$LOG.seals"
sg 0 audit rotate --config "$CFG"
A=$T/env/audit/$(ls "$T/env/audit/" | grep -E '^audit\.jsonl\.[0-9]{8}T[0-9]{6}Z$')
mv "$A" "$T/away.jsonl"
sg 0 audit report --config "$CFG" --json
expect_in "$T/err" "$LOG continues the archive $A, which is not beside it"
sg 2 audit report --config "$CFG" --json --out "$A"
expect_in "$T/err" "--out $A is a file the report is made from (not there yet: the report names it)"
expect_absent "$A"
sg 2 audit report --config "$CFG" --json --out "$T/audit-link/${A##*/}" --force
expect_in "$T/err" "give another (it is $A)"
expect_absent "$A"
# Another name beside them is a report like any other.
sg 0 audit report --config "$CFG" --json --out "$T/audit-link/report.json"
expect_same "$(jq -r .verdict.status "$T/env/audit/report.json")" partial

# 9. Every file the config names decides, read by this report or not: the
# trust anchors (the config's ca_file) are refused as --out, --force or not.
sg 2 audit report --config "$CFG" --json --out "$PKI/root.pem" --force
expect_in "$T/err" "is a file the report is made from"
openssl x509 -in "$PKI/root.pem" -noout || fail "root.pem was replaced"
ok
# A seals file named through a symbolic link is refused (never followed).
rm -f "$LOG.seals"
ln -s "$T/seals-target" "$T/seals-link"
config_set audit_seal "{\"key\": \"$T/seal.key\", \"cert\": \"$T/seal.pem\", \"file\": \"$T/seals-link\"}"
sg 1 audit report --config "$CFG" --json --out "$T/seals-target"
expect_in "$T/err" "$T/seals-link: cannot open: Too many levels of symbolic links"
expect_absent "$T/seals-target"
seal_config
# A file the config names through a symbolic link to a file not made yet
# (a dangling link, the TSA's CA here): --out at the name it points at
# would make it.
ln -s "$T/tsa-target" "$T/tsa-link"
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\", \"tsa_ca_file\": \"$T/tsa-link\"}"
sg 2 audit report --config "$CFG" --json --out "$T/tsa-target"
expect_in "$T/err" "(it is $T/tsa-link)"
expect_absent "$T/tsa-target"
done_ok
