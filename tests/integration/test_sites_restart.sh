#!/usr/bin/env bash
# Sites (issue 17): a restarted instance takes no other site's state as its own. Each public
# prefix has one shared document in the store; a site's own state is its row in the store's
# per-site table. A prefix advertised at one site only (the other never asked) must not come
# up advertised at the other site after that site's instance restarts:
#   1. `advertise P4 --site edge1` (edge2 never targeted), edge2's prefixd restarted: once its
#      reconciler ran, upstream still holds edge1's path only, and edge2 shows P4 provisioned;
#   2. `advertise P6 --site edge2` asked at edge1 (edge1 never targeted), edge1's prefixd
#      restarted: once its reconciler ran, upstream still holds edge2's path only. edge2's
#      follower, which advertised P6, left the shared document as edge1 wrote it (its own
#      state is its row in the store and its events).
# Before the fix, 1 failed: the document held edge1's "advertised" and edge2, with no row of
# its own for P4, loaded that state as its own and its reconciler announced P4 at edge2; 2
# failed the same way through the document edge2's follower wrote.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/sites.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'

sites_start "s2rst$$" "change_timeout = 15"
lc_after_handover
sites_b_start
wait_until 30 "edge2's prefixd: writer of edge2, BIRD connected" sites_b_ready
P4=$LAB_PREFIX4 P6=$LAB_PREFIX6
lc_provision_ok "$P4"
lc_provision_ok "$P6"
b_knows() { [ "$(sites_b_ctl prefix show "$1" 2>/dev/null | jq -r '.state // empty')" = provisioned ]; }
poll_until 10 b_knows "$P4" && poll_until 10 b_knows "$P6" || fail "edge2 does not know both prefixes"
ok "both instances run; $P4 and $P6 provisioned"

paths() { lc_upstream_paths "$1" | awk '{ print $1 }' | sort | xargs; }
paths_are() { [ "$(paths "$1")" = "$2" ]; }
# stays_away SITE SOCK PREFIX PATH CTL...: after SITE's restart, once its reconciler ran and 5 s
# more (for a route to show up at upstream if SITE went wrong), upstream still holds only
# PATH for PREFIX and SITE's instance (asked with CTL) shows PREFIX provisioned
stays_away() {
	local site=$1 sock=$2 p=$3 path=$4 st
	shift 4
	wait_until 15 "$site's first reconcile run" sites_reconciled "$sock"
	! poll_until 5 eval '! paths_are "$p" "$path"' ||
		fail "$site announced $p, never asked there, after its restart: upstream holds [$(paths "$p")]"
	st=$("$@" prefix show "$p" | jq -r .state)
	[ "$st" = provisioned ] || fail "$site shows $p $st after its restart, want provisioned"
}

# ---- 1: edge2 restarts with P4 advertised at edge1 only ----
out=$(lc_json advertise "$P4" --site edge1) || fail "advertise --site edge1: $out"
poll_until 15 paths_are "$P4" "$EDGE_UP_ADDR4" || fail "upstream holds [$(paths "$P4")] for $P4"
sites_b_stop
sites_b_start
wait_until 30 "edge2's prefixd back: writer of edge2, BIRD connected" sites_b_ready
stays_away edge2 "$B_SOCK" "$P4" "$EDGE_UP_ADDR4" sites_b_ctl
ok "edge2 restarted: $P4 (advertised at edge1 only) stays provisioned at edge2; upstream: edge1's path only"

# ---- 2: edge1 restarts with P6 advertised at edge2 only ----
out=$(lc_json advertise "$P6" --site edge2) || fail "advertise --site edge2: $out"
poll_until 15 paths_are "$P6" "$EDGE2_UP_ADDR6" || fail "upstream holds [$(paths "$P6")] for $P6"
# edge2's follower recorded its result in its row and its events, not in the shared document:
# that still holds a provisioned state (whichever instance wrote it last: edge1 provisioning,
# or an instance re-validating at its RTR sync), never edge2's "advertised"
doc_state=$(ip netns exec "$NS_EDGE" psql -X -q -A -t "$LAB_PG_DSN" -c \
	"SELECT doc::json->>'state' FROM docs WHERE kind = 'prefix' AND key = '$P6'")
[ "$doc_state" = provisioned ] || fail "$P6's document after edge2's follower advertised it: '$doc_state'"
pd_stop
lc_pd_start
wait_until 30 "edge1's prefixd back: BIRD connected" lc_bird_up
stays_away edge1 "$PD_SOCK" "$P6" "$EDGE2_UP_ADDR6" lc_json
ok "edge1 restarted: $P6 (advertised at edge2 only) stays provisioned at edge1; upstream: edge2's path only"
