#!/usr/bin/env bash
# The policy index: `policy index` writes it for a folder and for a one-file
# policy; signing uses it silently (two workers at once), records the same
# approval file and SHA-256 as without it; a revocation added after indexing
# still denies (the index is not used, with one note saying why); an index
# rebuilt with the revocation denies through the index; a policy with errors
# receives no index; `policy approve` rewrites it.
. "$(dirname -- "$0")/lib.sh"

new_env
POL=$T/env/policy
pe=$INST/hello-setup.exe
other=$INST/other-setup.exe
approval hello-exe hello-setup.exe "$(sha256 "$pe")"
approval other-exe other-setup.exe "$(sha256 "$other")" ', "product": "Other"'
sed -i 's/"product": "Hello", //' "$POL/other-exe.json"
for i in $(seq 1 40); do
	approval "filler-$i" "filler-$i.exe" "$(printf '%064x' "$i")"
done

# Without an index: loaded in full; a small policy receives no note.
sg 0 check --config "$CFG" "$pe"
expect_not_in "$T/err" "note:"

sg 0 policy index --config "$CFG"
expect_in "$T/out" "$POL/: index written to $POL/.signgate/index"
[ -s "$POL/.signgate/index" ] || fail "no index written"
ok
# The folder's mode less execute bits: no wider access than the policy's own.
expect_same "$(stat -c %a "$POL/.signgate/index")" "$(printf '%o' $((0$(stat -c %a "$POL") & 0666)))"
sg 0 policy index --policy "$POL" --json
expect_in "$T/out" '"index":"'"$POL/.signgate/index"'"'

# Signing through the index: no note, the same approval file and SHA-256 in the record.
sg 0 sign --config "$CFG" --out-dir "$T/signed" -j 2 "$pe" "$other"
expect_not_in "$T/err" "note:"
expect_in "$T/out" "hello-setup.exe (approval hello-exe, signer SHA-1"
expect_in "$T/out" "other-setup.exe (approval other-exe, signer SHA-1"
[ -s "$T/signed/hello-setup.exe" ] && [ -s "$T/signed/other-setup.exe" ] || fail "not signed"
ok
grep -F '"hello-exe"' "$LOG" | tail -n1 | grep -qF "\"policy_file_sha256\":\"$(sha256 "$POL/hello-exe.json")\"" ||
	fail "the record lacks hello-exe.json's SHA-256"
ok
# A denial through the index names the approval of the file name, as the full load does.
cp "$pe" "$T/x" && printf 'X' | dd of="$T/x" bs=1 seek=4000 conv=notrunc 2>/dev/null
mv "$T/x" "$T/hello-setup.exe"
sg 3 check --config "$CFG" "$T/hello-setup.exe"
expect_in "$T/out" "hello-setup.exe: SHA-256 does not match the vendor value in approval hello-exe"
expect_not_in "$T/err" "note:"

# A revocation added after indexing: the index is stale and not used; still denied.
cat >"$POL/zz-revoked.json" <<JSON
{ "revoked": [ { "sha256": "$(sha256 "$pe")", "reason": "vendor withdrew 1.0 (SEC-9)" } ] }
JSON
sg 3 sign --config "$CFG" --out-dir "$T/signed2" "$pe"
expect_in "$T/out" "hello-setup.exe: digest is revoked: vendor withdrew 1.0 (SEC-9)"
expect_in "$T/err" "note: the policy index is not used (zz-revoked.json is new since it was made)"
expect_in "$T/err" "'signgate policy index --policy $POL/' rebuilds it"
expect_absent "$T/signed2/hello-setup.exe"
# Rebuilt: the revocation is in the index, which is used again.
sg 0 policy index --config "$CFG"
sg 3 sign --config "$CFG" --out-dir "$T/signed2" "$pe"
expect_in "$T/out" "digest is revoked: vendor withdrew 1.0 (SEC-9)"
expect_not_in "$T/err" "note:"
# The revocation edited in place (same file, same size) with its mtime set
# back: only its ctime shows it; stale, still denied.
ino=$(stat -c %i "$POL/zz-revoked.json")
at=$(grep -bo 'SEC-9' "$POL/zz-revoked.json" | cut -d: -f1)
printf 'SEC-8' | dd of="$POL/zz-revoked.json" bs=1 seek="$at" conv=notrunc 2>/dev/null
touch -d '2020-01-01' "$POL/zz-revoked.json"
expect_same "$(stat -c %i "$POL/zz-revoked.json")" "$ino"
sg 3 check --config "$CFG" "$pe"
expect_in "$T/out" "digest is revoked: vendor withdrew 1.0 (SEC-8)"
expect_in "$T/err" "zz-revoked.json changed since it was made"
rm "$POL/zz-revoked.json"

# A policy with errors receives no index (the old one stays, and is not used).
echo '{ "approvals": [ { "id": "broken" } ] }' >"$POL/broken.json"
sg 2 policy index --config "$CFG"
expect_in "$T/err" "no index is written for a policy that does not load"
sg 2 check --config "$CFG" "$pe"
rm "$POL/broken.json"

# A policy that loads but whose index cannot be written: the cause's own code
# (an I/O error, exit 1), the message naming the folder; no temporary left.
mv "$POL/.signgate" "$T/signgate-saved"
echo "in the way" >"$POL/.signgate"
sg 1 policy index --config "$CFG"
expect_in "$T/err" "$POL/.signgate: not a folder"
expect_not_in "$T/err" "no index is written for a policy that does not load"
rm "$POL/.signgate"
mv "$T/signgate-saved" "$POL/.signgate"
sg 0 policy index --config "$CFG"
expect_same "$(find "$POL/.signgate" -name 'index.*' | wc -l | tr -d ' ')" 0

# A one-file policy: FILE.sgindex beside it.
ONE=$T/one.json
jq -s '{approvals: [.[].approvals[]]}' "$POL"/*.json >"$ONE"
config_set policy "\"$ONE\""
sg 0 policy index --config "$CFG"
expect_in "$T/out" "index written to $ONE.sgindex"
sg 0 check --config "$CFG" "$pe" "$other"
expect_not_in "$T/err" "note:"
expect_in "$T/out" "approved by other-exe"
echo ' ' >>"$ONE"
sg 0 check --config "$CFG" "$pe"
expect_in "$T/err" "one.json changed since it was made"

# policy approve writes the index with the approval.
config_set policy '"policy/"'
rm -r "$POL/.signgate"
msi=$INST/hello-1.0.msi
SIGNGATE_APPROVER="Jane Approver" sg 0 policy approve --config "$CFG" --product HelloMsi \
	--vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$msi")" "$msi"
[ -s "$POL/.signgate/index" ] || fail "policy approve wrote no index"
ok
sg 0 check --config "$CFG" "$msi" "$other"
expect_not_in "$T/err" "note:"
done_ok
