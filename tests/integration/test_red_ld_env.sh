#!/usr/bin/env bash
# Red team (issue 14, R1): the dynamic linker's variables are the same kind
# of thing as OPENSSL_ENGINES, yet not held to the strict rule. With
# LD_LIBRARY_PATH naming a folder anyone may write, every library signgate
# loads later (the pkcs11 engine's libp11, a PKCS#11 module's own
# libraries, dlopen'd in signgate or in the key helper it forks) is looked
# up there first; LD_PRELOAD and LD_AUDIT name code outright. signgate
# cannot undo what ld.so loaded before main(), but it can refuse to open a
# key in such a process, as it refuses an open OPENSSL_ENGINES: exit 2, the
# variable and the folder named, nothing signed, nothing recorded. A safe
# folder of one's own stays usable.
. "$(dirname -- "$0")/lib.sh"

EXE=$INST/hello-setup.exe
new_env
approval hello-exe hello-setup.exe "$(sha256 "$EXE")"
OPEN=$T/open
mkdir -m 0755 "$OPEN" "$T/safe"
chmod 0777 "$OPEN"

refused() {
	local var=$1 value=$2 rc=0
	env "$var=$value" "$SG_BIN" sign --config "$CFG" --out "$T/signed.exe" "$EXE" \
		>"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "sign with $var=$value exited $rc, expected 2"
	expect_in "$T/err" "$var"
	expect_in "$T/err" "$OPEN"
	expect_absent "$T/signed.exe"
	expect_absent "$LOG"
}

refused LD_LIBRARY_PATH "$OPEN"
# A list: the open folder after a safe one is searched all the same.
refused LD_LIBRARY_PATH "$T/safe:$OPEN"
# An empty entry is the working folder.
rc=0
(cd "$OPEN" && LD_LIBRARY_PATH="$T/safe::" "$SG_BIN" sign --config "$CFG" --out "$T/signed.exe" \
	"$EXE" >"$T/out" 2>"$T/err") || rc=$?
[ "$rc" -eq 2 ] || fail "sign with an empty LD_LIBRARY_PATH entry exited $rc, expected 2"
expect_in "$T/err" "LD_LIBRARY_PATH"
expect_absent "$T/signed.exe"

# LD_PRELOAD of a file in the open folder (loaded before main: the run must still not sign).
if [ -n "${SG_LOADED_MARK:-}" ]; then
	cp "$SG_LOADED_MARK" "$OPEN/pre.so"
	refused LD_PRELOAD "$OPEN/pre.so"
fi

# A safe folder of our own: signs.
LD_LIBRARY_PATH=$T/safe sg 0 sign --config "$CFG" --out "$T/signed.exe" "$EXE"
expect_in "$T/out" "signed   $EXE -> $T/signed.exe"
done_ok
