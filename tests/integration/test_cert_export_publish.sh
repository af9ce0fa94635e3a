#!/usr/bin/env bash
# cert export --force (issue 16, red team B finding 6): every destination is
# checked before the first rename. A folder (or a special file) at a name
# export writes cannot be replaced by a rename: export says which, exits 1
# and replaces nothing, where it used to rename the certificates and fail on
# README.txt, leaving new certificates beside the old script. A symbolic
# link is replaced itself (never followed).
. "$(dirname -- "$0")/lib.sh"

cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
args=(--ca "$PKI/root.pem" --crl "$PKI/crl.pem")
f=$T/f
snap() { (cd "$f" && sha256sum -- *.cer *.p7b *.crl thumbprint.txt import-signgate-trust.ps1); }

sg 0 cert export --cert "$T/leaf-chain.pem" "${args[@]}" --out-dir "$f"
snap >"$T/before"
rm "$f/README.txt"
mkdir "$f/README.txt"
# Another signer: every file but root.cer and the CRLs would change.
sg 1 cert export --cert "$PKI/signer-ec-chain.pem" "${args[@]}" --force --out-dir "$f"
expect_in "$T/err" "$f/README.txt: a folder, not a file: export cannot replace it; nothing replaced (remove it, then export again)"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a refused export --force replaced some files: $(diff "$T/before" "$T/after")"
ok
[ -z "$(ls -A "$f" | grep '^\.')" ] || fail "a temporary file was left: $(ls -A "$f")"
ok
expect_no_line "$T/out" "wrote       $f/signer.cer"

# A FIFO at a name: the same, and nothing hangs on it.
rmdir "$f/README.txt"
mkfifo "$f/README.txt"
sg 1 cert export --cert "$PKI/signer-ec-chain.pem" "${args[@]}" --force --out-dir "$f"
expect_in "$T/err" "$f/README.txt: a special file, not a file: export cannot replace it; nothing replaced"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a refused export --force replaced some files"
ok

# Once it is gone, --force writes the whole set.
rm "$f/README.txt"
sg 0 cert export --cert "$PKI/signer-ec-chain.pem" "${args[@]}" --force --out-dir "$f"
sg 0 cert export --cert "$PKI/signer-ec-chain.pem" "${args[@]}" --check "$f"
expect_in "$T/out" "up to date"

# Without --force an existing file is refused first, as before.
sg 1 cert export --cert "$T/leaf-chain.pem" "${args[@]}" --out-dir "$f"
expect_in "$T/err" "exists already (use --force to replace it)"

# --out-dir to be created in a folder others may write without the sticky
# bit (red team B 9): refused before anything is created there.
mkdir -m 0777 "$T/pub"
chmod 0777 "$T/pub"
sg 2 cert export --cert "$T/leaf-chain.pem" "${args[@]}" --out-dir "$T/pub/new/deeper"
expect_in "$T/err" "export folder $T/pub: others may write this folder and it has no sticky bit (mode 0777)"
expect_absent "$T/pub/new"
# With the sticky bit (as /tmp) it is created.
chmod 1777 "$T/pub"
sg 0 cert export --cert "$T/leaf-chain.pem" "${args[@]}" --out-dir "$T/pub/new/deeper"
expect_same "$(stat -c %a "$T/pub/new")" 755
done_ok
