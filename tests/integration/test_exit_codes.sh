#!/usr/bin/env bash
# Configuration problems are exit 2 and are found before any input is
# touched: no input read, no output, no audit record, the key not opened.
# Each case here was another code, or was found per input, before.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
empty_policy
sg 0 sign --config "$CFG" --out "$T/ok.exe" "$INST/hello-setup.exe"
lines=$(wc -l <"$LOG")
# no_trace OUT: nothing written, nothing recorded.
no_trace() {
	expect_absent "$1"
	expect_same "$(wc -l <"$LOG")" "$lines"
	expect_same "$(cat "$T/out")" ""
}

# A missing PKCS#12 file (was 1, with a "failed" record per input) and a
# missing password file (was 2, but also with those records): the config's key named.
sed "s#$PKI/signer.p12#$T/nope.p12#" "$CFG" >"$T/env/nop12.json"
sg 2 sign --config "$T/env/nop12.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/env/nop12.json: \"signing.pkcs12\" names $T/nope.p12: No such file or directory"
no_trace "$T/x.exe"
sg 2 cert lint --config "$T/env/nop12.json"
expect_in "$T/err" "\"signing.pkcs12\" names $T/nope.p12: No such file or directory"
sg 2 verify --config "$T/env/nop12.json" "$T/ok.exe"
expect_in "$T/err" "\"signing.pkcs12\" names $T/nope.p12: No such file or directory"
sed "s#$PKI/signer.pass#$T/nope.pass#" "$CFG" >"$T/env/nopass.json"
sg 2 sign --config "$T/env/nopass.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/env/nopass.json: \"signing.password_file\" names $T/nope.pass: No such file or directory"
no_trace "$T/x.exe"
mkdir "$T/p12dir"
sed "s#$PKI/signer.p12#$T/p12dir#" "$CFG" >"$T/env/dirp12.json"
sg 2 sign --config "$T/env/dirp12.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "\"signing.pkcs12\" names $T/p12dir: not a regular file"
no_trace "$T/x.exe"

# A wrong osslsigncode path: once, before any input (was per input, exit 1).
sed 's#"/usr/bin/osslsigncode"#"/nonexistent/osslsigncode"#' "$CFG" >"$T/env/noossl.json"
for cmd in "sign --out-dir $T/o1" check; do
	# shellcheck disable=SC2086 # the words of the command
	sg 2 $cmd --config "$T/env/noossl.json" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
	expect_same "$(grep -c 'cannot be run' "$T/err")" 1
	expect_in "$T/err" "$T/env/noossl.json: \"osslsigncode\": /nonexistent/osslsigncode: cannot be run: No such file or directory"
	no_trace "$T/o1"
done
sg 2 verify --config "$T/env/noossl.json" "$T/ok.exe" "$T/ok.exe"
expect_same "$(grep -c 'cannot be run' "$T/err")" 1
printf '#!/bin/sh\n' >"$T/notexec"
chmod 0644 "$T/notexec"
sed "s#\"/usr/bin/osslsigncode\"#\"$T/notexec\"#" "$CFG" >"$T/env/notexec.json"
sg 2 sign --config "$T/env/notexec.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/notexec: cannot be run: not an executable file"
no_trace "$T/x.exe"

# --out into a folder that does not exist (was 1); --out-dir under a file (was 1).
sg 2 sign --config "$CFG" --out "$T/nodir/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/nodir/x.exe: the output folder $T/nodir does not exist"
no_trace "$T/nodir"
touch "$T/plain"
sg 2 sign --config "$CFG" --out-dir "$T/plain/sub" "$INST/hello-setup.exe"
expect_in "$T/err" "cannot use as the output folder: not a folder"
no_trace "$T/plain/sub"

# Files named by options that do not exist: said so, exit 2 (some were 1, or "invalid").
sg 2 audit verify --log "$T/missing.jsonl"
expect_in "$T/err" "$T/missing.jsonl: no such file or folder (given as --log)"
expect_not_in "$T/out" "invalid"
sg 2 audit show --log "$T/missing.jsonl"
expect_in "$T/err" "(given as --log)"
expect_same "$(cat "$T/out")" ""
sg 2 audit verify --config "$CFG" --log "$T/missing.jsonl"
expect_in "$T/err" "(given as --log)"
sg 2 audit verify --log "$LOG" --seals "$T/s" --seal-cert "$T/missing.pem"
expect_in "$T/err" "$T/missing.pem: no such file or folder (given as --seal-cert)"
sg 2 audit verify --config "$CFG" --against "$T/missing.txt"
expect_in "$T/err" "(given as --against)"
sg 2 cert lint --cert "$T/missing.pem" --ca "$PKI/root.pem"
expect_in "$T/err" "$T/missing.pem: no such file or folder (given as --cert)"
sg 2 policy lint --policy "$T/missing"
expect_in "$T/err" "$T/missing: no such file or folder (given as --policy)"
sg 2 policy approve --policy "$T/env/policy" --product P --vendor V --version 1 --ticket T-1 \
	--manifest "$T/missing.txt" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/missing.txt: no such file or folder (given as --manifest)"
sg 2 policy cosign --approvers-ca "$T/missing-ca.pem" --cert "$PKI/signer.pem" --key "$PKI/signer.key" \
	"$T/env/policy/hello-exe.json"
expect_in "$T/err" "$T/missing-ca.pem: no such file or folder (given as --approvers-ca)"
# An INPUT that does not exist stays that input's failure (exit 1), recorded.
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing.exe"
expect_in "$T/out" "missing.exe: cannot open: No such file or directory"
expect_same "$(audit_field 0 decision)" failed
done_ok
