#!/usr/bin/env bash
# A re-run into the same out-dir (issue 15): an output that is proven to be
# our valid signature over the same, still approved input is reported as
# already signed (exit 0, "skipped", recorded with the output's digests);
# anything else keeps "exists already" (exit 1) unless --force: another
# signed file, a truncated or corrupted one, one signed by another
# certificate of the same CA, a link, a file others may write. An approval
# revoked between the runs denies the input. A batch mixes them.
. "$(dirname -- "$0")/lib.sh"

new_env
exe_sha=$(sha256 "$INST/hello-setup.exe")
approval hello-exe hello-setup.exe "$exe_sha"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
approval other-exe other-setup.exe "$(sha256 "$INST/other-setup.exe")"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
O=$T/o
exe=$O/hello-setup.exe
msi=$O/hello-1.0.msi

sg 0 sign --config "$CFG" --out-dir "$O" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
exe_out=$(sha256 "$exe")
msi_out=$(sha256 "$msi")
records=$(wc -l <"$LOG")

# 1. The same step again: already signed, exit 0, outputs untouched, recorded.
sg 0 sign --config "$CFG" --out-dir "$O" --catalog-out "$T/catalog.json" \
	"$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/out" "skipped  $INST/hello-setup.exe: already signed: $exe exists and carries our valid signature (signer SHA-1 $thumb, CN="
expect_in "$T/out" "over this input; not signed again (approved by hello-exe"
expect_in "$T/out" "skipped  $INST/hello-1.0.msi: already signed: $msi exists and carries our valid signature"
expect_in "$T/err" "signgate: 2 inputs: 0 signed, 2 skipped, 0 denied, 0 failed"
expect_not_in "$T/out" "exists already"
expect_same "$(sha256 "$exe")" "$exe_out"
expect_same "$(sha256 "$msi")" "$msi_out"
expect_same "$(wc -l <"$LOG")" $((records + 2))
expect_same "$(audit_field $((records + 1)) action)" sign
expect_same "$(audit_field $((records + 1)) decision)" skipped
expect_same "$(audit_field $((records + 1)) status)" ok
expect_same "$(audit_field $((records + 1)) output.sha256)" "$exe_out"
expect_same "$(audit_field $((records + 1)) output.path)" "$exe"
expect_same "$(audit_field $((records + 1)) input.sha256)" "$exe_sha"
expect_same "$(audit_field $((records + 1)) approval.id)" hello-exe
expect_same "$(audit_field $((records + 1)) signature.signer.sha1_thumbprint)" "$thumb"
expect_same "$(audit_field $((records + 2)) output.sha256)" "$msi_out"
audit_field $((records + 1)) reasons >"$T/reasons"
expect_in "$T/reasons" "already signed: $exe exists and carries our valid signature"
# No key use: the record says nothing of a key helper's signature.
audit_field $((records + 1)) signature >"$T/sig"
expect_not_in "$T/sig" "key_helper"
# The catalog of a re-run holds the outputs it reports, as the first run's would.
expect_same "$(jq -r '.files | length' "$T/catalog.json")" 2
expect_same "$(jq -r '.files[0].sha256' "$T/catalog.json")" "$exe_out"
expect_same "$(jq -r '.files[1].sha256' "$T/catalog.json")" "$msi_out"
# Without a timestamp the warning says so for each output, again.
expect_in "$T/err" "signgate: warning: $exe: already signed without a timestamp: the signature dies with the certificate (not after "
sg 0 sign --config "$CFG" --out-dir "$O" --json "$INST/hello-setup.exe"
expect_same "$(jq -r .decision "$T/out")" skipped
expect_same "$(jq -r .output.sha256 "$T/out")" "$exe_out"
expect_same "$(jq -r .exit_code "$T/out")" 0
sg 0 audit verify --config "$CFG"

# Every format, and an approval that nests ours after the vendor's: the
# same step twice, the second run already signed (ours as the last one).
mkdir -p "$T/in"
printf 'param([string]$Name = "world")\r\nWrite-Host "Hello, $Name"\r\n' >"$T/in/deploy.ps1"
vpe=$INST/vendor-signed-hello-setup.exe
approval hello-cab hello-1.0.cab "$(sha256 "$INST/hello-1.0.cab")"
approval deploy deploy.ps1 "$(sha256 "$T/in/deploy.ps1")"
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "nest"'
set -- "$INST/hello-1.0.cab" "$T/in/deploy.ps1" "$vpe" "$INST/hello-1.0.msp"
approval hello-msp hello-1.0.msp "$(sha256 "$INST/hello-1.0.msp")"
sg 0 sign --config "$CFG" --out-dir "$T/fmt" "$@"
expect_in "$T/err" "signgate: 4 inputs: 4 signed, 0 skipped, 0 denied, 0 failed"
before=$(cd "$T/fmt" && sha256sum -- *)
sg 0 sign --config "$CFG" --out-dir "$T/fmt" -j 1 "$@"
expect_in "$T/err" "signgate: 4 inputs: 0 signed, 4 skipped, 0 denied, 0 failed"
for f in hello-1.0.cab deploy.ps1 vendor-signed-hello-setup.exe hello-1.0.msp; do
	expect_in "$T/out" ": already signed: $T/fmt/$f exists and carries our valid signature"
done
expect_same "$(cd "$T/fmt" && sha256sum -- *)" "$before"
expect_same "$(audit_field 0 signature.signatures)" 1
expect_same "$(audit_field $(($(wc -l <"$LOG") - 1)) signature.signatures)" 2
expect_same "$(audit_field $(($(wc -l <"$LOG") - 1)) signature.index)" 1

# not_taken FILE WHY: the re-run refuses FILE as already signed (exit 1), leaves it.
not_taken() {
	local before
	before=$(sha256 "$1")
	sg 1 sign --config "$CFG" --out "$1" "$INST/${2}"
	expect_in "$T/out" "$1: exists already (use --force to replace it); it is not taken as already signed: $3"
	expect_same "$(sha256 "$1")" "$before"
	expect_same "$(audit_field 0 decision)" failed
	expect_same "$(audit_field 0 status)" exists
}

# 2. Replaced by another file we signed (another approved input): not this input's digest.
sg 0 sign --config "$CFG" --out "$T/other.exe" "$INST/other-setup.exe"
cp "$T/other.exe" "$T/x.exe"
not_taken "$T/x.exe" hello-setup.exe "its Authenticode digest ("
expect_in "$T/out" ") is not this input's ("
# The signed MSI under the .exe's name: not a signed PE at all.
cp "$msi" "$T/m.exe"
not_taken "$T/m.exe" hello-setup.exe "named as a PE image (.exe) but it is an MSI package"

# The vendor's file itself under the nested output's name: one signature, not ours.
cp "$vpe" "$T/v.exe"
not_taken "$T/v.exe" vendor-signed-hello-setup.exe ""

# 3. Truncated, or corrupted outside and inside the signature.
cp "$exe" "$T/t.exe"
truncate -s $(($(stat -c %s "$exe") - 100)) "$T/t.exe"
not_taken "$T/t.exe" hello-setup.exe "truncated: certificate table ends at "
cp "$exe" "$T/c.exe"
printf 'X' | dd of="$T/c.exe" bs=1 seek=4096 conv=notrunc 2>/dev/null
not_taken "$T/c.exe" hello-setup.exe "its Authenticode digest ("
cp "$exe" "$T/s.exe"
size=$(stat -c %s "$exe")
printf 'X' | dd of="$T/s.exe" bs=1 seek=$((size - 300)) conv=notrunc 2>/dev/null
not_taken "$T/s.exe" hello-setup.exe "the audit log holds no signing record of these bytes (SHA-256 $(sha256 "$T/s.exe"))"
# An MSI changed where its signature does not look (a byte of the compound
# file outside every stream): the signature still verifies, but these are
# not the bytes signgate published.
cp "$msi" "$T/c.msi"
printf 'X' | dd of="$T/c.msi" bs=1 seek=2000 conv=notrunc 2>/dev/null
sg 0 verify --config "$CFG" "$T/c.msi"
not_taken "$T/c.msi" hello-1.0.msi "the audit log holds no signing record of these bytes (SHA-256 $(sha256 "$T/c.msi"))"
# Our valid signature over this input, made with another audit log (another
# host; timestamped, so not the same bytes as ours): nothing shows that
# signgate published these bytes from this input.
/usr/bin/python3 - "$CFG" "$T/env/elsewhere.json" "http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["audit_log"] = "audit/elsewhere.jsonl"
cfg["signing"]["timestamp_urls"] = [sys.argv[3]]
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
sg 0 sign --config "$T/env/elsewhere.json" --out "$T/e.exe" "$INST/hello-setup.exe"
not_taken "$T/e.exe" hello-setup.exe "the audit log holds no signing record of these bytes (SHA-256 $(sha256 "$T/e.exe"))"

# 4. Signed by another certificate of our issuing CA over the same input.
openssl req -new -newkey rsa:3072 -nodes -subj "/CN=Other Code Signing" -keyout "$T/o2.key" \
	-out "$T/o2.csr" 2>/dev/null
chmod 0600 "$T/o2.key"
bash "$SG_SRC/certs-example/make-pki.sh" -q --issue-csr "$T/o2.csr" --cert-out "$T/o2.pem" \
	"$PKI" >/dev/null || fail "could not issue the other certificate"
cat "$T/o2.pem" "$PKI/issuing.pem" >"$T/o2-chain.pem"
sed "s#\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\"#\"cert_chain\": \"$T/o2-chain.pem\", \"key\": \"$T/o2.key\"#" \
	"$CFG" >"$T/env/o2.json"
sg 0 sign --config "$T/env/o2.json" --out "$T/o2.exe" "$INST/hello-setup.exe"
sg 0 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" "$T/o2.exe"
not_taken "$T/o2.exe" hello-setup.exe "signature 0 is by certificate CN=Other Code Signing (SHA-1 "
expect_in "$T/out" "), not the configured signing certificate"

# 5. A link to our valid output, and an output others may write.
ln -s "$exe" "$T/link.exe"
sg 1 sign --config "$CFG" --out "$T/link.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "$T/link.exe: exists already (use --force to replace it); it is not taken as already signed: it cannot be opened: it is a symbolic link"
cp "$exe" "$T/gw.exe"
chmod 0664 "$T/gw.exe"
not_taken "$T/gw.exe" hello-setup.exe "writable by group $(id -gn) (mode 0664, owner $(id -un))"
# A FIFO or a folder by the output's name: not a regular file (and no hang).
mkfifo "$T/fifo.exe"
sg 1 sign --config "$CFG" --out "$T/fifo.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "$T/fifo.exe: exists already (use --force to replace it); it is not taken as already signed: it is not a regular file"
mkdir "$T/dir.exe"
sg 1 sign --config "$CFG" --out "$T/dir.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "$T/dir.exe: exists already (use --force to replace it); it is not taken as already signed: it is not a regular file"
# --force still replaces what is not ours.
sg 0 sign --config "$CFG" --force --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/x.exe"

# 6. The approval revoked between the runs: denied, not "already signed".
cp "$T/env/policy/hello-exe.json" "$T/hello-exe.json.keep"
cat >"$T/env/policy/revoked.json" <<JSON
{ "revoked": [ { "sha256": "$exe_sha", "reason": "withdrawn by the vendor (SEC-9)" } ] }
JSON
sg 3 sign --config "$CFG" --out-dir "$O" "$INST/hello-setup.exe"
expect_in "$T/out" "denied   $INST/hello-setup.exe: "
expect_in "$T/out" "hello-setup.exe: digest is revoked: withdrawn by the vendor (SEC-9)"
expect_not_in "$T/out" "already signed"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(sha256 "$exe")" "$exe_out"
rm -f "$T/env/policy/revoked.json"
# The approval removed: denied too.
rm -f "$T/env/policy/hello-exe.json"
sg 3 sign --config "$CFG" --out-dir "$O" "$INST/hello-setup.exe"
expect_not_in "$T/out" "already signed"
cp "$T/hello-exe.json.keep" "$T/env/policy/hello-exe.json"

# 7. A timestamp the config now requires, which the existing output lacks.
config_set_signing timestamp_urls "[\"http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr\"]"
not_taken "$exe" hello-setup.exe "it is our signature over this input, but without the timestamp the config requires"
config_set_signing timestamp_urls "[]"

# 8. A batch that mixes them: already signed, not ours, new.
cp "$T/other.exe" "$msi"
sg 1 sign --config "$CFG" --out-dir "$O" "$INST/hello-setup.exe" "$INST/hello-1.0.msi" \
	"$INST/other-setup.exe"
expect_in "$T/out" "skipped  $INST/hello-setup.exe: already signed: $exe exists"
expect_in "$T/out" "failed   $INST/hello-1.0.msi: $msi: exists already (use --force to replace it); it is not taken as already signed: "
expect_in "$T/out" "signed   $INST/other-setup.exe -> $O/other-setup.exe"
expect_in "$T/err" "signgate: 3 inputs: 1 signed, 1 skipped, 0 denied, 1 failed"
done_ok
