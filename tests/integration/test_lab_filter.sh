#!/usr/bin/env bash
# test_lab_filter — edge's reference export filter (lab/bird/edge.conf) is the router-side last
# line of defence: an own route that RPKI says is INVALID for AS 64500 never reaches the
# upstream, while a valid one does. Needs root (network namespaces); never skips.
#
# With the lab's starting VRPs (scenario "both"), we write edge's include file by hand, in
# prefixd's format, with 198.51.100.0/24 and 2001:db8:100::/48 (VRPs for AS 64500: valid),
# 192.0.2.0/24 and 2001:db8:bad::/48 (VRPs for AS 64511 only: invalid) and 203.0.113.0/24
# (valid for both origins). Then:
#   - the upstream receives the valid routes from edge, origin AS 64500;
#   - it never receives the invalid ones: absent when the valid ones have arrived, and still
#     absent over a further 3 s window;
#   - edge shows why: the invalid routes are in its table, listed by "show route noexport",
#     missing from "show route export" and from its Adj-RIB-Out (export table);
#   - the GRACEFUL_SHUTDOWN community (65535:0) on a route passes the filter untouched;
#   - the filter follows RPKI changes by itself ("export table on"): set-vrps "theirs" makes
#     edge's 203.0.113.0/24 invalid and the upstream loses it (onprem's stays); a VRP file
#     that authorises 192.0.2.0/24 for AS 64500 makes the upstream receive it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"

lab_start
lab_edge_routes "$LAB_VALID4,gshut" "$LAB_INVALID4" "$LAB_PREFIX4" "$LAB_VALID6" "$LAB_INVALID6"
grep -q "route $LAB_INVALID4 blackhole;" "$EDGE_BIRD_INCLUDE" || fail "include not written: $(cat "$EDGE_BIRD_INCLUDE")"

lab_wait_route_at_upstream "$LAB_VALID4" "$EDGE_AS" edge
lab_wait_route_at_upstream "$LAB_VALID6" "$EDGE_AS" edge
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge
ok "upstream receives the valid $LAB_VALID4, $LAB_VALID6, $LAB_PREFIX4 from edge, origin AS$EDGE_AS"

for p in "$LAB_INVALID4" "$LAB_INVALID6"; do
	! lab_route_at_upstream "$p" || fail "upstream received the RPKI-invalid $p"
done
lab_stays_absent_at_upstream "$LAB_INVALID4" 3
for p in "$LAB_INVALID4" "$LAB_INVALID6"; do
	! lab_route_at_upstream "$p" || fail "upstream received the RPKI-invalid $p"
done
ok "upstream never receives the invalid $LAB_INVALID4, $LAB_INVALID6 (checked over 3 s after the valid ones arrived)"

# edge: the routes exist, and the export filter is what keeps the invalid ones in.
master4=$(lab_birdc edge show route table master4 protocol prefixd4)
for p in "$LAB_VALID4" "$LAB_INVALID4" "$LAB_PREFIX4"; do
	grep -q "^$p " <<<"$master4" || fail "edge's master4 lacks $p from prefixd4: $master4"
done
noexp4=$(lab_birdc edge show route noexport upstream4)
exp4=$(lab_birdc edge show route export upstream4)
adjout4=$(lab_birdc edge show route export table upstream4.ipv4)
grep -q "^$LAB_INVALID4 " <<<"$noexp4" || fail "noexport upstream4 lacks $LAB_INVALID4: $noexp4"
! grep -q "^$LAB_INVALID4 " <<<"$exp4" || fail "export upstream4 lists $LAB_INVALID4: $exp4"
! grep -q "^$LAB_INVALID4 " <<<"$adjout4" || fail "Adj-RIB-Out of upstream4 holds $LAB_INVALID4: $adjout4"
grep -q "^$LAB_VALID4 " <<<"$exp4" || fail "export upstream4 lacks $LAB_VALID4: $exp4"
grep -q "^$LAB_VALID4 " <<<"$adjout4" || fail "Adj-RIB-Out of upstream4 lacks $LAB_VALID4: $adjout4"
noexp6=$(lab_birdc edge show route noexport upstream6)
grep -q "^$LAB_INVALID6 " <<<"$noexp6" || fail "noexport upstream6 lacks $LAB_INVALID6: $noexp6"
! grep -q "^$LAB_VALID6 " <<<"$noexp6" || fail "noexport upstream6 lists the valid $LAB_VALID6"
# Routes learnt from the upstream are never re-exported (no route leak).
! grep -q "^$LAB_PREFIX6 " <<<"$(lab_birdc edge show route export upstream6)" ||
	fail "edge would re-export onprem's $LAB_PREFIX6 to the upstream"
ok "edge: invalid routes in its table but rejected by the export filter (noexport, not in Adj-RIB-Out)"

comms=$(lab_peer_routes edge | jq -c --arg p "$LAB_VALID4" '[.[$p][0].attrs[] | select(.type == 8) | .communities[]]')
[ "$comms" = "[$(( 65535 * 65536 ))]" ] || fail "GRACEFUL_SHUTDOWN did not pass: communities $comms"
ok "GRACEFUL_SHUTDOWN (65535:0) on $LAB_VALID4 reaches the upstream"

# The filter re-evaluates when the ROA tables change.
lab_set_vrps theirs
lab_wait_no_route_at_upstream "$LAB_PREFIX4" edge 30
lab_route_at_upstream "$LAB_PREFIX4" "$ONPREM_AS" onprem || fail "onprem's $LAB_PREFIX4 vanished too"
ok "VRPs 'theirs': upstream lost edge's now-invalid $LAB_PREFIX4, kept onprem's"

vrps=$(mktemp)
on_exit rm -f "$vrps"
jq --arg p "$LAB_INVALID4" --argjson asn "$EDGE_AS" '.roas += [{prefix: $p, maxLength: 24, asn: $asn}]' \
	"$VRPS_FILE" > "$vrps"
lab_set_vrps --file "$vrps"
lab_wait_route_at_upstream "$LAB_INVALID4" "$EDGE_AS" edge 30
ok "a VRP for AS$EDGE_AS makes edge export $LAB_INVALID4 without a reload"
