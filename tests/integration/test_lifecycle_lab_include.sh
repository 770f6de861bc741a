#!/usr/bin/env bash
# Issue 18, must-be-true 1: prefixd owns its include file whole. Edge's BIRD starts with an
# EMPTY include (LAB_EMPTY_INCLUDE=1 lab/up: no prefixd4/prefixd6, as after `touch`), nobody
# seeds it: prefixd writes it at start, then provision and advertise work and the upstream
# holds the route. With the prefix advertised, the include is overwritten with an empty file
# and BIRD reconfigured through its own CLI: within reconcile_interval (plus one BIRD
# transaction) the route is back at the upstream, the drift is counted and it is in the
# history (a "drift" event with its reason).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
INTERVAL=3
LC_EXTRA_CONF=$(printf '[bird]\nreconcile_interval = %s' "$INTERVAL")
HEADER='# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.'

edge_has_proto() { lab_birdc edge show protocols "$1" 2>/dev/null | grep -q "^$1 "; }
prefixd4_holds() { lab_birdc edge show route protocol prefixd4 table master4 2>/dev/null | grep -q "^$1 "; }
drift_events() { lc_json events --limit 1000 | jq -c '[.events[] | select(.action == "drift")]'; }
drift_count() { drift_events | jq length; }
removals() { grep -c 'Removing protocol prefixd4' "$LAB_RUN/edge/bird.log" || true; }

pd_setup
LAB_EMPTY_INCLUDE=1 lab_start
[ -f "$EDGE_BIRD_INCLUDE" ] && [ ! -s "$EDGE_BIRD_INCLUDE" ] || fail "edge's include is not empty at start"
edge_has_proto prefixd4 && fail "edge's BIRD has prefixd4 with an empty include"
ok "edge's BIRD started with an empty include (no prefixd4/prefixd6)"

# ---- 1. start: prefixd writes the include; provision and advertise work -------------------
lc_pd_start
wait_until 30 "prefixd's RTR data to be fresh" lc_rpki_fresh
wait_until 30 "prefixd connected to edge's BIRD" lc_bird_up
wait_until 10 "prefixd to write and apply edge's include at start" \
	eval 'edge_has_proto prefixd4 && edge_has_proto prefixd6'
[ "$(head -n1 "$EDGE_BIRD_INCLUDE")" = "$HEADER" ] || fail "include after start: $(cat "$EDGE_BIRD_INCLUDE")"
[ "$(stat -c %a "$EDGE_BIRD_INCLUDE")" = 644 ] || fail "include mode $(stat -c %a "$EDGE_BIRD_INCLUDE")"
[ "$(lab_birdc edge configure status | grep -c unconfirmed)" = 0 ] || fail "start-up write left unconfirmed"
ok "prefixd wrote and applied the include at start: $(wc -l < "$EDGE_BIRD_INCLUDE") lines, mode 644"

lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_advertise_ok "$LAB_PREFIX4"
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
ok "provision and advertise with no hand-seeding: upstream holds $LAB_PREFIX4 from AS$EDGE_AS"

# ---- 2. the include overwritten with an empty file, BIRD reconfigured ----------------------
events0=$(drift_count)
metric0=$(lc_metric prefixd_bird_drift_total)
: > "$EDGE_BIRD_INCLUDE.tmp"
mv -f "$EDGE_BIRD_INCLUDE.tmp" "$EDGE_BIRD_INCLUDE"
removed0=$(removals)
lab_birdc edge configure | grep -Eq '^Reconfigur(ed|ation in progress)' ||
	fail "birdc configure with the empty include failed"
t0=$(now_ms)
# BIRD's own log says it dropped the protocol (a poll of `show protocols` could miss it when
# prefixd's repair is quick)
wait_until 5 "BIRD to remove prefixd4" eval '[ "$(removals)" -gt '"$removed0"' ]'
ok "include emptied and BIRD reconfigured: BIRD removed prefixd4"

wait_until $(( INTERVAL + 10 )) "prefixd to put $LAB_PREFIX4 back into edge's BIRD" prefixd4_holds "$LAB_PREFIX4"
lab_wait_route_at_upstream "$LAB_PREFIX4" "$EDGE_AS" edge $(( INTERVAL + 10 ))
ms=$(( $(now_ms) - t0 ))
[ "$ms" -le $(( (INTERVAL + 5) * 1000 )) ] || fail "repair took $ms ms (reconcile_interval ${INTERVAL}s)"
lc_wait_edge_exactly 20 "$LAB_PREFIX4"
[ "$(head -n1 "$EDGE_BIRD_INCLUDE")" = "$HEADER" ] && grep -q "route $LAB_PREFIX4 blackhole" "$EDGE_BIRD_INCLUDE" ||
	fail "include after repair: $(cat "$EDGE_BIRD_INCLUDE")"
ok "route back at upstream $ms ms after the reload (reconcile_interval ${INTERVAL}s)"

wait_until 10 "the drift event in the history" eval '[ "$(drift_count)" -gt '"$events0"' ]'
ev=$(drift_events | jq -c '.[-1]')
jq -e '.after.reason | test("no protocol prefixd4|include file .* is empty")' <<<"$ev" >/dev/null ||
	fail "drift event without the reason: $ev"
[ "$(lc_metric prefixd_bird_drift_total)" -gt "$metric0" ] || fail "drift not counted in prefixd_bird_drift_total"
grep -q 'reconcile: drift: .*no protocol prefixd4\|reconcile: drift: .*is empty' "$PD_LOG" || fail "drift not logged"
ok "the drift is in the history: $(jq -c '{action, after}' <<<"$ev")"
[ "$(lc_state "$LAB_PREFIX4")" = advertised ] || fail "state: $(lc_state "$LAB_PREFIX4")"
