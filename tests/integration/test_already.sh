#!/usr/bin/env bash
# "Already signed": an input that carries our valid signature is skipped
# only while the vendor file its signing record names is still approved;
# revoked, expired or removed since, or with no signing record to trace it
# (another host's log, archives gone) or a log that does not verify, it is
# denied (exit 3) with the reason, and the decision is recorded. A skipped
# input says why in --json, --fail-fast ones too.
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
vsha=$(sha256 "$INST/hello-setup.exe")
approval hello-exe hello-setup.exe "$vsha"
thumb=$(openssl x509 -in "$PKI/signer.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
out=$T/signed/hello-setup.exe

sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
osha=$(sha256 "$out")

# A re-run on the signed output: skipped, naming the signer and where it came from.
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "skipped  $out: already signed: it carries our valid signature (signer SHA-1 $thumb, CN="
expect_in "$T/out" "signed from hello-setup.exe (SHA-256 $vsha; audit record seq 1 of "
expect_in "$T/out" "still approved by hello-exe (the approval file names j.doe, not verified; ticket SEC-1); not signed again"
expect_absent "$T/again/hello-setup.exe"
expect_same "$(audit_field 0 decision)" skipped
expect_same "$(audit_field 0 signed_from.input_sha256)" "$vsha"
expect_same "$(audit_field 0 signed_from.seq)" 1
expect_same "$(audit_field 0 signed_from.record)" "$(audit_field 1 id)"
expect_same "$(audit_field 0 signature.signer.sha1_thumbprint)" "$thumb"

# --json: a skipped result says why (it was empty before).
sg 0 sign --config "$CFG" --out-dir "$T/again" --json "$out"
expect_same "$(jq -r .decision "$T/out")" skipped
expect_same "$(jq -r '.reasons | length' "$T/out")" 3
expect_in "$T/out" "already signed: it carries our valid signature (signer SHA-1 $thumb"
expect_same "$(jq -r .signature.signer.sha1_thumbprint "$T/out")" "$thumb"
expect_same "$(jq -r .signature.signer.subject "$T/out" | grep -c CN=)" 1
expect_same "$(jq -r .signed_from.input_sha256 "$T/out")" "$vsha"
expect_same "$(jq -r .exit_code "$T/out")" 0

# The vendor's digest revoked since: the signed output is denied, and recorded so.
cat >"$T/env/policy/revoked.json" <<JSON
{ "revoked": [ { "sha256": "$vsha", "reason": "vendor withdrew this build (SEC-9)" } ] }
JSON
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "denied   $out: already signed by us (signer SHA-1 $thumb"
expect_in "$T/out" "but the input it was signed from, hello-setup.exe (SHA-256 $vsha; audit record seq 1 of "
expect_in "$T/out" "is no longer approved: hello-setup.exe: digest is revoked: vendor withdrew this build (SEC-9)"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(audit_field 0 action)" sign
expect_same "$(audit_field 0 input.sha256)" "$osha"
expect_same "$(audit_field 0 signed_from.input_sha256)" "$vsha"
expect_same "$(tail -n 1 "$LOG" | jq -r '.reasons[0]')" "already signed by us (signer SHA-1 $thumb), but the input it was signed from (SHA-256 $vsha, audit record seq 1) is no longer approved"
expect_same "$(tail -n 1 "$LOG" | jq -r '.reasons[1]')" "hello-setup.exe: digest is revoked: vendor withdrew this build (SEC-9)"
sg 3 sign --config "$CFG" --out-dir "$T/again" --json "$out"
expect_same "$(jq -r .exit_code "$T/out")" 3
expect_same "$(jq -r '.reasons[1]' "$T/out")" "hello-setup.exe: digest is revoked: vendor withdrew this build (SEC-9)"
rm "$T/env/policy/revoked.json"

# Revoked by SHA-512 only, while the signing record holds no SHA-512 (the
# policy named none when it was signed): nothing can show the input is not
# the one revoked, so it is denied, never skipped.
cat >"$T/env/policy/revoked.json" <<JSON
{ "revoked": [ { "sha512": "$(sha512 "$INST/hello-setup.exe")", "reason": "withdrawn (SEC-10)" } ] }
JSON
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "denied   $out: already signed by us (signer SHA-1 $thumb"
expect_in "$T/out" "its signing record (audit record seq 1) holds no SHA-512 of the input, and the policy names digests by SHA-512: whether that input is revoked cannot be shown"
expect_same "$(audit_field 0 decision)" denied
expect_same "$(audit_field 0 signed_from.input_sha256)" "$vsha"
rm "$T/env/policy/revoked.json"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "skipped  "

# The approval expired since: denied with that reason.
approval hello-exe hello-setup.exe "$vsha" ', "expires": "2026-01-02"'
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "is no longer approved: approval hello-exe expired on 2026-01-02"
expect_same "$(audit_field 0 decision)" denied
# The approval no longer matches (another file name), or is gone.
approval hello-exe other-name.exe "$vsha"
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "approval hello-exe is for file \"other-name.exe\", not \"hello-setup.exe\""
rm "$T/env/policy/hello-exe.json"
empty_policy
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "is no longer approved: hello-setup.exe: no approval matches SHA-256 $vsha"
approval hello-exe hello-setup.exe "$vsha"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "skipped  "

# A nested signature of ours on a vendor-signed file: traced as signed_before, still approved.
vpe=$INST/vendor-signed-hello-setup.exe
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "nest"'
sg 0 sign --config "$CFG" --out "$T/nested.exe" "$vpe"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$T/nested.exe"
expect_in "$T/out" "signed from vendor-signed-hello-setup.exe (SHA-256 $(sha256 "$vpe")"
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")"
sg 3 sign --config "$CFG" --out-dir "$T/again" "$T/nested.exe"
expect_in "$T/out" "is no longer approved: input already carries an Authenticode signature and approval vpe says existing_signature=refuse"

# --fail-fast: the inputs not attempted are skipped and say so in --json.
sg 3 sign --config "$CFG" --out-dir "$T/ff" --fail-fast -j 1 --json "$INST/other-setup.exe" \
	"$INST/hello-1.0.msi"
expect_same "$(jq -r .decision "$T/out" | tr '\n' ' ')" "denied skipped "
expect_same "$(tail -n 1 "$T/out" | jq -r '.reasons[0]')" \
	"not attempted: --fail-fast stopped the run after an earlier input"

# A rotated log: the signing record is found in the archive beside the log...
sg 0 audit rotate --config "$CFG"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "skipped  "
expect_in "$T/out" "audit record seq 1 of "
# One pass per run, not per input: with three inputs already ours on two workers, the
# archive is opened twice (its first record, then the pass), as for one input.
if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null; then
	mkdir -p "$T/many"
	for i in 1 2 3; do cp "$out" "$T/many/copy$i.exe"; done
	strace -f -qq -e trace=openat -o "$T/strace.txt" "$SG_BIN" sign --config "$CFG" \
		--out-dir "$T/again" -j 2 "$T/many/copy1.exe" "$T/many/copy2.exe" "$T/many/copy3.exe" \
		>"$T/out" 2>"$T/err" || fail "three copies: $(cat "$T/out")"
	expect_same "$(grep -c '^skipped  ' "$T/out")" 3
	expect_same "$(grep -c "audit\.jsonl\.[0-9]\{8\}T[0-9]\{6\}Z\"" "$T/strace.txt")" 2
fi
# ... and without the archive, nobody can show where the file came from: denied.
archive=$(ls "$T/env/audit/" | grep -E '^audit\.jsonl\.[0-9]{8}T' | head -n 1)
mv "$T/env/audit/$archive" "$T/$archive"
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "but the audit log holds no signing record of this file (SHA-256 $osha)"
expect_in "$T/out" "continues the archive $T/env/audit/$archive, which is not beside it"
expect_in "$T/out" "sign the vendor's original file instead"
mv "$T/$archive" "$T/env/audit/$archive"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"

# Signed elsewhere (another log): denied, never skipped on our word alone.
mkdir -p "$T/other"
cp -r "$T/env/policy" "$T/other/policy"
sed "s#audit/audit.jsonl#$T/other/audit.jsonl#; s#\"policy/\"#\"$T/other/policy/\"#" "$CFG" >"$T/other/signgate.json"
sg 3 sign --config "$T/other/signgate.json" --out-dir "$T/again" "$out"
expect_in "$T/out" "holds no signing record of this file (SHA-256 $osha); there is no audit log at $T/other/audit.jsonl"
sg 3 sign --config "$T/other/signgate.json" --out-dir "$T/again" "$out"
expect_in "$T/out" "holds no signing record of this file (SHA-256 $osha): nobody can show"

# A log whose signing record was edited: it does not verify, so nothing is skipped on it.
first=$(ls "$T/env/audit/" | grep -E '^audit\.jsonl\.[0-9]{8}T' | head -n 1)
cp "$T/env/audit/$first" "$T/archive.bak"
sed -i "1s/\"sha256\":\"$vsha\"/\"sha256\":\"$(printf '%064d' 0)\"/" "$T/env/audit/$first"
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "already signed by us (signer SHA-1 $thumb"
expect_in "$T/out" "but the audit log that would show which vendor bytes it was signed from does not verify: $T/env/audit/$first: line 1: hash does not match"
expect_same "$(audit_field 0 decision)" denied
cp "$T/archive.bak" "$T/env/audit/$first"
# A record removed from the log: the chain no longer links, and says so.
cp "$LOG" "$T/log.bak"
sed -i 2d "$LOG"
sg 3 sign --config "$CFG" --out-dir "$T/again" "$out"
expect_in "$T/out" "does not verify: $LOG: line 2: does not follow the record before it"
cp "$T/log.bak" "$LOG"
sg 0 sign --config "$CFG" --out-dir "$T/again" "$out"
sg 0 audit verify --config "$CFG" --log "$T/env/audit/$first"
done_ok
