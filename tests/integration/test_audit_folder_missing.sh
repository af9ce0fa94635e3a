#!/usr/bin/env bash
# red15 B12: an audit_log whose folder does not exist is a configuration error:
# exit 2 before any input is read (no key helper, no output), naming the key and
# the folder. Before: every input was decided, then "failed ... the decision
# could not be recorded" (exit 1).
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
config_set audit_log "\"$T/nonexistent/audit.jsonl\""
sg 2 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe"
expect_in "$T/err" "\"audit_log\" names $T/nonexistent/audit.jsonl, whose folder $T/nonexistent: No such file or directory"
expect_not_in "$T/out" "failed"
expect_absent "$T/o/hello-setup.exe"
expect_absent "$T/nonexistent"
done_ok
