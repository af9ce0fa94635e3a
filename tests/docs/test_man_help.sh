#!/usr/bin/env bash
# signgate(1) and --help agree: every command the binary lists has its
# section in the generated man page, and every option its --help names is in
# that section; the exit codes are there. A planted page without one option
# must fail the same check.
#   test_man_help.sh SIGNGATE MANDIR
set -euo pipefail
SIGNGATE=$1
page=$2/signgate.1
. "$(dirname -- "$0")/lib.sh"
[ -f "$page" ] || fail "$page missing (target sg_docs)"

# The page as text: roff's \- and font changes undone.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\e/\\/g' "$1"; }

# section TEXT CMD: the text of "signgate CMD"'s section of the plain TEXT
# file, following "see ... above".
section() {
	local text ref
	text=$(awk -v h=".SS \"signgate $2\"" '
		$0 == h { on = 1; next }
		on && /^\.S[SH] / { exit }
		on { print }' "$1")
	ref=$(printf '%s\n' "$text" | sed -n 's/^See signgate \(.*\) above (the same help)\.$/\1/p')
	if [ -n "$ref" ]; then
		section "$1" "$ref"
	else
		printf '%s\n' "$text"
	fi
}

# check PAGE: 0 when the page covers every command and option, else 1 with reasons.
check() {
	local cmd opt text bad=0 n=0
	plain "$1" >"$tmp/plain"
	while read -r cmd; do
		n=$((n + 1))
		text=$(section "$tmp/plain" "$cmd")
		[ -n "$text" ] || { echo "no section for 'signgate $cmd'"; bad=1; continue; }
		for opt in $(comm -23 <(options $cmd) <(option_words <<<"$text")); do
			echo "'signgate $cmd --help' names $opt, its man page section does not"
			bad=1
		done
	done < <(commands | sort -u)
	[ "$n" -ge 10 ] || { echo "only $n commands found in --help"; bad=1; }
	for code in 0 1 2 3; do
		sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$tmp/plain" | grep -qx "\.B $code" ||
			{ echo "EXIT STATUS lacks code $code"; bad=1; }
	done
	return $bad
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
check "$page" || fail "signgate(1) and --help disagree"
echo "ok: $(commands | sort -u | wc -l) commands, every option of their --help in signgate(1)"

# The check itself: drop --out-dir from the page; it must be missed.
sed 's/\\-\\-out\\-dir/--gone/g' "$page" >"$tmp/planted.1"
if out=$(check "$tmp/planted.1"); then
	fail "a page without --out-dir passed the check"
fi
grep -q "names --out-dir, its man page section does not" <<<"$out" ||
	fail "the planted page failed for another reason: $out"
echo "ok: a page without --out-dir fails the check"
