#!/usr/bin/env bash
# Issue 7, must-be-true 5: the ROA of an advertised prefix is removed (scenario "none": origin
# validation turns not-found; edge's own export filter rejects only INVALID, so the route could
# stay up).
#   - Within 10 s of the change reaching prefixd: an alert as an event (history of the prefix),
#     a metric (prefixd_rpki_alerts_total) and a log line.
#   - By default (policy.on_invalid = alert) the prefix stays advertised and upstream keeps it.
#   - With policy.on_invalid = withdraw it is withdrawn (state provisioned) and upstream loses it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_advertise_ok "$LAB_PREFIX4"
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge

alerts() { lc_metric prefixd_rpki_alerts_total || echo 0; }
alert_event() { lc_json history "$LAB_PREFIX4" | grep -q 'rpki-alert'; }
alert_logged() { grep -i 'alert' "$PD_LOG" | grep -q "$LAB_PREFIX4"; }
before=$(alerts)
lab_set_vrps none 20
t0=$(now_ms)
wait_until 10 "the rpki alert metric to rise" eval '[ "$(alerts)" -gt '"$before"' ]'
wait_until 1 "an rpki-alert event in the history of $LAB_PREFIX4" alert_event
wait_until 1 "an alert naming $LAB_PREFIX4 in prefixd's log" alert_logged
ms=$(( LAB_VRPS_MS + $(now_ms) - t0 ))
[ "$ms" -le 10000 ] || fail "the alert came $ms ms after the VRP change (want <= 10 s)"
ok "ROA removed: alert (metric $before -> $(alerts), event, log) $ms ms after the VRP file changed"
if poll_until 5 eval '! lab_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge'; then
	fail "$LAB_PREFIX4 left upstream with on_invalid = alert"
fi
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "state with on_invalid = alert: $(lc_state "$LAB_PREFIX4")"
ok "on_invalid = alert (default): $LAB_PREFIX4 stays advertised and announced"

# Back to a valid ROA, then prefixd with on_invalid = withdraw, and the ROA removed again.
lab_set_vrps ours 20
wait_until 20 "prefixd to see the ROA again" lc_rpki_state_is "$LAB_PREFIX4" "$EDGE_AS" valid
pd_stop
printf '[policy]\non_invalid = withdraw\n' | pd_config
lc_pd_start
wait_until 30 "fresh RTR data after the restart" lc_rpki_fresh
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "after the restart: $(lc_state "$LAB_PREFIX4")"
lab_set_vrps none 20
t0=$(now_ms)
lc_wait_state "$LAB_PREFIX4" provisioned 15 || fail "on_invalid = withdraw did not withdraw"
lab_wait_no_route_at_upstream "$LAB_PREFIX4" edge
ok "on_invalid = withdraw: withdrawn and gone from upstream $(( $(now_ms) - t0 )) ms after edge held the new VRPs"
