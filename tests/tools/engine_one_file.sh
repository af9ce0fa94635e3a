#!/usr/bin/env bash
# OpenSSL's ENGINE API (deprecated in OpenSSL 3) is used in exactly one
# file, the "pkcs11-engine" key source (lib/.../key_source_pkcs11_engine.c):
# no other source, header or tool includes openssl/engine.h or calls
# ENGINE_*. Usage: engine_one_file.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: engine_one_file.sh SOURCE_DIR}
mapfile -t users < <(cd "$src" && grep -rlE 'openssl/engine\.h|\bENGINE_[A-Za-z_]+[[:space:]]*\(' \
	--include='*.c' --include='*.h' lib tools include | sort)
if [ "${#users[@]}" -ne 1 ] || [ "${users[0]##*/}" != key_source_pkcs11_engine.c ]; then
	echo "FAIL: the ENGINE API is used in: ${users[*]:-nothing} (want key_source_pkcs11_engine.c alone)" >&2
	exit 1
fi
echo "1 passed, 0 failed (ENGINE API only in ${users[0]})"
