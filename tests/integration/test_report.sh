#!/usr/bin/env bash
# signgate audit report (JSON): every field checked against the log made by
# real sign / deny / fail runs; counts per day over records of past days;
# --since/--until; rotated archives found through the rotate records, and
# a missing archive (partial); seals (sealed up to, not sealed yet, none);
# a broken chain (exit 3, the verdict and the files, no rows, the edited
# text nowhere); a log appended while the report is made (stops at the
# verified head); hostile strings escaped; --out atomic with its mode.
. "$(dirname -- "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is missing (scripts/setup.sh installs it)"
APPEND=$(dirname -- "$0")/audit_append.py

# jqx FILE FILTER: the filter's value, compact (jq -c), or fail.
jqx() { jq -ce "$2" "$1" 2>/dev/null || { jq -c "$2" "$1" >&2 || true; fail "jq '$2' on ${1##*/}"; }; }
# expect_jq FILE FILTER EXPECTED: the filter's compact value is EXPECTED.
expect_jq() { expect_same "$(jq -c "$2" "$1")" "$3"; }
line_sha() { sed -n "$1p" "$2" | tr -d '\n' | sha256sum | cut -d' ' -f1; }

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
me=$(id -un)
uid=$(id -u)

# 1. A signing, a denial (a hostile file name), a failure (a missing input).
sg 0 sign --config "$CFG" --out "$T/signed.exe" "$INST/hello-setup.exe"
hostile=$(printf 'evil\342\200\256gnp<img src=x onerror=alert(1)>.exe')
cp "$INST/hello-setup.exe" "$T/$hostile"
sg 3 sign --config "$CFG" --out-dir "$T/o" "$T/$hostile"
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing.exe"
day=$(audit_field 1 time | cut -c1-10)

sg 0 audit report --config "$CFG" --json
R=$T/r1.json
cp "$T/out" "$R"
jq -e . "$R" >/dev/null || fail "the report is not JSON"
expect_jq "$R" '.report.format' '"signgate-audit-report/1"'
expect_jq "$R" '.report.config' "\"$CFG\""
expect_jq "$R" '[.report.since, .report.until, .report.policy]' '[null,null,null]'
expect_jq "$R" '.report.generated_by.user' "\"$me\""
expect_jq "$R" '.report.generated_by.uid' "$uid"
expect_jq "$R" '[keys_unsorted[]]' \
	'["report","verdict","files","period","days","totals","certificates","certificates_not_listed","policy","problems","signings"]'
expect_jq "$R" '.verdict.status' '"intact"'
expect_jq "$R" '[.verdict.exit_code, .verdict.records, .verdict.first_seq, .verdict.last_seq]' '[0,3,1,3]'
expect_jq "$R" '.verdict.head' "\"$(line_sha 3 "$LOG")\""
expect_jq "$R" '.verdict.seals' \
	'{"configured":false,"checked":0,"sealed_seq":null,"sealed_time":null,"unsealed_records":3,"against":null,"certificate_sha256":null,"seal_records":0,"last_seal_record_seq":null}'
expect_in "$R" 'NO SEALS were checked (none configured)'
expect_jq "$R" '.verdict.verify_command' "\"signgate audit verify --config '$CFG'\""
expect_jq "$R" '.files' "[{\"role\":\"log\",\"path\":\"$LOG\",\"bytes\":$(stat -c %s "$LOG"),\"sha256\":\"$(sha256 "$LOG")\"}]"
expect_jq "$R" '.period' "{\"from\":\"$day\",\"to\":\"$day\",\"days\":1}"
expect_jq "$R" '.days' "[{\"date\":\"$day\",\"signed\":1,\"denied\":1,\"failed\":1}]"
expect_jq "$R" '.totals' '{"records":3,"signed":1,"denied":1,"failed":1}'
expect_jq "$R" '.policy' 'null'
# The signer certificate, from the signing record.
thumb=$(audit_field 1 signature.signer.sha1_thumbprint)
expect_jq "$R" '.certificates | length' 1
expect_jq "$R" '.certificates[0] | [.sha1_thumbprint, .sha256, .subject, .not_after, .signings, .expiry_warning]' \
	"$(jq -c '.signature.signer | [.sha1_thumbprint, .sha256, .subject, .not_after, 1, null]' <(sed -n 1p "$LOG"))"
left=$(( ($(date -u -d "$(audit_field 1 signature.signer.not_after)" +%s) - $(date -u +%s)) / 86400 ))
jqx "$R" ".certificates[0].days_left | . == $left or . == $((left - 1))" >/dev/null
ok
expect_jq "$R" '.certificates[0] | [.first_used, .last_used]' "[\"$(audit_field 1 time)\",\"$(audit_field 1 time)\"]"
# The problems: the denial with its reason, the failure with its error, oldest first.
expect_jq "$R" '[.problems[] | [.seq, .action, .decision]]' '[[2,"sign","denied"],[3,"sign","failed"]]'
expect_jq "$R" '.problems[0].input' "$(jq -c '.input | {name, sha256}' <(sed -n 2p "$LOG"))"
expect_jq "$R" '.problems[0].reasons' "$(jq -c '.reasons' <(sed -n 2p "$LOG"))"
expect_jq "$R" '.problems[0].time' "\"$(audit_field 2 time)\""
expect_jq "$R" '.problems[0].actor' "{\"user\":\"$me\",\"uid\":$uid,\"host\":\"$(audit_field 2 actor.host)\"}"
expect_jq "$R" '.problems[1] | [.input.name, .input.sha256, .approval_id, .reasons]' '["missing.exe",null,null,[]]'
expect_jq "$R" '.problems[1].error' "\"$(audit_field 3 error)\""
# The signing: its approval (approver with its source), signer, no timestamp.
expect_jq "$R" '.signings | length' 1
expect_jq "$R" '.signings[0] | [.seq, .id, .time]' "[1,\"$(audit_field 1 id)\",\"$(audit_field 1 time)\"]"
expect_jq "$R" '.signings[0].input' \
	"{\"name\":\"hello-setup.exe\",\"sha256\":\"$(sha256 "$INST/hello-setup.exe")\",\"size\":$(stat -c %s "$INST/hello-setup.exe")}"
expect_jq "$R" '.signings[0].output' "{\"sha256\":\"$(sha256 "$T/signed.exe")\",\"size\":$(stat -c %s "$T/signed.exe")}"
expect_jq "$R" '.signings[0].approval | [.id, .product, .vendor, .version, .ticket, .approved_by, .approved_by_from, .cosigned_by]' \
	'["hello-exe","Hello","Example","1.0","SEC-1","j.doe","approval file (not verified)",null]'
expect_jq "$R" '.signings[0].approval.policy_file_sha256' "\"$(sha256 "$T/env/policy/hello-exe.json")\""
expect_jq "$R" '.signings[0].signer' "$(jq -c '.signature.signer | {subject, sha1_thumbprint, not_after}' <(sed -n 1p "$LOG"))"
expect_jq "$R" '.signings[0] | [.timestamp, .tsa_url]' '[null,null]'
expect_jq "$R" '.signings[0].actor.user' "\"$me\""

# 2. Hostile strings: the bidi override never leaves as raw bytes; jq reads the name back exactly.
expect_jq "$R" '.problems[0].input.name' "$(jq -cn --arg n "$hostile" '$n')"
if grep -q "$(printf '\342\200\256')" "$R"; then fail "a raw U+202E in the JSON report"; fi
ok
expect_in "$R" 'evil\u202Egnp<img'

# 3. Counts per day: records of past days (a signer expiring soon, an expired one).
soon=$(date -u -d '+20 days' +%Y-%m-%dT%H:%M:%SZ)
python3 "$APPEND" "$LOG" 2026-11-01T00:00:00Z \
	"{\"action\":\"sign\",\"decision\":\"signed\",\"input\":{\"name\":\"a.exe\",\"sha256\":\"$(printf '%064d' 1)\"},\"signature\":{\"signer\":{\"subject\":\"CN=Soon\",\"sha1_thumbprint\":\"AA11\",\"sha256\":\"bb11\",\"not_after\":\"$soon\"}}}"
python3 "$APPEND" "$LOG" 2026-11-01T23:59:59Z \
	'{"action":"sign","decision":"signed","input":{"name":"b.exe"},"signature":{"signer":{"subject":"CN=Old","sha1_thumbprint":"CC22","sha256":"dd22","not_after":"2026-11-15T00:00:00Z"}}}'
python3 "$APPEND" "$LOG" 2026-11-03T12:00:00Z '{"action":"check","decision":"denied","reasons":["not approved"]}'
python3 "$APPEND" "$LOG" 2026-11-03T13:00:00Z '{"action":"verify","decision":"invalid","error":"bad signature"}'
python3 "$APPEND" "$LOG" 2026-11-02T08:00:00Z '{"action":"check","decision":"approved"}'
sg 0 audit verify --log "$LOG"
sg 0 audit report --log "$LOG" --json
R=$T/r2.json
cp "$T/out" "$R"
span=$(( ($(date -u -d "$day" +%s) - $(date -u -d 2026-11-01 +%s)) / 86400 + 1 ))
expect_jq "$R" '.period' "{\"from\":\"2026-11-01\",\"to\":\"$day\",\"days\":$span}"
expect_jq "$R" '.days | length' "$span"
expect_jq "$R" '.days[0:4]' \
	'[{"date":"2026-11-01","signed":2,"denied":0,"failed":0},{"date":"2026-11-02","signed":0,"denied":0,"failed":0},{"date":"2026-11-03","signed":0,"denied":1,"failed":1},{"date":"2026-11-04","signed":0,"denied":0,"failed":0}]'
expect_jq "$R" '.days[-1]' "{\"date\":\"$day\",\"signed\":1,\"denied\":1,\"failed\":1}"
expect_jq "$R" '[.days[].signed] | add' 3
expect_jq "$R" '.totals' '{"records":8,"signed":3,"denied":2,"failed":2}'
expect_jq "$R" '.report.config' 'null'
expect_jq "$R" '.verdict.verify_command' "\"signgate audit verify --log '$LOG'\""
expect_jq "$R" '[.certificates[] | [.sha1_thumbprint, .expiry_warning, .signings]]' \
	"[[\"$thumb\",null,1],[\"AA11\",\"expires within 60 days\",1],[\"CC22\",\"expired\",1]]"
expect_jq "$R" '.certificates[1].days_left | . == 19 or . == 20' true
expect_jq "$R" '.certificates[2].days_left < 0' true
expect_jq "$R" '[.problems[].seq]' '[2,3,6,7]'
expect_jq "$R" '.problems[3] | [.action, .decision, .error, .input]' '["verify","invalid","bad signature",null]'
expect_jq "$R" '[.signings[].seq]' '[1,4,5]'
expect_jq "$R" '.signings[2] | [.approval, .output, .input.sha256, .timestamp]' \
	'[null,{"sha256":null,"size":null},null,null]'

# 4. --since / --until: a bare --until day covers that whole day; a time cuts within it.
sg 0 audit report --log "$LOG" --json --since 2026-11-01 --until 2026-11-01
R=$T/r3.json
cp "$T/out" "$R"
expect_jq "$R" '[.report.since, .report.until]' '["2026-11-01","2026-11-01"]'
expect_jq "$R" '.period' '{"from":"2026-11-01","to":"2026-11-01","days":1}'
expect_jq "$R" '.totals' '{"records":2,"signed":2,"denied":0,"failed":0}'
expect_jq "$R" '[.signings[].seq]' '[4,5]'
expect_jq "$R" '.problems' '[]'
expect_jq "$R" '[.certificates[].sha1_thumbprint]' '["AA11","CC22"]'
expect_jq "$R" '.verdict.records' 8
sg 0 audit report --log "$LOG" --json --since 2026-11-01T12:00:00Z --until 2026-11-03T12:00:00Z
expect_jq "$T/out" '.totals' '{"records":3,"signed":1,"denied":1,"failed":0}'
expect_jq "$T/out" '.period' '{"from":"2026-11-01","to":"2026-11-03","days":3}'
expect_jq "$T/out" '[.signings[].seq, .problems[].seq]' '[5,6]'
sg 0 audit report --log "$LOG" --json --since 2030-01-01
expect_jq "$T/out" '[.period, .totals.records, .problems, .signings]' \
	'[{"from":"2030-01-01","to":"2030-01-01","days":1},0,[],[]]'
sg 2 audit report --log "$LOG" --json --since 2026-11-03 --until 2026-11-01
expect_in "$T/err" "--since 2026-11-03 is after --until 2026-11-01"
sg 2 audit report --log "$LOG" --json --since 2026-02-30
expect_in "$T/err" "--since 2026-02-30: give a UTC day YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ"
sg 2 audit report --log "$LOG" --json --since 2010-01-01 --until 2026-01-01
expect_in "$T/err" "the period 2010-01-01 to 2026-01-01 is 5845 days: a report covers at most 3660 days"
# Records that span more than 3660 days need a period.
cp "$LOG" "$T/wide.jsonl"
python3 "$APPEND" "$T/wide.jsonl" 2001-01-01T00:00:00Z '{"action":"check","decision":"denied"}'
sg 2 audit report --log "$T/wide.jsonl" --json
expect_in "$T/err" "the period 2001-01-01 to $day is"
expect_in "$T/err" "days: a report covers at most 3660 days; give --since and --until"
sg 0 audit report --log "$T/wide.jsonl" --json --since 2026-01-01
expect_jq "$T/out" '.totals.records' 8
sg 2 audit report --log "$T/wide.jsonl" --json --since 2001-01-01
expect_in "$T/err" "the period 2001-01-01 to $day is"
expect_in "$T/err" "days: a report covers at most 3660 days; give a later --since, or --until"
# A record whose time has the right shape but is no calendar day (verify checks
# the shape only): counted and listed, in no day, and the verdict says so.
cp "$LOG" "$T/undated.jsonl"
python3 "$APPEND" "$T/undated.jsonl" 2026-13-45T00:00:00Z '{"action":"sign","decision":"denied","reasons":["month 13"]}'
sg 0 audit report --log "$T/undated.jsonl" --json
expect_jq "$T/out" '[.totals.denied, (.problems | length), ([.days[].denied] | add)]' '[3,5,2]'
expect_in "$T/out" '1 record of the period has a \"time\" that is no calendar day'
# The co-signer: its certificate's strings only, never what else a record holds.
cp "$LOG" "$T/cos.jsonl"
python3 "$APPEND" "$T/cos.jsonl" 2026-11-05T00:00:00Z \
	'{"action":"sign","decision":"signed","approval":{"id":"x","approved_by":"A","approved_by_from":"certificate","cosigned_by":{"name":"B","subject":"CN=B","email":"b@example.invalid","cert_sha256":"ee","key_sha256":"ff","signing_time":1,"extra":{"deep":[1,2]}}}}'
sg 0 audit report --log "$T/cos.jsonl" --json
expect_jq "$T/out" '.signings[-1].approval | [.approved_by, .approved_by_from, .cosigned_by]' \
	'["A","certificate",{"name":"B","subject":"CN=B","email":"b@example.invalid","cert_sha256":"ee"}]'

# 5. A broken chain: an edited reason. Exit 3, the verdict and the files, no rows,
# and the edited text nowhere in the report.
sed '6s/not approved/EDITED-REASON/' "$LOG" >"$T/edited.jsonl"
sg 3 audit report --log "$T/edited.jsonl" --json
R=$T/r5.json
cp "$T/out" "$R"
expect_in "$T/err" "the audit chain is broken: the report gives the verdict and no records"
expect_jq "$R" '[keys_unsorted[]]' '["report","verdict","files","period","days","totals","certificates","certificates_not_listed","policy"]'
expect_jq "$R" '.verdict | [.status, .exit_code, .records, .last_seq]' '["broken",3,5,5]'
expect_in "$R" "BROKEN: $T/edited.jsonl: line 6: hash does not match the record's content"
expect_jq "$R" '[.period, .days, .totals, .certificates, .policy]' '[null,[],null,[],null]'
# The bytes judged, digested as they were read, and said so (a small file is read whole).
sz=$(stat -c %s "$T/edited.jsonl")
expect_jq "$R" '.files' "[{\"role\":\"log\",\"path\":\"$T/edited.jsonl\",\"bytes\":$sz,\"sha256\":\"$(sha256 "$T/edited.jsonl")\",\"note\":\"the first $sz bytes, as the check read them, the whole file then (head -c $sz FILE | sha256sum)\"}]"
expect_not_in "$R" "EDITED-REASON"
expect_not_in "$R" "not approved"
# A record removed from the middle: broken as well.
sed '3d' "$LOG" >"$T/cut.jsonl"
sg 3 audit report --log "$T/cut.jsonl" --json
expect_jq "$T/out" '.verdict.status' '"broken"'
expect_in "$T/out" "line 3: seq is 4, expected 3"
expect_jq "$T/out" 'has("problems") or has("signings")' false

# 6. Rotation: the archives are found through the rotate records (--config), the
# verify line names them, and every record of both files counts.
sg 0 audit rotate --config "$CFG"
archive=$(ls "$T/env/audit/" | grep -E '^audit\.jsonl\.[0-9]{8}T[0-9]{6}Z$')
A=$T/env/audit/$archive
sg 1 sign --config "$CFG" --out-dir "$T/o" "$T/missing2.exe"
sg 0 audit rotate --config "$CFG"
archive2=$(ls "$T/env/audit/" | grep -E '^audit\.jsonl\.[0-9]{8}T[0-9]{6}Z' | grep -vxF "$archive")
A2=$T/env/audit/$archive2
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit report --config "$CFG" --json
R=$T/r6.json
cp "$T/out" "$R"
expect_jq "$R" '[.files[] | [.role, .path]]' "[[\"archive\",\"$A\"],[\"archive\",\"$A2\"],[\"log\",\"$LOG\"]]"
expect_jq "$R" '[.files[] | .sha256]' "[\"$(sha256 "$A")\",\"$(sha256 "$A2")\",\"$(sha256 "$LOG")\"]"
expect_jq "$R" '.verdict | [.status, .records, .first_seq, .last_seq]' '["intact",12,1,12]'
expect_jq "$R" '.verdict.verify_command' "\"signgate audit verify --config '$CFG' --log '$A' --log '$A2'\""
expect_jq "$R" '.totals' '{"records":12,"signed":3,"denied":2,"failed":3}'
expect_jq "$R" '[.problems[].seq]' '[2,3,6,7,10]'
expect_jq "$R" '.problems[-1].input.name' '"missing2.exe"'
# The verify line reproduces the verdict.
eval "set -- $(jq -r .verdict.verify_command "$R" | sed 's/^signgate //')"
sg 0 "$@"
expect_in "$T/out" "12 records, chain intact (seq 1-12"

# 7. The oldest archive missing: partial, said at the top; only what is there is counted.
mv "$A" "$T/away.jsonl"
sg 0 audit report --config "$CFG" --json
R=$T/r7.json
cp "$T/out" "$R"
expect_in "$T/err" "note: $A2 continues the archive $A, which is not beside it: the report is partial"
expect_jq "$R" '.verdict | [.status, .exit_code, .records, .first_seq, .last_seq]' '["partial",0,4,9,12]'
expect_in "$R" "PARTIAL: the chain of 4 records is intact from seq 9 to 12, but the 8 records before seq 9"
expect_jq "$R" '[.files[] | .role]' '["archive","log"]'
expect_jq "$R" '.totals' '{"records":4,"signed":0,"denied":0,"failed":1}'
mv "$T/away.jsonl" "$A"

# 8. Seals: configured but none made; sealed up to the last record; records not
# sealed yet; a seals file cut back (a seal record without its seal): broken.
seal_config
SEALS=$LOG.seals
sg 0 audit report --config "$CFG" --json
expect_jq "$T/out" '.verdict.seals' "{\"configured\":true,\"checked\":0,\"sealed_seq\":null,\"sealed_time\":null,\"unsealed_records\":12,\"against\":null,\"certificate_sha256\":\"$(openssl x509 -in "$T/seal.pem" -outform DER | sha256sum | cut -d' ' -f1)\",\"seal_records\":0,\"last_seal_record_seq\":null}"
expect_in "$T/out" "NO SEAL covers any record (the seals file does not exist)"
expect_jq "$T/out" '.files[-1]' "{\"role\":\"seals\",\"path\":\"$SEALS\",\"bytes\":null,\"sha256\":null}"
sg 0 audit seal --config "$CFG"
sg 0 audit report --config "$CFG" --json
R=$T/r8.json
cp "$T/out" "$R"
expect_jq "$R" '.verdict | [.status, .last_seq]' '["intact",13]'
expect_jq "$R" '.verdict.seals' "{\"configured\":true,\"checked\":1,\"sealed_seq\":13,\"sealed_time\":\"$(jq -r .time "$SEALS")\",\"unsealed_records\":0,\"against\":null,\"certificate_sha256\":\"$(openssl x509 -in "$T/seal.pem" -outform DER | sha256sum | cut -d' ' -f1)\",\"seal_records\":1,\"last_seal_record_seq\":13}"
expect_in "$R" "Sealed up to the last record, seq 13 ($(jq -r .time "$SEALS"))."
expect_jq "$R" '.files[-1]' "{\"role\":\"seals\",\"path\":\"$SEALS\",\"bytes\":$(stat -c %s "$SEALS"),\"sha256\":\"$(sha256 "$SEALS")\"}"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit report --config "$CFG" --json
expect_jq "$T/out" '.verdict.seals | [.sealed_seq, .unsealed_records]' '[13,2]'
expect_in "$T/out" "Sealed up to seq 13 ($(jq -r .time "$SEALS")); 2 records after it are NOT sealed yet."
# The same with --log and --seals: the verify line names them.
sg 0 audit report --log "$A" --log "$A2" --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem" --json
expect_jq "$T/out" '.verdict.verify_command' \
	"\"signgate audit verify --log '$A' --log '$A2' --log '$LOG' --seals '$SEALS' --seal-cert '$T/seal.pem'\""
expect_jq "$T/out" '.verdict.seals | [.configured, .checked, .sealed_seq]' '[true,1,13]'
# Only the log (its archives not given): partial, and the seal still checked.
sg 0 audit report --log "$LOG" --seals "$SEALS" --seal-cert "$T/seal.pem" --json
expect_jq "$T/out" '.verdict | [.status, .first_seq, .seals.checked]' '["partial",11,1]'
# The seals file emptied: the seal record has no seal: broken, no rows.
cp "$SEALS" "$T/seals.bak"
: >"$SEALS"
sg 3 audit report --config "$CFG" --json
expect_jq "$T/out" '.verdict.status' '"broken"'
expect_in "$T/out" "interrupted seal: seal record seq 13 has no seal"
expect_jq "$T/out" 'has("signings")' false
cp "$T/seals.bak" "$SEALS"

# 9. A log appended while the report is made: the report stops at the verified
# head (no record after it, none missing before it), and the log's "bytes" and
# "sha256" are those of the verified records.
BIG=$T/big.jsonl
python3 "$APPEND" "$BIG" --bulk 30000 2026-10-10 denied
python3 "$APPEND" "$BIG" --loop 30 &
loop=$!
for _ in $(seq 100); do [ "$(wc -l <"$BIG")" -gt 30000 ] && break; sleep 0.1; done
sg 0 audit report --log "$BIG" --json --out "$T/big.json"
kill "$loop" 2>/dev/null || true
wait "$loop" 2>/dev/null || true
R=$T/big.json
n=$(jq .verdict.records "$R")
[ "$n" -gt 30000 ] || fail "no record appended before the report's check ($n)"
[ "$(wc -l <"$BIG")" -gt "$n" ] || fail "no record appended after the report's check"
ok
expect_jq "$R" '.verdict | [.first_seq, .last_seq]' "[1,$n]"
expect_jq "$R" '.totals | [.records, .denied]' "[$n,$n]"
expect_jq "$R" '.problems | length' "$n"
expect_jq "$R" '[.problems[0].seq, .problems[-1].seq]' "[1,$n]"
expect_jq "$R" '[.days[].denied] | add' "$n"
expect_jq "$R" '.files[0] | [.bytes, .sha256]' "[$(head -n "$n" "$BIG" | wc -c),\"$(head -n "$n" "$BIG" | sha256sum | cut -d' ' -f1)\"]"
expect_jq "$R" '.verdict.head' "\"$(line_sha "$n" "$BIG")\""
sg 0 audit verify --log "$BIG"

# 10. --out: atomic, mode 0640; an existing file only with --force; a failed
# report leaves the existing file as it was and nothing beside it.
mkdir "$T/rep"
sg 0 audit report --config "$CFG" --json --out "$T/rep/r.json"
expect_in "$T/out" "report   $T/rep/r.json"
expect_same "$(stat -c %a "$T/rep/r.json")" 640
expect_jq "$T/rep/r.json" '.verdict.status' '"intact"'
before=$(sha256 "$T/rep/r.json")
sg 2 audit report --config "$CFG" --json --out "$T/rep/r.json"
expect_in "$T/err" "$T/rep/r.json exists already: give --force to replace it"
sg 2 audit report --config "$CFG" --json --out "$T/rep/r.json" --force --since 2026-13-01
expect_same "$(sha256 "$T/rep/r.json")" "$before"
expect_same "$(ls -A "$T/rep")" "r.json"
sg 0 check --config "$CFG" "$INST/hello-setup.exe"
sg 0 audit report --config "$CFG" --json --out "$T/rep/r.json" --force
expect_jq "$T/rep/r.json" '.verdict.last_seq' 16
# A broken chain still makes the report (exit 3), published whole.
sg 3 audit report --log "$T/edited.jsonl" --json --out "$T/rep/broken.json"
expect_jq "$T/rep/broken.json" '.verdict.status' '"broken"'
# --force never replaces a file the report is made from (the log, a hard link
# to it, the seals, the config), and leaves nothing beside it.
logsum=$(sha256 "$LOG")
sg 2 audit report --config "$CFG" --json --out "$LOG" --force
expect_in "$T/err" "--out $LOG is a file the report is made from: give another"
ln "$LOG" "$T/rep/log-link"
sg 2 audit report --config "$CFG" --json --out "$T/rep/log-link" --force
sg 2 audit report --config "$CFG" --json --out "$SEALS" --force
sg 2 audit report --config "$CFG" --json --out "$CFG" --force
sg 2 audit report --log "$A" --log "$A2" --log "$LOG" --json --out "$A" --force
expect_same "$(sha256 "$LOG")" "$logsum"
expect_same "$(sha256 "$T/rep/log-link")" "$logsum"
expect_same "$(ls -A "$T/rep" | sort | tr '\n' ' ')" "broken.json log-link r.json "
expect_same "$(ls -A "$T/env/audit" | grep -c '^\.')" 0
# stdout: a failed report prints nothing.
sg 2 audit report --config "$CFG" --json --until 2026-02-30
[ ! -s "$T/out" ] || fail "a failed report printed something"
ok

# 11. --policy: its path and the SHA-256 of what was read, in "policy" and "files".
sg 0 audit report --config "$CFG" --json --policy "$T/env/policy/hello-exe.json"
R=$T/r11.json
cp "$T/out" "$R"
expect_jq "$R" '.report.policy' "\"$T/env/policy/hello-exe.json\""
expect_jq "$R" '.policy | [.path, .sha256]' "[\"$T/env/policy/hello-exe.json\",\"$(sha256 "$T/env/policy/hello-exe.json")\"]"
expect_jq "$R" '[.files[] | select(.role == "policy") | [.path, .sha256]]' \
	"[[\"$T/env/policy/hello-exe.json\",\"$(sha256 "$T/env/policy/hello-exe.json")\"]]"
jqx "$R" 'has("no_longer_approved")' >/dev/null
ok
empty_policy
sg 0 audit report --config "$CFG" --json --policy "$T/env/policy"
expect_jq "$T/out" '.policy | [.path, .sha256]' "[\"$T/env/policy\",null]"
expect_jq "$T/out" '[.files[] | select(.role == "policy") | [.path, .sha256]]' \
	"[[\"$T/env/policy/empty.json\",\"$(sha256 "$T/env/policy/empty.json")\"],[\"$T/env/policy/hello-exe.json\",\"$(sha256 "$T/env/policy/hello-exe.json")\"]]"

# 12. Usage.
sg 2 audit report --config "$CFG" --log "$LOG" --json
expect_in "$T/err" "give --config FILE or --log FILE..., not both"
sg 2 audit report --log "$LOG" --seals "$SEALS" --json
expect_in "$T/err" "give --seals FILE and --seal-cert FILE together"
sg 2 audit report --config "$CFG" --force --json
expect_in "$T/err" "--force goes with --out FILE"
sg 2 audit report --log "$T/nope.jsonl" --json
expect_in "$T/err" "$T/nope.jsonl: no such file or folder (given as --log)"
sg 0 audit report --help
expect_in "$T/out" "Usage: signgate audit report (--config FILE | --log FILE...)"
done_ok
