#!/usr/bin/env bash
# signgate audit seal: the log's head signed with a plain PEM key, an
# encrypted PEM key (password_file, password_env) and a SoftHSM2 key (pin_file);
# the seal checks by hand with openssl cms; the seal record lands in the log
# and audit verify still passes; a log cut behind its seal, a seals file
# pinned to another certificate, config mistakes, the code-signing key as
# sealing key and unreadable keys are refused with the cause; no password or
# PIN in any process's argv or environment.
. "$(dirname -- "$0")/lib.sh"

[ -s "$PKI/seal.key" ] && [ -s "$PKI/seal.pem" ] || fail "the fixture has no sealing key (make-pki.sh)"
module=/usr/lib/softhsm/libsofthsm2.so
seal_uri="pkcs11:token=signgate;object=seal;type=private"

# The signing certificate is pinned, so that sealing can tell the keys apart.
new_env ", \"certificate\": \"$PKI/signer.pem\""
SEALS=$LOG.seals
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"

# set_seal JSON: the config's "audit_seal" section (JSON "null": none).
set_seal() { config_set audit_seal "$1"; }

line_sha() { sed -n "$1p" "$2" | tr -d '\n' | sha256sum | cut -d' ' -f1; }
cert_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# check_by_hand SEALS LINE CERT: the recipe of include/signgate/audit_seal.h.
check_by_hand() {
	sed -n "$2p" "$1" >"$T/seal.json"
	jq -r .signature "$T/seal.json" | base64 -d >"$T/seal.der"
	jq -cjS 'del(.signature)' "$T/seal.json" >"$T/seal.txt"
	openssl cms -verify -binary -inform DER -in "$T/seal.der" -content "$T/seal.txt" \
		-certfile "$3" -nointern -noverify -out /dev/null >"$T/out" 2>&1 ||
		fail "openssl cms -verify rejects line $2 of $1"
	expect_in "$T/out" "Verification successful"
	expect_same "$(jq -r .signer "$T/seal.json")" "$(cert_sha "$3")"
	# The same recipe on an edited seal must fail.
	sed 's/"seq":[0-9]*/"seq":99/' "$T/seal.txt" >"$T/seal-edited.txt"
	if openssl cms -verify -binary -inform DER -in "$T/seal.der" -content "$T/seal-edited.txt" \
		-certfile "$3" -nointern -noverify -out /dev/null >"$T/out" 2>&1; then
		fail "openssl cms -verify accepts an edited seal"
	fi
	ok
}

# sweep_seal SECRET SEALS ENV_NAME|- ARGS...: run signgate ARGS (with SECRET
# in its environment as ENV_NAME, unless -) while another process holds the
# log's lock, so that signgate waits for the head with its key open and the
# seals file locked (the secret read by then); meanwhile read the argv and
# environment of every process from /proc. Fails if SECRET shows up, or if
# signgate was never seen holding the seals file. Exit 0 expected.
sweep_seal() {
	local secret=$1 seals=$2 env_name=$3 seen=0 p a sg_pid holder
	shift 3
	flock -x "$LOG" sleep 2 &
	holder=$!
	while flock -n "$LOG" true; do sleep 0.05; done
	(
		[ "$env_name" = - ] || export "$env_name=$secret"
		exec "$SG_BIN" "$@" >"$T/out" 2>"$T/err"
	) &
	sg_pid=$!
	while kill -0 "$sg_pid" 2>/dev/null; do
		! flock -n -s "$seals" true || continue
		for p in /proc/[0-9]*; do
			proc_read args "$p/cmdline" || continue
			proc_read envs "$p/environ" || envs=()
			for a in "${args[@]}" "${envs[@]}"; do
				[[ $a != *"$secret"* ]] || fail "secret found in pid ${p#/proc/}: ${args[*]}"
			done
		done
		seen=$((seen + 1))
	done
	wait "$holder"
	wait "$sg_pid" || fail "signgate $* failed: $(cat "$T/out" "$T/err")"
	[ "$seen" -gt 0 ] || fail "signgate was never seen holding $seals"
	ok
}

# 1. A plain PEM key made here, with its self-signed certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=signgate test seal" -keyout "$T/plain.key" -out "$T/plain.pem" 2>/dev/null
chmod 0600 "$T/plain.key"
set_seal "{\"key\": \"$T/plain.key\", \"cert\": \"$T/plain.pem\"}"
sg 0 audit seal --config "$CFG"
# The seal record (seq 3) comes first, and the seal covers it: nothing is unsealed.
head3=$(line_sha 3 "$LOG")
expect_in "$T/out" "sealed   $LOG: seq 3, head ${head3:0:16}..., seal line 1 of $SEALS"
expect_same "$(stat -c %a "$SEALS")" 600
expect_same "$(wc -l <"$SEALS")" 1
expect_same "$(jq -r .head "$SEALS")" "$head3"
expect_same "$(jq -r '.seq, .log, .type, .version' "$SEALS" | tr '\n' ' ')" \
	"3 audit.jsonl signgate-audit-seal 1 "
# The seal record in the log, and the chain intact with it.
expect_same "$(audit_field 0 action)/$(audit_field 0 decision)" "seal/sealed"
expect_same "$(audit_field 0 seal.covers)" "this record"
expect_same "$(tail -n 1 "$LOG" | jq -c '.seal | [has("seq"), has("head")]')" "[false,false]"
expect_same "$(audit_field 0 seal.file)" "$SEALS"
expect_same "$(audit_field 0 seal.signer)" "$(cert_sha "$T/plain.pem")"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "3 records"
expect_in "$T/out" "chain intact"
expect_in "$T/out" "sealed   1 seal matches the chain; the newest covers seq 3"
expect_not_in "$T/out" "not sealed yet"
check_by_hand "$SEALS" 1 "$T/plain.pem"

sg 0 audit seal --config "$CFG" --json
expect_in "$T/out" "\"seq\":4,"
expect_in "$T/out" "\"line\":2,"
expect_in "$T/out" "\"head\":\"$(line_sha 4 "$LOG")\""
expect_in "$T/out" "\"file\":\"$SEALS\""
check_by_hand "$SEALS" 2 "$T/plain.pem"

# A log cut behind its last seal is not sealed again: exit 3, nothing written.
# Also when only the newest seal's own record was cut (seq 4).
cp "$LOG" "$T/log.bak"
cp "$SEALS" "$T/seals.bak"
head -n 2 "$T/log.bak" >"$LOG"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "the log ends at seq 2, but line 2 of $SEALS sealed seq 4: records were cut off the log"
cmp -s "$SEALS" "$T/seals.bak" || fail "a refused seal changed $SEALS"
ok
head -n 3 "$T/log.bak" >"$LOG"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "the log ends at seq 3, but line 2 of $SEALS sealed seq 4"
cmp -s "$SEALS" "$T/seals.bak" || fail "a refused seal changed $SEALS"
ok
cp "$T/log.bak" "$LOG"
# A seals file that does not verify (an edited head) is not appended to.
/usr/bin/python3 - "$T/seals.bak" "$SEALS" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = lines[0].index('"head":"') + 8
lines[0] = lines[0][:i] + ("1" if lines[0][i] != "1" else "2") + lines[0][i + 1:]
open(sys.argv[2], "w").write("\n".join(lines))
PY
chmod 0600 "$SEALS"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "$SEALS: line 1: bad signature"
cp "$T/seals.bak" "$SEALS"

# A torn last seal line (a sealing run killed inside its write(), a crash):
# verify names it, and the next `audit seal` moves the torn bytes aside
# (0600), names them in its seal record and seals on; the seal record whose
# seal was torn is then covered by the new seal.
cp "$SEALS" "$T/seals.whole"
head -c -200 "$T/seals.whole" >"$SEALS"
head -c -200 "$T/seals.whole" | tail -n +2 >"$T/torn.want"
torn_n=$(stat -c %s "$T/torn.want")
sg 3 audit verify --config "$CFG"
expect_in "$T/out" "$SEALS: line 2: torn (no newline at the end: an interrupted write?); \`signgate audit seal\` sets the torn bytes aside"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "repaired $SEALS: its last line was torn (an interrupted write): $torn_n bytes moved aside, as the seal record says"
expect_in "$T/out" "seq 5, head $(line_sha 5 "$LOG" | cut -c1-16)..., seal line 2 of $SEALS"
torn=$(ls "$SEALS".torn-*)
expect_same "$(stat -c %a "$torn")" 600
cmp -s "$torn" "$T/torn.want" || fail "$torn does not hold the torn bytes"
expect_same "$(audit_field 0 seal.torn.file)" "$torn"
expect_same "$(audit_field 0 seal.torn.bytes)" "$torn_n"
expect_same "$(audit_field 0 seal.torn.sha256)" "$(sha256 "$torn")"
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "sealed   2 seals match the chain; the newest covers seq 5"
expect_in "$T/out" "note     seal record seq 4 has no seal of its own"
# Unterminated bytes longer than any seal are no interrupted write: refused.
cp "$SEALS" "$T/seals.bak2"
head -c 70000 /dev/zero | tr '\0' x >>"$SEALS"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "$SEALS: line 3: torn, and longer than a seal: not an interrupted write"
expect_same "$(ls "$SEALS".torn-* | wc -l)" 1
cp "$T/seals.bak2" "$SEALS"

# 2. The example PKI's encrypted sealing key with its password file. The
# seals file so far is pinned to plain.pem: another certificate is refused.
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$PKI/seal.pass\"}"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "$SEALS: line 1: signed by another certificate"
# A new log for the new sealing identity (verify pins one seals file and
# certificate per log), with its seals file where "audit_seal.file" says.
rm -f -- "$LOG" "$SEALS"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
SEALS=$T/pki.seals
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$PKI/seal.pass\", \"file\": \"$SEALS\"}"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "seal line 1 of $SEALS"
check_by_hand "$SEALS" 1 "$PKI/seal.pem"
printf 'not-the-password\n' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_file\": \"$T/wrong.pass\", \"file\": \"$SEALS\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$PKI/seal.key: cannot read the sealing key: wrong password"
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"file\": \"$SEALS\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$PKI/seal.key: the sealing key is encrypted but \"audit_seal\" names no password"

# password_env: the password is in no process's argv or environment while
# signgate seals (its own environment is scrubbed once it has read it).
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"password_env\": \"SG_SEAL_PASS\", \"file\": \"$SEALS\"}"
seal_pass=$(cat "$PKI/seal.pass")
sweep_seal "$seal_pass" "$SEALS" SG_SEAL_PASS audit seal --config "$CFG"
expect_in "$T/out" "seal line 2 of $SEALS"

# 3. The sealing key in the fixture's SoftHSM2 token (PIN from a file). The
# module is loaded into signgate itself: SOFTHSM2_CONF is in its environment.
export SOFTHSM2_CONF=$PKI/softhsm/softhsm2.conf
pin=$(cat "$PKI/token.pin")
set_seal "{\"key\": \"$seal_uri\", \"pkcs11_module\": \"$module\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$PKI/token.pin\", \"file\": \"$SEALS\"}"
sweep_seal "$pin" "$SEALS" - audit seal --config "$CFG"
expect_in "$T/out" "seal line 3 of $SEALS"
check_by_hand "$SEALS" 3 "$PKI/seal.pem"
expect_same "$(audit_field 0 seal.signer)" "$(cert_sha "$PKI/seal.pem")"
printf '999999' >"$T/wrong.pin"
chmod 0600 "$T/wrong.pin"
set_seal "{\"key\": \"$seal_uri\", \"pkcs11_module\": \"$module\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$T/wrong.pin\", \"file\": \"$SEALS\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$seal_uri: cannot load the sealing key from the token"
set_seal "{\"key\": \"$seal_uri\", \"pkcs11_module\": \"/usr/lib/absent-pkcs11.so\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$PKI/token.pin\", \"file\": \"$SEALS\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "/usr/lib/absent-pkcs11.so: cannot use the PKCS#11 module"
unset SOFTHSM2_CONF

# Every seal so far still checks, and the log's chain holds with the seal records.
expect_same "$(wc -l <"$SEALS")" 3
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "chain intact"

# 4. Configuration mistakes and refused keys.
set_seal "{\"key\": \"$PKI/seal.key\", \"password_file\": \"$PKI/seal.pass\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$CFG: \"audit_seal\" needs \"key\" (a PEM key file or a pkcs11: URI) and \"cert\""
set_seal "{\"key\": \"$PKI/seal.key\", \"cert\": \"$PKI/seal.pem\", \"pin_file\": \"$PKI/seal.pass\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "\"audit_seal.pin_file\" does not fit this key source"
set_seal null
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$CFG: no \"audit_seal\" section"
# The code-signing key (and certificate) as the sealing key.
set_seal "{\"key\": \"$PKI/signer.key\", \"cert\": \"$PKI/signer.pem\", \"password_file\": \"$PKI/signer.pass\", \"file\": \"$T/signer.seals\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "has the public key of the code-signing certificate in $PKI/signer.pem"
expect_in "$T/err" "seal the audit log with a key of its own"
expect_absent "$T/signer.seals"
# Unreadable, unprotected and mismatched keys.
set_seal "{\"key\": \"$T/absent.key\", \"cert\": \"$T/plain.pem\", \"file\": \"$T/x.seals\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$T/absent.key: cannot open: No such file or directory"
cp "$T/plain.key" "$T/open.key"
chmod 0644 "$T/open.key"
set_seal "{\"key\": \"$T/open.key\", \"cert\": \"$T/plain.pem\", \"file\": \"$T/x.seals\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$T/open.key: key file is accessible by group or others"
set_seal "{\"key\": \"$T/plain.key\", \"cert\": \"$PKI/seal.pem\", \"file\": \"$T/x.seals\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$T/plain.key: the sealing key does not match $PKI/seal.pem"
# A certificate that cannot be opened is an I/O error, as the key above; one
# that holds no certificate is the configuration's.
set_seal "{\"key\": \"$T/plain.key\", \"cert\": \"$T/absent.pem\", \"file\": \"$T/x.seals\"}"
sg 1 audit seal --config "$CFG"
expect_in "$T/err" "$T/absent.pem: cannot open: No such file or directory"
set_seal "{\"key\": \"$T/plain.key\", \"cert\": \"$T/plain.key\", \"file\": \"$T/x.seals\"}"
sg 2 audit seal --config "$CFG"
expect_in "$T/err" "$T/plain.key: no PEM certificate found"
expect_absent "$T/x.seals"
# 5. A fresh host: no log yet, or an empty one. Nothing to seal: exit 0, and
# nothing is written (no record, no seals file, not even the log's folder).
config_set audit_log "\"$T/fresh/audit.jsonl\""
set_seal "{\"key\": \"$T/plain.key\", \"cert\": \"$T/plain.pem\"}"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "nothing  $T/fresh/audit.jsonl: nothing to seal yet (the log has no record); nothing was written"
expect_same "$(cat "$T/err")" ""
expect_absent "$T/fresh"
mkdir "$T/fresh"
: >"$T/fresh/audit.jsonl"
sg 0 audit seal --config "$CFG" --json
expect_same "$(jq -c '[.sealed, .message]' "$T/out")" '[false,"nothing to seal yet: the log has no record"]'
expect_same "$(stat -c %s "$T/fresh/audit.jsonl")" 0
expect_absent "$T/fresh/audit.jsonl.seals"
# Once the log has a record, the first seal covers its own record (seq 2).
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit seal --config "$CFG"
expect_in "$T/out" "seq 2, head"
# A log emptied (or deleted) behind its seals is no fresh host.
: >"$T/fresh/audit.jsonl"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "$T/fresh/audit.jsonl: the log has no record, but line 1 of $T/fresh/audit.jsonl.seals sealed seq 2: the log was deleted or emptied; nothing was sealed"
rm "$T/fresh/audit.jsonl"
sg 3 audit seal --config "$CFG"
expect_in "$T/err" "the log was deleted or emptied"
expect_absent "$T/fresh/audit.jsonl"

sg 2 audit seal
expect_in "$T/err" "--config FILE is required"
sg 2 audit seal --config "$CFG" extra
expect_in "$T/err" "unexpected argument 'extra'"

done_ok
