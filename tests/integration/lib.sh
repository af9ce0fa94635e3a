# Shared helpers for the integration tests (sourced, not run).
# Each test receives a private folder $T with its own config, policy and audit
# log, all pointing at the shared fixture in $SG_FIXTURE.
set -euo pipefail
# The policy, config and audit files made here must pass signgate's strict
# modes (README "Strict modes") whatever umask CI runs with.
umask 022

: "${SG_BIN:?SG_BIN must name the built signgate}"
: "${SG_FIXTURE:?SG_FIXTURE must name the fixture folder}"
FIX=$(cd -- "$SG_FIXTURE" && pwd -P) # its real folder under /tmp (fixture-setup.sh)
INST=$FIX/inst
PKI=$FIX/pki
T=$(mktemp -d "${TMPDIR:-/tmp}/sg-it.XXXXXX")
trap 'rm -rf -- "$T"' EXIT
# signgate's work folders of this test, in a $TMPDIR of its own: the
# left-overs of runs a test kills, and the lines saying they were removed
# (README "Private folders"), stay in the test that made them.
mkdir -m 0700 "$T/tmp"
export TMPDIR=$T/tmp
checks=0

fail() {
	echo "FAIL: $*" >&2
	for f in "$T/out" "$T/err"; do
		[ -s "$f" ] && { echo "--- ${f##*/}:" >&2; cat "$f" >&2; }
	done
	exit 1
}

ok() { checks=$((checks + 1)); }

done_ok() { echo "${checks} passed, 0 failed"; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }
sha512() { sha512sum "$1" | cut -d' ' -f1; }

# sg EXPECTED_EXIT ARGS...: run signgate, keep stdout/stderr in $T/out, $T/err.
sg() {
	local want=$1 rc=0
	shift
	"$SG_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "signgate $* exited $rc, expected $want"
	ok
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
	grep -qF -- "$2" "$1" || fail "${1##*/} lacks: $2"
	ok
}

# expect_in_i FILE TEXT: FILE contains TEXT, ignoring case (fixed string).
expect_in_i() {
	grep -qiF -- "$2" "$1" || fail "${1##*/} lacks (any case): $2"
	ok
}

expect_not_in() {
	if grep -qF -- "$2" "$1"; then fail "${1##*/} unexpectedly contains: $2"; fi
	ok
}

# expect_no_line FILE LINE: no line of FILE is exactly LINE.
expect_no_line() {
	if grep -qxF -- "$2" "$1"; then fail "${1##*/} has the line: $2"; fi
	ok
}

expect_absent() {
	[ ! -e "$1" ] || fail "$1 exists but should not"
	ok
}

expect_same() {
	[ "$1" = "$2" ] || fail "expected '$2', got '$1'"
	ok
}

# new_env [EXTRA_SIGNING_JSON]: a config in $T/env with an empty policy folder.
# No trust.tsa_ca_file: the example TSA is issued by root.pem, which signgate
# then uses for timestamps as well. The certificates carry CRL distribution
# points, so offline verification needs the CRLs: trust.crl_file.
new_env() {
	local extra=${1:-}
	mkdir -p "$T/env/policy" "$T/env/audit"
	cat >"$T/env/signgate.json" <<JSON
{
  "policy": "policy/",
  "audit_log": "audit/audit.jsonl",
  "trust": { "ca_file": "$PKI/root.pem", "crl_file": "$PKI/crl.pem" },
  "signing": { "pkcs12": "$PKI/signer.p12", "password_file": "$PKI/signer.pass"$extra },
  "osslsigncode": "/usr/bin/osslsigncode"
}
JSON
	CFG=$T/env/signgate.json
	LOG=$T/env/audit/audit.jsonl
}

# config_set KEY JSON: set the config's top-level KEY to the JSON value
# (null removes it).
config_set() {
	/usr/bin/python3 - "$CFG" "$1" "$2" <<'PY'
import json, sys
path, key, value = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
cfg = json.load(open(path))
cfg.pop(key, None)
if value is not None:
    cfg[key] = value
json.dump(cfg, open(path, "w"), indent=2)
PY
}

# seal_config: a sealing key and self-signed certificate of this test's own
# ($T/seal.key, $T/seal.pem, EC P-256) as the config's "audit_seal".
seal_config() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=signgate test seal" -keyout "$T/seal.key" -out "$T/seal.pem" 2>/dev/null
	chmod 0600 "$T/seal.key"
	config_set audit_seal "{\"key\": \"$T/seal.key\", \"cert\": \"$T/seal.pem\"}"
}

# token_env NAME JSON: a config in $T/env/NAME from the fixture's token config
# JSON (the signing key in the SoftHSM2 token).
token_env() {
	mkdir -p "$T/env/policy" "$T/env/audit"
	/usr/bin/python3 - "$PKI/$2" "$T/env/$1" "$PKI" <<'PY'
import json, os, sys
src, dst, pki = sys.argv[1:4]
cfg = json.load(open(src))
for k in ("ca_file", "crl_file"):
    cfg["trust"][k] = os.path.join(pki, cfg["trust"][k])
s = cfg["signing"]
for k in ("cert_chain", "certificate", "pin_file"):
    s[k] = os.path.join(pki, s[k])
cfg["policy"], cfg["audit_log"] = "policy/", "audit/audit.jsonl"
json.dump(cfg, open(dst, "w"), indent=2)
PY
	CFG=$T/env/$1
	LOG=$T/env/audit/audit.jsonl
}

# softhsm_token LABEL KEY OBJECT: a SoftHSM2 token of this test's own in
# $T/hsm (SOFTHSM2_CONF exported), labelled LABEL, holding the PEM key KEY
# as OBJECT (id 01); its PIN in $T/token.pin (mode 0600).
softhsm_token() {
	mkdir -p "$T/hsm"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$T/hsm" >"$T/softhsm2.conf"
	export SOFTHSM2_CONF=$T/softhsm2.conf
	softhsm2-util --init-token --free --label "$1" --so-pin 12345678 --pin 246810 >/dev/null
	openssl pkcs8 -topk8 -nocrypt -in "$2" -out "$T/$3.p8"
	softhsm2-util --import "$T/$3.p8" --token "$1" --label "$3" --id 01 --pin 246810 >/dev/null
	rm -f -- "$T/$3.p8"
	printf 246810 >"$T/token.pin"
	chmod 0600 "$T/token.pin"
}

# config_set_signing KEY JSON: set the config's "signing" KEY to the JSON value.
config_set_signing() {
	/usr/bin/python3 - "$CFG" "$1" "$2" <<'PY'
import json, sys
path, key, value = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
cfg = json.load(open(path))
cfg["signing"][key] = value
json.dump(cfg, open(path, "w"), indent=2)
PY
}

# approval ID FILE_NAME SHA256 [EXTRA_JSON]: one approval in its own policy file.
approval() {
	local id=$1 file=$2 sha=$3 extra=${4:-}
	cat >"$T/env/policy/$id.json" <<JSON
{ "approvals": [ {
  "id": "$id", "product": "Hello", "vendor": "Example", "version": "1.0",
  "file": "$file", "sha256": "$sha", "source": "https://example.invalid/download",
  "approved_by": "j.doe", "ticket": "SEC-1", "approved_at": "2026-01-01"$extra
} ] }
JSON
}

# A policy file that approves nothing (the folder must hold one).
empty_policy() { echo '{ "approvals": [] }' >"$T/env/policy/empty.json"; }

# audit_field LINE JSON_PATH: one field of record LINE (0: the last record).
audit_field() {
	/usr/bin/python3 -c 'import json,sys
rec = json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2]) - 1])
for k in sys.argv[3].split("."):
    rec = rec[k]
print(rec)' "$LOG" "$1" "$2"
}

# start_slow_tsa [DELAY]: a TSA on 127.0.0.1 that answers after DELAY s
# (default 8: a pass of sweep_for_secret over /proc takes seconds on a busy
# machine, and its first pass may start before the key helper), so that a signing lasts long enough to be watched; its URL in
# $SLOW_TSA. Stopped on exit.
start_slow_tsa() {
	/usr/bin/python3 "$SG_SRC/tests/fixtures/tsa_server.py" --port 0 --config "$PKI/tsa.cnf" \
		--port-file "$T/slow.port" --delay "${1:-8}" >"$T/slow.log" 2>&1 &
	SLOW_TSA_PID=$!
	trap 'kill $SLOW_TSA_PID 2>/dev/null; rm -rf -- "$T"' EXIT
	for _ in $(seq 1 100); do [ -s "$T/slow.port" ] && break; sleep 0.1; done
	[ -s "$T/slow.port" ] || fail "slow TSA did not start"
	SLOW_TSA="http://127.0.0.1:$(cat "$T/slow.port")/"
}

# proc_read NAME FILE: the NUL-separated strings of FILE (/proc/PID/cmdline
# or environ) into the array NAME; status 0. A process that ends while it is
# read (ENOENT, ESRCH: the race of every sweep over /proc) leaves NAME empty
# with status 1, silently. So does one the kernel will not show (EACCES: a
# process that is not dumpable, such as the key helper, or PID 1 of a
# container), counted in PROC_READ_REFUSED. Anything else fails the test:
# a sweep that cannot read what it should cannot say that a secret is not
# there, and its reason must not drown in the race's noise.
PROC_READ_REFUSED=0
proc_read() {
	local -n proc_into=$1

	{ mapfile -d '' proc_into <"$2"; } 2>"$T/proc_read.err" && return 0
	proc_into=()
	case $(cat "$T/proc_read.err") in
	*"No such process"* | *"No such file or directory"*) return 1 ;;
	*"Permission denied"*) PROC_READ_REFUSED=$((PROC_READ_REFUSED + 1)); return 1 ;;
	esac
	[ -e "${2%/*}" ] || return 1
	fail "cannot read $2: $(cat "$T/proc_read.err")"
}

# sweep_for_secret SECRET ARGS...: run signgate ARGS in the background and,
# until it ends, read the argv and environment of every process from /proc;
# fail if SECRET shows up, or if the key helper (signgate's child running
# signgate itself, the one process that obtains the secret) was never seen.
# A signgate process (the command, its key helper) may hold a password_env
# secret in its environment only while it reads it, in its first second:
# its environment is judged after that (the runs last longer: a slow TSA).
# SECRET must be one that no other test holds on purpose. Output lands in
# $T/out and $T/err; signgate must exit 0.
sweep_for_secret() {
	local secret=$1 seen=0 p a sg_pid sg_exe exe age
	shift
	"$SG_BIN" "$@" >"$T/out" 2>"$T/err" &
	sg_pid=$!
	sg_exe=$(readlink -f "$SG_BIN")
	# Once the key helper is forked (its socket made, then a child): a pass
	# over /proc takes seconds on a busy machine, and one that started before
	# the fork would never see it.
	for _ in $(seq 1 200); do
		find "/proc/$sg_pid/fd" -lname 'socket:*' 2>/dev/null | grep -q . &&
			grep -q . "/proc/$sg_pid/task/$sg_pid/children" 2>/dev/null && break
		sleep 0.05
	done
	while kill -0 "$sg_pid" 2>/dev/null; do
		# signgate and its children first: a pass over every process can
		# outlast the run on a busy machine, and reach them after they ended.
		local first=("/proc/$sg_pid") c
		for c in $(cat "/proc/$sg_pid/task/"*/children 2>/dev/null); do first+=("/proc/$c"); done
		for p in "${first[@]}" /proc/[0-9]*; do
			# A process may end while it is read (proc_read says nothing then).
			proc_read args "$p/cmdline" || continue
			proc_read envs "$p/environ" || envs=()
			exe=$(readlink "$p/exe" 2>/dev/null) || exe=
			if [ "$exe" = "$sg_exe" ]; then
				age=$(awk -v up="$(cut -d' ' -f1 /proc/uptime)" -v hz="$(getconf CLK_TCK)" \
					'{ print int(up * 100 - $22 * 100 / hz) }' "$p/stat" 2>/dev/null) || age=0
				[ "${age:-0}" -ge 100 ] || envs=()
				[ "${p#/proc/}" = "$sg_pid" ] || seen=$((seen + 1))
			fi
			for a in "${args[@]}" "${envs[@]}"; do
				[[ $a != *"$secret"* ]] || fail "secret found in pid ${p#/proc/}: ${args[*]}"
			done
		done
	done
	wait "$sg_pid" || fail "signgate $* failed: $(cat "$T/out" "$T/err")"
	[ "$seen" -gt 0 ] || fail "the key helper was never sampled"
	ok
}

# put_table UNSIGNED_PE DER OUT: the PE with one WIN_CERTIFICATE (revision
# 2.0, PKCS#7) holding DER's bytes, padded to 8, as its certificate table.
put_table() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
pe = bytearray(open(sys.argv[1], "rb").read())
der = open(sys.argv[2], "rb").read()
pe += b"\0" * (-len(pe) % 8)
off = struct.unpack_from("<I", pe, 0x3C)[0]
opt = off + 24
magic = struct.unpack_from("<H", pe, opt)[0]
dirs = opt + (96 if magic == 0x10B else 112)
cert = struct.pack("<IHH", 8 + len(der), 0x0200, 0x0002) + der
cert += b"\0" * (-len(cert) % 8)
struct.pack_into("<II", pe, dirs + 4 * 8, len(pe), len(cert))
open(sys.argv[3], "wb").write(pe + cert)
PY
}

# ca_db DIR: an 'openssl ca' database and config (DIR/ca.cnf) for the CA
# whose certificate and key are DIR/ca.pem and DIR/ca.key; CRLs for 7 days.
ca_db() {
	mkdir -p "$1/db"
	: >"$1/db/index.txt"
	echo 01 >"$1/db/crlnumber"
	cat >"$1/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database         = $1/db/index.txt
crlnumber        = $1/db/crlnumber
certificate      = $1/ca.pem
private_key      = $1/ca.key
default_md       = sha256
default_crl_days = 7
CNF
}

# ca_root DIR CN: a P-256 root of 30 days (DIR/ca.pem, DIR/ca.key), its
# database (ca_db), and DIR/ext, the code-signing leaf profile.
ca_root() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
		-subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
	ca_db "$1"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$1/ext"
}

# ca_leaf DIR NAME CN: a code-signing leaf of 20 days from DIR's root
# (DIR/NAME.pem, DIR/NAME.key, DIR/NAME.csr).
ca_leaf() {
	openssl req -new -newkey rsa:3072 -nodes -keyout "$1/$2.key" -subj "/CN=$3" \
		-out "$1/$2.csr" 2>/dev/null
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 20 -sha256 -extfile "$1/ext" \
		-out "$1/$2.pem" 2>/dev/null
}

# ca_two_crls DIR CN: ca_root DIR CN with two leaves (DIR/leaf.pem,
# DIR/stolen.pem), then DIR/crl-old.pem (CRL number 1, empty) and
# DIR/crl-new.pem (number 2, a second later, stolen.pem revoked).
ca_two_crls() {
	ca_root "$1" "$2"
	ca_leaf "$1" leaf "$2 leaf"
	ca_leaf "$1" stolen "$2 stolen"
	openssl ca -config "$1/ca.cnf" -gencrl -out "$1/crl-old.pem" 2>/dev/null
	openssl ca -config "$1/ca.cnf" -revoke "$1/stolen.pem" 2>/dev/null
	sleep 1
	openssl ca -config "$1/ca.cnf" -gencrl -out "$1/crl-new.pem" 2>/dev/null
}

# cosign_env INSTALLER TRUST_MEMBERS: new_env with the fixture's TSA, trust
# with the approvers' CA (and TRUST_MEMBERS, e.g. ', "require_cosign": true'),
# the approvers' arguments in alice=() and bob=(), INSTALLER (a name under
# $INST) copied to $EXE ($T/in/hello-setup.exe), $POL the policy folder and
# $A the approval file that `policy approve` writes for Hello 1.0.
cosign_env() {
	new_env ", \"timestamp_urls\": [\"http://127.0.0.1:$(cat "$FIX/tsa.port")/\"]"
	POL=$T/env/policy
	config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
		\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"$2}"
	alice=(--cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key")
	bob=(--cert "$PKI/approver-bob.pem" --key "$PKI/approver-bob.key")
	mkdir -p "$T/in" "$T/signed"
	cp "$INST/$1" "$T/in/hello-setup.exe"
	EXE=$T/in/hello-setup.exe
	A=$POL/hello-1.0.json
}
