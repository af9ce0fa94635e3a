#!/usr/bin/env bash
# 1. A nested signature is attached by a keyless osslsigncode; one that has
# been taken over by the vendor's bytes may add more than ours. Ours is
# still the last signature, byte for byte, and the file's digest is still
# the one signed: signgate must also see that the output carries exactly
# one signature more than the input (here the hostile osslsigncode first
# nests a copy of the vendor's own signature, then ours).
. "$(dirname -- "$0")/lib.sh"

new_env
vpe=$INST/vendor-signed-hello-setup.exe
vmsi=$INST/vendor-signed-hello-1.0.msi
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "nest"'
approval vmsi vendor-signed-hello-1.0.msi "$(sha256 "$vmsi")" ', "existing_signature": "nest"'
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
cat >"$T/hostile" <<SH
#!/bin/bash
# It answers the version query (once per run, before any input) as osslsigncode does.
[ "\$*" != --version ] || exec /usr/bin/osslsigncode --version
in= out= prev=
for a in "\$@"; do
	case "\$prev" in -in) in=\$a ;; -out) out=\$a ;; esac
	prev=\$a
done
d=\$(dirname "\$out")
ext=\${out##*.}
/usr/bin/osslsigncode extract-signature -in "\$in" -out "\$d/v.der" >/dev/null 2>&1 || exit 9
/usr/bin/osslsigncode attach-signature -nest -sigin "\$d/v.der" -CAfile $PKI/root.pem \\
	-in "\$in" -out "\$d/mid.\$ext" >/dev/null 2>&1
[ -s "\$d/mid.\$ext" ] || exit 8
args=() prev=
for a in "\$@"; do
	[ "\$prev" = -in ] && a="\$d/mid.\$ext"
	args+=("\$a")
	prev=\$a
done
/usr/bin/osslsigncode "\${args[@]}"
rc=\$?
rm -f "\$d/mid.\$ext" "\$d/v.der"
exit \$rc
SH
chmod 0755 "$T/hostile"

# Sanity: the real osslsigncode nests ours and nothing else.
sg 0 sign --config "$CFG" --out "$T/nested.exe" "$vpe"
expect_same "$(audit_field 0 signature.signatures)" 2

sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/hostile\"#" "$CFG"
# PE: ours is last and exact; the count gives the extra signature away.
sg 3 sign --config "$CFG" --out "$T/hostile.exe" "$vpe"
expect_in "$T/out" "vendor-signed-hello-setup.exe: the signed file carries 3 signatures, not the input's 1 and ours"
expect_absent "$T/hostile.exe"
expect_same "$(audit_field 0 decision)" invalid
# MSI: osslsigncode nests the extra one after ours, so ours is not the last one.
sg 3 sign --config "$CFG" --out "$T/hostile.msi" "$vmsi"
expect_in "$T/out" "is not the signature signgate attached"
expect_absent "$T/hostile.msi"
expect_same "$(audit_field 0 decision)" invalid

# 2. A hostile osslsigncode that puts a primary signature of its own (over
# the same digest, with a certificate it made) in place of the vendor's,
# and nests ours under it: two signatures, ours last and exact, the
# digest the one signed; but the primary is not the input's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=Evil \
	-days 2 -keyout "$T/evil.key" -out "$T/evil.pem" >/dev/null 2>&1 || fail "no evil cert"
# Confined, it reads nothing of the test's: it carries its key and certificate
# in itself and writes them into the one folder where it may write.
cat >"$T/hostile2" <<SH
#!/bin/bash
# It answers the version query (once per run, before any input) as osslsigncode does.
[ "\$*" != --version ] || exec /usr/bin/osslsigncode --version
in= out= prev=
for a in "\$@"; do
	case "\$prev" in -in) in=\$a ;; -out) out=\$a ;; esac
	prev=\$a
done
d=\$(dirname "\$out")
cat >"\$d/evil.key" <<'KEY'
$(cat "$T/evil.key")
KEY
cat >"\$d/evil.pem" <<'PEM'
$(cat "$T/evil.pem")
PEM
/usr/bin/osslsigncode sign -certs "\$d/evil.pem" -key "\$d/evil.key" -h sha256 \\
	-in "\$in" -out "\$d/mid.exe" >/dev/null 2>&1
[ -s "\$d/mid.exe" ] || exit 8
args=() prev=
for a in "\$@"; do
	[ "\$prev" = -in ] && a="\$d/mid.exe"
	args+=("\$a")
	prev=\$a
done
/usr/bin/osslsigncode "\${args[@]}"
rc=\$?
rm -f "\$d/mid.exe" "\$d/evil.key" "\$d/evil.pem"
exit \$rc
SH
chmod 0755 "$T/hostile2"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/hostile2\"#" "$CFG"
sg 3 sign --config "$CFG" --out "$T/hostile2.exe" "$vpe"
expect_in "$T/out" "vendor-signed-hello-setup.exe: the signed file's primary signature is not the input's"
expect_absent "$T/hostile2.exe"
expect_same "$(audit_field 0 decision)" invalid

# 3. osslsigncode runs as signgate's account: one taken over by the MSI
# must not read the key material or its secret, which the key helper read
# (they are hidden from it: /dev/null is bound over each in a mount
# namespace of its own, locked there when signgate runs as root). This one
# tries to unmount them, reports what it read and stops.
cat >"$T/hostile3" <<SH
#!/bin/bash
# It answers the version query (once per run, before any input) as osslsigncode does.
[ "\$*" != --version ] || exec /usr/bin/osslsigncode --version
# First try to undo the binds (root keeps capabilities in its namespace).
/usr/bin/python3 -c 'import ctypes, sys
libc = ctypes.CDLL(None)
for f in sys.argv[1:]:
    libc.umount2(f.encode(), 2)' $PKI/signer.pass $PKI/signer.p12 2>/dev/null
p=\$(head -c 64 $PKI/signer.pass 2>/dev/null)
k=\$(head -c 4 $PKI/signer.p12 2>/dev/null | od -An -tx1 | tr -d ' ')
echo "password [\$p] pkcs12 [\$k]" >&2
exit 1
SH
chmod 0755 "$T/hostile3"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/hostile3\"#" "$CFG"
# Confined, its umount2 is a violation that ends it.
sg 1 sign --config "$CFG" --out "$T/hostile3.msi" "$INST/hello-1.0.msi"
expect_in "$T/out" "confinement violation in osslsigncode: system call umount2"
expect_absent "$T/hostile3.msi"
# Without Landlock and seccomp, the hidden files alone keep the secrets.
SIGNGATE_CONFINE_FORCE=landlock=0,seccomp=0 sg 1 sign --config "$CFG" --out "$T/hostile3.msi" "$INST/hello-1.0.msi"
expect_in "$T/out" "password [] pkcs12 []"
expect_absent "$T/hostile3.msi"

# 4. So do the osslsigncode runs that verify (and, for an MSI, extract) a
# signature, which read files that may be a vendor's: each run appends what
# it could read to a file of the test.
cat >"$T/hostile4" <<SH
#!/bin/bash
p=\$(head -c 64 $PKI/signer.pass 2>/dev/null)
k=\$(head -c 4 $PKI/signer.p12 2>/dev/null | od -An -tx1 | tr -d ' ')
echo "\$1: password [\$p] pkcs12 [\$k]" >>$T/stolen
exec /usr/bin/osslsigncode "\$@"
SH
chmod 0755 "$T/hostile4"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/hostile4\"#" "$CFG"
approval vpe vendor-signed-hello-setup.exe "$(sha256 "$vpe")" ', "existing_signature": "replace"'
# Its notes go beside the test, which Landlock forbids: the hidden files alone are tested.
SIGNGATE_CONFINE_FORCE=landlock=0 sg 0 sign --config "$CFG" --out "$T/replaced.exe" "$vpe"
SIGNGATE_CONFINE_FORCE=landlock=0 sg 0 verify --config "$CFG" "$T/replaced.exe"
expect_in "$T/stolen" "verify: password [] pkcs12 []"
expect_not_in "$T/stolen" "password [a"
[ "$(grep -c 'password \[\]' "$T/stolen")" -eq "$(wc -l <"$T/stolen")" ] ||
	fail "an osslsigncode run read the password: $(cat "$T/stolen")"
ok

# 5. An osslsigncode that attaches, then cuts the file it wrote: the signed
# file fails the structure check. That is a verdict on the output (invalid,
# status format, exit 3), told as such; nothing is published.
cat >"$T/hostile5" <<SH
#!/bin/bash
out= prev=
for a in "\$@"; do
	[ "\$prev" = -out ] && out=\$a
	prev=\$a
done
/usr/bin/osslsigncode "\$@" || exit \$?
[ -z "\$out" ] || /usr/bin/truncate -s 1536 "\$out"
SH
chmod 0755 "$T/hostile5"
sed -i "s#\"osslsigncode\": \"[^\"]*\"#\"osslsigncode\": \"$T/hostile5\"#" "$CFG"
sg 3 sign --config "$CFG" --out "$T/cut.msi" "$INST/hello-1.0.msi"
expect_in "$T/out" "invalid  $INST/hello-1.0.msi: hello-1.0.msi: the signed file is refused by the structure check: "
expect_absent "$T/cut.msi"
expect_same "$(audit_field 0 decision)" invalid
expect_same "$(audit_field 0 status)" format
done_ok
