#!/usr/bin/env bash
# The generated zsh completion: valid zsh, every command, and for each
# command an _arguments specification of every option its --help defines,
# with file arguments by kind. zsh's completion system is stubbed
# (_arguments, _describe and compadd print what they are given), so that
# the completion function runs as zsh would run it, without a terminal.
#   test_completion_zsh.sh SIGNGATE MANDIR
set -euo pipefail
SIGNGATE=$1
file=$2/_signgate
. "$(dirname -- "$0")/lib.sh"
[ -f "$file" ] || fail "$file missing (target sg_docs)"
command -v zsh >/dev/null || { echo "SKIP: zsh not installed (scripts/setup.sh installs it)"; exit 77; }
zsh -n "$file" || fail "$file: zsh -n finds errors"
head -n 1 "$file" | grep -qx '#compdef signgate' || fail "$file does not start with #compdef signgate"

# zcomp WORD...: what the completion hands zsh for the last WORD.
zcomp() {
	zsh -f -c '
		_arguments() { print -rl -- "$@"; }
		_describe() { shift 2; print -rl -- "${(@P)2}"; }
		compadd() { print -rl -- "$@"; }
		words=("$@"); CURRENT=$#
		source "$0"' "$file" signgate "$@"
}

cmds=$(commands | sort -u)
got=$(zcomp "")
for c in $(awk '{print $1}' <<<"$cmds" | sort -u); do
	grep -q -- "^$c:." <<<"$got" || fail "'signgate <TAB>' lacks $c (with its description): $got"
done
n=0
while read -r cmd; do
	set -- $cmd
	if [ $# -eq 2 ]; then
		zcomp "$1" "" | grep -qx -- "$2" || fail "'signgate $1 <TAB>' lacks $2"
	fi
	got=$(zcomp "$@" "")
	for opt in $(options_defined "$@"); do
		grep -q -- "^$opt\[" <<<"$got" || fail "'signgate $cmd' has no spec of $opt: $got"
		n=$((n + 1))
	done
done <<<"$cmds"
echo "ok: every command and all $n options of their --help have a zsh specification"

got=$(zcomp sign "")
grep -qF -- "*:input:_files -g \"*.(exe|msi|msp|msm|mst|cab|ps1|psm1|psd1)(-.)\"" <<<"$got" ||
	fail "sign's inputs are not completed by extension: $got"
grep -qF -- "--config[" <<<"$got" && grep -q -- '^--config\[.*_files -g "\*.json(-.)"$' <<<"$got" ||
	fail "sign --config does not complete .json files: $got"
grep -q -- "^--out-dir\[.*:dir:_files -/$" <<<"$got" || fail "sign --out-dir is not a folder: $got"
got=$(zcomp audit show "")
grep -q -- "^--decision\[.*:value:(approved denied .* sealed)$" <<<"$got" ||
	fail "audit show --decision values: $got"
got=$(zcomp policy cosign "")
grep -q -- "^--key\[.*\*\.p12.*" <<<"$got" || fail "policy cosign --key does not complete keys: $got"
echo "ok: file arguments by kind and extension, value lists by value"
