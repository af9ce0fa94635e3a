#!/usr/bin/env bash
# What loads code next to a key is held to the strict-mode rule (README
# "Strict modes"), wherever it is named:
# - the caller's OPENSSL_ENGINES and OPENSSL_MODULES (the folders OpenSSL
#   loads the "pkcs11" engine and providers from, in signgate and in the
#   key helper it forks): a folder, or a folder above it, that others may
#   write, an entry in it that others may write (a module), a link that leads
#   to such a place, a relative or an empty value are refused when the
#   config loads (exit 2, the variable and the finding named, nothing
#   recorded); a safe folder (also a missing one, or one reached through a
#   safe link) is used;
# - an approver's --pkcs11-module (policy approve, policy cosign): held to
#   the rule of the config's "pkcs11_module" (exit 2, the option, the path
#   and the finding named, nothing written), and with it the environment's
#   folders, config or not; a safe module signs;
# - an approver's PEM key without a config: the environment's folders and
#   LD_LIBRARY_PATH are held to the rule as well (exit 2, nothing written);
# - PKCS11SPY (the module OpenSC's pkcs11-spy.so loads) like LD_PRELOAD: an
#   absolute path held to the rule, in sign and check and for an approver.
. "$(dirname -- "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skipped: the owner cases need root (chown)"; exit 0; }
id nobody >/dev/null 2>&1 || fail "no user nobody"

EXE=$INST/hello-setup.exe
new_env
approval hello-exe hello-setup.exe "$(sha256 "$EXE")"
# $T is mktemp's (0700, ours) under a sticky /tmp: safe to build under.
mkdir -m 0755 "$T/good" "$T/good/engines"
sg 0 check --config "$CFG" "$EXE"
rm -f -- "$LOG"

# env_refused VAR VALUE WHAT...: with VAR=VALUE, sign and check stop at the
# config (exit 2, each WHAT in the message), before any input: no record, no output.
env_refused() {
	local var=$1 value=$2 rc=0
	shift 2
	env "$var=$value" "$SG_BIN" sign --config "$CFG" --out-dir "$T/signed" "$EXE" \
		>"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "sign with $var=$value exited $rc, expected 2"
	for w in "$@"; do expect_in "$T/err" "$w"; done
	expect_absent "$T/signed"
	expect_absent "$LOG"
	rc=0
	env "$var=$value" "$SG_BIN" check --config "$CFG" "$EXE" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "check with $var=$value exited $rc, expected 2"
	expect_in "$T/err" "$1"
	expect_absent "$LOG"
}

# env_used VAR VALUE: with VAR=VALUE, the PKCS#12 route signs (OpenSSL's
# folders are consulted, nothing is loaded from them).
env_used() {
	env "$1=$2" "$SG_BIN" sign --config "$CFG" --out "$T/ok.exe" "$EXE" >"$T/out" 2>"$T/err" ||
		fail "sign with $1=$2 failed: $(cat "$T/err")"
	expect_in "$T/out" "signed   $EXE -> $T/ok.exe"
	rm -f -- "$T/ok.exe" "$LOG"
}

# --- OPENSSL_ENGINES and OPENSSL_MODULES ---
for var in OPENSSL_ENGINES OPENSSL_MODULES; do
	what=engines
	[ $var = OPENSSL_MODULES ] && what=providers
	d=$T/$var
	mkdir -m 0755 "$d" "$d/safe"
	env_used $var "$d/safe"
	# A folder that does not exist, where only we could make it: nothing to load.
	env_used $var "$d/missing"

	# The folder itself writable by others, by a group; owned by another account.
	mkdir -m 0755 "$d/open" && chmod 0777 "$d/open"
	env_refused $var "$d/open" \
		"$var=$d/open in the environment, the folder OpenSSL loads $what from: $d/open: writable by others (mode 0777" \
		"unset it or fix the folder"
	mkdir -m 0755 "$d/grp" && chmod 0775 "$d/grp"
	env_refused $var "$d/grp" "$var=$d/grp in the environment" "$d/grp: writable by group root (mode 0775"
	mkdir -m 0755 "$d/theirs" && chown nobody "$d/theirs"
	env_refused $var "$d/theirs" "$d/theirs: owned by another account (mode 0755, owner nobody)"

	# A safe folder under a group-writable one: whoever may write the parent
	# may rename the folder and put another in its place.
	mkdir -m 0755 "$d/gparent" "$d/gparent/mods" && chmod 0775 "$d/gparent"
	env_refused $var "$d/gparent/mods" "$var=$d/gparent/mods in the environment" \
		"$d/gparent: writable by group root (mode 0775"

	# A safe folder holding a module others may write (or another's module).
	mkdir -m 0755 "$d/wmod" && : >"$d/wmod/pkcs11.so" && chmod 0666 "$d/wmod/pkcs11.so"
	env_refused $var "$d/wmod" "$d/wmod/pkcs11.so: writable by others (mode 0666"
	chmod 0644 "$d/wmod/pkcs11.so" && chown nobody "$d/wmod/pkcs11.so"
	env_refused $var "$d/wmod" "$d/wmod/pkcs11.so: owned by another account"

	# A safe folder holding a link (ours) to a module in an open folder.
	mkdir -m 0755 "$d/lmod" && : >"$d/open/pkcs11.so" && chmod 0644 "$d/open/pkcs11.so"
	ln -s "$d/open/pkcs11.so" "$d/lmod/pkcs11.so"
	env_refused $var "$d/lmod" "$var=$d/lmod in the environment" "$d/open: writable by others"

	# The value a link (ours, in a safe folder) to an open folder; to a safe one it is used.
	ln -s "$d/open" "$d/to-open"
	env_refused $var "$d/to-open" "$var=$d/to-open in the environment" "$d/to-open: writable by others"
	ln -s "$d/safe" "$d/to-safe"
	env_used $var "$d/to-safe"
	# A link owned by another account: it could point anywhere tomorrow.
	ln -s "$d/safe" "$d/their-link" && chown -h nobody "$d/their-link"
	env_refused $var "$d/their-link" "$d/their-link: owned by another account"

	# ".." through a safe folder into an open one.
	env_refused $var "$d/safe/../open" "$var=$d/safe/../open in the environment" "writable by others"

	# A folder missing in a sticky folder anyone may write (/tmp): anyone could make it.
	env_refused $var "/tmp/sg-no-such-$$-$var" "$var=/tmp/sg-no-such-$$-$var in the environment"

	# Relative, and empty: OpenSSL would load from the working folder, or from "/".
	env_refused $var "engines" "$var=\"engines\" in the environment: OpenSSL would load $what from a folder relative to the working folder"
	env_refused $var "" "$var=\"\" in the environment: OpenSSL would load $what from \"/\" (an empty value)"
done

# --- PKCS11SPY: the module OpenSC's pkcs11-spy.so loads, named by the caller ---
S=$T/spy
mkdir -m 0755 "$S" "$S/open" "$S/safe" && chmod 0777 "$S/open"
: >"$S/open/spy.so" && : >"$S/safe/spy.so"
env_refused PKCS11SPY "$S/open/spy.so" \
	"PKCS11SPY=$S/open/spy.so in the environment, code a PKCS#11 module loads: $S/open: writable by others (mode 0777" \
	"unset it or fix the path"
env_refused PKCS11SPY "spy.so" \
	"PKCS11SPY=\"spy.so\" in the environment: the entry \"spy.so\" is not an absolute path"
env_used PKCS11SPY "$S/safe/spy.so"

# policy lint reports the finding with the config's others (and fails: run by the owner).
OPENSSL_ENGINES=$T/OPENSSL_ENGINES/open sg 2 policy lint --config "$CFG"
expect_in "$T/out" "error    OPENSSL_ENGINES=$T/OPENSSL_ENGINES/open in the environment"

# --- an approver's --pkcs11-module ---
trust() { config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"$1}"; }
trust ''
POL=$T/env/policy
# approve writes into an empty policy folder; cosign signs a copy of an approval.
mkdir -m 0755 "$T/cos"
mv "$POL/hello-exe.json" "$T/cos/"
real=$(readlink -f /usr/lib/softhsm/libsofthsm2.so)
[ -f "$real" ] || fail "no SoftHSM2 module (scripts/setup.sh)"
softhsm_token approver "$PKI/approver-alice.key" alice
uri="pkcs11:token=approver;object=alice;type=private"
ap=(policy approve --config "$CFG" --product Hello --vendor Example --version 2.0 --ticket T
	--sha256 "$(sha256 "$EXE")" --cert "$PKI/approver-alice.pem" --key "$uri"
	--password-file "$T/token.pin")
co=(policy cosign --approvers-ca "$PKI/approvers-ca.pem" --cert "$PKI/approver-alice.pem"
	--key "$uri" --password-file "$T/token.pin")

# mod_refused MODULE WHAT...: approve and cosign refuse MODULE (exit 2), nothing written.
mod_refused() {
	local m=$1
	shift
	sg 2 "${ap[@]}" --pkcs11-module "$m" "$EXE"
	expect_in "$T/err" "--pkcs11-module $m: "
	for w in "$@"; do expect_in "$T/err" "$w"; done
	expect_absent "$POL/hello-2.0.json"
	sg 2 "${co[@]}" --pkcs11-module "$m" "$T/cos/hello-exe.json"
	expect_in "$T/err" "--pkcs11-module $m: "
	expect_absent "$T/cos/hello-exe.json.cosign.p7s"
}

M=$T/mods
mkdir -m 0755 "$M" "$M/open" "$M/grp" "$M/gparent" "$M/gparent/lib" "$M/safe"
chmod 0777 "$M/open"
chmod 0775 "$M/grp" "$M/gparent"
cp "$real" "$M/open/softhsm.so"
cp "$real" "$M/grp/softhsm.so"
cp "$real" "$M/gparent/lib/softhsm.so"
cp "$real" "$M/safe/softhsm.so"
mod_refused "$M/open/softhsm.so" "$M/open: writable by others (mode 0777" \
	"the module runs with the key"
mod_refused "$M/grp/softhsm.so" "$M/grp: writable by group root (mode 0775"
mod_refused "$M/gparent/lib/softhsm.so" "$M/gparent: writable by group root"
# The module itself writable, or another account's.
cp "$real" "$M/safe/w.so" && chmod 0666 "$M/safe/w.so"
mod_refused "$M/safe/w.so" "$M/safe/w.so: writable by others (mode 0666"
cp "$real" "$M/safe/theirs.so" && chown nobody "$M/safe/theirs.so"
mod_refused "$M/safe/theirs.so" "$M/safe/theirs.so: owned by another account"
# Links: ours to an open folder's module; another account's link to a safe one; ".." games.
ln -s "$M/open/softhsm.so" "$M/safe/to-open.so"
mod_refused "$M/safe/to-open.so" "$M/open: writable by others"
ln -s "$M/safe/softhsm.so" "$M/safe/their-link.so" && chown -h nobody "$M/safe/their-link.so"
mod_refused "$M/safe/their-link.so" "$M/safe/their-link.so: owned by another account"
mod_refused "$M/safe/../open/softhsm.so" "writable by others"
# A folder, no file; nothing there at all.
sg 1 "${ap[@]}" --pkcs11-module "$M/safe" "$EXE"
expect_in "$T/err" "$M/safe: the PKCS#11 module is not a file"
sg 1 "${ap[@]}" --pkcs11-module "$M/safe/none.so" "$EXE"
expect_in "$T/err" "$M/safe/none.so: cannot use the PKCS#11 module: No such file or directory"
expect_absent "$POL/hello-2.0.json"
# A relative path stays a usage error.
sg 2 "${ap[@]}" --pkcs11-module softhsm.so "$EXE"
expect_in "$T/err" "--pkcs11-module takes an absolute path"

# A safe module, but OpenSSL's engines folder in the environment is open:
# with a config and without one (policy cosign --approvers-ca).
OPENSSL_ENGINES=$M/open sg 2 "${ap[@]}" --pkcs11-module "$M/safe/softhsm.so" "$EXE"
expect_in "$T/err" "OPENSSL_ENGINES=$M/open in the environment, the folder OpenSSL loads engines from: $M/open: writable by others"
expect_absent "$POL/hello-2.0.json"
OPENSSL_ENGINES=$M/open sg 2 "${co[@]}" --pkcs11-module "$M/safe/softhsm.so" "$T/cos/hello-exe.json"
expect_in "$T/err" "OPENSSL_ENGINES=$M/open in the environment"
expect_absent "$T/cos/hello-exe.json.cosign.p7s"
# A PEM key without a config: the environment is held to the rule too (the
# library checks it for every approver key), before the key is read.
pem=(policy cosign --approvers-ca "$PKI/approvers-ca.pem" --cert "$PKI/approver-alice.pem"
	--key "$PKI/approver-alice.key")
OPENSSL_ENGINES=$M/open sg 2 "${pem[@]}" "$T/cos/hello-exe.json"
expect_in "$T/err" "OPENSSL_ENGINES=$M/open in the environment, the folder OpenSSL loads engines from: $M/open: writable by others"
expect_absent "$T/cos/hello-exe.json.cosign.p7s"
OPENSSL_MODULES=$M/open sg 2 "${pem[@]}" "$T/cos/hello-exe.json"
expect_in "$T/err" "OPENSSL_MODULES=$M/open in the environment, the folder OpenSSL loads providers from"
expect_absent "$T/cos/hello-exe.json.cosign.p7s"
LD_LIBRARY_PATH=$M/open sg 2 "${pem[@]}" "$T/cos/hello-exe.json"
expect_in "$T/err" "LD_LIBRARY_PATH=$M/open in the environment"
expect_absent "$T/cos/hello-exe.json.cosign.p7s"
# The approver's token key is opened in signgate itself: PKCS11SPY is held to the rule there too.
PKCS11SPY=$S/open/spy.so sg 2 "${co[@]}" --pkcs11-module "$M/safe/softhsm.so" "$T/cos/hello-exe.json"
expect_in "$T/err" "PKCS11SPY=$S/open/spy.so in the environment, code a PKCS#11 module loads"
expect_absent "$T/cos/hello-exe.json.cosign.p7s"
# With a PEM key no module is loaded: no module check to make; a safe folder is used.
mkdir -m 0755 "$M/engines"
OPENSSL_ENGINES=$M/engines sg 0 "${pem[@]}" "$T/cos/hello-exe.json"
expect_in "$T/out" "cosigned $T/cos/hello-exe.json as "
rm -f -- "$T/cos/hello-exe.json.cosign.p7s"
sg 0 policy cosign --approvers-ca "$PKI/approvers-ca.pem" --cert "$PKI/approver-alice.pem" \
	--key "$PKI/approver-alice.key" "$T/cos/hello-exe.json"
expect_in "$T/out" "cosigned $T/cos/hello-exe.json as "
rm -f -- "$T/cos/hello-exe.json.cosign.p7s"

# Safe: the copy in a safe folder, a link (root's) to the system's module, the module itself.
for m in "$M/safe/softhsm.so" /usr/lib/softhsm/libsofthsm2.so "$real"; do
	sg 0 "${ap[@]}" --id "ok-$(basename "$m" .so)" --pkcs11-module "$m" "$EXE"
	expect_in "$T/out" "signed $POL/ok-$(basename "$m" .so).json.approve.p7s"
	rm -f -- "$POL/ok-$(basename "$m" .so).json"*
done
sg 0 "${co[@]}" --pkcs11-module "$M/safe/softhsm.so" "$T/cos/hello-exe.json"
expect_in "$T/out" "cosigned $T/cos/hello-exe.json as "
done_ok
