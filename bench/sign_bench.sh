#!/usr/bin/env bash
# Benchmark: signgate's own pass over a 1 GiB installer, `signgate sign` of
# it beside what a user would run by hand, and many small installers.
#
# Usage: bench/sign_bench.sh [RUNS] [SMALL]     # defaults: 5 runs, 200 small installers
#   SG_BENCH_BUILD=DIR  signgate's build folder (default ./build, built when missing)
#   SG_BENCH_MIB=N      size of the big installers in MiB (default 1024)
#   SG_BENCH_MSI=0      skip the big MSI (wixl needs about 50 s and 4 GiB of RAM for 1 GiB)
#   SG_BENCH_PARTS="hash sign msi small profile"   the parts to run (default:
#                       all but profile: one strace'd signgate sign of the big PE)
#   SG_BENCH_BASE=DIR   a build of an earlier signgate to time side by side in
#                       (b), (b2) and (c) ("base-" cases), e.g. the commit before
#                       the key helper (issue 12)
#
# Everything is generated in a private folder under $TMPDIR (removed at the
# end): the example PKI, a config WITHOUT timestamp URLs (a TSA's latency is
# not signgate's), real installers (makensis, wixl), a policy approving each.
# Cases run round-robin, RUNS rounds, so that load from elsewhere on the
# machine falls on all of them alike; each line gives the median, the spread
# and the ratios to the cases it is compared with. Method: bench/README.md.
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
. "$root/bench/bench_lib.sh"
runs=${1:-5}
small=${2:-200}
mib=${SG_BENCH_MIB:-1024}
parts=${SG_BENCH_PARTS:-hash sign msi small}
build=${SG_BENCH_BUILD:-$root/build}
sg=$build/signgate
base_sg=${SG_BENCH_BASE:+$SG_BENCH_BASE/signgate}
oss=/usr/bin/osslsigncode

for tool in makensis wixl openssl sha256sum "$oss" /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done
if [ ! -x "$sg" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" >/dev/null
fi
want() { [[ " $parts " == *" $1 "* ]]; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sg-sign-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
need=$((mib * 6 + 512))
avail=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge "$need" ] || { echo "bench: $work needs $need MiB free, has $avail" >&2; exit 1; }
# signgate's private working folders go here too: removed with $work.
mkdir -p "$work/tmp" "$work/out" "$work/in"
export TMPDIR=$work/tmp

echo "== machine"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB;" \
	"$(. /etc/os-release && echo "$PRETTY_NAME"); $(uname -r)"
echo "$("$oss" --version 2>&1 | head -n1 | sed 's/, using://'); $(openssl version); $(sha256sum --version | head -n1)"
echo "signgate: $sg ($(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2));" \
	"load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- inputs -----------------------------------------------------------------
echo "== inputs (in $work)"
bash "$root/certs-example/make-pki.sh" "$work/pki" >"$work/pki.log" 2>&1 ||
	{ cat "$work/pki.log" >&2; exit 1; }
cfg=$work/pki/signgate.json
grep -q '"timestamp_urls": \[\]' "$cfg" ||
	{ echo "bench: expected a config without timestamp URLs" >&2; exit 1; }
echo "PKI and config: no timestamp URLs (RFC 3161 latency is the TSA's, not signgate's)"
bash "$root/tests/fixtures/make-installers.sh" "$work/base"

# Incompressible, reproducible bytes: AES-128-CTR of zeros under a fixed key.
stream() {
	head -c "$1" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
			-iv 00000000000000000000000000000000
}

# The big PE: a real NSIS installer (makensis) whose overlay is padded to the
# size. NSIS checks its CRC only over its own data, so the padding is as
# harmless to the installer as the certificate table appended by signing.
big=$work/in/big-setup.exe
base_size=$(stat -c %s "$work/base/hello-setup.exe")
{ cat "$work/base/hello-setup.exe"; stream $((mib * 1048576 - base_size)); } >"$big"
echo "big-setup.exe: hello-setup.exe (NSIS, $base_size bytes) + overlay = $(stat -c %s "$big") bytes"

bigmsi=
if want msi && [ "${SG_BENCH_MSI:-1}" != 0 ]; then
	mem=$(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
	if [ "$mem" -lt $((mib * 5)) ]; then
		echo "big MSI skipped: wixl needs about 4x the payload in RAM ($((mib * 4)) MiB); $mem MiB available"
	else
		mkdir -p "$work/msi"
		stream $((mib * 1048576)) >"$work/msi/payload.bin"
		cat >"$work/msi/big.wxs" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="3C8A6F1E-5B52-4F0B-9D1E-6A2B7C4D8E02" UpgradeCode="9E4B2D77-1A6C-4C35-8F0E-2B5D6A7C9F11"
           Name="Big" Version="1.0.0" Manufacturer="Example Vendor" Language="1033" Codepage="1252">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"
             Description="Big bench installer" Manufacturer="Example Vendor"/>
    <Media Id="1" Cabinet="big.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFilesFolder">
      <Directory Id="INSTALLDIR" Name="Big">
        <Component Id="Payload" Guid="A1B2C3D4-E5F6-4711-8899-AABBCCDDEE00">
          <File Id="PayloadBin" Name="payload.bin" Source="payload.bin" KeyPath="yes"/>
        </Component>
      </Directory></Directory></Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="Payload"/></Feature>
  </Product>
</Wix>
EOF
		(cd "$work/msi" && /usr/bin/time -f '%e %M' -o wixl.time wixl -o big.msi big.wxs)
		bigmsi=$work/in/big.msi
		mv "$work/msi/big.msi" "$bigmsi"
		read -r t rss <"$work/msi/wixl.time"
		rm -rf -- "$work/msi"
		echo "big.msi: wixl, one ${mib} MiB file in an embedded cabinet: $(stat -c %s "$bigmsi") bytes in $t s (wixl peak RSS $((rss / 1024)) MiB)"
	fi
fi

# SMALL real installers, made distinct by their payload and names: three
# quarters NSIS (makensis), one quarter MSI (wixl).
mkdir -p "$work/small" "$work/gen"
cat >"$work/gen/small.nsi" <<'EOF'
Unicode true
SetCompressor /SOLID lzma
SetDateSave off
RequestExecutionLevel user
Name "Small ${IDX}"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Signgate Bench\Small ${IDX}"
ShowInstDetails nevershow
VIProductVersion 1.0.${IDX}.0
VIAddVersionKey /LANG=0 ProductName "Small ${IDX}"
VIAddVersionKey /LANG=0 CompanyName "Example Vendor"
VIAddVersionKey /LANG=0 FileDescription "Small ${IDX} Setup"
VIAddVersionKey /LANG=0 FileVersion "1.0.${IDX}"
Page directory
Page instfiles
Section "Main"
  SetOutPath "$INSTDIR"
  File "/oname=readme.txt" "${PAYLOAD}"
SectionEnd
EOF
cat >"$work/gen/small.wxs" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="$(var.GUID)" UpgradeCode="9E4B2D77-1A6C-4C35-8F0E-2B5D6A7C9F12"
           Name="Small $(var.IDX)" Version="1.0.$(var.IDX)" Manufacturer="Example Vendor"
           Language="1033" Codepage="1252">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"
             Description="Small $(var.IDX) bench installer" Manufacturer="Example Vendor"/>
    <Media Id="1" Cabinet="small.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFilesFolder">
      <Directory Id="INSTALLDIR" Name="Small $(var.IDX)">
        <Component Id="Readme" Guid="A1B2C3D4-E5F6-4711-8899-AABBCCDDEE01">
          <File Id="ReadmeTxt" Name="readme.txt" Source="$(var.PAYLOAD)" KeyPath="yes"/>
        </Component>
      </Directory></Directory></Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="Readme"/></Feature>
  </Product>
</Wix>
EOF
n_msi=$((small / 4))
small_files=()
for i in $(seq 1 "$small"); do
	printf 'Small bench installer %d: %s\r\n' "$i" "$(stream 48 | od -An -tx1 | tr -d ' \n')" \
		>"$work/gen/p$i.txt"
	if [ "$i" -le "$n_msi" ]; then
		f=$work/small/small-$i.msi
		# wixl takes Source paths relative to the current folder only.
		(cd "$work/gen" && wixl -D IDX="$i" -D GUID="$(printf '3C8A6F1E-5B52-4F0B-9D1E-%012d' "$i")" \
			-D PAYLOAD="p$i.txt" -o "$f" small.wxs) >"$work/gen/log" 2>&1 ||
			{ cat "$work/gen/log" >&2; exit 1; }
	else
		f=$work/small/small-$i-setup.exe
		makensis -V1 -NOCONFIG -INPUTCHARSET UTF8 -DIDX="$i" -DOUT="$f" \
			-DPAYLOAD="$work/gen/p$i.txt" "$work/gen/small.nsi" >"$work/gen/log" 2>&1 ||
			{ cat "$work/gen/log" >&2; exit 1; }
	fi
	small_files+=("$f")
done
distinct=$(openssl dgst -sha256 -r "${small_files[@]}" | cut -d' ' -f1 | sort -u | wc -l)
[ "$distinct" -eq "$small" ] || { echo "bench: only $distinct of $small small installers differ" >&2; exit 1; }
echo "$small small installers: $((small - n_msi)) NSIS, $n_msi MSI, $(du -sh "$work/small" | cut -f1), all distinct"

# The policy: one approval per generated input.
{
	echo '{ "approvals": ['
	sep=
	for f in "$big" ${bigmsi:+"$bigmsi"} "${small_files[@]}"; do
		name=${f##*/}
		printf '%s{ "id": "bench-%s", "product": "Bench %s", "vendor": "Example Vendor", "version": "1.0",' \
			"$sep" "${name//[^A-Za-z0-9]/-}" "$name"
		printf ' "file": "%s", "sha256": "%s", "source": "https://example.invalid/bench",' \
			"$name" "$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)"
		printf ' "approved_by": "j.doe", "ticket": "BENCH-1", "approved_at": "2026-01-01" }\n'
		sep=,
	done
	echo '] }'
} >"$work/pki/policy/bench.json"
# Each input must be approved and recognized before anything is timed.
"$sg" check --json --config "$cfg" "$big" ${bigmsi:+"$bigmsi"} "${small_files[@]}" >"$work/check.json" ||
	{ cat "$work/check.json" >&2; echo "bench: signgate check refused an input" >&2; exit 1; }
/usr/bin/python3 - "$work/check.json" <<'PY' || { echo "bench: signgate does not take big-setup.exe as an unsigned PE" >&2; exit 1; }
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
big = [r for r in recs if r["input"]["name"] == "big-setup.exe"]
sys.exit(not (len(big) == 1 and big[0]["decision"] == "approved" and
              big[0]["input"]["format"] == "pe" and big[0]["input"]["signed_before"] is False))
PY
echo "policy: $(grep -c '"id": "bench-' "$work/pki/policy/bench.json") approvals; signgate check approves every input"

# ---- the commands compared ---------------------------------------------------
sign_args=(sign -h sha256 -pkcs12 "$work/pki/signer.p12" -readpass "$work/pki/signer.pass"
	-n "Bench 1.0" -i https://example.invalid/bench)
verify_args=(verify -CAfile "$work/pki/root.pem" -CRLfile "$work/pki/crl.pem" -ignore-cdp)
# The hand pipeline a user would otherwise run: hash, sign, verify.
cat >"$work/hand.sh" <<EOF
set -e
hash=\$1 in=\$2 out=\$3
if [ "\$hash" = sha256sum ]; then sha256sum "\$in" >/dev/null; else openssl dgst -sha256 "\$in" >/dev/null; fi
$oss $(printf '%q ' "${sign_args[@]}") -in "\$in" -out "\$out" >/dev/null
$oss $(printf '%q ' "${verify_args[@]}") -in "\$out" >/dev/null
EOF
# A shell loop of bare osslsigncode sign calls.
cat >"$work/loop.sh" <<EOF
set -e
out=\$1
shift
for f; do $oss $(printf '%q ' "${sign_args[@]}") -in "\$f" -out "\$out/\${f##*/}" >/dev/null; done
EOF
# Outputs of one case are removed, and written back, outside the timing.
fresh_out() {
	rm -rf -- "$work/out"
	mkdir -p "$work/out"
	sync
}
verdict() { # verdict TEXT NAME BASE OP LIMIT: is median(NAME)/median(BASE) OP LIMIT?
	awk -v text="$1" -v a="$(median_of "$2")" -v b="$(median_of "$3")" -v op="$4" -v lim="$5" '
		BEGIN { r = a / b; ok = (op == "<=") ? r <= lim : r >= lim
		        printf "target %-52s %5.2fx (%s %s): %s\n", text, r, op, lim, ok ? "MET" : "NOT MET" }'
}

# ---- (a) signgate's own pass vs openssl dgst -sha256 -------------------------
if want hash; then
	echo "== (a) one pass over $mib MiB: signgate check (policy, private copy, digests, structure, audit) vs openssl dgst"
	for r in $(seq 1 "$runs"); do
		timed openssl-sha256 openssl dgst -sha256 "$big"
		timed signgate-check "$sg" check --config "$cfg" "$big"
		timed sha256sum sha256sum "$big"
		timed openssl-sha1 openssl dgst -sha1 "$big"
		timed openssl-sha512 openssl dgst -sha512 "$big"
		echo "  round $r/$runs done"
	done
	summary openssl-sha256
	summary signgate-check openssl-sha256
	summary sha256sum openssl-sha256
	summary openssl-sha1 openssl-sha256
	summary openssl-sha512 openssl-sha256
	verdict "signgate's pass >= 90% of openssl dgst -sha256 speed" openssl-sha256 signgate-check ">=" 0.9
	echo "target signgate's peak RSS < 64 MiB (check, no children): $(max_rss_mib signgate-check 2) MiB"
fi

# ---- (b) signgate sign of the big PE vs the hand pipeline vs bare sign -------
if want sign; then
	echo "== (b) sign $mib MiB PE: signgate sign vs hand pipeline (hash; osslsigncode sign; verify) vs bare osslsigncode sign"
	for r in $(seq 1 "$runs"); do
		fresh_out
		timed_own signgate-sign "$sg" sign --config "$cfg" --out-dir "$work/out" "$big"
		fresh_out
		if [ -n "$base_sg" ]; then
			timed_own base-sign "$base_sg" sign --config "$cfg" --out-dir "$work/out" "$big"
			fresh_out
		fi
		timed hand-sha256sum bash "$work/hand.sh" sha256sum "$big" "$work/out/hand.exe"
		fresh_out
		timed hand-openssl bash "$work/hand.sh" openssl "$big" "$work/out/hand.exe"
		fresh_out
		timed bare-sign "$oss" "${sign_args[@]}" -in "$big" -out "$work/out/bare.exe"
		echo "  round $r/$runs done"
	done
	fresh_out
	summary bare-sign
	summary hand-sha256sum bare-sign
	summary hand-openssl bare-sign
	summary signgate-sign hand-sha256sum hand-openssl bare-sign
	[ -z "$base_sg" ] || summary base-sign bare-sign
	verdict "signgate sign <= 0.6x the hand pipeline (sha256sum)" signgate-sign hand-sha256sum "<=" 0.6
	verdict "signgate sign <= 1.5x bare osslsigncode sign" signgate-sign bare-sign "<=" 1.5
	echo "target signgate's peak RSS < 64 MiB (sign, signgate itself): $(max_rss_mib signgate-sign 3) MiB;" \
		"with its children: $(max_rss_mib signgate-sign 2) MiB"
	echo "target the key helper's peak RSS < 16 MiB ($mib MiB PE): $(max_rss_mib signgate-sign 4) MiB"
	echo "(for reference, not a target) vs the hand pipeline with openssl dgst: $(awk -v a="$(median_of signgate-sign)" -v b="$(median_of hand-openssl)" 'BEGIN { printf "%.2fx", a / b }')"
fi

# ---- (b2) the same for the big MSI (no target; for comparison) ---------------
if want msi && [ -n "$bigmsi" ]; then
	echo "== (b2) sign the big MSI: signgate sign vs hand pipeline vs bare osslsigncode sign (no target)"
	for r in $(seq 1 "$runs"); do
		fresh_out
		timed_own msi-signgate-sign "$sg" sign --config "$cfg" --out-dir "$work/out" "$bigmsi"
		fresh_out
		if [ -n "$base_sg" ]; then
			timed_own msi-base-sign "$base_sg" sign --config "$cfg" --out-dir "$work/out" "$bigmsi"
			fresh_out
		fi
		timed msi-hand-sha256sum bash "$work/hand.sh" sha256sum "$bigmsi" "$work/out/hand.msi"
		fresh_out
		timed msi-bare-sign "$oss" "${sign_args[@]}" -in "$bigmsi" -out "$work/out/bare.msi"
		echo "  round $r/$runs done"
	done
	fresh_out
	summary msi-bare-sign
	summary msi-hand-sha256sum msi-bare-sign
	summary msi-signgate-sign msi-hand-sha256sum msi-bare-sign
	[ -z "$base_sg" ] || summary msi-base-sign msi-bare-sign
	verdict "signgate sign of the MSI <= 1.5x bare osslsigncode sign" msi-signgate-sign msi-bare-sign "<=" 1.5
	echo "target the key helper's peak RSS < 16 MiB (MSI): $(max_rss_mib msi-signgate-sign 4) MiB"
fi

# ---- (c) SMALL installers: -j 1 vs -j 2 vs a shell loop of bare sign ---------
if want small; then
	echo "== (c) $small small installers: signgate sign [-j N] vs a shell loop of bare osslsigncode sign"
	has_jobs=0
	if "$sg" sign --help | grep -Eq -- '(^|[ ,])-j[ ,]|--jobs'; then
		has_jobs=1
	else
		echo "signgate sign has no -j option yet (signgate sign --help): the -j 1 and -j 2 cases are" \
			"skipped; measuring signgate sign as it is (one input after the other)"
	fi
	for r in $(seq 1 "$runs"); do
		if [ "$has_jobs" -eq 1 ]; then
			fresh_out
			timed_own small-j1 "$sg" sign -j 1 --config "$cfg" --out-dir "$work/out" "${small_files[@]}"
			fresh_out
			timed_own small-j2 "$sg" sign -j 2 --config "$cfg" --out-dir "$work/out" "${small_files[@]}"
			if [ -n "$base_sg" ]; then
				fresh_out
				timed_own base-small-j2 "$base_sg" sign -j 2 --config "$cfg" --out-dir "$work/out" "${small_files[@]}"
			fi
		else
			fresh_out
			timed_own small-signgate "$sg" sign --config "$cfg" --out-dir "$work/out" "${small_files[@]}"
		fi
		[ "$(find "$work/out" -type f | wc -l)" -eq "$small" ] || bench_fail "signgate did not write $small outputs"
		fresh_out
		timed small-loop bash "$work/loop.sh" "$work/out" "${small_files[@]}"
		[ "$(find "$work/out" -type f | wc -l)" -eq "$small" ] || bench_fail "the loop did not write $small outputs"
		echo "  round $r/$runs done"
	done
	fresh_out
	summary small-loop
	if [ "$has_jobs" -eq 1 ]; then
		summary small-j1 small-loop
		summary small-j2 small-j1 small-loop
		verdict "-j 2 at least 1.7x faster than -j 1" small-j1 small-j2 ">=" 1.7
		verdict "-j 1 within 1.3x of the bare shell loop" small-j1 small-loop "<=" 1.3
		if [ -n "$base_sg" ]; then
			summary base-small-j2 small-j2
			verdict "-j 2 no slower than the base build's -j 2" small-j2 base-small-j2 "<=" 1.0
		fi
	else
		summary small-signgate small-loop
		verdict "signgate sign (no -j) within 1.3x of the bare shell loop" small-signgate small-loop "<=" 1.3
	fi
fi
# ---- profile: where one signgate sign of the big PE spends its time ----------
if want profile; then
	echo "== profile: one signgate sign of the big PE under strace -f (bench/strace_phases.py)"
	fresh_out
	strace -f -ttt -T -o "$work/strace.log" \
		-e trace=execve,exit_group,openat,read,write,fsync,renameat2,unlinkat,rmdir,wait4 \
		"$sg" sign --config "$cfg" --out-dir "$work/out" "$big" >"$work/last.out" 2>"$work/last.err" ||
		bench_fail "signgate sign under strace failed"
	/usr/bin/python3 "$root/bench/strace_phases.py" "$work/strace.log" "$big"
	fresh_out
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
