#!/usr/bin/env bash
# signgate's own process, which parses the vendor's bytes, is confined after
# its key helper starts and before the first input is opened (confine.h,
# "signgate's own process"). A parser bug is played by an LD_PRELOAD shim
# (tests/tools/self_probe.c): at the first open of the input it tries to read
# the key material and its secret, to connect to a loopback listener, and to
# ptrace the key helper and signgate's parent, and to change a file's mode
# (set-user-ID), owner, extended attributes and times by path, which
# Landlock does not govern (seccomp: EPERM). Each attempt must fail with
# the specific errno, the listener must get nothing, and the signing itself
# must succeed (PE and MSI; PKCS#12 with a loopback TSA, asked by the
# timestamp fetcher; PEM; SoftHSM).
. "$(dirname -- "$0")/lib.sh"
: "${SG_SELF_PROBE:?SG_SELF_PROBE must name the self-probe shim}"

# A listener on 127.0.0.1 that writes down every connection and what it got.
/usr/bin/python3 - "$T/listen.port" "$T/listen.log" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(4096)
    except OSError:
        data = b""
    with open(sys.argv[2], "a") as f:
        f.write("connected %r\n" % data)
    c.close()
PY
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/listen.port" ] && break; sleep 0.1; done
[ -s "$T/listen.port" ] || fail "the listener did not start"
LPORT=$(cat "$T/listen.port")
TSA="http://127.0.0.1:$(cat "$FIX/tsa.port")/"

approve_both() {
	cp "$INST/hello-setup.exe" "$INST/hello-1.0.msi" "$T/"
	approval hello-exe hello-setup.exe "$(sha256 "$T/hello-setup.exe")"
	approval hello-msi hello-1.0.msi "$(sha256 "$T/hello-1.0.msi")"
}

# probe_sign LABEL KEY SECRET: sign both inputs under the shim into $T/LABEL.
probe_sign() {
	echo victim >"$T/victim"
	chmod 0644 "$T/victim"
	touch -d '2026-01-02 03:04:05' "$T/victim"
	SG_PROBE_INPUT=hello-setup.exe SG_PROBE_KEY=$2 SG_PROBE_SECRET=$3 SG_PROBE_PORT=$LPORT \
		SG_PROBE_VICTIM=$T/victim LD_PRELOAD=$SG_SELF_PROBE sg 0 sign --config "$CFG" --out-dir "$T/$1" \
		"$T/hello-setup.exe" "$T/hello-1.0.msi"
	[ -s "$T/$1/hello-setup.exe" ] && [ -s "$T/$1/hello-1.0.msi" ] || fail "$1: no outputs"
	ok
	expect_in "$T/err" "self_probe: key EACCES"
	expect_in "$T/err" "self_probe: secret EACCES"
	expect_in "$T/err" "self_probe: ptrace_helper EPERM"
	expect_in "$T/err" "self_probe: helper_mem EACCES"
	expect_in "$T/err" "self_probe: ptrace_parent EPERM"
	for m in chmod chown setxattr utimes; do expect_in "$T/err" "self_probe: $m EPERM"; done
	expect_same "$(stat -c '%a %u %Y' "$T/victim")" "644 $(id -u) $(date -d '2026-01-02 03:04:05' +%s)"
	expect_not_in "$T/err" "no-process"
	[ ! -s "$T/listen.log" ] || fail "$1: the listener got: $(cat "$T/listen.log")"
	ok
	for n in -1 0; do
		expect_same "$(audit_field $n decision)" signed
		expect_same "$(audit_field $n confinement.signgate.files)" confined
		expect_same "$(audit_field $n confinement.signgate.seccomp)" True
		[ "$(audit_field $n confinement.signgate.landlock_abi)" -ge 1 ] || fail "$1: no Landlock ABI"
		ok
	done
}

# 1. PKCS#12 and a loopback TSA: the timestamp fetcher asks it; signgate
# itself has no socket but AF_UNIX.
new_env ", \"timestamp_urls\": [\"$TSA\"]"
approve_both
probe_sign p12 "$PKI/signer.p12" "$PKI/signer.pass"
expect_in "$T/err" "self_probe: socket EACCES"
expect_same "$(audit_field 0 confinement.signgate.network)" "none (AF_UNIX sockets only)"
expect_same "$(grep -c ", timestamp 20" "$T/out")" 2

# 2. PEM chain and encrypted key, no TSA: no INET socket at all.
new_env
approve_both
cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
sed -i "s#\"pkcs12\": \"$PKI/signer.p12\"#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#" "$CFG"
probe_sign pem "$PKI/signer.key" "$PKI/signer.pass"
expect_in "$T/err" "self_probe: socket EACCES"
expect_same "$(audit_field 0 confinement.signgate.network)" "none (AF_UNIX sockets only)"

# 3. SoftHSM token: its store and PIN file are out of reach.
token_env token.json signgate-pkcs11.json
rm -f "$T/env/policy/"*.json
approve_both
object=$(find "$PKI/softhsm/tokens" -name '*.object' | head -n 1)
[ -n "$object" ] || fail "no token object file in the fixture"
probe_sign token "$object" "$PKI/token.pin"
expect_in "$T/err" "self_probe: socket EACCES"

# 4. The key inside a folder the run must write (the output folder): the
# rules cannot keep it out. "auto" warns, naming it, and signs; "required"
# refuses before any input is read, and publishes nothing.
new_env
approve_both
mkdir "$T/keyed"
cp "$PKI/signer.p12" "$T/keyed/signer.p12"
sed -i "s#\"pkcs12\": \"$PKI/signer.p12\"#\"pkcs12\": \"$T/keyed/signer.p12\"#" "$CFG"
sg 0 sign --config "$CFG" --out-dir "$T/keyed" "$T/hello-setup.exe"
expect_in "$T/err" "signgate: warning: signgate's own process runs without Landlock file rules: $T/keyed/signer.p12 (key material or its secret) lies in $T/keyed, which signgate must use"
expect_same "$(grep -c "own process runs without" "$T/err")" 1
expect_same "$(audit_field 0 confinement.signgate.files)" \
	"not confined: $T/keyed/signer.p12 (key material or its secret) lies in $T/keyed, which signgate must use"
expect_same "$(audit_field 0 confinement.signgate.seccomp)" True
rm -f "$T/keyed/hello-setup.exe"
config_set confinement '"required"'
sg 2 sign --config "$CFG" --out-dir "$T/keyed" "$T/hello-setup.exe"
expect_in "$T/err" "cannot confine signgate: $T/keyed/signer.p12 (key material or its secret) lies in $T/keyed, which signgate must use; the configuration requires confinement"
expect_absent "$T/keyed/hello-setup.exe"
expect_same "$(audit_field 0 decision)" failed
expect_same "$(audit_field 0 confinement.signgate)" "not confined: not started"

# 5. Landlock forced off: signed, and the record says the files were not confined.
new_env
approve_both
SIGNGATE_CONFINE_FORCE=landlock=0 sg 0 sign --config "$CFG" --out-dir "$T/nolandlock" "$T/hello-setup.exe"
expect_same "$(audit_field 0 confinement.signgate.files)" \
	"not confined: no Landlock (lowered by SIGNGATE_CONFINE_FORCE)"
expect_same "$(audit_field 0 confinement.signgate.landlock_abi)" 0
expect_same "$(audit_field 0 confinement.signgate.forced)" True
SIGNGATE_CONFINE_FORCE=landlock=0,seccomp=0 sg 0 sign --config "$CFG" --out-dir "$T/none" "$T/hello-setup.exe"
expect_same "$(audit_field 0 confinement.signgate)" \
	"not confined: no Landlock and no seccomp (lowered by SIGNGATE_CONFINE_FORCE)"
# Landlock without TCP rules (ABI 3), and a TSA: file rules, sockets by seccomp only.
config_set_signing timestamp_urls "[\"$TSA\"]"
SIGNGATE_CONFINE_FORCE=landlock=3 sg 0 sign --config "$CFG" --out-dir "$T/abi3" "$T/hello-setup.exe"
expect_same "$(audit_field 0 confinement.signgate.files)" confined
expect_same "$(audit_field 0 confinement.signgate.network)" \
	"none (AF_UNIX sockets only; no Landlock TCP rules)"

# 6. check and verify confine themselves too.
sg 0 check --config "$CFG" "$T/hello-setup.exe"
expect_same "$(audit_field 0 confinement.signgate.files)" confined
expect_same "$(audit_field 0 confinement.signgate.network)" "none (AF_UNIX sockets only)"
SG_PROBE_INPUT=hello-setup.exe SG_PROBE_KEY=$PKI/signer.p12 SG_PROBE_SECRET=$PKI/signer.pass \
	LD_PRELOAD=$SG_SELF_PROBE sg 0 verify --config "$CFG" "$T/abi3/hello-setup.exe"
expect_in "$T/err" "self_probe: key EACCES"
expect_in "$T/err" "self_probe: secret EACCES"
expect_same "$(audit_field 0 action)" verify
expect_same "$(audit_field 0 confinement.signgate.files)" confined

done_ok
