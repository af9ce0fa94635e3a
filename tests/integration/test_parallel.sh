#!/usr/bin/env bash
# Concurrent signgate processes appending to one log keep one valid chain:
# no interleaved lines, no fork, no lost record.
. "$(dirname -- "$0")/lib.sh"

new_env
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
procs=8
per=5
for p in $(seq 1 "$procs"); do
	(
		for i in $(seq 1 "$per"); do
			"$SG_BIN" check --config "$CFG" "$INST/hello-setup.exe" "$INST/notes.txt" \
				>/dev/null 2>&1 || true
		done
	) &
done
# Two real signings at the same time as the checks.
"$SG_BIN" sign --config "$CFG" --out "$T/a.exe" "$INST/hello-setup.exe" >"$T/sa" 2>&1 &
"$SG_BIN" sign --config "$CFG" --out "$T/b.exe" "$INST/hello-setup.exe" >"$T/sb" 2>&1 &
wait
want=$((procs * per * 2 + 2))
sg 0 audit verify --config "$CFG"
expect_in "$T/out" "$want records, chain intact"
expect_same "$(wc -l <"$LOG")" "$want"
expect_same "$(grep -c '"decision":"signed"' "$LOG")" 2
# seq runs 1..N without gaps or repeats.
expect_same "$(grep -o '"seq":[0-9]*' "$LOG" | cut -d: -f2 | sort -n | uniq | wc -l)" "$want"

# Racing signers on one output: exactly one publishes; every other "signed"
# record is cancelled by a later "failed" record that names it.
new_env
rm -f "$LOG" # a fresh log for this part
approval hello-exe hello-setup.exe "$(sha256 "$INST/hello-setup.exe")"
for _ in 1 2 3 4 5 6; do
	"$SG_BIN" sign --config "$CFG" --out "$T/race.exe" "$INST/hello-setup.exe" >/dev/null 2>&1 &
done
wait
sg 0 audit verify --config "$CFG"
sg 0 verify --config "$CFG" "$T/race.exe"
signed=$(grep -c '"decision":"signed"' "$LOG")
cancelled=$(grep -c '"cancels":"' "$LOG" || true)
expect_same "$((signed - cancelled))" 1
ls -A "$T" | grep -c '^\.race\.exe\.sg-' >"$T/stray" || true
expect_same "$(cat "$T/stray")" 0
done_ok
