#!/usr/bin/env bash
# Strict modes (README "Strict modes"): the config, the policy folder and its
# files, the trust anchors, the audit folder, log and seals must be owned by
# root or the account running signgate and writable by no one else; a sticky
# root-owned folder above is fine; "policy_group" and "audit_group" are the
# only exceptions. Every violation is exit 2 naming the file, the reason, the
# mode and the owner, before any input is touched (no audit record, no
# output). Without a config, files a reviewer names are warnings; policy lint
# run by another account than the policy's owner warns instead of failing.
. "$(dirname -- "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skipped: the owner and group cases need root (chown)"; exit 0; }
id nobody >/dev/null 2>&1 || fail "no user nobody"
getent group adm >/dev/null || fail "no group adm"

EXE=$INST/hello-setup.exe
new_env
chmod 0755 "$T"
approval hello-exe hello-setup.exe "$(sha256 "$EXE")"
POL=$T/env/policy
sg 0 check --config "$CFG" "$EXE"
rm -f -- "$LOG"

# refused WHAT_IN_MESSAGE ARGS...: exit 2, the message, and nothing recorded or written.
refused() {
	local want=$1
	shift
	sg 2 "$@"
	expect_in "$T/err" "$want"
	expect_absent "$LOG"
}

# A group-writable policy file: sign and check refuse before reading any input.
chmod 0664 "$POL/hello-exe.json"
refused "$POL/hello-exe.json: writable by group root (mode 0664, owner root)" \
	sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_in "$T/err" "must be owned by root and writable by no one else"
expect_absent "$T/signed"
refused "$POL/hello-exe.json: writable by group root (mode 0664, owner root)" check --config "$CFG" "$EXE"
chmod 0644 "$POL/hello-exe.json"

# Every command that takes the config refuses the same way.
chmod 0646 "$POL/hello-exe.json"
for args in "verify --config $CFG $EXE" "policy show --config $CFG" "policy index --config $CFG" \
	"policy approve --config $CFG --product P --vendor V --version 1 --ticket T --sha256 $(sha256 "$EXE") $EXE" \
	"policy cosign --config $CFG --cert $PKI/signer.pem --key $PKI/signer.key $POL/hello-exe.json" \
	"audit verify --config $CFG" "audit show --config $CFG" "audit summary --config $CFG" \
	"audit rotate --config $CFG" "audit repair --config $CFG" "audit seal --config $CFG" \
	"cert lint --config $CFG" "cert export --config $CFG --out-dir $T/trust"; do
	# shellcheck disable=SC2086
	refused "$POL/hello-exe.json: writable by others (mode 0646, owner root)" $args
done
expect_absent "$T/trust"
chmod 0644 "$POL/hello-exe.json"

# An other-writable policy folder; a policy folder owned by another account.
chmod 0757 "$POL"
refused "$POL/: writable by others (mode 0757, owner root)" check --config "$CFG" "$EXE"
chmod 0755 "$POL"
chown nobody "$POL"
refused "$POL/: owned by another account (mode 0755, owner nobody)" check --config "$CFG" "$EXE"
chown root "$POL"
# A file an editor left beside the approvals counts too, and so does the index.
sg 0 policy index --config "$CFG"
chmod 0666 "$POL/.signgate/index"
refused "$POL/.signgate/index: writable by others (mode 0666, owner root)" check --config "$CFG" "$EXE"
chmod 0644 "$POL/.signgate/index"
# Signing checks the policy files as it opens them: through a current index
# (made while the file was already group-writable: policy index only warns) too.
chmod 0664 "$POL/hello-exe.json"
sg 0 policy index --policy "$POL"
expect_in "$T/err" "signgate: warning: $POL/hello-exe.json: writable by group root (mode 0664, owner root)"
refused "$POL/hello-exe.json: writable by group root (mode 0664, owner root)" check --config "$CFG" "$EXE"
chmod 0644 "$POL/hello-exe.json"
sg 0 policy index --config "$CFG"
# A link in the policy folder is followed and its target checked.
mkdir -m 0777 "$T/open"
echo '{"approvals": []}' >"$T/open/extra.json"
ln -s "$T/open/extra.json" "$POL/extra.json"
refused "$T/open: writable by others (mode 0777, owner root)" check --config "$CFG" "$EXE"
rm -f -- "$POL/extra.json"

# The config itself, and a folder above it writable by others (not sticky).
chmod 0620 "$CFG"
refused "$CFG: writable by group root (mode 0620, owner root)" check --config "$CFG" "$EXE"
chmod 0600 "$CFG"
mkdir -m 0755 "$T/up"
mv "$T/env" "$T/up/env"
CFG=$T/up/env/signgate.json LOG=$T/up/env/audit/audit.jsonl POL=$T/up/env/policy
chmod 0777 "$T/up"
refused "$T/up: writable by others (mode 0777, owner root)" check --config "$CFG" "$EXE"
# Sticky and root's (like /tmp): accepted, and signing works.
chmod 1777 "$T/up"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_in "$T/out" "signed   $EXE"
chmod 0755 "$T/up"
rm -rf -- "$T/signed" "$LOG"

# Trust anchors: ca_file, crl_file, tsa_ca_file, approvers_ca_file.
mkdir -m 0755 "$T/pki"
cp "$PKI/root.pem" "$PKI/crl.pem" "$T/pki/"
config_set trust "{\"ca_file\": \"$T/pki/root.pem\", \"crl_file\": \"$T/pki/crl.pem\", \"tsa_ca_file\": \"$T/pki/root.pem\", \"approvers_ca_file\": \"$T/pki/root.pem\"}"
sg 0 check --config "$CFG" "$EXE"
rm -f -- "$LOG"
chmod 0664 "$T/pki/root.pem"
refused "$T/pki/root.pem: writable by group root (mode 0664, owner root)" verify --config "$CFG" "$EXE"
chmod 0644 "$T/pki/root.pem"
chmod 0664 "$T/pki/crl.pem"
refused "$T/pki/crl.pem: writable by group root (mode 0664, owner root)" check --config "$CFG" "$EXE"
chmod 0644 "$T/pki/crl.pem"
# The approvers' CRLs (two-person rule) decide too.
cp "$PKI/crl.pem" "$T/pki/approvers-crl.pem"
config_set trust "{\"ca_file\": \"$T/pki/root.pem\", \"crl_file\": \"$T/pki/crl.pem\", \"tsa_ca_file\": \"$T/pki/root.pem\", \"approvers_ca_file\": \"$T/pki/root.pem\", \"approvers_crl_file\": \"$T/pki/approvers-crl.pem\"}"
chmod 0646 "$T/pki/approvers-crl.pem"
refused "$T/pki/approvers-crl.pem: writable by others (mode 0646, owner root)" check --config "$CFG" "$EXE"
chmod 0644 "$T/pki/approvers-crl.pem"
chown nobody "$T/pki"
refused "$T/pki: owned by another account (mode 0755, owner nobody)" cert lint --config "$CFG"
chown root "$T/pki"

# What runs with the key (osslsigncode, PKCS#11 modules): the same rule.
mkdir -m 0755 "$T/tools"
cp /usr/bin/osslsigncode "$T/tools/"
chmod 0775 "$T/tools/osslsigncode"
config_set osslsigncode "\"$T/tools/osslsigncode\""
refused "$T/tools/osslsigncode: writable by group root (mode 0775, owner root)" check --config "$CFG" "$EXE"
config_set osslsigncode null

# Key and secret files: the same owner and folder rule, plus private modes.
cp "$PKI/signer.p12" "$PKI/signer.pass" "$T/pki/"
chmod 0600 "$T/pki/signer.p12" "$T/pki/signer.pass"
config_set signing "{\"pkcs12\": \"$T/pki/signer.p12\", \"password_file\": \"$T/pki/signer.pass\"}"
# (As for a loose secret file, each input is recorded as not signed: exit 2.)
chown nobody "$T/pki/signer.pass"
sg 2 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_in "$T/out" "$T/pki/signer.pass: owned by another account (mode 0600, owner nobody)"
chown root "$T/pki/signer.pass"
chown nobody "$T/pki/signer.p12"
sg 2 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
expect_in "$T/out" "$T/pki/signer.p12: owned by another account (mode 0600, owner nobody)"
chown root "$T/pki/signer.p12"
expect_absent "$T/signed/hello-setup.exe"
rm -f -- "$LOG"

# A config reached through a link that another account owns (in a sticky folder): refused.
mkdir -m 1777 "$T/sticky"
ln -s "$CFG" "$T/sticky/signgate.json"
chown -h nobody "$T/sticky/signgate.json"
refused "$T/sticky/signgate.json: owned by another account" check --config "$T/sticky/signgate.json" "$EXE"
rm -f -- "$T/sticky/signgate.json"

# The audit folder, log and seals file.
sg 0 check --config "$CFG" "$EXE"
chmod 0660 "$LOG"
sg 2 audit verify --config "$CFG"
expect_in "$T/err" "$LOG: writable by group root (mode 0660, owner root)"
sg 2 check --config "$CFG" "$EXE"
expect_same "$(wc -l <"$LOG")" 1
chmod 0600 "$LOG"
chmod 0770 "$(dirname "$LOG")"
sg 2 audit show --config "$CFG"
expect_in "$T/err" "$(dirname "$LOG"): writable by group root (mode 0770, owner root)"
chmod 0700 "$(dirname "$LOG")"
config_set audit_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$PKI/seal.pass\"}"
sg 0 audit seal --config "$CFG"
chmod 0620 "$LOG.seals"
sg 2 audit verify --config "$CFG"
expect_in "$T/err" "$LOG.seals: writable by group root (mode 0620, owner root)"
chmod 0600 "$LOG.seals"
sg 0 audit verify --config "$CFG"

# The exceptions: only the group the config names, only where it applies.
chgrp adm "$POL" "$POL/hello-exe.json" "$LOG" "$LOG.seals" "$(dirname "$LOG")"
chmod 0775 "$POL"
chmod 0664 "$POL/hello-exe.json"
chmod 0660 "$LOG" "$LOG.seals"
chmod 0770 "$(dirname "$LOG")"
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "writable by group adm"
config_set policy_group '"adm"'
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "$(dirname "$LOG"): writable by group adm (mode 0770, owner root)"
config_set audit_group '"adm"'
sg 0 check --config "$CFG" "$EXE"
sg 0 audit verify --config "$CFG"
# A member of the policy group may own a policy file (nobody's group is nogroup).
config_set policy_group '"nogroup"'
config_set audit_group null
chgrp nogroup "$POL" "$POL/hello-exe.json"
chown nobody "$POL/hello-exe.json"
chgrp root "$LOG" "$LOG.seals" "$(dirname "$LOG")"
chmod 0600 "$LOG" "$LOG.seals"
chmod 0700 "$(dirname "$LOG")"
sg 0 check --config "$CFG" "$EXE"
# ... but the group's exception does not reach the trust anchors or the config.
chgrp nogroup "$T/pki/root.pem"
chmod 0664 "$T/pki/root.pem"
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "$T/pki/root.pem: writable by group nogroup (mode 0664, owner root)"
chmod 0644 "$T/pki/root.pem"
chgrp root "$T/pki/root.pem"
# Another group than the one named: refused.
chgrp adm "$POL/hello-exe.json"
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "$POL/hello-exe.json: writable by group adm (mode 0664, owner nobody)"
chown root:root "$POL" "$POL/hello-exe.json"
chmod 0755 "$POL"
chmod 0644 "$POL/hello-exe.json"
config_set policy_group '"sg-no-such-group"'
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "\"policy_group\" names the group \"sg-no-such-group\", which does not exist"
config_set policy_group null

# policy lint: the same findings; exit 2 for the policy's owner, warnings for another account.
chmod 0664 "$POL/hello-exe.json"
sg 2 policy lint --config "$CFG"
expect_in "$T/out" "error    $POL/hello-exe.json: writable by group root (mode 0664, owner root)"
sg 2 policy lint --policy "$POL"
expect_in "$T/out" "error    $POL/hello-exe.json: writable by group root (mode 0664, owner root)"
mkdir -m 0755 "$T/bin"
cp "$SG_BIN" "$T/bin/signgate"
chmod 0755 "$T/up/env"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/bin/signgate" policy lint --policy "$POL" \
	>"$T/out" 2>"$T/err" || rc=$?
expect_same "$rc" 0
expect_in "$T/out" "warning  $POL/hello-exe.json: writable by group root (mode 0664, owner root)"
expect_in "$T/out" "run by another account than the policy's owner"
expect_in "$T/out" "ok       $POL: 1 approval,"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/bin/signgate" policy lint --policy "$POL" \
	--json >"$T/out" 2>"$T/err" || rc=$?
expect_same "$rc" 0
expect_in "$T/out" '"warning":"'"$POL"'/hello-exe.json: writable by group root (mode 0664, owner root)'
chmod 0644 "$POL/hello-exe.json"

# Without a config, a reviewer's own copies: warnings, not refusals.
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$EXE"
chmod 0664 "$T/pki/root.pem"
sg 0 verify --ca "$T/pki/root.pem" --crl "$T/pki/crl.pem" "$T/signed/hello-setup.exe"
expect_in "$T/err" "signgate: warning: $T/pki/root.pem: writable by group root (mode 0664, owner root)"
expect_in "$T/out" "valid"
sg 2 verify --config "$CFG" "$T/signed/hello-setup.exe"
chmod 0644 "$T/pki/root.pem"
cp "$LOG" "$LOG.seals" "$T/"
chmod 0666 "$T/audit.jsonl"
sg 0 audit verify --log "$T/audit.jsonl"
expect_in "$T/err" "signgate: warning: $T/audit.jsonl: writable by others (mode 0666, owner root)"

# Red team: the vendor keyring policy approve reads may sit in a subfolder of
# the policy folder (only direct entries are walked): it is held to the rule too.
V=$T/vendor
mkdir -p "$V"
cp "$INST/other-setup.exe" "$V/"
(cd "$V" && sha256sum other-setup.exe >SHA256SUMS)
bash "$SG_SRC/tests/fixtures/make-openpgp.sh" "$T/pgp" "$V/SHA256SUMS" "$V/other-setup.exe" >/dev/null
mkdir -m 0755 "$POL/keys"
cp "$T/pgp/KEYS" "$POL/keys/KEYS"
chmod 0646 "$POL/keys/KEYS"
pgp_approve() {
	sg "$1" policy approve "${@:2}" --product Other --vendor Example --version 2 --ticket T \
		--id other-pgp --manifest "$V/SHA256SUMS" --manifest-sig "$V/SHA256SUMS.asc" \
		--keyring "$POL/keys/KEYS" "$V/other-setup.exe"
	cat "$T/out" "$T/err" >"$T/both"
}
pgp_approve 2 --config "$CFG"
expect_in "$T/both" "$POL/keys/KEYS: writable by others (mode 0646, owner root)"
expect_absent "$POL/other-pgp.json"
chmod 0644 "$POL/keys/KEYS"
chown nobody "$POL/keys"
pgp_approve 2 --config "$CFG"
expect_in "$T/both" "$POL/keys: owned by another account (mode 0755, owner nobody)"
expect_absent "$POL/other-pgp.json"
# Without a config (a working copy): a warning, and the approval is written.
pgp_approve 0 --policy "$POL"
expect_in "$T/err" "signgate: warning: $POL/keys: owned by another account (mode 0755, owner nobody)"
rm -f -- "$POL/other-pgp.json"
rm -rf -- "$POL/.signgate"
chown root "$POL/keys"

# Red team: a file that does not exist yet, in a sticky folder others may
# write, could be created by anyone between the check and its use (the
# audit folder signgate would create, the log it would open).
mkdir -m 1777 "$T/shared"
config_set audit_log "\"$T/shared/audit/audit.jsonl\""
LOG=$T/shared/audit/audit.jsonl refused "$T/shared/audit: does not exist, and others may create it in the sticky folder $T/shared" \
	check --config "$CFG" "$EXE"
expect_absent "$T/shared/audit"
config_set audit_log "\"$LOG\""

# Red team: the rotated archives already-signed reads (named by "rotate"
# records, beside the log) are held to the rule like the log.
sg 0 check --config "$CFG" "$EXE"
sg 0 audit rotate --config "$CFG"
arch=$(find "$(dirname "$LOG")" -maxdepth 1 -name 'audit.jsonl.*' ! -name '*.seals' ! -name '*.lock' | head -1)
[ -n "$arch" ] || fail "no archive after audit rotate"
chmod 0646 "$arch"
refused_log() {
	sg 2 "$@"
	expect_in "$T/err" "$arch: writable by others (mode 0646, owner root)"
}
refused_log check --config "$CFG" "$EXE"
refused_log audit verify --config "$CFG"
chmod 0600 "$arch"
sg 0 check --config "$CFG" "$EXE"

# Red team: a POSIX ACL entry that lets another account write shows as
# group-write (the ACL's mask): refused as such, and where the exception
# group's group-write is allowed, the ACL itself is read and the entry named.
# (setfacl may be missing: the ACL is written as its xattr.)
acl_user_rw() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, struct, sys
path, uid = sys.argv[1], int(sys.argv[2])
m = os.stat(path).st_mode
e = [(1, (m >> 6) & 7, 0xffffffff), (2, 6, uid), (4, (m >> 3) & 7, 0xffffffff),
     (0x10, 6, 0xffffffff), (0x20, m & 7, 0xffffffff)]
os.setxattr(path, "system.posix_acl_access",
            struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in e))
PY
}
if acl_user_rw "$POL/hello-exe.json" "$(id -u nobody)" 2>/dev/null; then
	n=$(wc -l <"$LOG")
	sg 2 check --config "$CFG" "$EXE"
	expect_in "$T/err" "$POL/hello-exe.json: writable by group root (mode 0664, owner root)"
	config_set policy_group '"adm"'
	chgrp adm "$POL/hello-exe.json"
	sg 2 check --config "$CFG" "$EXE"
	expect_in "$T/err" "$POL/hello-exe.json: a POSIX ACL lets user nobody write it (mode 0664)"
	expect_same "$(wc -l <"$LOG")" "$n"
	sg 2 policy lint --config "$CFG"
	expect_in "$T/out" "$POL/hello-exe.json: a POSIX ACL lets user nobody write it"
	# ... also when signing goes by a current index (made by a reviewer: a warning).
	sg 0 policy index --policy "$POL"
	sg 2 check --config "$CFG" "$EXE"
	expect_in "$T/err" "$POL/hello-exe.json: a POSIX ACL lets user nobody write it (mode 0664)"
	expect_same "$(wc -l <"$LOG")" "$n"
	/usr/bin/python3 -c 'import os, sys; os.removexattr(sys.argv[1], "system.posix_acl_access")' "$POL/hello-exe.json"
	sg 0 check --config "$CFG" "$EXE"
	config_set policy_group null
	chgrp root "$POL/hello-exe.json"
	chmod 0644 "$POL/hello-exe.json"
else
	echo "note: no POSIX ACLs on this file system; the ACL case is not run"
fi

# Red team: signing.cert_chain (the certificates that go into every
# signature) is held to the rule like signing.certificate.
cp "$PKI/signer.pem" "$T/pki/chain.pem"
chmod 0646 "$T/pki/chain.pem"
config_set signing "{\"cert_chain\": \"$T/pki/chain.pem\", \"key\": \"$PKI/signer.key\"}"
n=$(wc -l <"$LOG")
sg 2 check --config "$CFG" "$EXE"
expect_in "$T/err" "$T/pki/chain.pem: writable by others (mode 0646, owner root)"
expect_same "$(wc -l <"$LOG")" "$n"
chmod 0644 "$T/pki/chain.pem"
sg 0 check --config "$CFG" "$EXE"
config_set signing "{\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\"}"

# OpenSSL's configuration: signgate never reads one (OPENSSL_INIT_NO_LOAD_CONFIG;
# a file could load code from anywhere, integration.red_openssl_conf), so an
# OPENSSL_CONF others may write is not consulted, neither read nor refused; the
# one in OpenSSL's folder, which osslsigncode reads, is held to the rule.
echo "# red team: an empty OpenSSL configuration" >"$T/pki/openssl.cnf"
chmod 0646 "$T/pki/openssl.cnf"
OPENSSL_CONF=$T/pki/openssl.cnf sg 0 check --config "$CFG" "$EXE"
expect_not_in "$T/err" "openssl.cnf"
chmod 0644 "$T/pki/openssl.cnf"
done_ok
