#!/usr/bin/env bash
# Red team (issue 14, R1): what OpenSSL's configuration makes OpenSSL load is
# code too. A configuration file that is itself safe (ours, in a safe folder)
# may name a provider "module", an engine "dynamic_path" or an ".include"
# (also a relative one, resolved in OPENSSL_CONF_INCLUDE) in a folder others
# may write; and without a config (policy cosign --approvers-ca, verify --ca,
# cert lint --cert, audit verify --log) OPENSSL_CONF itself was not judged
# at all. Whoever may write there runs code in signgate, next to the
# signing key or an approver's key. Each case: the marker module
# (tests/tools/loaded_mark.c) in a folder anyone may write must never be
# loaded; the run either refuses (exit 2, the open folder named, nothing
# written: the strict rule, as for OPENSSL_ENGINES) or does not read
# OpenSSL's configuration at all (exit 0): the fix chooses, the test takes
# both, never a load.
. "$(dirname -- "$0")/lib.sh"
: "${SG_LOADED_MARK:?SG_LOADED_MARK must name the marker module}"

EXE=$INST/hello-setup.exe
new_env
approval hello-exe hello-setup.exe "$(sha256 "$EXE")"
export SG_LOADED_MARK_FILE=$T/loaded
OPEN=$T/open
mkdir -m 0755 "$OPEN" "$OPEN/inc" "$T/safe"
chmod 0777 "$OPEN" "$OPEN/inc"
cp "$SG_LOADED_MARK" "$OPEN/mark.so"

# Safe configuration files (ours, 0644, in a 0755 folder of ours) naming the open folder.
cat >"$T/safe/provider.cnf" <<CNF
openssl_conf = init
[init]
providers = provs
[provs]
default = def
mark = mark_sect
[def]
activate = 1
[mark_sect]
module = $OPEN/mark.so
activate = 1
CNF
cat >"$T/safe/engine.cnf" <<CNF
openssl_conf = init
[init]
engines = engs
[engs]
pkcs11 = p11
[p11]
engine_id = pkcs11
dynamic_path = $OPEN/mark.so
CNF
cp "$T/safe/provider.cnf" "$OPEN/inc/x.cnf"
printf '.include %s\n' "$OPEN/inc" >"$T/safe/include.cnf"
printf '.include x.cnf\n' >"$T/safe/relative.cnf"

not_loaded() {
	[ ! -e "$SG_LOADED_MARK_FILE" ] || fail "$1: the module in $OPEN was loaded: $(cat "$SG_LOADED_MARK_FILE")"
	ok
}

# outcome WHAT RC FILE [PRODUCT]: nothing loaded; refused (2) naming the open
# folder in FILE and PRODUCT not written, or done (0) without reading it.
outcome() {
	not_loaded "$1"
	case $2 in
	2)
		expect_in "$3" "$OPEN"
		[ -z "${4:-}" ] || expect_absent "$4"
		;;
	0) ok ;;
	*) fail "$1 exited $2, expected 2 (refused) or 0 (configuration not read)" ;;
	esac
	rm -f -- "${4:-$T/none}"
}

# The marker works: loaded by openssl itself with the provider configuration.
OPENSSL_CONF=$T/safe/provider.cnf openssl version >/dev/null 2>&1 || true
[ -s "$SG_LOADED_MARK_FILE" ] || fail "the marker module is never loaded: the test proves nothing"
rm -f -- "$SG_LOADED_MARK_FILE"

# sign and check with a safe OPENSSL_CONF naming code in the open folder.
for c in provider engine include relative; do
	for cmd in sign check; do
		rc=0
		args=(--config "$CFG" "$EXE")
		[ $cmd = sign ] && args=(--config "$CFG" --out "$T/signed.exe" "$EXE")
		OPENSSL_CONF=$T/safe/$c.cnf OPENSSL_CONF_INCLUDE=$OPEN/inc \
			"$SG_BIN" $cmd "${args[@]}" >"$T/out" 2>"$T/err" || rc=$?
		outcome "$cmd with OPENSSL_CONF=$c.cnf" "$rc" "$T/err" "$T/signed.exe"
		rm -f -- "$LOG"
	done
done

# policy lint judges OPENSSL_CONF: it must not load what it is about to judge.
rc=0
OPENSSL_CONF=$OPEN/inc/x.cnf "$SG_BIN" policy lint --config "$CFG" >"$T/out" 2>"$T/err" || rc=$?
outcome "policy lint with an open OPENSSL_CONF" "$rc" "$T/out"

# Without a config: an approver's cosignature with a PEM key, a reviewer's
# verify, cert lint and audit verify. An OPENSSL_CONF others may write (or
# one naming code there) is code, not a reviewer's copy: refused.
mkdir -m 0755 "$T/cos"
cp "$T/env/policy/hello-exe.json" "$T/cos/"
for conf in "$OPEN/inc/x.cnf" "$T/safe/provider.cnf"; do
	rc=0
	OPENSSL_CONF=$conf "$SG_BIN" policy cosign --approvers-ca "$PKI/approvers-ca.pem" \
		--cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key" \
		"$T/cos/hello-exe.json" >"$T/out" 2>"$T/err" || rc=$?
	outcome "policy cosign (PEM key, no config) with OPENSSL_CONF=$conf" "$rc" "$T/err" \
		"$T/cos/hello-exe.json.cosign.p7s"
done

# reviewer WHAT USUAL ARGS...: USUAL is the exit without OPENSSL_CONF (an
# unsigned file fails verify, the signer certificate fails the profile: 3).
reviewer() {
	local what=$1 usual=$2 rc=0
	shift 2
	OPENSSL_CONF=$OPEN/inc/x.cnf "$SG_BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne "$usual" ] || rc=0
	outcome "$what with an open OPENSSL_CONF" "$rc" "$T/err"
}
reviewer "verify --ca" 3 verify --ca "$PKI/root.pem" --crl "$PKI/crl.pem" "$EXE"
reviewer "cert lint --cert" 3 cert lint --cert "$PKI/signer.pem" --ca "$PKI/root.pem"
: >"$T/empty.jsonl"
reviewer "audit verify --log" 0 audit verify --log "$T/empty.jsonl"
done_ok
