#!/usr/bin/env bash
# Red team B (issue 16): cert export checks revocation only when a CRL file
# is given, and says nothing when it is not. README says the chain is
# "checked as signing checks it"; sign refuses a config whose signing
# certificate names CRL distribution points and that has neither
# trust.crl_file nor "trust.ignore_crl": true (lib/keys/signer.c
# check_revocation_config). Main 0637183: exit 0, silent, so a revoked
# signer would be exported into TrustedPublisher. Expected: the config case
# refused like sign (naming trust.crl_file); --cert without --crl said on
# stderr (as verify --ca says whether it checked revocation).
. "$(dirname -- "$0")/lib.sh"

new_env
/usr/bin/python3 - "$CFG" <<'PY'
import json, sys
path = sys.argv[1]
cfg = json.load(open(path))
del cfg["trust"]["crl_file"]
json.dump(cfg, open(path, "w"), indent=2)
PY
config_set signing "{\"certificate\": \"$PKI/signer.pem\", \"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\"}"
# What sign says of this config (the reference).
approval hello hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 2 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
expect_in "$T/err" "verification needs \"trust.crl_file\" (offline CRLs)"
rc=0
"$SG_BIN" cert export --config "$CFG" --chain "$PKI/issuing.pem" --out-dir "$T/n1" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "export without trust.crl_file or trust.ignore_crl exited 0"
ok
expect_in "$T/err" "trust.crl_file"
expect_absent "$T/n1/signer.cer"

# Without a config: allowed, but said.
sg 0 cert export --cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --out-dir "$T/n2"
expect_in_i "$T/err" "revocation"
done_ok
