#!/usr/bin/env bash
# The units' commands run for real as their accounts, where systemd is not
# PID 1. In a mount namespace of this test's own: the accounts made by
# systemd/sysusers.d (systemd-sysusers --root, then its passwd and group bound
# over /etc's), the host layout made by systemd/tmpfiles.d (systemd-tmpfiles
# --root) under a tmpfs at /srv, a package's files put in by hand, and each
# unit's credential in a ramfs as systemd 252 makes it. Each ExecStart=
# (paths moved under /srv) runs as the unit's User=/Group= with initgroups
# (setpriv), no capabilities, no new privileges, umask 077, a private /tmp,
# / read-only but for its ReadWritePaths=, and its SystemCallFilter=,
# MemoryDenyWriteExecute= and RestrictAddressFamilies= as seccomp filters
# (sg_units_sandbox). Shown: the layout's modes and owners; the sealing
# account seals (and skips when sealed), reads the log and its key, not the
# signing key, and cannot write the log; the signing account signs, cannot
# create, write or remove the seals (the seals file exists from the start,
# the sealing account's) or the sealing key, and a seals file it owns is
# refused; droppers (group signgate-drop) reach the sticky inbox only;
# signgate's strict modes accept it all, the credential files too, and
# signgate's own confinement still works under the units' filters.
if [ -z "${SG_UNITS_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (accounts, a mount namespace)"; exit 77; }
	for c in unshare setpriv systemd-sysusers systemd-tmpfiles systemd-analyze jq; do
		command -v "$c" >/dev/null || { echo "skipped: $c is missing"; exit 77; }
	done
	unshare -m true 2>/dev/null || { echo "skipped: no mount namespace here"; exit 77; }
	exec unshare -m --propagation private env SG_UNITS_NS=1 bash "$0" "$@"
fi
. "$(dirname -- "$0")/lib.sh"
: "${SG_UNITS_SANDBOX:?SG_UNITS_SANDBOX must name sg_units_sandbox}"
units=$SG_SRC/systemd

# The host, under /srv in this namespace only.
mount -t tmpfs -o mode=0755 tmpfs /srv
R=/srv/host
mkdir -m 0755 "$R" "$R/etc" "$R/test"

# 1. The accounts, by systemd-sysusers on a copy of this host's files.
cp -p /etc/passwd /etc/group /etc/shadow /etc/gshadow "$R/etc/"
systemd-sysusers --root="$R" "$units/sysusers.d/signgate.conf" >"$T/out" 2>&1 ||
	fail "systemd-sysusers failed"
for f in passwd group; do mount --bind "$R/etc/$f" "/etc/$f"; done
expect_same "$(id -gn signgate) $(id -Gn signgate | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"signgate signgate signgate-audit signgate-drop "
expect_same "$(id -gn signgate-seal) $(id -Gn signgate-seal)" "signgate-audit signgate-audit"
expect_same "$(getent passwd signgate | cut -d: -f6,7)" "/var/lib/signgate:/usr/sbin/nologin"
expect_same "$(getent passwd signgate-seal | cut -d: -f7)" "/usr/sbin/nologin"

# 2. The folders, by systemd-tmpfiles.
systemd-tmpfiles --root="$R" --create "$units/tmpfiles.d/signgate.conf" >"$T/out" 2>&1 ||
	fail "systemd-tmpfiles failed"
modes() { for p; do stat -c '%a %U:%G %n' "$R$p"; done; }
modes /etc/signgate/pki /etc/signgate/keys /etc/signgate/seal /var/lib/signgate /var/lib/signgate/inbox \
	/var/lib/signgate/outbox /var/lib/signgate/rejected /var/lib/signgate/work \
	/var/log/signgate /var/log/signgate/audit.log /var/log/signgate/audit.log.seals >"$T/modes"
cat >"$T/want" <<EOF
755 root:root $R/etc/signgate/pki
750 root:signgate $R/etc/signgate/keys
750 root:signgate-audit $R/etc/signgate/seal
750 signgate:signgate-drop $R/var/lib/signgate
1770 signgate:signgate-drop $R/var/lib/signgate/inbox
750 signgate:signgate $R/var/lib/signgate/outbox
750 signgate:signgate $R/var/lib/signgate/rejected
700 signgate:signgate $R/var/lib/signgate/work
3770 root:signgate-audit $R/var/log/signgate
640 signgate:signgate-audit $R/var/log/signgate/audit.log
600 signgate-seal:signgate-audit $R/var/log/signgate/audit.log.seals
EOF
diff "$T/want" "$T/modes" >"$T/err" || fail "the layout's modes differ"
ok
expect_same "$(stat -c %s "$R/var/log/signgate/audit.log" "$R/var/log/signgate/audit.log.seals" | tr '\n' ' ')" "0 0 "
# An admin's chmod of the inbox is undone at the next boot, the sticky bit kept.
chmod 0770 "$R/var/lib/signgate/inbox"
systemd-tmpfiles --root="$R" --create "$units/tmpfiles.d/signgate.conf" >"$T/out" 2>&1 ||
	fail "systemd-tmpfiles failed"
expect_same "$(stat -c '%a %U:%G' "$R/var/lib/signgate/inbox")" "1770 signgate:signgate-drop"

# 3. What the package puts there (debian/ does it; by hand here).
E=$R/etc/signgate
install -d -m 0755 "$R/usr/bin" "$E/policy" "$E/pki"
install -m 0755 "$SG_BIN" "$R/usr/bin/signgate"
install -m 0755 "$SG_UNITS_SANDBOX" "$R/test/sandbox"
for f in root.pem crl.pem signer.pem seal.pem; do install -m 0644 "$PKI/$f" "$E/pki/$f"; done
install -m 0600 -o signgate -g signgate "$PKI/signer.p12" "$E/keys/signer.p12"
install -m 0600 "$PKI/signer.pass" "$E/keys/signing.secret"
install -m 0600 -o signgate-seal -g signgate-audit "$PKI/seal.key" "$E/seal/seal.key"
install -m 0600 "$PKI/seal.pass" "$E/seal/seal.secret"
cat >"$E/policy/hello.json" <<JSON
{ "approvals": [ {
  "id": "hello-exe", "product": "Hello", "vendor": "Example", "version": "1.0",
  "file": "hello-setup.exe", "sha256": "$(sha256 "$INST/hello-setup.exe")",
  "source": "https://example.invalid/download", "approved_by": "j.doe", "ticket": "SEC-1",
  "approved_at": "2026-01-01"
}, {
  "id": "hello-msi", "product": "Hello MSI", "vendor": "Example", "version": "1.0",
  "file": "hello-1.0.msi", "sha256": "$(sha256 "$INST/hello-1.0.msi")",
  "source": "https://example.invalid/download", "approved_by": "j.doe", "ticket": "SEC-2",
  "approved_at": "2026-01-01"
} ] }
JSON
cred=$R/run/credentials
cat >"$E/signgate.json" <<JSON
{
  "policy": "$E/policy/",
  "audit_log": "$R/var/log/signgate/audit.log",
  "audit_group": "signgate-audit",
  "trust": { "ca_file": "$E/pki/root.pem", "crl_file": "$E/pki/crl.pem" },
  "signing": {
    "pkcs12": "$E/keys/signer.p12",
    "password_file": "$cred/signgate-watch-once.service/signing.secret",
    "certificate": "$E/pki/signer.pem",
    "timestamp_urls": ["http://127.0.0.1:$(cat "$FIX/tsa.port")/"]
  },
  "audit_seal": {
    "key": "$E/seal/seal.key", "cert": "$E/pki/seal.pem",
    "password_file": "$cred/signgate-seal.service/seal.secret"
  },
  "osslsigncode": "/usr/bin/osslsigncode"
}
JSON
# The package installs the config 0644; tmpfiles.d gives it its mode.
expect_same "$(stat -c '%a %U:%G' "$E/signgate.json")" "644 root:root"
systemd-tmpfiles --root="$R" --create "$units/tmpfiles.d/signgate.conf" >"$T/out" 2>&1 ||
	fail "systemd-tmpfiles failed"
expect_same "$(stat -c '%a %U:%G' "$E/signgate.json")" "640 root:signgate-audit"

# uget UNIT KEY: the values of KEY in the unit, one line each.
uget() { sed -n "s/^$2=//p" "$units/$1"; }
# host PATHS: the unit's paths moved under $R (the binary to its copy).
host() { sed -e "s#/usr/bin/signgate#$R/usr/bin/signgate#g" -e "s#/etc/signgate#$E#g" \
	-e "s#/var/lib/signgate#$R/var/lib/signgate#g" -e "s#/var/log/signgate#$R/var/log/signgate#g"; }

# The unit's SystemCallFilter= lines as one allow list (a "~" line takes
# away, a later line adds back), groups expanded by systemd-analyze.
syscalls() {
	uget "$1" SystemCallFilter | /usr/bin/python3 -c '
import subprocess, sys
def expand(names, seen):
    out = set()
    for n in names:
        if not n.startswith("@"):
            out.add(n)
            continue
        if n in seen:
            continue
        seen.add(n)
        text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", n],
                              capture_output=True, text=True, check=True).stdout
        words = [l.split()[0] for l in text.splitlines()[1:]
                 if l.strip() and not l.strip().startswith("#")]
        out |= expand(words, seen)
    return out
allowed = set()
for line in sys.stdin.read().splitlines():
    deny = line.startswith("~")
    names = expand(line.lstrip("~").split(), set())
    allowed = allowed - names if deny else allowed | names
print("\n".join(sorted(allowed)))'
}

# credential UNIT: its LoadCredential= as systemd 252 delivers it: a ramfs
# (mode 0700) at /run/credentials/UNIT, each file read by root, written
# 0400 and given to the unit's user and group (ramfs has no ACLs), then the
# folder made read-only (0500) and given to the user.
credential() {
	local unit=$1 dir=$cred/$1 user group id src
	user=$(uget "$unit" User)
	group=$(uget "$unit" Group)
	mkdir -p -m 0755 "$cred"
	mkdir -m 0700 "$dir"
	mount -t ramfs -o mode=0700 ramfs "$dir"
	while IFS=: read -r id src; do
		cat -- "$(host <<<"$src")" >"$dir/$id"
		chmod 0400 "$dir/$id"
		chown "$user:$group" "$dir/$id"
	done < <(uget "$unit" LoadCredential)
	chmod 0500 "$dir"
	chown "$user:$group" "$dir"
}

# as_unit UNIT [COMMAND...]: run COMMAND (default: the unit's ExecStart=) as
# the unit would run it. Output in $T/out and $T/err; returns its status.
# PROTECT=0: without the read-only /, to show what the account's own rights
# allow (an admin running signgate as that account by hand). SYSCALLS=FILE:
# another allow list. EXEC=1: exec it (its pid is then the shell's).
as_unit() {
	local unit=$1 rw
	shift
	[ $# -gt 0 ] || set -- $(uget "$unit" ExecStart | host)
	rw=$(uget "$unit" ReadWritePaths | host)
	[ -s "$R/test/$unit.syscalls" ] || syscalls "$unit" >"$R/test/$unit.syscalls"
	cp "${SYSCALLS:-$R/test/$unit.syscalls}" "$R/test/run.syscalls"
	local cmd=(unshare -m bash -c '
		set -e
		unit=$1 rw=$2 user=$3 group=$4 fam=$5 creds=$6 R=$7 protect=$8
		shift 8
		for d in /tmp /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$d"; done
		for d in /home /root; do [ ! -d "$d" ] || mount -t tmpfs -o mode=0755 tmpfs "$d"; done
		for p in $rw; do mount --bind "$p" "$p"; done
		if [ "$protect" != 0 ]; then
			mount -o remount,bind,ro /
			mount -o remount,bind,ro /srv
		fi
		umask 077
		exec setpriv --reuid="$user" --regid="$group" --init-groups --inh-caps=-all \
			--bounding-set=-all --no-new-privs -- env -i PATH=/usr/bin:/bin HOME=/ \
			LC_ALL=C CREDENTIALS_DIRECTORY="$creds" \
			"$R/test/sandbox" "$R/test/run.syscalls" "$fam" -- "$@"' \
		- "$unit" "$rw" "$(uget "$unit" User)" "$(uget "$unit" Group)" \
		"$(uget "$unit" RestrictAddressFamilies | tr ' ' ',')" "$cred/$unit" "$R" "${PROTECT:-1}" "$@")
	# EXEC=1 (in the background): this shell becomes the unit's process.
	[ -z "${EXEC:-}" ] || exec "${cmd[@]}" >"$T/out" 2>"$T/err"
	"${cmd[@]}" >"$T/out" 2>"$T/err"
}
# run_unit WANT UNIT [COMMAND...]: as_unit, expecting exit WANT.
run_unit() {
	local want=$1 rc=0
	shift
	as_unit "$@" || rc=$?
	[ "$rc" -eq "$want" ] || fail "$1: ${*:2} exited $rc, expected $want"
	ok
}

credential signgate-seal.service
credential signgate-watch-once.service
credential signgate-watch.service
LOG=$R/var/log/signgate/audit.log
SEALS=$LOG.seals
expect_same "$(stat -c '%a %U:%G' "$cred/signgate-seal.service" "$cred/signgate-seal.service/seal.secret" | tr '\n' ' ')" \
	"500 signgate-seal:signgate-audit 400 signgate-seal:signgate-audit "
expect_same "$(stat -c '%a %U:%G' "$cred/signgate-watch-once.service/signing.secret")" "400 signgate:signgate"

# 4. The seal timer's service on a fresh host: nothing to seal yet.
run_unit 0 signgate-seal.service
expect_in "$T/out" "nothing  $LOG: nothing to seal yet"
expect_same "$(stat -c '%s %a %U:%G' "$SEALS")" "0 600 signgate-seal:signgate-audit"

# 4b. Red team A 1: on a fresh host the signing account (a member of
# signgate-audit, which may create files in the log's folder) can neither
# make the seals file its own nor put another in its place.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs -- "$@"
}
as signgate sh -c "umask 007; : >>'$SEALS'" 2>"$T/err" && fail "the signing account opened the seals file"
expect_in "$T/err" "Permission denied"
as signgate mv "$SEALS" "$SEALS.x" 2>"$T/err" && fail "the signing account moved the seals file"
expect_in "$T/err" "Operation not permitted"
as signgate sh -c "umask 007; : >'$SEALS.new'; mv -f '$SEALS.new' '$SEALS'" 2>"$T/err" &&
	fail "the signing account replaced the seals file"
expect_in "$T/err" "Operation not permitted"
rm -f "$SEALS.new"
expect_same "$(stat -c '%s %a %U:%G' "$SEALS")" "0 600 signgate-seal:signgate-audit"

# 5. The signing account: one installer dropped into the inbox, signed into
# the outbox by the one-shot inbox service (or, where `signgate watch` is not
# built yet, by `sign` from the inbox with the same account and sandbox).
# Two droppers, members of signgate-drop (section 10c uses them too): a file
# owned by the signing account itself is refused in a shared inbox.
g=$(sed -e 's/^\(signgate-drop:x:[0-9]*:.*\)$/\1,alice,bob/' -e 's/^\(signgate-drop:x:[0-9]*:\),/\1/' "$R/etc/group")
printf '%s\n' "$g" >"$R/etc/group"
for u in alice:5001 bob:5002; do
	echo "${u%:*}:x:${u#*:}:${u#*:}::/nonexistent:/usr/sbin/nologin" >>"$R/etc/passwd"
	echo "${u%:*}:x:${u#*:}:" >>"$R/etc/group"
done
expect_same "$(id -Gn alice)" "alice signgate-drop"
install -m 0640 -o bob -g signgate-drop "$INST/hello-setup.exe" "$R/var/lib/signgate/inbox/hello-setup.exe"
if "$SG_BIN" watch --help >/dev/null 2>&1; then
	run_unit 0 signgate-watch-once.service
else
	echo "note: no 'signgate watch' in this build: its ExecStart= ran as 'sign'"
	run_unit 0 signgate-watch-once.service "$R/usr/bin/signgate" sign --config "$E/signgate.json" \
		--out-dir "$R/var/lib/signgate/outbox" "$R/var/lib/signgate/inbox/hello-setup.exe"
fi
[ -s "$R/var/lib/signgate/outbox/hello-setup.exe" ] || fail "nothing in the outbox"
ok
sg 0 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" "$R/var/lib/signgate/outbox/hello-setup.exe"
expect_same "$(jq -r 'select(.action == "sign") | .decision' "$LOG")" "signed"
expect_same "$(jq -r 'select(.action == "sign") | .actor.user' "$LOG")" "signgate"
expect_same "$(jq -r 'select(.action == "sign") | .signature.timestamp != null' "$LOG")" "true"
# signgate confined itself and its children under the unit's filters.
jq -c 'select(.action == "sign") | .confinement' "$LOG" >"$T/conf"
expect_same "$(jq -c '[.signgate.files, .signgate.landlock_abi > 0, .signgate.seccomp]' "$T/conf")" \
	'["confined",true,true]'
expect_same "$(jq -c '.key_helper | [.landlock_abi > 0, .seccomp, .rlimits, .network]' "$T/conf")" \
	'[true,true,true,"none"]'
expect_same "$(jq -c '.timestamp | [.landlock_abi > 0, .seccomp, .rlimits]' "$T/conf")" \
	'[true,true,true]'
expect_same "$(stat -c '%a %U:%G' "$LOG")" "640 signgate:signgate-audit"

# Before the first seal, the (empty) seals file made by tmpfiles is no seal.
run_unit 0 signgate-seal.service "$R/usr/bin/signgate" audit verify --config "$E/signgate.json"
expect_in "$T/out" "chain intact"
expect_in "$T/out" "no seals yet"

# 6. The sealing account seals the signing account's records: the head as
# it is (it cannot write the log, so no "seal" record of its own).
before=$(sha256sum "$LOG")
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq $(wc -l <"$LOG"), head $(tail -n 1 "$LOG" | tr -d '\n' | sha256sum | cut -c1-16)..."
expect_same "$(stat -c '%a %U:%G' "$SEALS")" "600 signgate-seal:signgate-audit"
expect_same "$(sha256sum "$LOG")" "$before"
expect_same "$(jq -r 'select(.action == "seal")' "$LOG")" ""
# Red team B 2: the sealing account cannot append (a forged "signed"
# record that `sign`'s "already signed" would trust) to the log.
PROTECT=0 run_unit 2 signgate-seal.service /bin/sh -c "echo '{}' >>'$LOG'"
expect_in "$T/err" "Permission denied"
expect_same "$(sha256sum "$LOG")" "$before"
before=$(sha256sum "$LOG" "$SEALS")
run_unit 0 signgate-seal.service
expect_in "$T/out" "already  $LOG: seq "
expect_in "$T/out" "nothing was written"
expect_same "$(sha256sum "$LOG" "$SEALS")" "$before"
run_unit 0 signgate-seal.service "$R/usr/bin/signgate" audit verify --config "$E/signgate.json"
expect_in "$T/out" "chain intact"
expect_in "$T/out" " the chain; the newest covers seq"

# 7. The signing account signs on beside the seals it cannot read (strict
# modes accept the seals file of a member of audit_group).
install -m 0640 -o signgate -g signgate "$INST/other-setup.exe" "$R/var/lib/signgate/inbox/other-setup.exe"
run_unit 3 signgate-watch-once.service "$R/usr/bin/signgate" sign --config "$E/signgate.json" \
	--out-dir "$R/var/lib/signgate/outbox" "$R/var/lib/signgate/inbox/other-setup.exe"
expect_same "$(tail -n 1 "$LOG" | jq -r '.decision + "/" + .actor.user')" "denied/signgate"
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq "

# 8. What each account cannot do, by its own rights (no read-only /).
PROTECT=0 run_unit 1 signgate-seal.service /bin/cat "$E/keys/signer.p12"
expect_in "$T/err" "$E/keys/signer.p12: Permission denied"
PROTECT=0 run_unit 2 signgate-seal.service /bin/ls "$E/keys"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 1 signgate-seal.service /bin/cat "$E/keys/signing.secret"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 1 signgate-seal.service /bin/rm -f "$LOG"
expect_in "$T/err" "Operation not permitted"
PROTECT=0 run_unit 2 signgate-seal.service /bin/ls "$R/var/lib/signgate/outbox"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 1 signgate-watch-once.service /bin/cat "$E/seal/seal.key"
expect_in "$T/err" "$E/seal/seal.key: Permission denied"
PROTECT=0 run_unit 1 signgate-watch-once.service /bin/cat "$E/seal/seal.secret"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 1 signgate-watch-once.service /bin/cp /dev/null "$E/seal/seal.key"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 2 signgate-watch-once.service /bin/sh -c "echo x >>'$SEALS'"
expect_in "$T/err" "Permission denied"
PROTECT=0 run_unit 1 signgate-watch-once.service /bin/rm -f "$SEALS"
expect_in "$T/err" "Operation not permitted"
PROTECT=0 run_unit 1 signgate-watch-once.service /bin/mv "$SEALS" "$SEALS.x"
expect_in "$T/err" "Operation not permitted"
# Sealing as the signing account: the seals file is not its own, nor the
# sealing key (nor can it read the key or its secret). Nothing is written.
before=$(sha256sum "$LOG" "$SEALS")
run_unit 2 signgate-watch-once.service "$R/usr/bin/signgate" audit seal --config "$E/signgate.json"
expect_in "$T/err" "$SEALS: the seals file is owned by uid $(id -u signgate-seal) (signgate-seal), not by the account sealing (uid $(id -u signgate) (signgate)) or root"
expect_same "$(sha256sum "$LOG" "$SEALS")" "$before"
# Outside ReadWritePaths= the file system is read-only, whatever the modes.
run_unit 1 signgate-seal.service /usr/bin/touch "$R/test/x"
expect_in "$T/err" "Read-only file system"

# 9. The credential as newer systemd hands it over on a file system with
# ACLs (root's file, mode 0400 plus a read entry for the user: the group
# bits show the mask, r) is refused by signgate's strict modes, naming it.
chmod 0440 "$cred/signgate-seal.service/seal.secret"
install -m 0640 -o signgate -g signgate "$INST/hello-setup.exe" "$R/var/lib/signgate/inbox/again.exe"
run_unit 3 signgate-watch-once.service "$R/usr/bin/signgate" check --config "$E/signgate.json" \
	"$R/var/lib/signgate/inbox/again.exe"
run_unit 2 signgate-seal.service
expect_in "$T/err" "$cred/signgate-seal.service/seal.secret"
expect_in "$T/err" "accessible by group or others"
chmod 0400 "$cred/signgate-seal.service/seal.secret"
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq "

# 10. A rotation by the signing account: the new log keeps the old one's
# owner, group and mode, so the sealing account reads (and seals) it at once.
run_unit 0 signgate-watch-once.service "$R/usr/bin/signgate" audit rotate --config "$E/signgate.json"
expect_same "$(stat -c '%a %U:%G' "$LOG")" "640 signgate:signgate-audit"
run_unit 3 signgate-watch-once.service "$R/usr/bin/signgate" check --config "$E/signgate.json" \
	"$R/var/lib/signgate/inbox/again.exe"
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq "
# A rotation by root (an admin) too.
"$SG_BIN" audit rotate --config "$E/signgate.json" >"$T/out" 2>&1 || fail "audit rotate as root failed"
expect_same "$(stat -c '%a %U:%G' "$LOG")" "640 signgate:signgate-audit"
run_unit 3 signgate-watch-once.service "$R/usr/bin/signgate" check --config "$E/signgate.json" \
	"$R/var/lib/signgate/inbox/again.exe"
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq "

# 10b. Red team A 1: a seals file the signing account owns (made before
# this fix, or by hand) is refused, naming its owner; nothing is written.
chown signgate "$SEALS"
install -m 0640 -o signgate -g signgate "$INST/other-setup.exe" "$R/var/lib/signgate/inbox/other-setup.exe"
run_unit 3 signgate-watch-once.service "$R/usr/bin/signgate" sign --config "$E/signgate.json" \
	--out-dir "$R/var/lib/signgate/outbox" "$R/var/lib/signgate/inbox/other-setup.exe"
before=$(sha256sum "$LOG" "$SEALS")
run_unit 2 signgate-seal.service
expect_in "$T/err" "$SEALS: the seals file is owned by uid $(id -u signgate) (signgate), not by the account sealing (uid $(id -u signgate-seal) (signgate-seal)) or root"
expect_same "$(sha256sum "$LOG" "$SEALS")" "$before"
chown signgate-seal "$SEALS"
run_unit 0 signgate-seal.service
expect_in "$T/out" "sealed   $LOG: seq "

# 10c. Red team A 3: droppers are members of signgate-drop, not signgate:
# they drop into the inbox (sticky: not another's file), and reach neither
# the keys nor the outbox nor the rejected folder.
inbox=$R/var/lib/signgate/inbox
install -d -m 0755 -o bob -g bob "$R/home-bob"
rm -f "$inbox/hello-setup.exe"
install -m 0640 -o bob -g signgate-drop "$INST/hello-setup.exe" "$R/home-bob/.hello-setup.exe"
as bob mv "$R/home-bob/.hello-setup.exe" "$inbox/hello-setup.exe" || fail "bob cannot drop into the inbox"
ok
as alice mv "$inbox/hello-setup.exe" "$inbox/.hidden" 2>"$T/err" && fail "alice moved bob's dropped file"
expect_in "$T/err" "Operation not permitted"
as alice ls "$E/keys" 2>"$T/err" && fail "a dropper lists /etc/signgate/keys"
expect_in "$T/err" "Permission denied"
as alice ls "$R/var/lib/signgate/outbox" 2>"$T/err" && fail "a dropper lists the outbox"
expect_in "$T/err" "Permission denied"
as alice ls "$R/var/lib/signgate/rejected" 2>"$T/err" && fail "a dropper lists the rejected folder"
expect_in "$T/err" "Permission denied"
rm -f "$R/var/lib/signgate/outbox/hello-setup.exe"
if "$SG_BIN" watch --help >/dev/null 2>&1; then
	# signgate (a member of signgate-drop) reads bob's file of that group.
	run_unit 0 signgate-watch-once.service
	[ -s "$R/var/lib/signgate/outbox/hello-setup.exe" ] || fail "bob's file was not signed"
	ok
	# The claim folder names the dropper: bob (uid 5002).
	expect_in "$T/out" "signed   hello-setup.exe -> $R/var/lib/signgate/outbox/hello-setup.exe (owner uid 5002"
	expect_same "$(jq -r 'select(.action == "sign" and (.input.path | test("/work/claim[.][^/]*[.]u5002/hello-setup[.]exe$"))) | .decision' "$LOG")" \
		"signed"
else
	# signgate (a member of signgate-drop) reads bob's file of that group.
	run_unit 0 signgate-watch-once.service "$R/usr/bin/signgate" sign --config "$E/signgate.json" \
		--out-dir "$R/var/lib/signgate/outbox" "$inbox/hello-setup.exe"
	expect_same "$(tail -n 1 "$LOG" | jq -r '.decision + " " + .input.path')" "signed $inbox/hello-setup.exe"
fi
rm -f "$inbox/hello-setup.exe"

# 11. The inbox service itself (Type=exec): a file renamed into the inbox
# is signed while it runs; SIGTERM ends it with exit 0.
if "$SG_BIN" watch --help >/dev/null 2>&1; then
	EXEC=1 as_unit signgate-watch.service &
	watcher=$!
	trap 'kill -KILL "$watcher" 2>/dev/null; rm -rf -- "$T"' EXIT
	inbox=$R/var/lib/signgate/inbox
	install -m 0640 -o bob -g signgate-drop "$INST/hello-1.0.msi" "$inbox/.hello-1.0.msi"
	mv "$inbox/.hello-1.0.msi" "$inbox/hello-1.0.msi"
	for _ in $(seq 1 300); do
		[ ! -s "$R/var/lib/signgate/outbox/hello-1.0.msi" ] || break
		kill -0 "$watcher" 2>/dev/null || break
		sleep 0.2
	done
	[ -s "$R/var/lib/signgate/outbox/hello-1.0.msi" ] || fail "signgate-watch.service signed nothing"
	ok
	kill -TERM "$watcher"
	rc=0
	wait "$watcher" || rc=$?
	trap 'rm -rf -- "$T"' EXIT
	expect_same "signgate-watch.service exit $rc" "signgate-watch.service exit 0"
	expect_same "$(jq -r 'select(.action == "sign" and .approval.id == "hello-msi") | .decision + "/" + .actor.user' "$LOG")" \
		"signed/signgate"
	expect_absent "$inbox/hello-1.0.msi"
else
	echo "note: no 'signgate watch' in this build: signgate-watch.service not run"
fi

# 12. The filters are live: what the units forbid fails inside the sandbox.
run_unit 1 signgate-seal.service /usr/bin/python3 -c \
	'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)'
expect_in "$T/err" "Address family not supported by protocol"
run_unit 1 signgate-seal.service /usr/bin/python3 -c \
	'import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)'
expect_in "$T/err" "PermissionError"
# ~@resources: no nice(2); limits still go (glibc's setrlimit is prlimit64).
run_unit 1 signgate-seal.service /usr/bin/python3 -c 'import os; os.nice(1)'
expect_in "$T/err" "PermissionError"
run_unit 0 signgate-watch-once.service /usr/bin/python3 -c \
	'import resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0))'
# Without the Landlock calls the units allow, signgate's children would lose
# their file rules (it says so; "confinement": "required" would refuse).
grep -v '^landlock_' "$R/test/signgate-watch-once.service.syscalls" >"$R/test/no-landlock.syscalls"
install -d -m 0750 -o signgate -g signgate "$R/var/lib/signgate/outbox/again" "$R/var/lib/signgate/again"
install -m 0640 -o signgate -g signgate "$INST/hello-setup.exe" "$R/var/lib/signgate/again/hello-setup.exe"
# Neither Landlock nor a mount namespace to bind over the key material: the
# run's osslsigncode version query (hygiene) is not run unprotected, so the
# run stops before any input (exit 1), nothing signed, nothing recorded.
lines=$(wc -l <"$LOG")
SYSCALLS=$R/test/no-landlock.syscalls run_unit 1 signgate-watch-once.service \
	"$R/usr/bin/signgate" sign --config "$E/signgate.json" --out-dir "$R/var/lib/signgate/outbox/again" \
	"$R/var/lib/signgate/again/hello-setup.exe"
expect_in "$T/err" "osslsigncode --version: cannot hide the key material from osslsigncode"
expect_same "$(wc -l <"$LOG")" "$lines"
run_unit 0 signgate-watch-once.service /usr/bin/python3 -c \
	'import ctypes, os; l = ctypes.CDLL(None, use_errno=True); r = l.syscall(444, None, 0, 1); print(r)' # landlock_create_ruleset(VERSION)
[ "$(cat "$T/out")" -gt 0 ] || fail "Landlock is not reachable under the inbox units' filter"
ok
done_ok
