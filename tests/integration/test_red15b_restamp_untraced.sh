#!/usr/bin/env bash
# red15 B: `signgate timestamp` timestamps a file of ours that no signing
# record of the audit log names: our signed output with its PE CheckSum
# changed (outside the signed range). check_before() asks only "our valid
# signature, alone, signgate's attributes"; it never asks the log where the
# file came from, so the "timestamp" record's input is a SHA-256 that no
# "sign" record ever produced. `sign` refuses the same kind of file
# (sg_pipeline_judge_ours(): "the audit log holds no signing record of this
# file ... sign the vendor's original file instead").
. "$(dirname -- "$0")/lib.sh"

good="http://127.0.0.1:$(cat "$FIX/tsa.port")/tsr"
down="http://127.0.0.1:$(cat "$FIX/tsa-down.port")/tsr"
new_env ", \"timestamp_urls\": [\"$down\"], \"timestamp\": \"optional\", \"timestamp_timeout\": 5, \"certificate\": \"$PKI/signer.pem\""
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out-dir "$T/signed" "$INST/hello-setup.exe"
mkdir "$T/mod"
cp "$T/signed/hello-setup.exe" "$T/mod/hello-setup.exe"
python3 - "$T/mod/hello-setup.exe" <<'PY'
import sys, struct
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
pe = struct.unpack_from('<I', b, 0x3c)[0]
b[pe + 88:pe + 92] = b'\xde\xad\xbe\xef'
open(p, 'wb').write(b)
PY
untraced=$(sha256 "$T/mod/hello-setup.exe")
config_set_signing timestamp_urls "[\"$good\"]"
sg 3 timestamp --config "$CFG" --out-dir "$T/ts" "$T/mod/hello-setup.exe"
expect_absent "$T/ts/hello-setup.exe"
expect_same "$(audit_field 0 decision)" denied
expect_in "$T/out" "no signing record"
done_ok
