#!/usr/bin/env bash
# The generated bash completion: every command and every option of every
# command's --help; file arguments by kind (installers and scripts by
# extension, configs .json, keys, certificates, logs, folders); value lists.
# The completion function is called as bash calls it, COMP_WORDS set.
#   test_completion_bash.sh SIGNGATE MANDIR
set -euo pipefail
SIGNGATE=$1
file=$2/signgate.bash
. "$(dirname -- "$0")/lib.sh"
[ -f "$file" ] || fail "$file missing (target sg_docs)"
# shellcheck source=/dev/null
. "$file"
complete -p signgate | grep -q -- '-F _signgate' || fail "no 'complete -F _signgate signgate'"

# comp WORD...: the completions of the last WORD (may be ""), one a line.
comp() {
	COMP_WORDS=(signgate "$@")
	COMP_CWORD=$#
	COMP_LINE="signgate $*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_signgate 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
# has LIST WORD...: every WORD is a line of LIST.
has() {
	local list=$1 w
	shift
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$list" || return 1
	done
}

cmds=$(commands | sort -u)
top=$(comp "")
for c in $(awk '{print $1}' <<<"$cmds" | sort -u); do
	has "$top" "$c" || fail "'signgate <TAB>' lacks $c: $(echo $top)"
done
n=0
while read -r cmd; do
	set -- $cmd
	if [ $# -eq 2 ]; then
		has "$(comp "$1" "")" "$2" || fail "'signgate $1 <TAB>' lacks $2"
	fi
	got=$(comp "$@" -)
	for opt in $(options_defined "$@"); do
		has "$got" "$opt" || fail "'signgate $cmd -<TAB>' lacks $opt"
		n=$((n + 1))
	done
done <<<"$cmds"
echo "ok: every command and all $n options of their --help complete"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
cd "$tmp"
mkdir sub
touch a.exe b.MSI c.txt d.ps1 e.cab f.msp signgate.json notes.md root.pem crl.crl me.key \
	me.p12 audit.log audit.log.20261201T000000Z module.so

got=$(comp sign "")
has "$got" a.exe b.MSI d.ps1 e.cab f.msp sub || fail "sign INPUT: $(echo $got)"
! has "$got" c.txt && ! has "$got" signgate.json || fail "sign INPUT offers non-installers: $(echo $got)"
got=$(comp sign --config "")
has "$got" signgate.json sub && ! has "$got" a.exe || fail "sign --config: $(echo $got)"
got=$(comp sign -c "")
has "$got" signgate.json && ! has "$got" c.txt || fail "sign -c: $(echo $got)"
got=$(comp sign --out-dir "")
[ "$got" = sub ] || fail "sign --out-dir offers more than folders: $(echo $got)"
got=$(comp verify --ca "")
has "$got" root.pem crl.crl && ! has "$got" signgate.json || fail "verify --ca: $(echo $got)"
got=$(comp policy cosign --key "")
has "$got" me.key me.p12 root.pem && ! has "$got" a.exe || fail "cosign --key: $(echo $got)"
got=$(comp audit verify --log "")
has "$got" audit.log audit.log.20261201T000000Z && ! has "$got" a.exe || fail "audit verify --log: $(echo $got)"
got=$(comp audit show --decision "")
has "$got" denied signed sealed || fail "audit show --decision: $(echo $got)"
got=$(comp policy approve --existing-signature "")
has "$got" refuse replace nest || fail "policy approve --existing-signature: $(echo $got)"
got=$(comp sign --jobs "")
[ -z "$got" ] || fail "sign --jobs N offers words: $(echo $got)"
got=$(comp sign --config=sig)
has "$got" signgate.json || fail "sign --config=sig: $(echo $got)"
got=$(comp audit "")
has "$got" verify show summary repair rotate seal || fail "audit <TAB>: $(echo $got)"
echo "ok: file arguments complete by kind and extension, value lists by value"
