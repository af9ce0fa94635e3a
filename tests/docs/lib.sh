# Helpers of the docs.* tests (man pages and completions against --help).
# Sourced; SIGNGATE is the built binary.

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# commands: every command path the binary's help lists, one a line
# ("sign", "audit verify", ...), found independently of man/help-docs.py:
# the top help's "Commands:" lines, and the Usage lines of each group's help.
commands() {
	local word rest sub
	"$SIGNGATE" --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' |
		while read -r word rest; do
			# "policy lint | show (--policy ...": the words before an option or bracket.
			# shellcheck disable=SC2046 # the words, split on purpose
			set -- $(printf '%s\n' "$rest" | sed -E 's/[[(-].*//; s/\|/ /g')
			if [ $# -eq 0 ]; then
				echo "$word"
			else
				for sub in "$@"; do echo "$word $sub"; done
			fi
		done
	# Subcommands a group's help names that the top list folds.
	for word in $("$SIGNGATE" --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' |
		awk '{print $1}' | sort -u); do
		"$SIGNGATE" "$word" --help 2>/dev/null |
			grep -oE "signgate $word [a-z][a-z-]*" | sed 's/^signgate //' || true
	done
}

# options CMD...: the options (--long and -s) one command's help names.
options() {
	"$SIGNGATE" "$@" --help | option_words
}

# option_words: the option words (--long, -s) of standard input, sorted.
option_words() {
	grep -oP '(?<![A-Za-z0-9_-])(--[a-z][a-z0-9-]*|-[A-Za-z])(?![A-Za-z0-9_-])' | sort -u || true
}

# options_defined CMD...: the options a command's help defines: those on its
# Usage lines and on lines that start with an option (not options of other
# commands its text mentions, as "for 'audit verify --against'").
options_defined() {
	"$SIGNGATE" "$@" --help |
		awk '/^Usage:/ { u = 1 } /^[^ ]/ && !/^Usage:/ { u = 0 } u || /^ +-/' | option_words
}
