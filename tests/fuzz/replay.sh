#!/usr/bin/env bash
# Run a fuzz harness once over each file of the folders given (those that
# exist): the seed corpus and the regression inputs. Usage:
#   replay.sh FUZZ_BINARY DIR...
set -euo pipefail
bin=$1
shift
files=()
for d in "$@"; do
	[ -d "$d" ] || continue
	while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
done
if [ ${#files[@]} -eq 0 ]; then
	echo "replay: no input for $(basename "$bin")" >&2
	exit 1
fi
echo "replay: $(basename "$bin"): ${#files[@]} inputs"
exec "$bin" -runs=1 "${files[@]}"
