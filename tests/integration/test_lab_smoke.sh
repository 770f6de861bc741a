#!/usr/bin/env bash
# test_lab_smoke — the lab (lab/) comes up complete and fast, answers, follows VRP changes, and
# lab/down leaves nothing behind. Needs root (network namespaces); never skips.
#
# Checks, each by polling with a deadline:
#   - the reference BIRD configs parse as committed (bird -p);
#   - lab/up is ready in under 15 s (prints the time);
#   - the upstream's BGP sessions (edge and onprem, IPv4 and IPv6) are Established;
#   - the upstream receives 203.0.113.0/24 and 2001:db8:113::/48 from onprem, origin AS 64496;
#   - edge's rpki protocol is Established and its ROA tables hold exactly the VRPs of
#     lab/rpki/vrps.json (served as lab/run/NAME/vrps.json; the same as scenario "both");
#   - set-vrps (a scenario, then a file of our own) shows in edge's ROA tables within 10 s;
#   - the RDAP server answers the prefixes' records (by prefix and by address, 404 outside),
#     and the certificate in the remarks parses with openssl x509 and matches the lab's key;
#   - the daemons listen on lab addresses only (no wildcard listener, no pprof);
#   - after lab/down: no namespace, no process, no veth, no run directory; down twice is fine.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"

for conf in edge onprem; do
	out=$(bird -p -c "$PREFIXD_SOURCE_DIR/lab/bird/$conf.conf" 2>&1) || fail "lab/bird/$conf.conf does not parse: $out"
done
ok "the reference configs lab/bird/edge.conf and onprem.conf parse (bird -p)"

lab_start
ok "lab $LAB_NAME up in $LAB_UP_MS ms"
[ "$LAB_UP_MS" -lt 15000 ] || fail "lab/up took $LAB_UP_MS ms (limit 15000)"

# --- BGP -------------------------------------------------------------------------------------
wait_until 15 "the upstream's four BGP sessions to be Established" lab_upstream_established
n=$(lab_gobgp neighbor -j | jq '[.[] | select(.state.session_state == 6)] | length')
[ "$n" = 4 ] || fail "expected 4 Established sessions at upstream, got $n"
ok "upstream: 4 BGP sessions Established"

lab_wait_route_at_upstream "$LAB_PREFIX4" "$ONPREM_AS" onprem
lab_wait_route_at_upstream "$LAB_PREFIX6" "$ONPREM_AS" onprem
path=$(lab_peer_routes onprem | jq -c --arg p "$LAB_PREFIX4" '.[$p][0].attrs[] | select(.type == 2) | .as_paths[0].asns')
[ "$path" = "[$ONPREM_AS]" ] || fail "onprem's AS path at upstream is $path, want [$ONPREM_AS]"
ok "upstream receives $LAB_PREFIX4 and $LAB_PREFIX6 from onprem with origin AS$ONPREM_AS"

# --- RPKI ------------------------------------------------------------------------------------
wait_until 15 "edge's rpki protocol to be Established" lab_rtr_established
wait_until 10 "edge's ROA tables to hold the VRPs of vrps.json" lab_roas_match
lab_roas_match "$LAB_DIR/rpki/vrps.json" || fail "edge's ROA tables differ from lab/rpki/vrps.json"
want=$(lab_vrps | wc -l)
[ "$want" = 8 ] || fail "the starting VRP file should hold 8 VRPs, holds $want"
[ "$(lab_vrps "$LAB_DIR/rpki/vrps.json")" = "$(lab_vrps <("$LAB_DIR/rpki/set-vrps" --print both))" ] ||
	fail "lab/rpki/vrps.json is not the scenario 'both'"
grep -qx "$LAB_PREFIX4 24 $EDGE_AS" <<<"$(lab_roas)" || fail "edge's ROA table lacks $LAB_PREFIX4 AS$EDGE_AS"
ok "edge: rpki Established, ROA tables = vrps.json ($want VRPs)"

lab_set_vrps ours
[ "$LAB_VRPS_MS" -lt 10000 ] || fail "set-vrps took $LAB_VRPS_MS ms to reach edge"
! grep -qx "$LAB_PREFIX4 24 $ONPREM_AS" <<<"$(lab_roas)" || fail "scenario 'ours' still has AS$ONPREM_AS"
ok "set-vrps ours visible in edge's ROA tables after $LAB_VRPS_MS ms"

custom=$(mktemp)
on_exit rm -f "$custom"
cat > "$custom" <<EOF
{"roas": [
 {"prefix": "198.51.100.0/24", "maxLength": 25, "asn": "AS$EDGE_AS"},
 {"prefix": "2001:db8:113::/48", "maxLength": 48, "asn": $OTHER_AS}
]}
EOF
lab_set_vrps --file "$custom"
[ "$LAB_VRPS_MS" -lt 10000 ] || fail "set-vrps --file took $LAB_VRPS_MS ms to reach edge"
[ "$(lab_roas)" = "$(printf '198.51.100.0/24 25 %s\n2001:db8:113::/48 48 %s' "$EDGE_AS" "$OTHER_AS")" ] ||
	fail "edge's ROA tables after set-vrps --file: $(lab_roas | xargs)"
ok "set-vrps --file visible in edge's ROA tables after $LAB_VRPS_MS ms"

# --- RDAP ------------------------------------------------------------------------------------
url=${RDAP_URL//\{cidr\}/$LAB_PREFIX4}
hdr=$(mktemp)
on_exit rm -f "$hdr"
body=$(lab_exec edge curl -sS --max-time 5 -D "$hdr" "$url") || fail "RDAP $url did not answer"
grep -qi '^content-type: application/rdap+json' "$hdr" || fail "RDAP content type: $(grep -i content-type "$hdr")"
jq -e --arg p "${LAB_PREFIX4%/*}" '.objectClassName == "ip network" and .startAddress == $p
	and .endAddress == "203.0.113.255" and .cidr0_cidrs[0].v4prefix == $p and .cidr0_cidrs[0].length == 24' \
	<<<"$body" >/dev/null || fail "RDAP record for $LAB_PREFIX4 is wrong: $body"
pem=$(jq -r '.remarks[].description[]' <<<"$body")
subject=$(openssl x509 -noout -subject <<<"$pem") || fail "the certificate in the RDAP record does not parse"
[ "$(openssl x509 -noout -pubkey <<<"$pem")" = "$(openssl pkey -in "$AUTH_KEY4" -pubout)" ] ||
	fail "the RDAP certificate does not hold the public half of $AUTH_KEY4"
ok "RDAP answers $LAB_PREFIX4; certificate parses ($subject) and matches the lab key"

body=$(lab_exec edge curl -sfS --max-time 5 "http://$SVC_ADDR4:$RDAP_PORT/ip/203.0.113.77") ||
	fail "RDAP address query failed"
jq -e '.startAddress == "203.0.113.0"' <<<"$body" >/dev/null || fail "address query answered $body"
url6=${RDAP_URL//\{cidr\}/$LAB_PREFIX6}
lab_exec edge curl -sfS --max-time 5 "$url6" | jq -r '.remarks[].description[]' |
	openssl x509 -noout || fail "the IPv6 record's certificate does not parse"
code=$(lab_exec edge curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$SVC_ADDR4:$RDAP_PORT/ip/198.18.0.0/24")
[ "$code" = 404 ] || fail "RDAP query outside the lab's prefixes answered $code, want 404"
[ -f "$RDAP_DIR/203.0.113.0_24.json" ] || fail "no $RDAP_DIR/203.0.113.0_24.json for auth.rdap_dir"
ok "RDAP: address query, IPv6 record, 404 outside, rdap_dir file"

# --- listeners on lab addresses only -------------------------------------------------------
for node in svc upstream; do
	wild=$(lab_exec "$node" ss -Hltn | awk '$4 ~ /^(\*|0\.0\.0\.0|\[::\]):/ { print $4 }' | xargs)
	[ -z "$wild" ] || fail "$node listens on every address: $wild"
done
lab_exec upstream ss -Hltn | grep -q '127.0.0.1:50051' || fail "gobgpd API not on 127.0.0.1:50051"
! lab_exec upstream ss -Hltn | grep -q ':6060 ' || fail "gobgpd's pprof listener is on"
ok "svc and upstream listen on lab addresses only"

# --- down leaves nothing -------------------------------------------------------------------
pids=$(cat "$LAB_RUN"/*.pid "$LAB_RUN"/*/*.pid)
[ "$(wc -w <<<"$pids")" = 5 ] || fail "expected 5 daemon pid files, got: $pids"
run=$LAB_RUN name=$LAB_NAME
lab_stop
for ns in edge onprem upstream svc; do
	[ ! -e "/run/netns/$name-$ns" ] || fail "namespace $name-$ns remains"
done
! ip netns list | grep -q "^$name-" || fail "namespaces remain: $(ip netns list | grep "^$name-")"
for p in $pids; do
	! lab_pid_alive "$p" || fail "process $p ($(cat "/proc/$p/comm")) remains"
done
! pgrep -f "$run/" >/dev/null || fail "processes naming $run remain: $(pgrep -af "$run/")"
! ip -o link show type veth | grep -Eq '(up0|edge0|onprem0|svc0)[@:]' ||
	fail "lab veths in the root namespace: $(ip -o link show type veth)"
[ ! -e "$run" ] || fail "run directory $run remains"
"$LAB_DIR/down" "$name" >/dev/null || fail "a second lab/down failed"
ok "lab/down removed namespaces, processes, veths and $run; a second down is harmless"
