#!/usr/bin/env bash
# The main job on the embedded default: set up, build, then walk one release
# through signgate with the example PKI, a policy that approves one real
# installer, a local RFC 3161 TSA on 127.0.0.1, and the audit log.
#   SG_SKIP_SETUP=1   skip the package installation step
#   SG_DEMO_DIR=DIR   where to put everything (default: ./demo-out, recreated)
set -euo pipefail
# Files signgate decides by must not be writable by group or others (README
# "Strict modes"): whatever the caller's umask, create them 0644/0755.
umask 022

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
demo=${SG_DEMO_DIR:-$root/demo-out}
build=$root/build

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

if [ "${SG_SKIP_SETUP:-0}" != 1 ]; then
	bash "$root/scripts/setup.sh"
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
sg=$build/signgate

rm -rf -- "$demo"
mkdir -p -- "$demo"
cd -- "$demo"

step "1. An internal PKI: root, issuing CA, code-signing leaf (RSA-3072), TSA issued by the root"
bash "$root/certs-example/make-pki.sh" pki

step "1b. The signing certificate against the code-signing profile"
show "$sg" cert lint --config pki/signgate.json

step "2. Real unsigned vendor installers (NSIS via makensis, MSI via wixl)"
bash "$root/tests/fixtures/make-installers.sh" downloads
ls -l downloads/hello-setup.exe downloads/hello-1.0.msi downloads/other-setup.exe

step "3. A local RFC 3161 TSA on 127.0.0.1"
/usr/bin/python3 "$root/tests/fixtures/tsa_server.py" --port 0 --config pki/tsa.cnf \
	--port-file tsa.port 2>tsa.log &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s tsa.port ] && break; sleep 0.1; done
tsa_url="http://127.0.0.1:$(cat tsa.port)/tsr"
sed -i "s#\"timestamp_urls\": \[\]#\"timestamp_urls\": [\"$tsa_url\"]#" pki/signgate.json
# The example config signs without a timestamp: the demo's must name its TSA.
grep -qF "\"timestamp_urls\": [\"$tsa_url\"]" pki/signgate.json ||
	{ echo "demo: pki/signgate.json does not name the TSA" >&2; exit 1; }
echo "TSA at $tsa_url; config: $demo/pki/signgate.json"

step "4. The security team approves hello-setup.exe and hello-1.0.msi by their vendor digests"
# In real life these values come from the vendor's download page or .sha256 file.
exe_sha=$(sha256sum downloads/hello-setup.exe | cut -d' ' -f1)
msi_sha=$(sha256sum downloads/hello-1.0.msi | cut -d' ' -f1)
cat >pki/policy/hello-1.0.json <<JSON
{
  "approvals": [
    { "id": "hello-1.0-exe", "product": "Hello", "vendor": "Example Vendor", "version": "1.0",
      "file": "hello-setup.exe", "sha256": "$exe_sha",
      "source": "https://example.invalid/hello/download", "approved_by": "j.doe",
      "ticket": "SEC-1234", "approved_at": "$(date -u +%F)", "expires": "$(date -u -d '+180 days' +%F)" },
    { "id": "hello-1.0-msi", "product": "Hello", "vendor": "Example Vendor", "version": "1.0",
      "file": "hello-1.0.msi", "sha256": "$msi_sha",
      "source": "https://example.invalid/hello/download", "approved_by": "j.doe",
      "ticket": "SEC-1234", "approved_at": "$(date -u +%F)", "expires": "$(date -u -d '+180 days' +%F)" }
  ]
}
JSON
cat pki/policy/hello-1.0.json

step "5. Sign: decide, sign, verify, publish, record"
# A relative --config: its paths resolve against its own folder, made absolute
# by the config loader (integration.sign_relative_config).
cfg=pki/signgate.json
show "$sg" sign --config "$cfg" --out-dir signed downloads/hello-setup.exe downloads/hello-1.0.msi |
	tee sign.out
# Each signature carries the TSA's timestamp (without one it dies with the certificate).
[ "$(grep -c ', timestamp ' sign.out)" -eq 2 ] ||
	{ echo "demo: the signatures carry no timestamp" >&2; exit 1; }

step "5b. The same step again (a CI retry): already signed, nothing signed twice"
show "$sg" sign --config "$cfg" --out-dir signed downloads/hello-setup.exe downloads/hello-1.0.msi |
	tee again.out
[ "$(grep -c '^skipped .*: already signed: ' again.out)" -eq 2 ] ||
	{ echo "demo: the re-run did not report already signed" >&2; exit 1; }

step "6. Verify the way the site server will once the root is trusted"
show "$sg" verify --config pki/signgate.json signed/hello-setup.exe signed/hello-1.0.msi
# Signature and timestamp both chain to the enterprise root: it alone suffices.
show "$sg" verify --ca pki/root.pem --crl pki/crl.pem signed/hello-setup.exe signed/hello-1.0.msi

step "7. Denials: an unapproved installer and a tampered copy of an approved one"
mkdir -p tampered
cp downloads/hello-setup.exe tampered/hello-setup.exe
printf 'X' | dd of=tampered/hello-setup.exe bs=1 seek=4096 conv=notrunc 2>/dev/null
rc=0
show "$sg" sign --config "$cfg" --out-dir signed-denied \
	downloads/other-setup.exe tampered/hello-setup.exe || rc=$?
echo "exit status $rc (3: denied by policy); nothing written:"
ls -A signed-denied 2>/dev/null | sed 's/^/  /' || true

step "8. The audit log: chain check and records"
show "$sg" audit verify --config pki/signgate.json
show "$sg" audit show --config pki/signgate.json

step "8b. Seal the log's head with the sealing key (seal.key, not the code-signing key)"
show "$sg" audit seal --config pki/signgate.json
show "$sg" audit verify --config pki/signgate.json

step "8c. The auditor's report: one self-contained HTML page (verdict, per-day chart, signings, denials, certificates, the policy in force)"
show "$sg" audit report --config pki/signgate.json --policy pki/policy --out audit-report.html --force
show "$sg" audit report --config pki/signgate.json --policy pki/policy --json --out audit-report.json --force
grep -o '"status": *"[a-z]*"' audit-report.json | head -n 1 | sed 's/.*"\([a-z]*\)"$/verdict: \1/'

step "9. What the Windows side imports (certificates, chain, CRLs, thumbprint, script, README.txt; no key)"
show "$sg" cert export --config pki/signgate.json --chain pki/issuing.pem --out-dir windows-trust

step "Done"
echo "Signed installers: $demo/signed   Root for Windows: $demo/pki/root.cer"
echo "Audit report (open in a browser): $demo/audit-report.html"
[ "$rc" -eq 3 ] || { echo "demo: expected the denial step to exit 3" >&2; exit 1; }
