#!/usr/bin/env bash
# Issue 7, must-be-true 1: the happy path in the lab, through the real prefixctl and prefixd.
# With a valid proof (a message from `prefixctl auth message`, signed by the key whose
# certificate the lab's RDAP server publishes) and a ROA for AS 64500 (scenario "ours"):
#   - provision reaches provisioned;
#   - advertise: upstream's Adj-RIB-In from edge holds exactly the prefix, origin 64500, and
#     nothing else;
#   - withdraw: upstream loses it.
# The same for 203.0.113.0/24 and for the IPv6 /48 2001:db8:113::/48. onprem stops announcing
# them first (else advertise is refused: other-origin-present, tested elsewhere).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
# The rate limit is tested in test_lifecycle_lab_refusals_bgp.sh; here a withdrawal right after
# the advertisement must not wait 10 s.
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'
lc_test_start
lc_after_handover

for p in "$LAB_PREFIX4" "$LAB_PREFIX6"; do
	lc_provision_ok "$p"
	lc_edge_exactly || fail "provisioning announced something: $(lab_peer_routes edge | jq -c keys)"
	ok "$p: provision reaches provisioned, nothing announced"
	show=$(lc_ctl prefix show "$p") || fail "prefix show $p failed"
	grep -q "provisioned" <<<"$show" || fail "prefix show lacks the state: $show"
	! grep -q "BEGIN CERTIFICATE" <<<"$show" || fail "prefix show dumps the certificate: $show"
	lc_json prefix show "$p" | grep -q "BEGIN CERTIFICATE" ||
		fail "--json prefix show lost the RDAP evidence"
	ok "$p: prefix show (human) is readable, --json keeps the whole evidence"

	lc_advertise_ok "$p"
	lab_wait_route_at_upstream "$p" "$EDGE_AS" edge
	lc_wait_edge_exactly 10 "$p"
	[ "$(lab_origins_at_upstream "$p" edge | sort -u)" = "$EDGE_AS" ] ||
		fail "origins at upstream: $(lab_origins_at_upstream "$p" edge)"
	ok "$p: advertised; upstream receives exactly $p from edge, origin $EDGE_AS"

	lc_withdraw_ok "$p"
	lab_wait_no_route_at_upstream "$p" edge
	lc_wait_edge_exactly 10
	ok "$p: withdrawn; upstream lost it"
done
