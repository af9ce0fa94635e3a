#!/usr/bin/env bash
# The build-server step: folders (--recursive), --files-from (a file or
# stdin), -j N with results in input order, one failure not stopping the
# others (unless --fail-fast), the worst exit code, a summary on stderr,
# idempotent re-runs ("already signed" is skipped), --json with the digests a
# catalog needs, --catalog-out, the progress line only on a terminal, and
# --quiet.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
D=$T/downloads
mkdir -p "$D/sub/deeper"
cp "$INST/hello-setup.exe" "$D/"
cp "$INST/hello-1.0.msi" "$D/sub/"
cp "$INST/other-setup.exe" "$D/sub/deeper/"
echo "notes" >"$D/README.txt"
ln -s "$INST/hello-setup.exe" "$D/sub/link.exe"
b64() { openssl dgst "-$1" -binary "$2" | base64; }

# A folder needs --recursive.
sg 2 sign --config "$CFG" --out-dir "$T/signed" "$D"
expect_in "$T/err" "is a folder: give --recursive"

# -r: the .exe and .msi files in name order (links and other files left out);
# -j 2 still prints in input order; the denied one does not stop the others.
sg 3 sign --config "$CFG" --out-dir "$T/signed" -r -j 2 "$D"
expect_same "$(cut -c1-8 "$T/out" | tr -d ' ' | tr '\n' ' ')" "signed denied signed "
expect_same "$(awk '{ print $2 }' "$T/out" | tr '\n' ' ')" \
	"$D/hello-setup.exe $D/sub/deeper/other-setup.exe: $D/sub/hello-1.0.msi "
expect_in "$T/err" "signgate: 3 inputs: 2 signed, 0 skipped, 1 denied, 0 failed"
expect_not_in "$T/out" "link.exe"
expect_not_in "$T/out" "README"
[ -s "$T/signed/hello-setup.exe" ] && [ -s "$T/signed/hello-1.0.msi" ] || fail "outputs missing"
ok
expect_absent "$T/signed/other-setup.exe"
# Outputs are signed in a private folder beside them and renamed into place: none is left.
expect_same "$(find "$T/signed" -name '.signgate-*' | wc -l | tr -d ' ')" 0
# Without a terminal there is no progress line.
expect_not_in "$T/err" "inputs, "

# A re-run over the signed outputs: each is already signed by us, so skipped.
sg 0 sign --config "$CFG" --out-dir "$T/again" -r "$T/signed"
expect_same "$(grep -c '^skipped  ' "$T/out")" 2
expect_in "$T/out" "already signed: it carries our valid signature"
expect_in "$T/err" "2 inputs: 0 signed, 2 skipped, 0 denied, 0 failed"
expect_absent "$T/again/hello-setup.exe"
expect_same "$(audit_field 0 decision)" skipped
# A vendor-signed input is not ours: it goes to the policy as usual.
sg 3 sign --config "$CFG" --out-dir "$T/again" "$INST/vendor-signed-hello-setup.exe"
expect_in "$T/out" "denied"

# --files-from -: blank lines and CR LF; a missing file fails alone (exit 1 wins over 0).
printf '%s\r\n\n%s\n%s\n' "$INST/hello-setup.exe" "$T/missing.exe" "$INST/hello-1.0.msi" |
	"$SG_BIN" sign --config "$CFG" --out-dir "$T/list" --files-from - --json \
		>"$T/out" 2>"$T/err" && rc=0 || rc=$?
expect_same "$rc" 1
expect_same "$(jq -r .decision "$T/out" | tr '\n' ' ')" "signed failed signed "
expect_same "$(jq -r .input.path "$T/out" | tr '\n' ' ')" \
	"$INST/hello-setup.exe $T/missing.exe $INST/hello-1.0.msi "
# The JSON of a signed input: everything the next pipeline step needs.
first=$(head -n 1 "$T/out")
out1=$T/list/hello-setup.exe
expect_same "$(jq -r .output.path <<<"$first")" "$out1"
expect_same "$(jq -r .output.sha256 <<<"$first")" "$(sha256 "$out1")"
expect_same "$(jq -r .output.sha1 <<<"$first")" "$(sha1sum "$out1" | cut -d' ' -f1)"
expect_same "$(jq -r .output.sha256_base64 <<<"$first")" "$(b64 sha256 "$out1")"
expect_same "$(jq -r .output.sha1_base64 <<<"$first")" "$(b64 sha1 "$out1")"
expect_same "$(jq -r .output.size <<<"$first")" "$(stat -c %s "$out1")"
expect_same "$(jq -r .input.sha256 <<<"$first")" "$(sha256 "$INST/hello-setup.exe")"
expect_same "$(jq -r .input.size <<<"$first")" "$(stat -c %s "$INST/hello-setup.exe")"
expect_same "$(jq -r .approval.id <<<"$first")" hello-exe
expect_same "$(jq -r '.reasons | length' <<<"$first")" 1
expect_same "$(jq -r .exit_code <<<"$first")" 0

# --catalog-out: the signed files of the run as one JSON document.
printf '%s\n' "$INST/hello-setup.exe" "$INST/other-setup.exe" "$INST/hello-1.0.msi" >"$T/list.txt"
sg 3 sign --config "$CFG" --out-dir "$T/cat" --files-from "$T/list.txt" --catalog-out "$T/catalog.json" -q
expect_same "$(jq -r '.files | length' "$T/catalog.json")" 2
expect_same "$(jq -r '.files[1].file' "$T/catalog.json")" hello-1.0.msi
expect_same "$(jq -r '.files[1].sha256_base64' "$T/catalog.json")" "$(b64 sha256 "$T/cat/hello-1.0.msi")"
expect_same "$(jq -r '.files[1].sha1' "$T/catalog.json")" "$(sha1sum "$T/cat/hello-1.0.msi" | cut -d' ' -f1)"
expect_same "$(jq -r '.files[0].approval' "$T/catalog.json")" hello-exe
expect_same "$(jq -r .signer_sha1_thumbprint "$T/catalog.json")" \
	"$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
# --quiet: no summary; only the warning each signature without a timestamp receives.
expect_same "$(grep -vc ': signed without a timestamp: ' "$T/err")" 0

# --fail-fast: after the first input that is not signed, nothing new starts.
sg 3 sign --config "$CFG" --out-dir "$T/ff" --fail-fast -j 1 "$INST/other-setup.exe" \
	"$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_same "$(cut -c1-8 "$T/out" | tr -d ' ' | tr '\n' ' ')" "denied skipped skipped "
expect_in "$T/out" "not attempted: --fail-fast stopped the run"
expect_absent "$T/ff/hello-setup.exe"

# Two inputs with one output name: refused before anything is done.
mkdir -p "$T/twin"
cp "$INST/hello-setup.exe" "$T/twin/"
sg 2 sign --config "$CFG" --out-dir "$T/tw" "$INST/hello-setup.exe" "$T/twin/hello-setup.exe"
expect_in "$T/err" "two inputs would both be written to $T/tw/hello-setup.exe"
sg 2 sign --config "$CFG" --out-dir "$T/tw" -j 0 "$INST/hello-setup.exe"
expect_in "$T/err" "--jobs takes a number from 1 to"
mkdir -p "$T/empty"
sg 2 check --config "$CFG" -r "$T/empty"
expect_in "$T/err" "hold no installer or script (.exe .msi .msp .msm .mst .cab .ps1 .psm1 .psd1)"

# On a terminal: a progress line on stderr (script(1) gives the run a terminal).
if command -v script >/dev/null; then
	script -qec "$SG_BIN sign --config $CFG --out-dir $T/tty -j 2 $INST/hello-setup.exe $INST/hello-1.0.msi" \
		/dev/null >"$T/tty.txt" 2>&1 || true
	expect_in "$T/tty.txt" "2/2 inputs, "
	expect_in "$T/tty.txt" "/s"
	script -qec "$SG_BIN check --config $CFG -q $INST/hello-setup.exe" /dev/null >"$T/tty.txt" 2>&1 || true
	expect_not_in "$T/tty.txt" "inputs, "
fi
# The README's generic shell step, as printed there, on a folder with a denial.
awk '/^### A generic shell step/ { f = 1 } f && /^```sh$/ { c = 1; next } c && /^```$/ { exit } c' \
	"$SG_SRC/README.md" | sed "s#/etc/signgate/signgate.json#$CFG#" >"$T/step.sh"
[ -s "$T/step.sh" ] || fail "README has no generic shell step"
mkdir -p "$T/step"
(cd "$T" && PATH="$(dirname "$SG_BIN"):$PATH" OUT="$T/step" bash "$T/step.sh") >"$T/out" 2>"$T/err" &&
	rc=0 || rc=$?
expect_same "$rc" 3
expect_in "$T/err" "some installers were denied or failed verification:"
expect_in "$T/err" "denied downloads/sub/deeper/other-setup.exe: other-setup.exe: no approval matches"
expect_same "$(jq -r '.files | length' "$T/step/catalog.json")" 2
sg 0 audit verify --config "$CFG"
done_ok
