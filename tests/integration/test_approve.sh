#!/usr/bin/env bash
# signgate policy approve / lint / show: an installer checked against the
# vendor's values (manifests in several formats, a value copied by hand,
# OpenPGP-signed manifests and installers) becomes one approval file with
# its provenance, which signing then honours; every kind of mismatch,
# weak-only values, bad or foreign signatures, a vendor-signed product that
# arrives unsigned and a duplicate id are refused with nothing written; the
# audit log records approvals and refusals; lint and show read the folder.
. "$(dirname -- "$0")/lib.sh"

new_env
POL=$T/env/policy
cp "$SG_SRC/policy/catalog.json" "$POL/catalog.json"
export SIGNGATE_APPROVER="Jane Approver"
V=$T/vendor
mkdir -p "$V"
cp "$INST/hello-setup.exe" "$INST/other-setup.exe" "$V/"
(cd "$V" && sha256sum hello-setup.exe other-setup.exe >SHA256SUMS)
# The test's products are not in the catalog: each approval says so (see "catalog" below).
approve() {
	sg "$1" policy approve --config "$CFG" --vendor Example --ticket CHG-42 \
		--not-in-catalog "test product (CHG-42)" "${@:2}"
}
field() { jq -r "$2" "$POL/$1.json"; }
nfiles() { find "$POL" -maxdepth 1 -name '*.json' | wc -l | tr -d ' '; }

# A coreutils manifest: approved, the file written, signing accepts the installer.
approve 0 --product Hello --version 1.0 --manifest "$V/SHA256SUMS" --source https://example.invalid/ \
	"$V/hello-setup.exe"
expect_in "$T/out" "approved hello-setup.exe: wrote $POL/hello-1.0.json"
expect_in "$T/out" "SHA-256 matches the vendor's value ($V/SHA256SUMS line 1)"
expect_same "$(field hello-1.0 '.approvals[0].sha256')" "$(sha256 "$INST/hello-setup.exe")"
expect_same "$(field hello-1.0 '.approvals[0].sha512')" "$(sha512 "$INST/hello-setup.exe")"
# The approver is the account; SIGNGATE_APPROVER only adds a display name, marked self-declared.
expect_same "$(field hello-1.0 '.approvals[0].approved_by')" "$(id -un) (self-declared: Jane Approver)"
expect_same "$(field hello-1.0 '.approvals[0].file')" hello-setup.exe
expect_same "$(field hello-1.0 '.approvals[0].provenance.approver.from')" account
expect_same "$(field hello-1.0 '.approvals[0].provenance.approver.uid')" "$(id -u)"
expect_same "$(field hello-1.0 '.approvals[0].provenance.approver.display_name')" "Jane Approver"
expect_same "$(field hello-1.0 '.approvals[0].provenance.approver.display_name_is')" \
	"self-declared (SIGNGATE_APPROVER), not verified"
expect_same "$(field hello-1.0 '.approvals[0].provenance.approver.account')" "$(id -un)"
expect_same "$(field hello-1.0 '.approvals[0].provenance.vendor_values[0].line')" 1
expect_same "$(field hello-1.0 '.approvals[0].provenance.vendor_values[0].manifest_sha256')" \
	"$(sha256 "$V/SHA256SUMS")"
expect_same "$(field hello-1.0 '.approvals[0].provenance.vendor_values[0].format')" coreutils
expect_same "$(audit_field 0 action)" approve
expect_same "$(audit_field 0 decision)" approved
expect_same "$(audit_field 0 approval.approved_by)" "$(id -un) (self-declared: Jane Approver)"
expect_same "$(audit_field 0 approval.approved_by_from)" account
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
expect_in "$T/out" "approved by hello-1.0 (the approval file names $(id -un) (self-declared: Jane Approver), not verified; ticket CHG-42)"

# The same id again: refused, the first file untouched.
before=$(sha256 "$POL/hello-1.0.json")
approve 2 --product Hello --version 1.0 --manifest "$V/SHA256SUMS" "$V/hello-setup.exe"
expect_in "$T/out" "approval id hello-1.0 exists already"
expect_same "$(sha256 "$POL/hello-1.0.json")" "$before"

# Mismatches: a manifest for other bytes, a value typed by hand; nothing written.
n=$(nfiles)
sed "s/^[0-9a-f]\{8\}/00000000/" "$V/SHA256SUMS" >"$V/BAD.sha256"
approve 3 --product Other --version 2 --manifest "$V/BAD.sha256" "$V/other-setup.exe"
expect_in "$T/out" "not the file the vendor published; nothing was written"
expect_in "$T/out" "$V/BAD.sha256 line 2"
approve 3 --product Other --version 2 --sha256 "$(sha256 "$INST/hello-setup.exe")" "$V/other-setup.exe"
expect_in "$T/out" "vendor's value (command line)"
expect_same "$(nfiles)" "$n"
expect_same "$(audit_field 0 decision)" denied
expect_in "$LOG" "not the file the vendor published"

# MD5 or SHA-1 alone never approve.
(cd "$V" && md5sum other-setup.exe >other.md5 && sha1sum other-setup.exe >other.sha1)
approve 3 --product Other --version 2 --manifest "$V/other.md5" "$V/other-setup.exe"
expect_in "$T/out" "MD5 or SHA-1 only, which never approve anything"
approve 3 --product Other --version 2 --manifest "$V/other.sha1" "$V/other-setup.exe"
expect_same "$(nfiles)" "$n"
# A malformed line that names the file is an error naming the line.
printf '%s  other-setup.exe\nzz-not-hex  other-setup.exe\n' "$(sha256 "$V/other-setup.exe")" \
	>"$V/broken.sha256"
approve 3 --product Other --version 2 --manifest "$V/broken.sha256" "$V/other-setup.exe"
expect_in "$T/out" "line 2"
# A manifest that does not name the file.
approve 3 --product Other --version 2 --manifest "$V/SHA256SUMS" --file renamed.exe \
	"$V/other-setup.exe"
expect_in "$T/out" "renamed.exe"
expect_same "$(nfiles)" "$n"

# Other manifest formats: BSD tags with SHA-512, and gpg --print-md.
(cd "$V" && sha512sum --tag other-setup.exe >other.tags)
approve 0 --product Other --version 2 --id other-bsd --manifest "$V/other.tags" "$V/other-setup.exe"
expect_same "$(field other-bsd '.approvals[0].provenance.vendor_values[0].alg')" SHA-512
(cd "$V" && gpg --print-md SHA256 other-setup.exe >other.gpgmd 2>/dev/null)
approve 0 --product Other --version 2 --id other-gpg --manifest "$V/other.gpgmd" "$V/other-setup.exe"
expect_same "$(field other-gpg '.approvals[0].provenance.vendor_values[0].format')" gpg
# A value copied from the vendor's page, upper case.
approve 0 --product Other --version 2 --id other-typed \
	--sha256 "$(sha256 "$INST/other-setup.exe" | tr a-f A-F)" "$V/other-setup.exe"
expect_same "$(field other-typed '.approvals[0].provenance.vendor_values[0].from')" "command line"
expect_in "$T/out" "SHA-256 matches the vendor's value (command line)"

# OpenPGP: the vendor's key in the policy folder; manifest and installer signatures.
bash "$SG_SRC/tests/fixtures/make-openpgp.sh" "$T/pgp" "$V/SHA256SUMS" "$V/other-setup.exe" >/dev/null
cp "$T/pgp/KEYS" "$POL/KEYS"
fpr=$(awk '$3 == "vendor" { print $1 }' "$T/pgp/fingerprints.txt")
approve 0 --product Other --version 2 --id other-pgp --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SHA256SUMS.asc" "$V/other-setup.exe"
expect_in "$T/out" "OpenPGP signature of the manifest by $fpr"
expect_same "$(field other-pgp '.approvals[0].provenance.openpgp[0].primary_fingerprint')" "$fpr"
expect_same "$(field other-pgp '.approvals[0].provenance.openpgp[0].keyring')" KEYS
other_fpr=$(awk '$3 == "other" { print $1 }' "$T/pgp/fingerprints.txt")
approve 3 --product Other --version 2 --id other-x --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SHA256SUMS.asc" --openpgp-key "$other_fpr" "$V/other-setup.exe"
expect_in "$T/out" "not by the expected --openpgp-key $other_fpr"
approve 0 --product Other --version 2 --id other-pgp-inst --openpgp-key "$(echo "$fpr" | tr A-F a-f)" --sha256 "$(sha256 "$INST/other-setup.exe")" \
	--installer-sig "$V/other-setup.exe.sig" "$V/other-setup.exe"
expect_same "$(field other-pgp-inst '.approvals[0].provenance.openpgp[0].signed')" installer
n=$(nfiles)
# A manifest changed after it was signed; a signature by a key not in KEYS.
cp "$V/SHA256SUMS" "$V/SUMS2"
cp "$V/SHA256SUMS.asc" "$V/SUMS2.asc"
echo "# added later" >>"$V/SUMS2"
approve 3 --product Other --version 2 --id other-x --manifest "$V/SUMS2" --manifest-sig "$V/SUMS2.asc" \
	"$V/other-setup.exe"
expect_in "$T/out" "manifest signature $V/SUMS2.asc"
cp "$T/pgp/other.gpg" "$POL/OTHER.gpg"
approve 3 --product Other --version 2 --id other-x --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SHA256SUMS.asc" --keyring "$POL/OTHER.gpg" "$V/other-setup.exe"
# The keyring must live in the policy folder.
approve 2 --product Other --version 2 --id other-x --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SHA256SUMS.asc" --keyring "$T/pgp/KEYS" "$V/other-setup.exe"
expect_in "$T/out" "must be inside the policy folder"
expect_same "$(nfiles)" "$n"
# A signature file over 64 KiB cannot be a detached signature: that file's
# format (denied, exit 3), not an I/O error; a keyring over 16 MiB is the
# policy's own fault (exit 2).
{ cat "$V/SHA256SUMS.asc"; head -c 65536 /dev/zero | tr '\0' ' '; } >"$V/SUMS-big.asc"
approve 3 --product Other --version 2 --id other-x --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SUMS-big.asc" "$V/other-setup.exe"
expect_in "$T/out" "SUMS-big.asc: the signature file is larger than 65536 bytes"
expect_same "$(audit_field 0 status)" format
truncate -s $((16 * 1024 * 1024 + 1)) "$POL/BIG.gpg"
approve 2 --product Other --version 2 --id other-x --manifest "$V/SHA256SUMS" \
	--manifest-sig "$V/SHA256SUMS.asc" --keyring "$POL/BIG.gpg" "$V/other-setup.exe"
expect_in "$T/out" "$POL/BIG.gpg: the keyring is larger than 16777216 bytes"
rm "$POL/BIG.gpg"
expect_same "$(nfiles)" "$n"

# A product the catalog lists as vendor-signed, arriving unsigned.
cp "$INST/hello-1.0.msi" "$V/npp.msi"
approve 3 --product Notepad++ --version 8.6 "--sha256=$(sha256 "$V/npp.msi")" "$V/npp.msi"
expect_in "$T/out" "Notepad++ is listed as vendor-signed in the catalog"
approve 0 --product Notepad++ --version 8.6 --id npp-unsigned --accept-unsigned "checked with the vendor (CHG-43)" \
	"--sha256=$(sha256 "$V/npp.msi")" "$V/npp.msi"
expect_same "$(field npp-unsigned '.approvals[0].accept_unsigned')" "checked with the vendor (CHG-43)"
sg 0 check --config "$CFG" "$V/npp.msi"
# The same product under an approval without accept_unsigned is denied at signing too.
jq '.approvals[0].id = "npp-plain" | del(.approvals[0].accept_unsigned)' "$POL/npp-unsigned.json" \
	>"$POL/npp-plain.json"
sg 0 check --config "$CFG" "$V/npp.msi" # the first approval that allows it wins
rm "$POL/npp-plain.json"

# catalog: a product the catalog does not list needs --not-in-catalog; a look-alike name
# (a non-ASCII hyphen) is refused outright; signing honours the recorded reason.
n=$(nfiles)
sg 3 policy approve --config "$CFG" --vendor Example --ticket CHG-44 --product "Hello Two" \
	--version 1.0 --id hello-two "--sha256=$(sha256 "$V/hello-setup.exe")" "$V/hello-setup.exe"
expect_in "$T/out" "hello-setup.exe: product \"Hello Two\" is not in the policy's catalog, so signing would deny it"
sg 2 policy approve --config "$CFG" --vendor Example --ticket CHG-44 --product $'Note\xe2\x80\x91pad++' \
	--version 8.6 --id npp-dash "--sha256=$(sha256 "$V/npp.msi")" "$V/npp.msi"
expect_in "$T/err" "--product must be printable ASCII (a look-alike name?)"
expect_same "$(nfiles)" "$n"
# A reason of only spaces says nothing: refused, as a policy holding one would not load.
sg 2 policy approve --config "$CFG" --vendor Example --ticket CHG-44 --product "Hello Two" \
	--version 1.0 --id hello-two --not-in-catalog "   " "--sha256=$(sha256 "$V/hello-setup.exe")" \
	"$V/hello-setup.exe"
expect_in "$T/err" "--not-in-catalog must say why"
expect_same "$(nfiles)" "$n"
expect_same "$(field hello-1.0 '.approvals[0].not_in_catalog')" "test product (CHG-42)"
# A hand-written look-alike of a vendor-signed product (a trailing space) is still that product.
jq '.approvals[0].id = "npp-space" | .approvals[0].product = "notepad++ " | del(.approvals[0].accept_unsigned)' \
	"$POL/npp-unsigned.json" >"$T/npp-space.json"
mv "$POL/npp-unsigned.json" "$T/npp-unsigned.json"
cp "$T/npp-space.json" "$POL/npp-space.json"
sg 3 check --config "$CFG" "$V/npp.msi"
expect_in "$T/out" "Notepad++ is listed as vendor-signed, but npp.msi carries no signature"
jq '.approvals[0].product = "Notepad\u2011++"' "$T/npp-space.json" >"$POL/npp-space.json"
sg 2 check --config "$CFG" "$V/npp.msi"
expect_in "$T/err" "$POL/npp-space.json: approval #1 (npp-space): \"product\" must be printable ASCII"
# Not in the catalog and no not_in_catalog: denied at signing too.
jq '.approvals[0].product = "Notepad+++" | del(.approvals[0].not_in_catalog)' "$T/npp-space.json" >"$POL/npp-space.json"
sg 3 check --config "$CFG" "$V/npp.msi"
expect_in "$T/out" "product \"Notepad+++\" of approval npp-space is not in the catalog (a look-alike name?); the approval does not say not_in_catalog"
rm "$POL/npp-space.json"
mv "$T/npp-unsigned.json" "$POL/npp-unsigned.json"

# A renewal of one digest under a new id is fine; one that says another product is not.
approve 2 --product Hello2 --version 1.0 --id hello-clash --manifest "$V/SHA256SUMS" "$V/hello-setup.exe"
expect_in "$T/out" "hello-clash.json was taken back: with it the policy does not load"
expect_in "$T/out" "disagree on product, version, file or existing_signature"
expect_absent "$POL/hello-clash.json"

# A display name that is not one line of UTF-8 text is refused.
SIGNGATE_APPROVER=$'Jane\nDoe' approve 2 --product Hello --version 1.0 --id bad-name --sha256 \
	"$(sha256 "$INST/hello-setup.exe")" "$V/hello-setup.exe"
expect_in "$T/out" "error    SIGNGATE_APPROVER holds control characters"
SIGNGATE_APPROVER=$'Jane \xff' approve 2 --product Hello --version 1.0 --id bad-name --sha256 \
	"$(sha256 "$INST/hello-setup.exe")" "$V/hello-setup.exe"
expect_in "$T/out" "error    SIGNGATE_APPROVER is not UTF-8 text"
expect_absent "$POL/bad-name.json"

# Without SIGNGATE_APPROVER the account is the approver; a flag cannot set it.
SIGNGATE_APPROVER= approve 0 --product Hello --version 1.0 --id hello-acct --manifest "$V/SHA256SUMS" \
	"$V/hello-setup.exe"
expect_same "$(field hello-acct '.approvals[0].approved_by')" "$(id -un)"
expect_same "$(field hello-acct '.approvals[0].provenance.approver.from')" account
approve 2 --product Hello --version 1.0 --approved-by mallory --manifest "$V/SHA256SUMS" \
	"$V/hello-setup.exe"

# lint: warnings, no errors; then a disagreeing approval stops lint and signing.
sg 0 policy lint --config "$CFG"
expect_in "$T/out" "approval npp-unsigned: accepts unsigned files of Notepad++"
expect_in "$T/out" "ok       $POL/: 8 approvals, 0 revocations, 20 products in the catalog; 8 warnings"
expect_in "$T/out" "approval hello-1.0: product \"Hello\" is not in the catalog; signed anyway because: \"test product (CHG-42)\""
sg 0 policy show --config "$CFG" --product other --json
expect_same "$(wc -l <"$T/out" | tr -d ' ')" 5
expect_same "$(jq -r 'select(.id == "other-pgp") | .provenance.openpgp[0].primary_fingerprint' "$T/out")" "$fpr"
sg 0 policy show --policy "$POL"
expect_in "$T/out" "hello-1.0"
# Expiry filters: one approval ending in 10 days, one that ended yesterday.
soon=$(date -u -d '+10 days' +%F)
jq --arg d "$soon" '.approvals[0].id = "hello-soon" | .approvals[0].expires = $d' \
	"$POL/hello-1.0.json" >"$POL/hello-soon.json"
jq --arg d "$(date -u -d 'yesterday' +%F)" '.approvals[0].id = "hello-old" | .approvals[0].expires = $d' \
	"$POL/hello-1.0.json" >"$POL/hello-old.json"
sg 0 policy show --policy "$POL" --expiring 30 --json
expect_same "$(jq -r .id "$T/out")" hello-soon
sg 0 policy show --policy "$POL" --expiring 5 --json
expect_same "$(wc -c <"$T/out" | tr -d ' ')" 0
sg 0 policy show --policy "$POL" --expired
expect_in "$T/out" "hello-old"
expect_not_in "$T/out" "hello-soon"
sg 0 policy lint --policy "$POL" --soon 30
expect_in "$T/out" "approval hello-soon: expires on $soon, within 30 days"
expect_in "$T/out" "approval hello-old: expired on"
rm "$POL/hello-soon.json" "$POL/hello-old.json"
jq '.approvals[0].id = "clash" | .approvals[0].version = "9.9"' "$POL/hello-1.0.json" >"$POL/clash.json"
sg 2 policy lint --config "$CFG"
expect_in "$T/out" "are for the same SHA-256 but disagree"
sg 2 check --config "$CFG" "$INST/hello-setup.exe"
# ...and approve refuses to add to a policy that does not load.
approve 2 --product Other --version 3 --id other-3 --sha256 "$(sha256 "$INST/other-setup.exe")" \
	"$V/other-setup.exe"
expect_in "$T/out" "the policy does not load as it is"
rm "$POL/clash.json"

# --existing-signature takes refuse, replace or nest; any other word is a
# usage error (exit 2) naming it, never taken for "refuse"; nothing written.
n=$(nfiles)
sg 2 policy approve --config "$CFG" --vendor Example --ticket CHG-44 --product "Hello Two" \
	--version 1.0 --id hello-keep --existing-signature keep \
	"--sha256=$(sha256 "$V/hello-setup.exe")" "$V/hello-setup.exe"
expect_in "$T/err" "--existing-signature: \"keep\" is not an existing-signature rule: refuse, replace or nest"
expect_same "$(nfiles)" "$n"

# A manifest or signature too large to be one is that file's format problem
# (a refusal, exit 3, recorded as denied), not an I/O error; nothing written.
head -c 1048577 /dev/zero | tr '\0' 'x' >"$T/huge-SUMS"
approve 3 --product Hello --version 1.0 --id hello-huge --manifest "$T/huge-SUMS" "$V/hello-setup.exe"
expect_in "$T/out" "$T/huge-SUMS: larger than 1048576 bytes"
expect_same "$(nfiles)" "$n"
expect_same "$(audit_field 0 decision) $(audit_field 0 status)" "denied format"
expect_in "$LOG" "huge-SUMS: larger than 1048576 bytes"

# Not an installer; a policy that is a single file.
echo "not a PE" >"$V/readme.txt"
approve 3 --product Other --version 3 --id other-3 --sha256 "$(sha256 "$V/readme.txt")" "$V/readme.txt"
sg 2 policy approve --policy "$POL/catalog.json" --product Other --vendor Example --version 3 \
	--ticket CHG-1 --sha256 "$(sha256 "$INST/other-setup.exe")" "$V/other-setup.exe"
expect_in "$T/out" "the policy must be a folder"
sg 0 audit verify --config "$CFG"

# The first approval of a new policy: an empty folder takes it (signing and
# lint still refuse a folder with no policy file in it).
mkdir "$T/newpol"
sg 2 policy lint --policy "$T/newpol"
expect_in "$T/out" "$T/newpol: the policy folder holds no *.json file"
sg 0 policy approve --policy "$T/newpol" --product Hello --vendor Example --version 1.0 \
	--ticket CHG-1 --sha256 "$(sha256 "$INST/hello-setup.exe")" "$V/hello-setup.exe"
expect_in "$T/out" "approved hello-setup.exe: wrote $T/newpol/hello-1.0.json"
sg 0 policy lint --policy "$T/newpol"
expect_in "$T/out" "ok       $T/newpol: 1 approval,"
done_ok
