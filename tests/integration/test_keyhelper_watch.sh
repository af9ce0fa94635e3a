#!/usr/bin/env bash
# The key never meets the vendor's bytes (issue 12): every process of a
# signing is watched with strace (PE and MSI in one run; PKCS#12, PEM and a
# SoftHSM2 token; with and without a TSA on 127.0.0.1), and the process
# that holds the key material (the key helper, named by the audit record)
# must open nothing but its key material, certificates, shared libraries
# and, for SoftHSM, the token's configuration and store; it must never
# open a socket, the installer, the private copy or the output, and it
# must never start a program. The checker itself is shown to catch each
# kind of breach on made-up traces, so that it cannot pass by reading
# nothing.
. "$(dirname -- "$0")/lib.sh"

command -v strace >/dev/null || fail "strace is not installed (scripts/setup.sh installs it)"
tsa="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"

# check_trace FILE ALLOWED_REGEX: every path FILE's process opened (strace -y
# names the folder of a relative openat) matches ALLOWED_REGEX or is a folder
# above such a path that is opened as one (O_PATH or O_DIRECTORY: the strict
# modes walk the path of a key file), and it made no socket, connect, bind
# or execve call. Its confinement (issue 13) is built in the helper itself:
# the seccomp program goes through a memfd named "signgate-seccomp", and the
# Landlock rules open the system folders they name with O_PATH (no read).
check_trace() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, re, sys
trace, allowed = sys.argv[1], re.compile(sys.argv[2])
# Opening by handle, io_uring (its opens are no syscall strace sees), taking
# another process's descriptors or memory, a memfd: all breaches too.
CALLS = ("open|openat|openat2|creat|socket|socketpair|connect|bind|listen|accept|accept4|"
         "execve|execveat|open_by_handle_at|name_to_handle_at|io_uring_setup|io_uring_enter|"
         "io_uring_register|pidfd_open|pidfd_getfd|process_vm_readv|ptrace|memfd_create|"
         "fanotify_init")
RULES = re.compile(r'^(/usr|/lib|/lib64|/lib32|/libx32|/bin|/sbin|/etc/ssl/certs|/etc/ssl/openssl\.cnf|'
                   r'/etc/localtime|'
                   r'/usr/lib/ssl|/etc/gcrypt|/dev/urandom|/dev/random|/etc/passwd|/etc/group|'
                   r'/etc/nsswitch.conf)$')
bad, files, dirs = [], [], []
for line in open(trace, errors="replace"):
    m = re.match(r'(?:\d+ )?(' + CALLS + r')\((.*)', line)
    if not m:
        continue
    call, args = m.groups()
    if call == "memfd_create" and args.startswith('"signgate-seccomp"'):
        continue
    if call not in ("open", "openat", "openat2", "creat"):
        bad.append(f"{call}({args[:120]}")
        continue
    d = re.match(r'(?:AT_FDCWD|-?\d+)(?:<([^>]*)>)?, "((?:[^"\\]|\\.)*)"', args) if call != "open" else None
    if d:
        base, name = d.group(1), d.group(2)
    else:
        base, name = None, (re.search(r'"((?:[^"\\]|\\.)*)"', args) or [None, "?"])[1]
    path = os.path.normpath(os.path.join(base, name)) if base and not name.startswith("/") else name
    if RULES.search(path) and re.search(r'O_PATH', args):
        continue
    (dirs if re.search(r'O_PATH|O_DIRECTORY', args) else files).append(path)
for path in files:
    if not allowed.search(path):
        bad.append(f"open {path}")
for path in dirs:
    if not allowed.search(path) and not any(f.startswith(path.rstrip("/") + "/") for f in files if allowed.search(f)):
        bad.append(f"open folder {path}")
if bad:
    print("the key helper did what it must not:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"{len(files)} files and {len(dirs)} folders opened, all allowed")
PY
}

# The checker catches each kind of breach (and passes a clean trace).
printf '%s\n' 'openat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", O_RDONLY|O_CLOEXEC) = 3' >"$T/clean.tr"
check_trace "$T/clean.tr" '\.so(\.[0-9]+)*$' >"$T/out" || fail "a clean trace was refused: $(cat "$T/out")"
ok
for breach in 'openat(AT_FDCWD, "/x/hello-setup.exe", O_RDONLY) = 5' \
	'socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 5' \
	'connect(5, {sa_family=AF_INET, sin_port=htons(80)}, 16) = 0' \
	'execve("/usr/bin/osslsigncode", ["osslsigncode"], 0x0 /* 2 vars */) = 0' \
	'open_by_handle_at(3, {handle_bytes=8, handle_type=1, f_handle=0x0}, O_RDONLY) = 5' \
	'io_uring_setup(8, {flags=0, sq_thread_cpu=0}) = 5' \
	'pidfd_getfd(5, 4, 0) = 6' \
	'memfd_create("x", MFD_CLOEXEC) = 5' \
	'openat(AT_FDCWD, "/usr/lib/ssl", O_RDONLY|O_DIRECTORY) = 5' \
	'openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC|O_PATH) = 5'; do
	printf '%s\n' "$breach" >"$T/bad.tr"
	if check_trace "$T/bad.tr" '\.so(\.[0-9]+)*$' >"$T/out"; then fail "the checker missed: $breach"; fi
	expect_in "$T/out" "the key helper did what it must not"
done

TRACED=open,openat,openat2,creat,socket,socketpair,connect,bind,listen,accept,accept4,execve,execveat
TRACED=$TRACED,open_by_handle_at,name_to_handle_at,io_uring_setup,io_uring_enter,io_uring_register
TRACED=$TRACED,pidfd_open,pidfd_getfd,process_vm_readv,ptrace,memfd_create,fanotify_init
TRACED=$TRACED,clone,clone3,fork,vfork,seccomp,landlock_restrict_self

# confined_first FILE SECRET_REGEX LAYERS: the helper installed its seccomp
# filter and its Landlock rules (issue 13) before it opened its secret or
# key (the first open of a path matching SECRET_REGEX), and LAYERS Landlock
# layers in all (PKCS#12 and PEM: a second one, no files, once the key is open).
confined_first() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import re, sys
trace, secret, layers = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3])
seccomp = landlock = key = None
n_landlock = 0
for i, line in enumerate(open(trace, errors="replace")):
    if line.startswith("seccomp(SECCOMP_SET_MODE_FILTER") and line.rstrip().endswith("= 0"):
        seccomp = i if seccomp is None else seccomp
    elif line.startswith("landlock_restrict_self(") and line.rstrip().endswith("= 0"):
        landlock = i if landlock is None else landlock
        n_landlock += 1
    elif key is None and re.match(r'open', line) and "O_PATH" not in line:
        m = re.search(r'"([^"]*)"', line)
        if m and secret.search(m.group(1)):
            key = i
if seccomp is None or landlock is None or key is None:
    sys.exit(f"no seccomp filter ({seccomp}), Landlock layer ({landlock}) or key open ({key}) seen")
if not (seccomp < key and landlock < key):
    sys.exit(f"the key was opened (line {key}) before the confinement (seccomp {seccomp}, Landlock {landlock})")
if n_landlock != layers:
    sys.exit(f"{n_landlock} Landlock layers, expected {layers}")
print("confined before the key was opened")
PY
}

# helper_traces PID: the traces of PID and of every thread or process it
# started (the ids its clone, clone3, fork and vfork calls returned), in turn.
helper_traces() {
	local todo=$1 p kids
	while [ -n "$todo" ]; do
		set -- $todo
		p=$1
		shift
		todo="$*"
		cat "$T/tr/t.$p"
		kids=$(sed -n -E 's/^(clone|clone3|fork|vfork)\(.*\) = ([0-9]+)$/\2/p' "$T/tr/t.$p")
		todo="$todo $kids"
		todo=${todo# }
	done
}

# watch NAME KEY_FILES_REGEX [SECRET_REGEX LAYERS]: sign the PE and the MSI
# under strace -ff, then check the key helper's trace (and, with
# SECRET_REGEX, that it was confined before it opened its secret or key).
# The config is $CFG, the audit log $LOG.
watch() {
	local name=$1 keys=$2 secret=${3:-} layers=${4:-} pid tr libs
	rm -rf "$T/tr" "$T/o-$name"
	mkdir "$T/tr"
	strace -ff -qq -y -e trace="$TRACED" \
		-o "$T/tr/t" "$SG_BIN" sign --config "$CFG" --out-dir "$T/o-$name" \
		"$INST/hello-setup.exe" "$INST/hello-1.0.msi" >"$T/out" 2>"$T/err" ||
		fail "$name: signgate sign under strace failed"
	ok
	# The run's two records (in the order they finished): one helper, counting 1 and 2.
	read -r pid counts < <(/usr/bin/python3 -c 'import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()][-2:]
kh = [r["signature"]["key_helper"] for r in recs]
print(kh[0]["pid"] if kh[0]["pid"] == kh[1]["pid"] else "differ",
      ",".join(str(c) for c in sorted(k["signatures"] for k in kh)))' "$LOG")
	expect_same "$counts" "1,2"
	[ "$pid" != differ ] || fail "$name: two key helpers signed in one run"
	TSA_SEEN=$(audit_field 0 signature.tsa_url 2>/dev/null || true)
	[ -s "$T/tr/t.$pid" ] || fail "$name: no trace of the key helper (pid $pid)"
	# The helper is a fork of signgate: the parent's trace must show the
	# installers being read (the watch sees what it claims to see).
	grep -l 'hello-setup.exe' "$T"/tr/t.* | grep -qv "t.$pid\$" ||
		fail "$name: no process was seen reading the installer"
	libs='\.so(\.[0-9]+)*$|^/etc/ld\.so\.cache$|^/dev/null$'
	# Its threads and children (strace -ff writes each to its own file) too.
	helper_traces "$pid" >"$T/tr/helper"
	check_trace "$T/tr/helper" "$libs|$keys" >"$T/out" || fail "$name: $(cat "$T/out")"
	ok
	if [ -n "$secret" ]; then
		confined_first "$T/tr/t.$pid" "$secret" "$layers" >"$T/out" 2>&1 || fail "$name: $(cat "$T/out")"
		ok
	fi
	# It is the process that opened the key material (the watch is on the right one).
	grep -q -E "\"(signer\.p12|signer\.key|token\.pin)\"" "$T/tr/t.$pid" ||
		fail "$name: the key helper's trace shows no key material opened"
	ok
	# And what it must never touch, named: the installers, the copy, the output.
	for f in hello-setup.exe hello-1.0.msi .signgate- "$T/o-$name"; do
		if grep -F -- "$f" "$T/tr/t.$pid" >/dev/null; then fail "$name: the key helper touched $f"; fi
	done
	ok
	sg 0 verify --config "$CFG" "$T/o-$name/hello-setup.exe" "$T/o-$name/hello-1.0.msi"
}

# PKCS#12 (password file), without and with a TSA.
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
p12_keys="^$PKI/(signer\.p12|signer\.pass|root\.pem|crl\.pem)$"
watch p12 "$p12_keys" "signer\.(pass|p12)$" 2
new_env ", \"timestamp_urls\": [\"$tsa\"]"
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
watch p12-tsa "$p12_keys" "signer\.(pass|p12)$" 2
expect_same "$TSA_SEEN" "$tsa"

# verify without signing.certificate asks a key helper for the signer: only
# that child opens the key material, signgate (which reads the files to
# verify) names neither the PKCS#12 nor its password; a wrong password is a
# named error, exit 1.
rm -rf "$T/vt"
mkdir "$T/vt"
strace -ff -qq -y -e trace="$TRACED" -o "$T/vt/t" "$SG_BIN" verify --config "$CFG" \
	"$T/o-p12-tsa/hello-setup.exe" >"$T/out" 2>"$T/err" || fail "verify under strace failed: $(cat "$T/err")"
expect_in "$T/out" "valid    $T/o-p12-tsa/hello-setup.exe"
main=$(cd "$T/vt" && ls | sed 's/^t\.//' | sort -n | head -1)
if grep -E 'signer\.(p12|pass)' "$T/vt/t.$main" >/dev/null; then fail "verify itself opened the key material"; fi
[ "$(grep -l -E '"[^"]*/signer\.p12"' "$T"/vt/t.* | wc -l)" -eq 1 ] || fail "no single helper opened the PKCS#12"
ok
printf 'wrong-password' >"$T/wrong.pass"
chmod 0600 "$T/wrong.pass"
sed "s#$PKI/signer.pass#$T/wrong.pass#" "$CFG" >"$T/wrong.json"
sg 1 verify --config "$T/wrong.json" "$T/o-p12-tsa/hello-setup.exe"
expect_in "$T/err" "signer.p12: cannot open the PKCS#12 file: wrong password or damaged file"

# PEM chain + PEM key (encrypted, its password in a file).
cat "$PKI/signer.pem" "$PKI/issuing.pem" >"$T/leaf-chain.pem"
pem_keys="^($PKI/(signer\.key|signer\.pass|root\.pem|crl\.pem)|$T/leaf-chain\.pem)$"
sed -i "s#\"pkcs12\": \"$PKI/signer.p12\"#\"cert_chain\": \"$T/leaf-chain.pem\", \"key\": \"$PKI/signer.key\"#" "$CFG"
watch pem-tsa "$pem_keys" "signer\.(pass|key)$" 2
config_set_signing timestamp_urls "[]"
watch pem "$pem_keys" "signer\.(pass|key)$" 2

# A SoftHSM2 token (PIN file), without and with a TSA.
token_env rsa.json signgate-pkcs11.json
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
hsm_keys="^$PKI/(signer-chain\.pem|signer\.pem|token\.pin|root\.pem|crl\.pem)$|^$PKI/softhsm/|^/etc/softhsm/|^/usr/lib/ssl/openssl\.cnf$"
watch hsm "$hsm_keys" "token\.pin$|/softhsm/tokens/" 1
config_set_signing timestamp_urls "[\"$tsa\"]"
watch hsm-tsa "$hsm_keys" "token\.pin$|/softhsm/tokens/" 1
expect_same "$TSA_SEEN" "$tsa"

done_ok
