#!/usr/bin/env bash
# The key helper and the timestamp fetcher are confined (issue 13).
# 1. While a PKCS#12 signing waits for a slow TSA, both processes have
#    NoNewPrivs 1 and Seccomp 2, no core and no file size; asked through
#    gdb to open files, the helper opens nothing at all any more (not even
#    its own PKCS#12: all file access goes once the key is open) and may not
#    make a socket; the fetcher reads /etc/hosts but not /etc/shadow or
#    /etc/ssl/private (TLS keys), and creates nothing. The record says what each had.
# 2. Forced lower Landlock ABIs (SIGNGATE_CONFINE_FORCE): 2 (Debian 12's
#    kernel) and 0 (none: auto mode still signs); the record says so;
#    "required" signs with ABI 2 and refuses with none.
# 3. A PKCS#11 module (SoftHSM2 behind tests/tools/pkcs11_shim.c) whose
#    C_Sign tries to read the config's audit log, /etc/shadow or
#    /etc/ssl/private, create a file, connect to a loopback listener, or ptrace signgate: each is
#    blocked, the signing fails with the reason (a violation by name: killed
#    by SIGSYS), nothing is published, the record says failed. With the
#    shim doing nothing, the token signs through it, confined.
. "$(dirname -- "$0")/lib.sh"

: "${SG_PKCS11_SHIM:?SG_PKCS11_SHIM must name the built pkcs11 shim module}"
[ -x /usr/bin/gdb ] || fail "gdb is not installed: scripts/setup.sh installs it"
if readelf -s "$SG_BIN" 2>/dev/null | grep '__asan_init' >/dev/null; then
	asan=1 # gdb cannot call into an ASan process reliably: the /proc checks only
else
	asan=0
fi

# call_in PID EXPR: the int value of EXPR evaluated inside process PID (gdb).
call_in() {
	/usr/bin/gdb -p "$1" -batch -nx -ex "print (int)($2)" >"$T/gdb.log" 2>&1 || true
	sed -n 's/^\$1 = \(-\{0,1\}[0-9]*\)$/\1/p' "$T/gdb.log"
}

# errno_after PID EXPR: "RESULT ERRNO" of EXPR inside PID, errno read right after
# (or gdb's last words when it could not tell).
errno_after() {
	/usr/bin/gdb -p "$1" -batch -nx -ex "print (int)($2)" \
		-ex 'print *((int *(*)(void))__errno_location)()' >"$T/gdb.log" 2>&1 || true
	sed -n 's/^\$[12] = \(-\{0,1\}[0-9]*\)$/\1/p' "$T/gdb.log" | paste -sd' ' | grep . ||
		tail -2 "$T/gdb.log"
}

# confined PID WHAT: no_new_privs and a seccomp filter, no core, no file size.
confined() {
	grep -qx 'NoNewPrivs:	1' "/proc/$1/status" || fail "$2 has no no_new_privs"
	grep -qx 'Seccomp:	2' "/proc/$1/status" || fail "$2 has no seccomp filter"
	grep -Eq '^Max core file size +0 +0 ' "/proc/$1/limits" || fail "$2 may dump core"
	ok
}

# 1. PKCS#12 with a slow TSA.
# Long enough for the gdb calls below on a loaded machine (the run ends when it answers).
start_slow_tsa 25
new_env ", \"timestamp_urls\": [\"$SLOW_TSA\"]"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
"$SG_BIN" sign --config "$CFG" --out "$T/p12.exe" "$INST/hello-setup.exe" >"$T/out" 2>"$T/err" &
sg_pid=$!
# Three sockets once signgate waits for the fetcher: the helper's, the fetcher's, the answer's.
for _ in $(seq 1 300); do
	[ "$(find "/proc/$sg_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.05
done
# signgate's children running signgate: the key helper first, then the fetcher.
kids=()
for p in $(cat "/proc/$sg_pid/task/"*/children 2>/dev/null); do
	[ "$(readlink "/proc/$p/exe")" = "$(readlink "/proc/$sg_pid/exe")" ] &&
		kids+=("$(awk '{ print $22 }' "/proc/$p/stat") $p")
done
read -r kh tsa < <(printf '%s\n' "${kids[@]}" | sort -n | awk '{ print $2 }' | paste -sd' ')
[ -n "$kh" ] && [ -n "$tsa" ] || fail "no key helper and fetcher under signgate pid $sg_pid: ${kids[*]}"
confined "$kh" "the key helper"
confined "$tsa" "the timestamp fetcher"
grep -Eq '^Max file size +0 +0 ' "/proc/$tsa/limits" || fail "the fetcher may write files"
ok
if [ "$asan" -eq 0 ]; then
	expect_same "$(errno_after "$kh" 'open("/etc/shadow", 0)')" "-1 13"
	expect_same "$(errno_after "$kh" "open(\"$PKI/signer.p12\", 0)")" "-1 13"
	expect_same "$(errno_after "$kh" 'socket(2, 1, 0)')" "-1 13"
	expect_same "$(errno_after "$tsa" 'open("/etc/shadow", 0)')" "-1 13"
	# The fetcher has the network: no TLS keys (Debian's /etc/ssl/private) for it.
	expect_same "$(errno_after "$tsa" 'open("/etc/ssl/private", 0)')" "-1 13"
	expect_same "$(errno_after "$tsa" 'open("/usr/lib/ssl/private", 0)')" "-1 13"
	fd=$(call_in "$tsa" 'open("/etc/hosts", 0)')
	[ -n "$fd" ] && [ "$fd" -ge 0 ] || fail "the fetcher cannot read /etc/hosts: $(tail -3 "$T/gdb.log")"
	ok
	expect_same "$(errno_after "$tsa" "open(\"$T/fetcher.out\", 0101, 0600)")" "-1 13"
	[ ! -e "$T/fetcher.out" ] || fail "the fetcher created a file"
	ok
fi
wait "$sg_pid" || fail "signgate sign failed: $(cat "$T/out" "$T/err")"
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/p12.exe"
expect_same "$(audit_field 0 signature.key_helper.pid)" "$kh"
abi=$(audit_field 0 confinement.key_helper.landlock_abi)
[ "$abi" -ge 1 ] || fail "the key helper had no Landlock rules: $abi"
ok
expect_same "$(audit_field 0 confinement.key_helper.seccomp)" "True"
expect_same "$(audit_field 0 confinement.key_helper.network)" "none"
expect_same "$(audit_field 0 confinement.key_helper.files_after_key_open)" "False"
expect_same "$(audit_field 0 confinement.timestamp.landlock_abi)" "$abi"
expect_same "$(audit_field 0 confinement.timestamp.seccomp)" "True"
expect_same "$(audit_field 0 confinement.timestamp.network)" "allowed"
kill "$SLOW_TSA_PID" 2>/dev/null || true

# 2. Forced lower ABIs, with the fixture's TSA; then "confinement": "required".
tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
config_set_signing timestamp_urls "[\"$tsa\"]"
for want in 2 0; do
	SIGNGATE_CONFINE_FORCE=landlock=$want sg 0 sign --config "$CFG" --force --out "$T/forced.exe" "$INST/hello-setup.exe"
	expect_same "$(audit_field 0 confinement.key_helper.landlock_abi)" "$want"
	expect_same "$(audit_field 0 confinement.key_helper.forced)" "True"
	expect_same "$(audit_field 0 confinement.timestamp.landlock_abi)" "$want"
	expect_same "$(audit_field 0 confinement.key_helper.seccomp)" "True"
	expect_same "$(audit_field 0 signature.tsa_url)" "$tsa"
done
# "required" applies to the helper and the fetcher too: ABI 2 is enough.
config_set confinement '"required"'
SIGNGATE_CONFINE_FORCE=landlock=2 sg 0 sign --config "$CFG" --force --out "$T/forced.exe" "$INST/hello-setup.exe"
expect_same "$(audit_field 0 confinement.key_helper.landlock_abi)" "2"
expect_same "$(audit_field 0 confinement.timestamp.landlock_abi)" "2"
SIGNGATE_CONFINE_FORCE=landlock=0 sg 1 sign --config "$CFG" --force --out "$T/none.exe" "$INST/hello-setup.exe"
expect_in "$T/err" "confinement: the configuration requires Landlock file rules and seccomp"
[ ! -e "$T/none.exe" ] || fail "signed without the confinement required"
ok
config_set confinement null

# 3. A PKCS#11 module that misbehaves in C_Sign.
mkdir -p "$T/shim" "$T/shimdir"
for a in none read create connect ptrace; do cp "$SG_PKCS11_SHIM" "$T/shim/pkcs11_shim_$a.so"; done
chmod 0755 "$T/shim" "$T/shim/"*.so
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); open(sys.argv[2], "wb").write(c.recv(100) or b"(empty)")' "$T/listen.port" "$T/listen.got" &
listener=$!
trap 'kill $listener 2>/dev/null; rm -rf -- "$T"' EXIT
for _ in $(seq 1 100); do [ -s "$T/listen.port" ] && break; sleep 0.1; done
port=$(cat "$T/listen.port")

# shim_run ATTACK TARGET_FILE EXIT: sign with the shim copy ATTACK.
shim_run() {
	token_env "shim-$1.json" signgate-pkcs11.json
	config_set_signing pkcs11_module "\"$T/shim/pkcs11_shim_$1.so\""
	/usr/bin/python3 - "$CFG" "$2" "$T/shimdir" "$port" <<'PY'
import json, sys
path, target, folder, port = sys.argv[1:]
cfg = json.load(open(path))
cfg["signing"]["pkcs11_env"].update({"SG_SHIM_FILE": target, "SG_SHIM_DIR": folder, "SG_SHIM_PORT": port})
json.dump(cfg, open(path, "w"), indent=2)
PY
	approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
	rm -rf "$T/shim-out"
	sg "$3" sign --config "$CFG" --out-dir "$T/shim-out" "$INST/hello-setup.exe"
}

shim_run none /etc/shadow 0
expect_in "$T/out" "signed   $INST/hello-setup.exe -> $T/shim-out/hello-setup.exe"
expect_not_in "$T/err" "pkcs11_shim:"
expect_same "$(audit_field 0 confinement.key_helper.files_after_key_open)" "True"
expect_same "$(audit_field 0 confinement.key_helper.seccomp)" "True"
sg 0 verify --config "$CFG" "$T/shim-out/hello-setup.exe"

# failed_run WHY: the signing failed with WHY, nothing was published, the record says failed.
failed_run() {
	expect_in "$T/out" "failed   $INST/hello-setup.exe: hello-setup.exe: $1"
	[ -z "$(ls -A "$T/shim-out" 2>/dev/null)" ] || fail "published after a blocked attempt: $(ls -A "$T/shim-out")"
	ok
	expect_same "$(audit_field 0 decision)" "failed"
	expect_in "$LOG" "$1"
}
shim_run read "$T/env/audit/audit.jsonl" 1
expect_in "$T/err" "pkcs11_shim: read $T/env/audit/audit.jsonl: Permission denied"
failed_run "the key helper could not sign"
shim_run read /etc/shadow 1
expect_in "$T/err" "pkcs11_shim: read /etc/shadow: Permission denied"
failed_run "the key helper could not sign"
# Debian's folder of TLS keys is not among the system files a child reads.
shim_run read /etc/ssl/private 1
expect_in "$T/err" "pkcs11_shim: read /etc/ssl/private: Permission denied"
failed_run "the key helper could not sign"
shim_run create /etc/shadow 1
expect_in "$T/err" "pkcs11_shim: create $T/shimdir/pkcs11_shim.out: Permission denied"
failed_run "the key helper could not sign"
[ ! -e "$T/shimdir/pkcs11_shim.out" ] || fail "the helper created a file"
ok
shim_run connect /etc/shadow 1
expect_in "$T/err" "pkcs11_shim: connect 127.0.0.1:$port: Permission denied"
failed_run "the key helper could not sign"
[ ! -e "$T/listen.got" ] || fail "the listener got a connection: $(cat "$T/listen.got")"
ok
shim_run ptrace /etc/shadow 1
expect_not_in "$T/err" "pkcs11_shim: ptrace"
failed_run "confinement violation in the key helper: killed by SIGSYS"
expect_same "$(audit_field 0 confinement.key_helper.violation)" "killed by SIGSYS"

# A token config without "signing.pkcs11_paths" (as written before issue 13):
# the confined helper cannot reach SoftHSM2's token folder, and the message
# says where it belongs; nothing is signed.
token_env nopaths.json signgate-pkcs11.json
/usr/bin/python3 - "$CFG" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
del cfg["signing"]["pkcs11_paths"]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 1 sign --config "$CFG" --out-dir "$T/nopaths-out" "$INST/hello-setup.exe"
expect_in "$T/err" '"signing.pkcs11_paths"'
expect_absent "$T/nopaths-out/hello-setup.exe"

done_ok
