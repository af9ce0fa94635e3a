#!/usr/bin/env bash
# Messages: each audit subcommand's --help is its own; --action and
# --decision list every word records carry (one table, which the filter also
# checks); counts of one are singular; policy approve --sha256 names "the
# command line" as the source; the README's config table has every trust key.
. "$(dirname -- "$0")/lib.sh"
: "${SG_SRC:?SG_SRC must name the source folder}"

# 1. audit SUBCOMMAND --help: that subcommand's usage and options, not the group's.
sg 0 audit show --help
expect_in "$T/out" "Usage: signgate audit show    (--config FILE | --log FILE) [FILTERS] [--json | --csv]"
expect_in "$T/out" "--csv           CSV (RFC 4180)"
expect_not_in "$T/out" "audit verify"
expect_not_in "$T/out" "--seal-cert PEM"
sg 0 audit verify --help
expect_in "$T/out" "Usage: signgate audit verify"
expect_in "$T/out" "--seal-cert PEM"
expect_not_in "$T/out" "audit show"
expect_not_in "$T/out" "--action"
sg 0 audit rotate --help
expect_in "$T/out" "Usage: signgate audit rotate"
expect_not_in "$T/out" "Filters"
sg 0 audit --help
for verb in verify show summary repair rotate seal; do
	expect_in "$T/out" "signgate audit $verb"
done

# 2. Every action and decision the log holds is one --help lists and the filter takes.
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/a.exe" "$INST/hello-setup.exe"
sg 3 check --config "$CFG" "$INST/hello-1.0.msi"
sg 0 policy approve --config "$CFG" --product Hello --vendor Example --version 1.0 --ticket T-1 \
	--id hello-msi --sha256 "$(sha256 "$INST/hello-1.0.msi")" "$INST/hello-1.0.msi"
sg 3 policy approve --config "$CFG" --product Hello --vendor Example --version 2.0 --ticket T-1 \
	--sha256 "$(sha256 "$INST/hello-setup.exe")" "$INST/hello-1.0.msi"
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing.exe"
sg 0 audit rotate --config "$CFG"
sg 0 audit show --help
help=$(cat "$T/out")
for log in "$T"/env/audit/audit.jsonl*; do
	/usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("action", r["action"]); print("decision", r["decision"])' "$log"
done | sort -u >"$T/words"
[ "$(wc -l <"$T/words")" -ge 8 ] || fail "too few kinds of records: $(cat "$T/words")"
while read -r field word; do
	grep -q -- "--$field .*\b$word\b" <<<"$help" || fail "--$field $word is not in the help"
	sg 0 audit show --config "$CFG" --"$field" "$word"
done <"$T/words"
sg 2 audit show --config "$CFG" --action frobnicate
expect_in "$T/err" "--action frobnicate: no record has that action; give one of check, sign, verify, timestamp, approve, repair, rotate, seal"
sg 2 audit summary --config "$CFG" --decision signd
expect_in "$T/err" "--decision signd: no record has that decision; give one of approved, denied"

# 3. Counts of one are singular, of others plural.
sg 0 sign --config "$CFG" --out "$T/b.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "signgate: 1 input: 1 signed,"
sg 0 sign --config "$CFG" --out-dir "$T/two" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/err" "signgate: 2 inputs: 2 signed,"
sg 0 audit rotate --config "$CFG"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" ": 1 record, chain intact"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" ": 2 records, chain intact"
sg 0 policy lint --policy "$T/env/policy"
expect_in "$T/out" ": 2 approvals, 0 revocations, 0 products in the catalog; 1 warning"
rm "$T/env/policy/hello-msi.json"
sg 0 policy lint --policy "$T/env/policy"
expect_in "$T/out" ": 1 approval, 0 revocations,"

# 4. policy approve --sha256: the value's source is "the command line", whole.
sg 0 policy approve --policy "$T/env/policy" --product Hello --vendor Example --version 1.0 \
	--ticket T-1 --id hello-msi --sha256 "$(sha256 "$INST/hello-1.0.msi")" "$INST/hello-1.0.msi"
expect_in "$T/out" "SHA-256 matches the vendor's value (command line)"
expect_not_in "$T/out" "command line0"
expect_not_in "$T/out" "line 0"
sg 3 policy approve --policy "$T/env/policy" --product Hello --vendor Example --version 3.0 \
	--ticket T-1 --sha256 "$(sha256 "$INST/hello-setup.exe")" "$INST/hello-1.0.msi"
expect_in "$T/out" "but the vendor's value (command line) is"
expect_not_in "$T/out" "command line0"

# 5. The README's config table names every key the config takes (trust,
# signing and the top level, read from lib/config/config.c's key lists).
/usr/bin/python3 - "$SG_SRC/lib/config/config.c" "$SG_SRC/README.md" >"$T/keys" <<'PY' || fail "$(cat "$T/keys")"
import re, sys
src, readme = open(sys.argv[1]).read(), open(sys.argv[2]).read()
# The table: the rows after "| key | meaning |" up to the first line that is no row.
rows = readme[readme.index("| key | meaning |"):].split("\n\n")[0]
missing = []
for fn, prefix in (("load_trust", "trust."), ("load_signing", "signing."), ("load_top", "")):
    body = src[src.index("static int %s(" % fn):]
    arr = body[body.index("keys[] = {"):body.index("};")]
    for key in re.findall(r'"([^"]+)"', arr):
        if key in ("trust", "signing"):
            continue  # sections: their keys have rows of their own
        first = "| `%s%s`" % (prefix, key)
        if first not in rows and "`%s`" % key not in rows:
            missing.append(prefix + key)
if missing:
    print("README's config table lacks: " + ", ".join(missing))
    sys.exit(1)
PY
ok
grep -q '^| `trust.approvers_ca_file` |' "$SG_SRC/README.md" || fail "README lacks trust.approvers_ca_file"
ok
done_ok
