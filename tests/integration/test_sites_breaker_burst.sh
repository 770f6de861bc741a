#!/usr/bin/env bash
# The withdrawal circuit breaker under a concurrent burst from two instances (issue 17,
# must-be-true 4): lab/up --sites, edge1's and edge2's prefixd on the lab's PostgreSQL,
# [policy] max_withdraw_rate = 3. 203.0.113.0/24 and 2001:db8:113::/48 are advertised at both
# sites (four paths at upstream). Then four withdrawals start at the same moment, two through
# each instance (each withdraws its own site's path of each prefix):
#   - exactly 3 are accepted and 1 refused circuit-open (the count is the cluster's, atomic in
#     PostgreSQL: two instances cannot both take the last slot);
#   - upstream's GoBGP loses exactly 3 paths and keeps the other one, also 5 s later;
#   - GET /v1/sites (both instances) says open with 3 withdrawals in the last minute.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/sites.sh"
LIMIT=3
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0\nmax_withdraw_rate = '$LIMIT

sites_start "s2burst$$"
lc_after_handover
P4=$LAB_PREFIX4 P6=$LAB_PREFIX6
lc_provision_ok "$P4"
lc_provision_ok "$P6"
sites_b_start
wait_until 30 "edge2's prefixd: writer of edge2, BIRD connected" sites_b_ready

# all_paths: "NEIGHBOUR PREFIX" of every path upstream holds for the two prefixes, sorted
all_paths() {
	local p
	for p in "$P4" "$P6"; do
		lc_upstream_paths "$p" | awk -v p="$p" '{ print $1, p }'
	done | sort | xargs
}
npaths() { lc_upstream_paths "$P4"; lc_upstream_paths "$P6"; }
npaths_is() { [ "$(npaths | grep -c .)" = "$1" ]; }
out=$(lc_json advertise "$P4" "$P6" --all-sites) || fail "advertise --all-sites: $out"
poll_until 20 npaths_is 4 || fail "upstream holds [$(all_paths)], want 4 paths"
[ "$(lc_json site list | jq .breaker.withdrawals_last_minute)" = 0 ] || fail "site list: $(lc_json site list)"
ok "both prefixes advertised at both sites: upstream holds 4 paths ($(all_paths))"

# ---- the burst: four withdrawals at once, two through each instance ----
BURST=$PD_DIR/burst
mkdir -p "$BURST"
pids=()
for p in "$P4" "$P6"; do
	lc_json withdraw "$p" --site edge1 >"$BURST/edge1-${p//\//_}" 2>>"$PD_DIR/burst.err" & pids+=($!)
	sites_b_ctl withdraw "$p" --site edge2 >"$BURST/edge2-${p//\//_}" 2>>"$PD_DIR/burst.err" & pids+=($!)
done
accepted=0 refused=0
for pid in "${pids[@]}"; do
	rc=0
	wait "$pid" || rc=$?
	case $rc in 0) accepted=$(( accepted + 1 )) ;; 1) refused=$(( refused + 1 )) ;;
	*) fail "a withdrawal exited $rc: $(cat "$BURST"/*)" ;; esac
done
for f in "$BURST"/*; do echo "  ${f##*/}: $(jq -c '[.results[]? | [.site, .state, .code]], (.error.code // "")' "$f" | tr '\n' ' ')"; done
codes=$(cat "$BURST"/* | jq -r 'select(.error) | .error.code' | sort | uniq -c | xargs)
[ "$accepted" = "$LIMIT" ] || fail "accepted $accepted withdrawals of the burst, want exactly $LIMIT (refused: $codes)"
[ "$refused" = $(( 4 - LIMIT )) ] && [ "$codes" = "$(( 4 - LIMIT )) circuit-open" ] ||
	fail "refused $refused, codes [$codes], want $(( 4 - LIMIT )) circuit-open"
ok "burst of 4 withdrawals through both instances at once: $accepted accepted, $refused refused circuit-open"

# ---- nothing beyond the limit reached upstream ----
poll_until 20 npaths_is $(( 4 - LIMIT )) || fail "upstream holds [$(all_paths)], want $(( 4 - LIMIT )) paths"
kept=$(all_paths)
! poll_until 5 eval '! npaths_is $(( 4 - LIMIT ))' || fail "upstream lost more paths: [$(all_paths)] after [$kept]"
ok "upstream's GoBGP lost exactly $LIMIT paths and keeps [$kept] (5 s later too)"
for who in lc_json sites_b_ctl; do
	$who site list | jq -e --argjson n "$LIMIT" \
		'.breaker.state == "open" and .breaker.withdrawals_last_minute == $n' >/dev/null ||
		fail "site list via $who: $($who site list)"
done
ok "both instances show the breaker open with $LIMIT withdrawals in the last minute"
