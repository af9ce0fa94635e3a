#!/usr/bin/env bash
# Set up, build with warnings as errors, and run every test (unit and
# integration) with CTest. This is what CI runs (.ci/run).
#   SG_SKIP_SETUP=1   skip the package installation step
#   SG_SANITIZE=1     build with AddressSanitizer and UBSan
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
build=${SG_BUILD_DIR:-$root/build-test}

if [ "${SG_SKIP_SETUP:-0}" != 1 ]; then
	bash "$root/scripts/setup.sh"
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON \
	-DSG_SANITIZE="$([ "${SG_SANITIZE:-0}" = 1 ] && echo ON || echo OFF)" -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
