#!/usr/bin/env bash
# Issue 7, must-be-true 2 (the RPKI refusals), each from a real situation in the lab, and
# nothing reaches upstream from edge while refused:
#   - a ROA for another AS (scenario "other": 64511 only) gives rpki-invalid;
#   - no ROA (scenario "none") gives rpki-not-found;
#   - StayRTR stopped past stale_after gives rpki-stale, while a prefix already advertised
#     stays announced (stale data never withdraws).
# The prefixes are provisioned while their ROA says AS 64500 (scenario "ours"); onprem is quiet.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
STALE=4
LC_EXTRA_CONF=$(printf '[rpki]\nrefresh = 2\nretry = 1\nstale_after = %s\n[policy]\nmin_change_interval = 0' "$STALE")
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_provision_ok "$LAB_PREFIX6"

# rov_is CIDR ASN STATE: prefixd's own origin validation says STATE now.
rov_is() { lc_rpki_state_is "$1" "$2" "$3"; }

lab_set_vrps other 20
wait_until 20 "prefixd to see the ROA for AS$OTHER_AS" rov_is "$LAB_PREFIX4" "$EDGE_AS" invalid
wait_until 20 "prefixd to see the ROA for AS$OTHER_AS (IPv6)" rov_is "$LAB_PREFIX6" "$EDGE_AS" invalid
lc_expect_refused rpki-invalid advertise "$LAB_PREFIX4"
lc_expect_refused rpki-invalid advertise "$LAB_PREFIX6"
[ "$(lc_state "$LAB_PREFIX4")" = provisioned ] || fail "state after refusal: $(lc_state "$LAB_PREFIX4")"
lab_stays_absent_at_upstream "$LAB_PREFIX4" 3 edge
lc_edge_exactly || fail "edge announces $(lab_peer_routes edge | jq -c keys)"
ok "a ROA for AS$OTHER_AS only: advertise refused rpki-invalid, nothing reaches upstream"

lab_set_vrps none 20
wait_until 20 "prefixd to see no ROA" rov_is "$LAB_PREFIX4" "$EDGE_AS" not-found
wait_until 20 "prefixd to see no ROA (IPv6)" rov_is "$LAB_PREFIX6" "$EDGE_AS" not-found
lc_expect_refused rpki-not-found advertise "$LAB_PREFIX4"
lc_expect_refused rpki-not-found advertise "$LAB_PREFIX6"
lab_stays_absent_at_upstream "$LAB_PREFIX4" 3 edge
lc_edge_exactly || fail "edge announces $(lab_peer_routes edge | jq -c keys)"
ok "no ROA: advertise refused rpki-not-found, nothing reaches upstream"

# Stale: the IPv4 prefix is advertised, then the cache goes away.
lab_set_vrps ours 20
wait_until 20 "prefixd to see the ROA for AS$EDGE_AS" rov_is "$LAB_PREFIX4" "$EDGE_AS" valid
lc_advertise_ok "$LAB_PREFIX4"
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge
lc_stayrtr_stop
t0=$(now_ms)
not_fresh() { ! lc_rpki_fresh; }
wait_until $(( STALE + 10 )) "prefixd's RTR data to go stale" not_fresh
stale_ms=$(( $(now_ms) - t0 ))
lc_expect_refused rpki-stale advertise "$LAB_PREFIX6"
lab_stays_absent_at_upstream "$LAB_PREFIX6" 3 edge
ok "StayRTR stopped: stale after $stale_ms ms (stale_after ${STALE}s); advertise refused rpki-stale"
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "stale data changed $LAB_PREFIX4 to $(lc_state "$LAB_PREFIX4")"
lab_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge || fail "$LAB_PREFIX4 left upstream while RPKI was stale"
# Twice the staleness window more, and it is still there.
# shellcheck disable=SC2016 # expanded by eval, at each poll
if poll_until $(( 2 * STALE )) eval '! lab_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge'; then
	fail "$LAB_PREFIX4 was withdrawn while RPKI was stale"
fi
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "state now $(lc_state "$LAB_PREFIX4")"
ok "the advertised $LAB_PREFIX4 stays announced and advertised while RPKI is stale"

lc_stayrtr_start
wait_until 30 "fresh RTR data again" lc_rpki_fresh
lc_advertise_ok "$LAB_PREFIX6"
lab_wait_route_at_upstream "$LAB_PREFIX6" "$EDGE_AS" edge
ok "with the cache back, the IPv6 prefix is advertised"
