#!/usr/bin/env bash
# Set up, build with warnings as errors (gcc, the system's cc), and run every
# test (unit and integration) with CTest; then build again with clang, warnings
# as errors too, with AddressSanitizer and
# UndefinedBehaviorSanitizer (a finding stops the program) and run the
# unit tests and the integration tests of the parsers of untrusted bytes
# under them; then fuzz every parser of outside bytes for a bounded time.
# This is what CI runs (.ci/run).
#   SG_SKIP_SETUP=1      skip the package installation step
#   SG_SKIP_SANITIZE=1   skip the sanitizer pass
#   SG_SANITIZE=1        build the main pass with the sanitizers, run every test
#                        under them, and skip the separate sanitizer pass
#   SG_SKIP_PACKAGE=1    skip the Debian package step (scripts/package.sh builds
#                        and lintian-checks the .deb; scripts/package-test.sh
#                        installs it with apt, signs and verifies one installer
#                        from the installed files, and purges it)
#   SG_SKIP_FUZZ=1       skip the fuzzing step (scripts/fuzz-ci.sh: every
#                        libFuzzer harness of tests/fuzz for a bounded time;
#                        SG_FUZZ_TIME sets its seconds per harness)
set -euo pipefail

root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
build=${SG_BUILD_DIR:-$root/build-test}
san_build=${SG_SAN_BUILD_DIR:-$root/build-san}
jobs=$(nproc)
# Tests run by the sanitizer pass: every unit test, the fixture, and the
# integration tests that drive the parsers (audit log lines, the
# policy index, installer structure, torn logs, signing every format
# through the key helper and judging what osslsigncode attached), and the
# confinement tests (children, key helper and fetcher, signgate itself,
# left-overs of killed runs), and re-runs judging the outputs they find (rerun).
san_tests='^(unit\.|fixture\.|integration\.(audit|index|denials|crash|sign_formats|cab|sign_script|selfcheck|confine|keyhelper_confine|self_confine|leftovers|existing_unreadable|existing_covers|long_messages|rerun|restamp)$)'

# A sanitizer finding must never pass for an expected exit code (1, 2, 3).
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=86}

step() { printf '== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

if [ "${SG_SKIP_SETUP:-0}" != 1 ]; then
	step setup
	bash "$root/scripts/setup.sh"
fi
step "build ($build)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON \
	-DSG_SANITIZE="$([ "${SG_SANITIZE:-0}" = 1 ] && echo ON || echo OFF)" -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j "$jobs"
step "every test"
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 600)

if [ "${SG_SKIP_PACKAGE:-0}" != 1 ]; then
	step "Debian package: build, lintian, apt install, sign and verify, purge"
	start=$(date +%s)
	deb=$(SG_JOBS=$jobs bash "$root/scripts/package.sh" | tail -n 1)
	bash "$root/scripts/package-test.sh" "$deb"
	echo "package step: $(($(date +%s) - start)) s"
fi

if [ "${SG_SANITIZE:-0}" != 1 ] && [ "${SG_SKIP_SANITIZE:-0}" != 1 ]; then
	# clang's UBSan also catches NULL + 0 and a NULL passed to memcpy even for
	# zero bytes, which gcc's does not. This is CI's clang build: its warnings
	# (format-nonliteral, uninitialised variables, ...) stop it, as gcc's stop
	# the main pass. (SG_WERROR is off by default, for users' compilers.)
	step "sanitizer build, clang ($san_build)"
	cc=$(command -v clang) || { echo "test.sh: clang is missing (scripts/setup.sh installs it)" >&2; exit 1; }
	CC=$cc cmake -S "$root" -B "$san_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON \
		-DSG_SANITIZE=ON -DBUILD_TESTING=ON >/dev/null
	cmake --build "$san_build" -j "$jobs"
	step "tests under ASan and UBSan"
	(cd "$san_build" && ctest --output-on-failure -j "$jobs" --timeout 600 -R "$san_tests")
fi
if [ "${SG_SKIP_FUZZ:-0}" != 1 ]; then
	step fuzzing
	SG_FUZZ_JOBS=$jobs bash "$root/scripts/fuzz-ci.sh"
fi
step done
