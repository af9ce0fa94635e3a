#!/usr/bin/env bash
# Red team B (issue 16): `cert export --check DIR` checks the folder's mode
# and owner but not the files': a signer.cer or import script that anyone
# may rewrite in place, or a root.cer another account owns (and may chmod),
# is "unchanged" and the folder "up to date" (exit 0). Fails on main 0637183.
. "$(dirname -- "$0")/lib.sh"

cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
args=(--cert "$T/leaf-chain.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem")
sg 0 cert export "${args[@]}" --out-dir "$T/d"
sg 0 cert export "${args[@]}" --check "$T/d"
expect_in "$T/out" "up to date"

chmod 0666 "$T/d/signer.cer"
sg 3 cert export "${args[@]}" --check "$T/d"
expect_not_in "$T/out" "up to date"
expect_no_line "$T/out" "unchanged  signer.cer"
chmod 0644 "$T/d/signer.cer"

chmod 0646 "$T/d/import-signgate-trust.ps1"
sg 3 cert export "${args[@]}" --check "$T/d"
expect_not_in "$T/out" "up to date"
chmod 0644 "$T/d/import-signgate-trust.ps1"

if [ "$(id -u)" = 0 ]; then
	chown nobody "$T/d/root.cer"
	sg 3 cert export "${args[@]}" --check "$T/d"
	expect_not_in "$T/out" "up to date"
	expect_no_line "$T/out" "unchanged  root.cer"
	chown 0 "$T/d/root.cer"
fi
sg 0 cert export "${args[@]}" --check "$T/d"
done_ok
