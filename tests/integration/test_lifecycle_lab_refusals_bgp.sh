#!/usr/bin/env bash
# Issue 7, must-be-true 2 (the routing refusals), each from a real situation in the lab:
#   - a /25 gives prefix-too-specific at provisioning (and a /49 for IPv6);
#   - onprem still announcing gives other-origin-present naming 64496, and nothing reaches
#     upstream from edge; advertise succeeds with --allow-origin 64496 (a planned hand-over);
#   - a second change within min_change_interval (10 s, the default) gives rate-limited;
#   - edge's BIRD stopped gives bird-unavailable.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
lc_test_start
lab_set_vrps both 20

# /25 and /49: refused at provisioning, recorded as failed-provision when recorded at all.
lc_ensure_pool 203.0.113.0/25
lc_ensure_pool 2001:db8:113::/49
too_specific() {
	local cidr=$1 out rc=0 code
	out=$(lc_json pool provision "$(lc_pool_for "$cidr")" "$cidr" --auth-message x \
		--auth-signature x 2>/dev/null) || rc=$?
	code=$(jq -r '.error.code // empty' <<<"$out" 2>/dev/null)
	if [ "$rc" = 1 ]; then
		[ "$code" = prefix-too-specific ] || fail "provision $cidr: want prefix-too-specific, got $code: $out"
	else
		lc_wait_state "$cidr" failed-provision 10 || fail "provision $cidr: $out"
		[ "$(lc_field "$cidr" .failure_reason)" = prefix-too-specific ] ||
			fail "failure_reason of $cidr: $(lc_show "$cidr")"
	fi
}
too_specific 203.0.113.0/25
too_specific 2001:db8:113::/49
ok "a /25 and a /49 are prefix-too-specific at provisioning"

# other-origin-present: onprem announces 203.0.113.0/24 (edge learns it via upstream).
wait_until 20 "edge to learn onprem's $LAB_PREFIX4" lab_edge_route "$LAB_PREFIX4" "$ONPREM_AS"
lc_provision_ok "$LAB_PREFIX4"
lc_expect_refused other-origin-present advertise "$LAB_PREFIX4"
[[ $LC_MSG == *"$ONPREM_AS"* ]] || fail "the refusal does not name AS$ONPREM_AS: $LC_MSG"
lc_expect_refused other-origin-present advertise "$LAB_PREFIX4" --dry-run
lab_stays_absent_at_upstream "$LAB_PREFIX4" 3 edge
ok "onprem announcing: other-origin-present naming $ONPREM_AS ($LC_MSG); nothing from edge"
lc_advertise_ok "$LAB_PREFIX4" --allow-origin "$ONPREM_AS"
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge
ok "--allow-origin $ONPREM_AS: advertised for the planned hand-over"

# rate-limited: a withdrawal right after the advertisement (default min_change_interval 10 s).
lc_expect_refused rate-limited withdraw "$LAB_PREFIX4"
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "state after rate-limit: $(lc_state "$LAB_PREFIX4")"
lab_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge || fail "the refused withdrawal withdrew"
ok "a second change within 10 s is rate-limited and changes nothing"

# bird-unavailable: edge's BIRD is stopped. The IPv6 prefix (onprem quiet for it) passes every
# check but BIRD's.
lab_birdc onprem disable onprem6 >/dev/null
lab_wait_no_route_at_upstream "$LAB_PREFIX6"
wait_until 20 "edge to forget onprem's $LAB_PREFIX6" eval '! lab_edge_route "$LAB_PREFIX6" "$ONPREM_AS"'
lc_provision_ok "$LAB_PREFIX6"
bird_pid=$(lab_pidfile_pid edge/bird) || fail "edge's BIRD is not running"
kill -TERM "$bird_pid"
wait_until 10 "edge's BIRD to exit" eval '! lab_pid_alive '"$bird_pid"
not_up() { ! lc_bird_up; }
wait_until 20 "prefixd to notice BIRD is gone" not_up
lc_expect_refused bird-unavailable advertise "$LAB_PREFIX6"
[ "$(lc_state "$LAB_PREFIX6")" = provisioned ] || fail "state after bird-unavailable: $(lc_state "$LAB_PREFIX6")"
ok "edge's BIRD stopped: bird-unavailable, the prefix stays provisioned"
