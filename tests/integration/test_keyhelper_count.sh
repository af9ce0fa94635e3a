#!/usr/bin/env bash
# One key helper for a whole run, also with -j: it signs once per input and
# its count, in each record, runs 1..N without gaps or repeats; one more
# request than inputs is refused by the helper itself (unit.keyhelper_proc
# drives that limit directly).
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval other-exe other-setup.exe "$(sha256 "$INST/other-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$INST/vendor-signed-hello-setup.exe")" \
	', "existing_signature": "replace"'
sg 0 sign --config "$CFG" -j 2 --out-dir "$T/signed" "$INST/hello-setup.exe" \
	"$INST/other-setup.exe" "$INST/hello-1.0.msi" "$INST/vendor-signed-hello-setup.exe"
/usr/bin/python3 - "$LOG" >"$T/counts" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
kh = [r["signature"]["key_helper"] for r in recs if r.get("decision") == "signed"]
print(" ".join(str(k["signatures"]) for k in sorted(kh, key=lambda k: k["signatures"])))
print(len({k["pid"] for k in kh}))
print(len({r["signature"]["signed_digest"] for r in recs if r.get("decision") == "signed"}))
PY
expect_same "$(sed -n 1p "$T/counts")" "1 2 3 4"
# One helper, four different digests.
# One helper; three digests (the vendor-signed PE under replace has the
# Authenticode digest of the unsigned one).
expect_same "$(sed -n 2p "$T/counts")" 1
expect_same "$(sed -n 3p "$T/counts")" 3
done_ok
