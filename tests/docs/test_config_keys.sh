#!/usr/bin/env bash
# signgate.json(5) names every key the config parser accepts, and the
# configs the package ships use only keys it accepts.
# The keys are read from lib/config/config.c: each "keys[] = { ... }" list,
# under the section its load_<name>() function reads. A planted key must be
# reported missing.
#   test_config_keys.sh SOURCE_DIR
set -euo pipefail
src=$1
. "$(dirname -- "$0")/lib.sh"
config_c=$src/lib/config/config.c
page=$src/man/signgate.json.5.scd

# parser_keys: "section.key" (or "key" at the top) for every accepted key.
parser_keys() {
	awk '
		match($0, /^static int load_[a-z_]+\(/) {
			fn = substr($0, 12, RLENGTH - 12)
		}
		/keys\[\] = \{/ { on = 1 }
		on {
			line = $0
			while (match(line, /"[^"]*"/)) {
				print fn " " substr(line, RSTART + 1, RLENGTH - 2)
				line = substr(line, RSTART + RLENGTH)
			}
			if ($0 ~ /NULL/) on = 0
		}' "$config_c" |
		while read -r fn key; do
			case $fn in
			load_top) echo "$key" ;;
			load_trust) echo "trust.$key" ;;
			load_signing) echo "signing.$key" ;;
			load_syslog) echo "audit_syslog.$key" ;;
			load_seal) echo "audit_seal.$key" ;;
			*) echo "UNKNOWN-SECTION $fn.$key" ;;
			esac
		done
}

# missing PAGE: the parser's keys PAGE does not name as *key*.
missing() {
	local key
	while read -r key; do
		grep -qF -- "*$key*" "$1" || echo "$key"
	done
}

keys=$(parser_keys)
n=$(wc -l <<<"$keys")
[ "$n" -ge 40 ] || fail "only $n keys found in $config_c: did its keys[] lists change shape?"
! grep -q '^UNKNOWN-SECTION' <<<"$keys" ||
	fail "a keys[] list in a function this test does not know: $(grep '^UNKNOWN' <<<"$keys")"
gone=$(missing "$page" <<<"$keys")
[ -z "$gone" ] || fail "signgate.json(5) ($page) lacks these config keys: $(echo $gone)"
echo "ok: signgate.json(5) names all $n keys of the config parser"

# The check itself: a key the parser would accept and the page does not name.
gone=$(missing "$page" <<<"signing.no_such_key_planted")
[ "$gone" = signing.no_such_key_planted ] || fail "a planted key was not reported missing"
echo "ok: a planted key is reported missing"

# The shipped configs use only the parser's keys (a typo would make the
# package's own config refuse to load). Nested objects whose keys are data
# (pkcs11_env: variable names) are not keys of the config.
for f in "$src"/etc/signgate.json "$src"/etc/examples/*.json; do
	used=$(python3 -c '
import json, sys
def walk(obj, prefix):
    for k, v in obj.items():
        name = prefix + k
        print(name)
        if isinstance(v, dict) and name != "signing.pkcs11_env":
            walk(v, name + ".")
walk(json.load(open(sys.argv[1])), "")' "$f")
	for key in $used; do
		grep -qxF -- "$key" <<<"$keys" || fail "$f: key $key is not one the config parser accepts"
	done
done
echo "ok: the shipped configs use only keys the parser accepts"
