#!/usr/bin/env bash
# red15 B: a `signgate timestamp` re-run takes an existing output as "this
# input timestamped already" (exit 0, "skipped", recorded with its digests)
# when only the signature and the Authenticode digest match: bytes outside
# the signed range are not compared with anything signgate wrote. A PE whose
# CheckSum was changed and an MSI with 512 foreign bytes appended pass; the
# record vouches for bytes signgate never wrote. `sign` guards the same case
# with the audit log (check_recorded(): an output passes only when a signing
# record names exactly these bytes); `timestamp` should do the same (its own
# "timestamped" record of exactly these bytes from this input).
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
approval hello-msi hello-1.0.msi "$(sha256 "$INST/hello-1.0.msi")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe" "$INST/hello-1.0.msi"
config_set_signing timestamp_urls "[\"$good\"]"
sg 0 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/hello-setup.exe" "$T/signed/hello-1.0.msi"

# The PE's CheckSum (outside the Authenticode digest) changed by someone else.
python3 - "$T/ts/hello-setup.exe" <<'PY'
import sys, struct
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
pe = struct.unpack_from('<I', b, 0x3c)[0]
b[pe + 88:pe + 92] = b'\xde\xad\xbe\xef'
open(p, 'wb').write(b)
PY
# The MSI with foreign bytes after its last sector.
printf 'FOREIGN-BYTES-%.0s' $(seq 1 32) >>"$T/ts/hello-1.0.msi"
for f in hello-setup.exe hello-1.0.msi; do
	tampered=$(sha256 "$T/ts/$f")
	lines=$(wc -l <"$LOG")
	sg 1 timestamp --config "$CFG" --out-dir "$T/ts" "$T/signed/$f"
	expect_in "$T/out" "exists already and is not this input timestamped"
	expect_not_in "$LOG" "$tampered"
	expect_same "$(wc -l <"$LOG")" $((lines + 1))
done
done_ok
