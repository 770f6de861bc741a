#!/usr/bin/env bash
# Bring your own ASN (issue 21) on a real prefixd, the autnum RDAP records served over HTTP by a
# loopback server ([auth] rdap_asn_url = http://127.0.0.1:PORT/ok/autnum/{asn}):
#   - `auth message AS64500` builds the message; signed with SPEC §4's command,
#     `asn provision` answers pending-provision and the ASN reaches provisioned, with the proof's
#     evidence (certificate fingerprint, RDAP source) and its history; an event of object "asn"
#     is in the feed; a restart keeps it;
#   - every failure of the prefix proof has its ASN twin: wrong owner, expired, PKCS#1 v1.5
#     signature, another ASN in the message, no autnum record, 1024-bit key;
#   - hostile ASNs (0, 4294967296, AS, ASx, -1) are refused by prefixctl (exit 2) and by the API
#     (400 asn-invalid) and change nothing in the store;
#   - a public pool cannot be created with an unproven origin_asn (409 asn-not-provisioned); with
#     the proven one it can; a prefix provision whose message carries AS64500 in the CIDR slot
#     fails auth-malformed;
#   - deprovision: deprovisioned, and then a pool with that origin is refused again.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

pd_setup
owner=asn-owner
rec=$PD_DIR/rdap
mkdir -p "$rec"
"$PREFIXD_SOURCE_DIR/tests/integration/lib/rdap_fake_server.py" --dir "$rec" \
	--port-file "$PD_DIR/port" 2> "$PD_DIR/rdap.log" &
rdap_pid=$!
trap 'kill $rdap_pid 2>/dev/null; pd_cleanup' EXIT
pd_wait_for test -s "$PD_DIR/port" || pd_fail "the fake RDAP server wrote no port"
port=$(cat "$PD_DIR/port")
pd_config <<EOF
[auth]
owner_id = $owner
rdap_asn_url = http://127.0.0.1:$port/ok/autnum/{asn}
rdap_dir = $PD_DIR/no-such-dir
EOF
pd_start

# keypair NAME BITS: NAME.key / NAME.crt in PD_DIR.
keypair() {
	openssl req -x509 -newkey "rsa:$2" -nodes -sha256 -days 30 -subj "/CN=$1" \
		-keyout "$PD_DIR/$1.key" -out "$PD_DIR/$1.crt" 2>/dev/null
}
# autnum N CERT: the autnum record of AS N with CERT's PEM in its remarks.
autnum() {
	jq -n --argjson n "$1" --argjson pem "$(jq -R . < "$PD_DIR/$2.crt" | jq -s .)" \
		'{objectClassName: "autnum", handle: "AS\($n)", startAutnum: $n, endAutnum: $n,
		  remarks: [{title: "BYOASN ownership certificate", description: $pem}]}' > "$rec/AS$1.json"
}
sign() { printf %s "$1" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign "$PD_DIR/$2.key" | openssl base64 -A | tr -- '+=/' '-_~'; }
sign_v15() { printf %s "$1" | openssl dgst -sha256 -sign "$PD_DIR/$2.key" | openssl base64 -A | tr -- '+=/' '-_~'; }
expires=$(date -u -d '+30 days' +%Y%m%d)
msg_for() { echo "1|prefixd|${2:-$owner}|$1|${3:-$expires}|SHA256|RSAPSS"; }
asn_state() { pd_ctl --json asn show "$1" 2>/dev/null | jq -r '.state + " " + (.failure_reason // "")'; }
asn_is() { [ "$(asn_state "$1")" = "$2" ]; }

keypair good 2048
keypair weak 1024
for n in 64500 64501 64502 64503 64504; do autnum "$n" good; done
autnum 64506 weak

# ---- the good path ----
msg=$(pd_ctl --json auth message AS64500 --expires "$expires" | jq -r .message)
[ "$msg" = "$(msg_for AS64500)" ] || pd_fail "auth message AS64500 gave '$msg'"
pd_ok "auth message AS64500: $msg"
out=$(pd_ctl --json asn provision AS64500 --auth-message "$msg" --auth-signature "$(sign "$msg" good)") ||
	pd_fail "asn provision refused: $out"
[ "$(jq -r .state <<<"$out")" = pending-provision ] || pd_fail "provision answered $out"
pd_wait_for asn_is AS64500 "provisioned " || pd_fail "AS64500 not provisioned: $(pd_ctl --json asn show 64500)"
show=$(pd_ctl --json asn show 64500)
jq -e '.evidence.auth.ok and (.evidence.auth.evidence.cert_sha256 | length) == 64 and
	(.evidence.auth.evidence.rdap_source | endswith("/autnum/64500")) and
	([.history[].after] == ["pending-provision", "provisioned"])' <<<"$show" >/dev/null ||
	pd_fail "AS64500's evidence or history: $show"
pd_ok "AS64500 provisioned over HTTP RDAP (autnum), evidence and history kept"
pd_ctl asn show AS64500 | grep -q "proof .*verified" || pd_fail "asn show (human) lacks the proof line"
pd_ctl asn list | grep -q "^AS64500 *provisioned" || pd_fail "asn list: $(pd_ctl asn list)"
events=$(pd_curl GET '/v1/events?limit=1000')
[ "$(jq '[.events[] | select(.object_kind == "asn")] | length' <<<"$events")" -ge 2 ] ||
	pd_fail "no asn events in the feed: $events"
pd_ok "asn list / show and the event feed"

# ---- the failure twins (each ASN has its own record) ----
twin() {
	local asn=$1 want=$2 msg=$3 sig=$4 out
	out=$(pd_ctl --json asn provision "$asn" --auth-message "$msg" --auth-signature "$sig") ||
		pd_fail "$asn: provision refused at once: $out"
	pd_wait_for asn_is "$asn" "failed-provision $want" ||
		pd_fail "$asn: want failed-provision $want, got '$(asn_state "$asn")'"
	pd_ok "$asn: failed-provision $want ($(pd_ctl --json asn show "$asn" | jq -r .message))"
}
m=$(msg_for AS64501 someone-else); twin AS64501 auth-owner-mismatch "$m" "$(sign "$m" good)"
m=$(msg_for AS64502 "$owner" "$(date -u -d '-1 day' +%Y%m%d)"); twin AS64502 auth-expired "$m" "$(sign "$m" good)"
m=$(msg_for AS64503); twin AS64503 signature-invalid "$m" "$(sign_v15 "$m" good)"
m=$(msg_for AS64500); twin AS64504 auth-asn-mismatch "$m" "$(sign "$m" good)"
m=$(msg_for AS64505); twin AS64505 rdap-unavailable "$m" "$(sign "$m" good)"
m=$(msg_for AS64506); twin AS64506 cert-invalid "$m" "$(sign "$m" weak)"
grep -q "GET /ok/autnum/64505" "$PD_DIR/rdap.log" || pd_fail "AS64505's record was not asked for over HTTP"

# ---- hostile ASNs change nothing ----
before=$(pd_dump)
for bad in 0 4294967296 AS ASx -1 AS0 AS23456; do
	rc=0
	err=$(pd_ctl asn provision -- "$bad" --auth-message "$m" --auth-signature x 2>&1) || rc=$?
	[ "$rc" = 2 ] || pd_fail "prefixctl asn provision $bad: exit $rc (want 2): $err"
	pd_expect 400 asn-invalid POST /v1/asns "{\"asn\":\"$bad\",\"auth_message\":\"x\",\"auth_signature\":\"y\"}" >/dev/null
done
for bad in 0 4294967296 -1 -64500; do
	pd_expect 400 asn-invalid POST /v1/asns "{\"asn\":$bad,\"auth_message\":\"x\",\"auth_signature\":\"y\"}" >/dev/null
done
pd_expect 400 asn-invalid GET /v1/asns/ASx >/dev/null
pd_expect 400 asn-invalid POST /v1/asns/4294967296/deprovision >/dev/null
[ "$(pd_dump)" = "$before" ] || pd_fail "a hostile ASN changed the store"
pd_ok "hostile ASNs (0, 4294967296, AS, ASx, -1, AS23456) refused: exit 2 / 400 asn-invalid, store unchanged"

# ---- origins of public pools ----
pd_expect 409 asn-not-provisioned POST /v1/pools '{"name":"pub-x","scope":"public-default","family":"ipv4","origin_asn":64501}' >/dev/null
rc=0; pd_ctl pool create pub-y --scope public-default --origin-asn 64999 2>/dev/null || rc=$?
[ "$rc" = 1 ] || pd_fail "pool create with an unproven origin: exit $rc"
pd_expect 201 - POST /v1/pools '{"name":"pub4","scope":"public-default","family":"ipv4","origin_asn":64500}' >/dev/null
pd_expect 201 - POST /v1/pools '{"name":"priv","scope":"private-default","family":"ipv4","origin_asn":64999}' >/dev/null
pd_ok "public pools need a provisioned origin (409 asn-not-provisioned); private pools do not"

# An ASN message offered as a prefix's proof: the AS word in the CIDR slot is malformed.
m=$(msg_for AS64500)
pd_expect 202 - POST /v1/pools/pub4/provision "{\"cidr\":\"203.0.113.0/24\",\"auth_message\":\"$m\",\"auth_signature\":\"$(sign "$m" good)\"}" >/dev/null
prefix_failed() { [ "$(pd_ctl --json prefix show 203.0.113.0/24 | jq -r '.state + " " + .failure_reason')" = "failed-provision auth-malformed" ]; }
pd_wait_for prefix_failed || pd_fail "prefix with AS in the CIDR slot: $(pd_ctl --json prefix show 203.0.113.0/24)"
pd_ctl --json prefix show 203.0.113.0/24 | jq -e '.message | contains("AS number")' >/dev/null ||
	pd_fail "the refusal does not say the field is an AS number"
pd_ok "a prefix provision with AS64500 in the CIDR slot fails auth-malformed and says why"

# ---- restart, then deprovision ----
pd_stop
pd_start
asn_is AS64500 "provisioned " || pd_fail "AS64500 after a restart: $(asn_state AS64500)"
asn_is AS64501 "failed-provision auth-owner-mismatch" || pd_fail "AS64501 after a restart"
pd_ok "ASN rows survive a restart"
out=$(pd_ctl --json asn deprovision AS64500) || pd_fail "asn deprovision: $out"
[ "$(jq -r .state <<<"$out")" = deprovisioned ] || pd_fail "deprovision answered $out"
rc=0; pd_ctl asn deprovision 64500 2>/dev/null || rc=$?
[ "$rc" = 1 ] || pd_fail "a second deprovision: exit $rc"
pd_expect 409 asn-not-provisioned POST /v1/pools '{"name":"pub5","scope":"public-default","family":"ipv4","origin_asn":64500}' >/dev/null
pd_ok "AS64500 deprovisioned; a new public pool cannot use it any more"
