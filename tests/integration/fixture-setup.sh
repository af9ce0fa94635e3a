#!/usr/bin/env bash
# CTest fixture: build everything the integration tests share into FIXDIR:
# the example PKI (with CRLs, and a SoftHSM2 token holding the signing key
# and an ECDSA key), a second "vendor" code-signing identity, real unsigned
# installers (makensis, wixl), vendor-signed copies, and two TSAs on
# 127.0.0.1 (one answering, one failing with HTTP 500).
set -euo pipefail
umask 022 # the PKI and config must pass the strict modes (README "Strict modes")

fix=${1:?usage: fixture-setup.sh FIXDIR}
src=$(cd -- "$(dirname -- "$0")/../.." && pwd -P)

"$src/tests/integration/fixture-cleanup.sh" "$fix" 2>/dev/null || true
rm -rf -- "$fix"
# The fixture itself lives in a fresh folder under /tmp, FIXDIR is a link to
# it, and the tests use its real path: the PKI and configs must pass
# signgate's strict modes (README "Strict modes"), which hold every folder
# above them to the rule, and the build tree may lie below folders of
# another account.
real=$(mktemp -d /tmp/sg-fixture.XXXXXX)
chmod 0755 -- "$real"
mkdir -p -- "$(dirname -- "$fix")"
ln -s -- "$real" "$fix"
fix=$real

bash "$src/certs-example/make-pki.sh" "$fix/pki" >"$fix/pki.log"
# The signer key in a SoftHSM2 token, and an ECDSA key made inside it:
# signgate-pkcs11.json and signgate-pkcs11-ec.json beside signgate.json.
bash "$src/certs-example/softhsm-token.sh" --ec "$fix/pki" >"$fix/softhsm.log"
bash "$src/tests/fixtures/make-installers.sh" "$fix/inst"

# A vendor identity that our root does not know: for already-signed inputs.
vendor="$fix/vendor"
mkdir -p "$vendor"
openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 30 -subj "/CN=Vendor Test Code Signing" \
	-keyout "$vendor/vendor.key" -out "$vendor/vendor.pem" \
	-addext "extendedKeyUsage=critical,codeSigning" -addext "keyUsage=critical,digitalSignature" \
	-addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
for f in hello-setup.exe hello-1.0.msi hello-1.0.msp; do
	osslsigncode sign -h sha256 -certs "$vendor/vendor.pem" -key "$vendor/vendor.key" \
		-in "$fix/inst/$f" -out "$fix/inst/vendor-signed-$f" >/dev/null
done

start_tsa() {
	local name=$1
	shift
	setsid /usr/bin/python3 "$src/tests/fixtures/tsa_server.py" --port 0 \
		--config "$fix/pki/tsa.cnf" --port-file "$fix/$name.port" "$@" \
		</dev/null >"$fix/$name.log" 2>&1 &
	echo $! >"$fix/$name.pid"
	for _ in $(seq 1 100); do
		[ -s "$fix/$name.port" ] && return 0
		sleep 0.1
	done
	echo "fixture: the $name TSA did not start; its log:" >&2
	cat "$fix/$name.log" >&2
	return 1
}
start_tsa tsa
start_tsa tsa-down --fail
echo "fixture ready in $fix (TSA on 127.0.0.1:$(cat "$fix/tsa.port"))"
