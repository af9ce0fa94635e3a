#!/usr/bin/env bash
# `audit report --config --policy` checks a co-signed approval's two
# signatures as signing checks them, with the config's approvers' CA: an
# approval signed by alice and co-signed by bob shows "approved_by" from
# alice's certificate ("certificate"), whatever its typed "approved_by"
# says. The same approval edited after the signatures, one with a single
# signature, and the same report without --config (no approvers' CA) show
# the file's typed text, "approval file (not verified)".
. "$(dirname -- "$0")/lib.sh"

new_env ", \"certificate\": \"$PKI/signer.pem\""
POL=$T/env/policy
config_set trust "{\"ca_file\": \"$PKI/root.pem\", \"crl_file\": \"$PKI/crl.pem\",
	\"approvers_ca_file\": \"$PKI/approvers-ca.pem\"}"
alice=(--cert "$PKI/approver-alice.pem" --key "$PKI/approver-alice.key")
bob=(--cert "$PKI/approver-bob.pem" --key "$PKI/approver-bob.key")
EXE=$INST/hello-setup.exe
A=$POL/hello-1.0.json

SIGNGATE_APPROVER="Security Officer" sg 0 policy approve --config "$CFG" "${alice[@]}" \
	--product Hello --vendor Example --version 1.0 --ticket CHG-7 --sha256 "$(sha256 "$EXE")" "$EXE"
sg 0 policy cosign --config "$CFG" "${bob[@]}" "$A"
# A second approval with the first approver's signature only.
approval single other.exe "$(printf '%064d' 5)"
cp "$A.approve.p7s" "$POL/single.json.approve.p7s"

q() { jq -r "$1" "$T/out"; }
from() { q ".policy.approvals_in_force[] | select(.id == \"$1\") | .approved_by_from"; }
by() { q ".policy.approvals_in_force[] | select(.id == \"$1\") | .approved_by"; }
id=$(jq -r '.approvals[0].id' "$A")

sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(from "$id")" certificate
expect_same "$(by "$id")" alice
expect_same "$(from single)" "approval file (not verified)"
expect_same "$(by single)" "$(jq -r '.approvals[0].approved_by' "$POL/single.json")"
# The HTML page marks the certificate's name as such, the typed one as typed.
sg 0 audit report --config "$CFG" --policy "$POL" --out "$T/r.html"
expect_in "$T/r.html" "badge src-cert"
expect_in "$T/r.html" "badge src-typed"

# Without the config: no approvers' CA, nothing verified.
sg 0 audit report --log "$T/env/audit/audit.jsonl" --policy "$POL" --json
expect_same "$(from "$id")" "approval file (not verified)"

# Edited after both signatures: the signatures no longer cover it.
sed -i 's/"CHG-7"/"CHG-8"/' "$A"
sg 0 audit report --config "$CFG" --policy "$POL" --json
expect_same "$(from "$id")" "approval file (not verified)"
done_ok
