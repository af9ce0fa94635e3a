#!/usr/bin/env bash
# Key sources and secret sources: PKCS#12 and PEM keys (plain and encrypted);
# the password from a private file, from an environment variable named in
# the config (never passed on to a child), or from the terminal with echo
# off. Failures name the cause, exit 1 or 2, leave no output and are recorded.
. "$(dirname -- "$0")/lib.sh"

pass=$(cat "$PKI/signer.pass")
approve_hello() { approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"; }

# PEM chain (leaf + issuing CA) + encrypted key, password from the file.
new_env
approve_hello
cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
sed -i "s#\"pkcs12\": \"$PKI/signer.p12\"#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#" "$CFG"
sg 0 sign --config "$CFG" --out "$T/pem.exe" "$INST/hello-setup.exe"
sg 0 verify --ca "$PKI/root.pem" "$T/pem.exe"
# The same encrypted key with no password configured: one message, the one a
# sealing or approver's key is read through (sg_pem_key_read), in the key helper (sign)
# and in signgate itself (cert lint); a wrong password says so.
cp "$CFG" "$T/env/nopass.json"
sed -i "s#, \"password_file\": \"$PKI/signer.pass\"##" "$T/env/nopass.json"
for args in "sign --config $T/env/nopass.json --out $T/nopass.exe $INST/hello-setup.exe" \
	"cert lint --config $T/env/nopass.json"; do
	# shellcheck disable=SC2086
	sg 2 $args
	expect_in "$T/err" "$PKI/signer.key: the key is encrypted but \"signing\" names no password (password_file, password_env or password_prompt)"
done
expect_absent "$T/nopass.exe"
printf 'not-the-password\n' >"$T/wrong.pass" && chmod 0600 "$T/wrong.pass"
sed "s#$PKI/signer.pass#$T/wrong.pass#" "$CFG" >"$T/env/wrongpass.json"
sg 1 sign --config "$T/env/wrongpass.json" --out "$T/wrongpass.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "$PKI/signer.key: cannot read the key: wrong password"
expect_absent "$T/wrongpass.exe"

# PEM chain + unencrypted key, no secret at all.
openssl pkey -in "$PKI/signer.key" -passin "file:$PKI/signer.pass" -out "$T/plain.key"
chmod 0600 "$T/plain.key"
cat >"$T/env/plain.json" <<JSON
{ "policy": "policy/", "audit_log": "audit/audit.jsonl",
  "trust": { "ca_file": "$PKI/root.pem", "crl_file": "$PKI/crl.pem" },
  "signing": { "cert_chain": "$T/leaf-chain.pem", "key": "$T/plain.key" } }
JSON
[ -f "$PKI/crl.pem" ] || sed -i 's#, "crl_file": "[^"]*"##' "$T/env/plain.json"
sg 0 sign --config "$T/env/plain.json" --out "$T/plain.exe" "$INST/hello-setup.exe"
sg 0 verify --ca "$PKI/root.pem" "$T/plain.exe"

# Password from an environment variable; the variable never reaches a child.
spy=$T/spy
mkdir -p "$spy"
cat >"$spy/osslsigncode" <<SH
#!/bin/bash
env >>"$spy/env"
exec /usr/bin/osslsigncode "\$@"
SH
chmod 0755 "$spy/osslsigncode"
sed "s#\"password_file\": \"$PKI/signer.pass\"#\"password_env\": \"SG_TEST_P12_PASSWORD\"#; s#\"/usr/bin/osslsigncode\"#\"$spy/osslsigncode\"#" \
	"$CFG" >"$T/env/envpass.json"
sed -i "s#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#\"pkcs12\": \"$PKI/signer.p12\"#" "$T/env/envpass.json"
SG_TEST_P12_PASSWORD=$pass sg 0 sign --config "$T/env/envpass.json" --out "$T/env.exe" "$INST/hello-setup.exe"
expect_not_in "$spy/env" "$pass"
expect_not_in "$spy/env" "SG_TEST_P12_PASSWORD"
sg 2 sign --config "$T/env/envpass.json" --out "$T/unset.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "the environment variable SG_TEST_P12_PASSWORD (signing.password_env) is not set"
expect_absent "$T/unset.exe"

# Password typed at the terminal (a pty), with echo off.
sed "s#\"password_file\": \"$PKI/signer.pass\"#\"password_prompt\": true#" "$CFG" >"$T/env/prompt.json"
sed -i "s#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#\"pkcs12\": \"$PKI/signer.p12\"#" "$T/env/prompt.json"
SG_PASS=$pass /usr/bin/python3 - "$SG_BIN" "$T/env/prompt.json" "$T/tty.exe" "$INST/hello-setup.exe" \
	>"$T/tty.log" 2>&1 <<'PY' || fail "terminal prompt run failed: $(cat "$T/tty.log")"
import os, pty, sys, select
sg, cfg, out, inp = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sg, [sg, "sign", "--config", cfg, "--out", out, inp])
seen = b""
while b"password for" not in seen:
    r, _, _ = select.select([fd], [], [], 20)
    if not r:
        sys.exit("no prompt")
    seen += os.read(fd, 1024)
os.write(fd, os.environ["SG_PASS"].encode() + b"\n")
rest = b""
while True:
    r, _, _ = select.select([fd], [], [], 60)
    if not r:
        os.kill(pid, 9)
        sys.exit("signgate did not finish after the password was typed")
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    rest += chunk
_, status = os.waitpid(pid, 0)
text = (seen + rest).decode(errors="replace")
print(text)
if os.environ["SG_PASS"] in text:
    sys.exit("the password was echoed")
sys.exit(os.waitstatus_to_exitcode(status))
PY
expect_in "$T/tty.log" "signgate: password for $PKI/signer.p12:"
expect_in "$T/tty.log" "signed   $INST/hello-setup.exe -> $T/tty.exe"
# Without a terminal the prompt cannot be shown: a configuration error.
setsid "$SG_BIN" sign --config "$T/env/prompt.json" --out "$T/notty.exe" "$INST/hello-setup.exe" \
	</dev/null >"$T/out" 2>"$T/err" && fail "signing without a terminal succeeded"
expect_in "$T/err" "signing.password_prompt is set but there is no terminal to ask on"
expect_absent "$T/notty.exe"

# A certificate that fails the profile lint is refused before any input is
# touched: an RSA-2048 leaf issued by our own issuing CA.
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=Weak Code Signing" -keyout "$T/weak.key" \
	-out "$T/weak.csr" 2>/dev/null
chmod 0600 "$T/weak.key"
bash "$SG_SRC/certs-example/make-pki.sh" -q --issue-csr "$T/weak.csr" --cert-out "$T/weak.pem" \
	"$PKI" >/dev/null || fail "could not issue the weak certificate"
cat "$T/weak.pem" "$PKI/issuing.pem" >"$T/weak-chain.pem"
sed "s#\"pkcs12\": \"$PKI/signer.p12\"#\"cert_chain\": \"$T/weak-chain.pem\", \"key\": \"$T/weak.key\"#; s#, \"password_file\": \"$PKI/signer.pass\"##; s#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#\"cert_chain\": \"$T/weak-chain.pem\", \"key\": \"$T/weak.key\"#; s#\"password_file\": \"$PKI/signer.pass\"##; s#, *}#}#" \
	"$CFG" >"$T/env/weak.json"
sg 1 sign --config "$T/env/weak.json" --out "$T/weak.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "the signing certificate fails the profile (key: "
expect_in "$T/err" "2048"
expect_absent "$T/weak.exe"

# More than one secret source is a configuration error.
sed "s#\"password_file\": \"$PKI/signer.pass\"#&, \"password_env\": \"X\"#" "$CFG" >"$T/env/two.json"
sg 2 check --config "$T/env/two.json" "$INST/hello-setup.exe"
expect_in "$T/err" "names more than one source for the password"

# A wrong password: exit 1, no output, and a "failed" record per input.
printf 'not-the-password' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
sed "s#\"password_file\": \"$PKI/signer.pass\"#\"password_file\": \"$T/wrong.pass\"#; s#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#\"pkcs12\": \"$PKI/signer.p12\"#" \
	"$CFG" >"$T/env/wrong.json"
before=$(wc -l <"$LOG")
sg 1 sign --config "$T/env/wrong.json" --out-dir "$T/w" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$T/err" "signer.p12: cannot open the PKCS#12 file: wrong password or damaged file"
expect_in "$T/out" "failed   $INST/hello-1.0.msi: hello-1.0.msi: not signed: "
expect_absent "$T/w/hello-setup.exe"
expect_same "$(($(wc -l <"$LOG") - before))" 2
expect_in "$LOG" '"error":"hello-setup.exe: not signed: '
sg 0 audit verify --config "$CFG"
done_ok
