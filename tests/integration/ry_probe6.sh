. "$(dirname -- "$0")/lib.sh"
new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
sg 0 sign --config "$CFG" --out "$T/s1.exe" "$INST/hello-setup.exe"
rep() { local rc=0; timeout 10 "$SG_BIN" audit report "$@" >"$T/r.out" 2>"$T/r.err" || rc=$?; echo "== $* : rc=$rc $(head -c 300 $T/r.err)"; }
mkfifo "$T/fifo"
rep --config "$T/fifo"
cp "$CFG" "$T/cfg.bak"
config_set audit_log "\"$T/fifo\""
rep --config "$CFG"
cp "$T/cfg.bak" "$CFG"
/usr/bin/python3 - "$CFG" "$T/fifo" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["trust"]["approvers_ca_file"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
rep --config "$CFG" --policy "$T/env/policy"
rep --config "$CFG"
cp "$T/cfg.bak" "$CFG"
/usr/bin/python3 - "$CFG" "$T/fifo" "$PKI/root.pem" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["trust"]["approvers_ca_file"] = sys.argv[3]; c["trust"]["approvers_crl_file"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
rep --config "$CFG" --policy "$T/env/policy"
cp "$T/cfg.bak" "$CFG"
mkfifo "$T/env/policy/z.json"
rep --config "$CFG" --policy "$T/env/policy"
rm "$T/env/policy/z.json"
# log given twice via hardlink
ln "$LOG" "$T/hl.jsonl"
rep --log "$T/hl.jsonl" --log "$LOG" --json
# /dev/zero and /dev/stdin as log
rep --log /dev/zero --json
rep --log /proc/self/status --json
done_ok
