#!/usr/bin/env bash
# cert export --check (issue 16, red team B finding 3): a file of the folder
# that others may write, that another account owns, that has another name (a
# hard link), that is a symbolic link or not a regular file is "unsafe"
# (exit 3) with the reason, even when its bytes are what export writes now.
. "$(dirname -- "$0")/lib.sh"

cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
args=(--cert "$T/leaf-chain.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
d=$T/d
sg 0 cert export "${args[@]}" --out-dir "$d"
sg 0 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "up to date"

# Others may write it: the content is right, the file is not safe.
chmod 0666 "$d/signer.cer"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "unsafe     signer.cer: others may write this file (mode 0666): whoever can change it decides what Windows trusts (chmod go-w); its content is what export writes now"
expect_in "$T/out" "differs from what export writes now: 0 changed, 0 missing, 0 extra, 1 unsafe file(s)"
expect_not_in "$T/out" "up to date"
expect_not_in "$T/out" "others may write the folder"
chmod 0644 "$d/signer.cer"

# Group write only, and the content changed as well: both said.
cp "$d/import-signgate-trust.ps1" "$T/script.saved"
echo 'Write-Host extra' >>"$d/import-signgate-trust.ps1"
chmod 0664 "$d/import-signgate-trust.ps1"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "unsafe     import-signgate-trust.ps1: others may write this file (mode 0664): whoever can change it decides what Windows trusts (chmod go-w); its content differs: not the script export writes now"
cp "$T/script.saved" "$d/import-signgate-trust.ps1"
chmod 0644 "$d/import-signgate-trust.ps1"
sg 0 cert export "${args[@]}" --check "$d"

# Another account owns it (it may chmod it at any time). Only root can chown.
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$d/root.cer"
	sg 3 cert export "${args[@]}" --check "$d"
	expect_in "$T/out" "unsafe     root.cer: owned by uid 65534, not by this account or root; its content is what export writes now"
	expect_no_line "$T/out" "unchanged  root.cer"
	# --json says the same.
	sg 3 cert export "${args[@]}" --check "$d" --json
	expect_in "$T/out" '{"name":"root.cer","reason":"owned by uid 65534, not by this account or root; its content is what export writes now","status":"unsafe"}'
	chown 0 "$d/root.cer"
fi

# A hard link: whoever holds the other name rewrites this one.
ln "$d/thumbprint.txt" "$T/other-name"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "unsafe     thumbprint.txt: a hard link (2 names): whoever holds another name may rewrite it; its content is what export writes now"
rm "$T/other-name"

# A symbolic link at a name export writes: never followed, unsafe.
mv "$d/signgate-chain.p7b" "$T/chain.saved"
ln -s "$T/chain.saved" "$d/signgate-chain.p7b"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "unsafe     signgate-chain.p7b: a symbolic link, not the file (never followed)"
rm "$d/signgate-chain.p7b"
mv "$T/chain.saved" "$d/signgate-chain.p7b"

# Not a regular file: a FIFO at a name export writes (never read: no hang).
mv "$d/crl-1.crl" "$T/crl.saved"
mkfifo "$d/crl-1.crl"
sg 3 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "unsafe     crl-1.crl: not a regular file (never read)"
rm "$d/crl-1.crl"
mv "$T/crl.saved" "$d/crl-1.crl"

sg 0 cert export "${args[@]}" --check "$d"
expect_in "$T/out" "up to date"
done_ok
