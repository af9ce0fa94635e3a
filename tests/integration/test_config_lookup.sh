#!/usr/bin/env bash
# The config without --config: $SIGNGATE_CONFIG, then /etc/signgate/signgate.json.
# The variable only names the file, which is held to every check --config's
# is; errors say where it was found. The modes that need no config (verify
# --ca, audit verify --log, policy lint --policy, cert lint --cert) use only
# what their options name, whatever the variable or /etc hold.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
unset SIGNGATE_CONFIG

# 1. Neither: the usage error says where a config is looked for.
if [ ! -e /etc/signgate/signgate.json ]; then
	sg 2 sign --out-dir "$T/o" "$INST/hello-setup.exe"
	expect_in "$T/err" "--config FILE is required (or SIGNGATE_CONFIG, or a config at /etc/signgate/signgate.json)"
	sg 2 audit show
	expect_in "$T/err" "give --config FILE or --log FILE (or set SIGNGATE_CONFIG, or a config at /etc/signgate/signgate.json)"
fi

# 2. SIGNGATE_CONFIG names the config: sign, check, verify, audit, policy, cert use it.
export SIGNGATE_CONFIG=$CFG
sg 0 sign --out "$T/env-signed.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 decision)" signed
sg 0 check "$INST/hello-setup.exe"
expect_same "$(audit_field 0 action)" check
sg 0 verify "$T/env-signed.exe"
expect_in "$T/out" "valid"
sg 0 audit verify
expect_in "$T/out" "$LOG: 3 records, chain intact"
sg 0 audit show --action sign
expect_in "$T/out" "hello-setup.exe"
sg 0 policy lint
expect_in "$T/out" "1 approval,"
sg 0 cert lint
# --config wins over the variable.
mkdir -m 0700 "$T/other-audit"
cp "$CFG" "$T/other.json"
sed -i "s#\"audit/audit.jsonl\"#\"$T/other-audit/audit.jsonl\"#; s#\"policy/\"#\"$T/env/policy/\"#" "$T/other.json"
sg 0 check --config "$T/other.json" "$INST/hello-setup.exe"
[ -s "$T/other-audit/audit.jsonl" ] || fail "--config did not win over SIGNGATE_CONFIG"
ok
expect_same "$(wc -l <"$LOG")" 3

# 3. The modes that need no config ignore the variable, even when it names
# a file that would be refused.
export SIGNGATE_CONFIG=$T/missing.json
sg 0 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" "$T/env-signed.exe"
expect_in "$T/out" "valid"
sg 0 audit verify --log "$LOG"
expect_in "$T/out" "3 records, chain intact"
sg 0 policy lint --policy "$T/env/policy"
sg 0 cert lint --cert "$PKI/signer.pem" --chain "$PKI/issuing.pem" --ca "$PKI/root.pem" --crl "$PKI/crl.pem"

# 4. A missing file: exit 2, naming it and where it came from; nothing signed.
sg 2 sign --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/missing.json: cannot read the config"
expect_in "$T/err" "(the config was found by \$SIGNGATE_CONFIG; --config FILE names another)"
expect_absent "$T/x.exe"
sg 2 audit show
expect_in "$T/err" "$T/missing.json"

# 5. A group-writable config: refused as --config's would be, named.
cp "$CFG" "$T/env/gw.json"
chmod 0664 "$T/env/gw.json"
export SIGNGATE_CONFIG=$T/env/gw.json
sg 2 sign --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$T/env/gw.json"
expect_in "$T/err" "writable by group"
expect_in "$T/err" "found by \$SIGNGATE_CONFIG"
expect_absent "$T/x.exe"
sg 2 check --config "$T/env/gw.json" "$INST/hello-setup.exe"
expect_not_in "$T/err" "found by"

# 6. Set but empty: a usage error, not "no config".
export SIGNGATE_CONFIG=
sg 2 check "$INST/hello-setup.exe"
expect_in "$T/err" "SIGNGATE_CONFIG is set but empty"
done_ok
