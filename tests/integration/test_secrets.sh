#!/usr/bin/env bash
# The PKCS#12 password reaches only the key helper, never any argv or any
# child's environment, and osslsigncode receives no key and no secret at all.
# Checked two ways: a recording wrapper that stands in for osslsigncode, and
# sampling /proc of every process while a real signing runs (stretched by a
# TSA that answers slowly).
. "$(dirname -- "$0")/lib.sh"

pass=$(cat "$PKI/signer.pass")
[ -n "$pass" ] || fail "empty fixture password"

# 1. Wrapper: records argv, environment and stdin of every osslsigncode run,
# then runs the real tool. osslsigncode never signs now: the key helper
# does, and osslsigncode only attaches a finished signature to the MSI
# (attach-signature), with no key, no secret and a minimal environment.
spy=$T/spy
mkdir -p "$spy"
cat >"$spy/osslsigncode" <<SH
#!/bin/bash
printf '%s\n' "\$0" "\$@" >>"$spy/argv"
env >>"$spy/env"
cat >>"$spy/stdin"
exec /usr/bin/osslsigncode "\$@" </dev/null
SH
chmod 0755 "$spy/osslsigncode"
new_env
sed -i "s#\"/usr/bin/osslsigncode\"#\"$spy/osslsigncode\"#" "$CFG"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
# The spy writes its notes beside itself: no Landlock for it (the rest of its confinement stays).
SIGNGATE_CONFINE_FORCE=landlock=0 SIGNGATE_TEST_MARKER=visible sg 0 sign --config "$CFG" --out-dir "$T/o" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
expect_in "$spy/argv" "attach-signature"
expect_no_line "$spy/argv" "sign"
for opt in -pass -readpass -pkcs12 -key -certs -pkcs11module -pkcs11engine -pkcs11cert; do
	expect_no_line "$spy/argv" "$opt"
done
expect_not_in "$spy/argv" "$pass"
expect_not_in "$spy/env" "$pass"
expect_not_in "$spy/env" "SIGNGATE_TEST_MARKER" # the child's environment is minimal
expect_same "$(wc -c <"$spy/stdin")" 0          # nothing, least of all a secret, on its stdin
expect_same "$(sort -u "$spy/env" | grep -v '^_=' | grep -v '^PWD=' | grep -v '^SHLVL=')" "LC_ALL=C
PATH=/usr/bin:/bin"

# 2. /proc sampling of every process while a real signing runs against a
# slow TSA, with a PKCS#12 whose password only this test knows.
new_env
own_pass=$(openssl rand -hex 24)
printf '%s' "$own_pass" >"$T/own.pass"
chmod 0600 "$T/own.pass"
openssl pkcs12 -export -inkey "$PKI/signer.key" -passin "file:$PKI/signer.pass" \
	-in "$PKI/signer.pem" -certfile "$PKI/issuing.pem" -passout "file:$T/own.pass" \
	-out "$T/own.p12" 2>/dev/null || fail "could not make the test's own PKCS#12"
chmod 0600 "$T/own.p12"
start_slow_tsa
sed -i "s#\"pkcs12\": \"$PKI/signer.p12\", \"password_file\": \"$PKI/signer.pass\"#\"pkcs12\": \"$T/own.p12\", \"password_file\": \"$T/own.pass\", \"timestamp_urls\": [\"$SLOW_TSA\"]#" "$CFG"
grep -q own.p12 "$CFG" || fail "config not rewritten"
sweep_for_secret "$own_pass" sign --config "$CFG" --out "$T/slow.exe" "$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/slow.exe"

# The same with the password in an environment variable named by the config:
# signgate reads it and scrubs it from its own environment, so that neither
# its /proc/PID/environ nor any child's shows it.
sed -i "s#\"password_file\": \"$T/own.pass\"#\"password_env\": \"SG_SWEEP_PASSWORD\"#" "$CFG"
grep -q SG_SWEEP_PASSWORD "$CFG" || fail "config not rewritten for password_env"
SG_SWEEP_PASSWORD=$own_pass sweep_for_secret "$own_pass" sign --config "$CFG" --out "$T/slow-env.exe" \
	"$INST/hello-setup.exe"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/slow-env.exe"

# 3. An unsafe password file is refused before anything runs, with the reason.
new_env
cp "$PKI/signer.pass" "$T/loose.pass"
chmod 0644 "$T/loose.pass"
sed -i "s#$PKI/signer.pass#$T/loose.pass#" "$CFG"
sg 2 sign --config "$CFG" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "loose.pass: secret file is accessible by group or others (mode 0644); chmod 600 it"
expect_absent "$T/x.exe"

# 4. A wrong password: exit 1, named cause, no output.
printf 'wrong-password' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
sed -i "s#$T/loose.pass#$T/wrong.pass#" "$CFG"
sg 1 sign --config "$CFG" --out "$T/x.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "signer.p12: cannot open the PKCS#12 file: wrong password or damaged file"
expect_absent "$T/x.exe"
done_ok
