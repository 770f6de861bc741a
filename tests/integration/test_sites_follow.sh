#!/usr/bin/env bash
# Sites follow each other's public prefixes (issue 17): both instances run first (lab/up
# --sites: edge1's prefixd beside edge's BIRD, edge2's beside edge2's, one PostgreSQL), then a
# prefix is provisioned at edge1. edge2's instance learns it through the store's change feed
# (no restart): it shows the prefix provisioned within 2 s of edge1 (the feed is followed on
# each notification and once a second), and `advertise --all-sites` asked at edge2 advertises
# it at both sites (upstream holds both paths). Withdrawn everywhere and deprovisioned at
# edge1, it is deprovisioned at edge2 too, which then refuses to advertise it.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/sites.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'

sites_start "s2follow$$" "change_timeout = 15"
lc_after_handover
sites_b_start
wait_until 30 "edge2's prefixd: writer of edge2, BIRD connected" sites_b_ready
ok "both instances run (edge1, edge2) before anything is provisioned"

P=$LAB_PREFIX4
b_state() { sites_b_ctl prefix show "$1" 2>/dev/null | jq -r '.state // empty' 2>/dev/null || true; }
b_state_is() { [ "$(b_state "$1")" = "$2" ]; }

lc_provision_ok "$P"
t0=$(now_ms)
poll_until 2 b_state_is "$P" provisioned ||
	fail "edge2 does not know $P provisioned 2 s after edge1 did (state '$(b_state "$P")')"
ok "edge2 knows $P provisioned $(( $(now_ms) - t0 )) ms after edge1 (no restart)"

out=$(sites_b_ctl advertise "$P" --all-sites) || fail "advertise --all-sites at edge2: $out"
jq -e '[.results[] | [.site, .state, .code]] == [["edge1","advertised",null],["edge2","advertised",null]]' \
	<<<"$out" >/dev/null || fail "advertise --all-sites at edge2 answer: $out"
paths() { lc_upstream_paths "$P" | awk '{ print $1, $2 }' | sort | xargs; }
paths_are() { [ "$(paths)" = "$1" ]; }
E1="$EDGE_UP_ADDR4 $EDGE_AS" E2="$EDGE2_UP_ADDR4 $EDGE_AS"
poll_until 15 paths_are "$E1 $E2" || fail "upstream holds [$(paths)], want [$E1 $E2]"
ok "advertise --all-sites asked at edge2 advertises $P at both sites ($(paths))"

out=$(sites_b_ctl withdraw "$P" --all-sites) || fail "withdraw --all-sites at edge2: $out"
poll_until 15 paths_are "" || fail "upstream still holds [$(paths)]"
out=$(lc_json pool deprovision "$(lc_pool_for "$P")" "$P" 2>&1) || fail "deprovision at edge1: $out"
lc_wait_state "$P" deprovisioned 30 || fail "$P did not reach deprovisioned at edge1"
t0=$(now_ms)
poll_until 2 b_state_is "$P" deprovisioned ||
	fail "edge2 does not know $P deprovisioned 2 s after edge1 did (state '$(b_state "$P")')"
ok "edge2 knows $P deprovisioned $(( $(now_ms) - t0 )) ms after edge1"
rc=0
out=$(sites_b_ctl advertise "$P") || rc=$?
[ "$rc" = 1 ] || fail "advertise of a deprovisioned prefix at edge2: exit $rc: $out"
ok "edge2 refuses to advertise it: $(jq -r '.error.code // .results[0].code // empty' <<<"$out")"
