#!/usr/bin/env bash
# The command line: help, version, usage and configuration errors (exit 2),
# a missing osslsigncode (exit 2, before any input), and errors that name the file and reason.
. "$(dirname -- "$0")/lib.sh"

sg 0 --help
expect_in "$T/out" "Exit codes: 0 all inputs approved/signed/valid"
for c in sign check verify audit; do
	sg 0 "$c" --help
	expect_in "$T/out" "Usage: signgate $c"
done
sg 0 --version
expect_in "$T/out" "signgate 0."
sg 2 frobnicate
expect_in "$T/err" "unknown command 'frobnicate'"
sg 2
sg 2 sign --out-dir "$T/o" "$INST/hello-setup.exe"
expect_in "$T/err" "--config FILE is required"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 2 sign --config "$CFG" --out-dir "$T/o" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "give --out-dir DIR or --out FILE, not both"
# Without either, outputs go to ./signed (created), and options may follow inputs.
(cd "$T" && "$SG_BIN" sign --config "$CFG" "$INST/hello-setup.exe" --json >"$T/out" 2>"$T/err") ||
	fail "sign without --out-dir failed"
expect_in "$T/out" "\"path\":\"signed/hello-setup.exe\""
[ -f "$T/signed/hello-setup.exe" ] || fail "no output in ./signed"
ok
# Nested output folders are created; a file where a folder should be is refused.
sg 0 sign --config "$CFG" --out-dir "$T/deep/er/out" "$INST/hello-setup.exe"
[ -f "$T/deep/er/out/hello-setup.exe" ] || fail "no output in a nested --out-dir"
ok
touch "$T/plainfile"
sg 2 sign --config "$CFG" --out-dir "$T/plainfile/sub" "$INST/hello-setup.exe"
expect_in "$T/err" "plainfile: cannot use as the output folder: not a folder"
sg 2 sign --config "$CFG" --out "$T/missing-dir/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "the output folder $T/missing-dir does not exist"
sg 2 sign --config "$CFG" --out "$T/x.exe" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/err" "--out takes exactly one INPUT"
sg 2 check --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
sg 2 verify "$INST/hello-setup.exe"
expect_in "$T/err" "give exactly one of --config FILE or --ca ROOT.pem"
sg 2 verify --ca "$PKI/root.pem" --pin abc "$INST/hello-setup.exe"
sg 2 audit
sg 2 audit verify
sg 2 audit show --config "$CFG" --log "$LOG"
expect_in "$T/err" "give one of --config FILE or --log FILE, not both"
# verify takes both: --log then names archives before the config's log, and
# the same file twice is not one chain.
sg 3 audit verify --config "$CFG" --log "$LOG"
expect_in "$T/out" "files given out of order, or records missing between them"

# Broken config: invalid JSON, unknown key, missing file.
printf '{ "policy": "p/", \n  "audit_log": }' >"$T/broken.json"
sg 2 check --config "$T/broken.json" "$INST/hello-setup.exe"
expect_in "$T/err" "broken.json:2:"
expect_in "$T/err" "invalid JSON"
sed 's/"policy"/"polcy"/' "$CFG" >"$T/env/typo.json"
sg 2 check --config "$T/env/typo.json" "$INST/hello-setup.exe"
expect_in "$T/err" "typo.json: unknown key \"polcy\""
sg 2 check --config "$T/nope.json" "$INST/hello-setup.exe"
expect_in "$T/err" "nope.json: cannot read the config"

# Broken policy: a field error names the file, the approval and the field.
cat >"$T/env/policy/bad.json" <<'JSON'
{ "approvals": [ { "id": "bad-1", "product": "X", "version": "1", "sha256": "abc",
  "approved_by": "a", "ticket": "T", "approved_at": "2026-01-01" } ] }
JSON
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "bad.json: approval #1 (bad-1): \"sha256\" must be 64 hex digits"
rm "$T/env/policy/bad.json"
approval hello-exe-dup hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sed -i 's/"hello-exe-dup"/"hello-exe"/' "$T/env/policy/hello-exe-dup.json"
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/err" "approval id \"hello-exe\" is used twice"
rm "$T/env/policy/hello-exe-dup.json"

# Missing osslsigncode: a configuration error found before any input, no output, no record.
sed 's#"/usr/bin/osslsigncode"#"/nonexistent/osslsigncode"#' "$CFG" >"$T/env/noossl.json"
lines=$(wc -l <"$LOG")
sg 2 sign --config "$T/env/noossl.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/env/noossl.json: \"osslsigncode\": /nonexistent/osslsigncode: cannot be run: No such file or directory"
expect_absent "$T/x.exe"
expect_same "$(wc -l <"$LOG")" "$lines"

# Unreadable key material: a PKCS#12 that is not one.
printf 'not a p12' >"$T/fake.p12"
sed "s#$PKI/signer.p12#$T/fake.p12#" "$CFG" >"$T/env/fakep12.json"
chmod 0644 "$T/fake.p12"
sg 2 sign --config "$T/env/fakep12.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "fake.p12: key file is accessible by group or others (mode 0644); chmod 600 it"
chmod 0600 "$T/fake.p12"
sg 1 sign --config "$T/env/fakep12.json" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "fake.p12: not a PKCS#12 file"
expect_absent "$T/x.exe"
done_ok
