#!/usr/bin/env bash
# ctest-labels: asan
# Metrics (issue 9, must-be-true 1): after a known sequence of operations GET /metrics has
# the exact values -- provisioned and allocated addresses, the utilization ratio after N
# allocations, the alarm firing when alarm_at is crossed (and the alarm-raised event), the
# allocation count, public prefixes by state, request counts by route and code -- and the
# page parses with a strict exposition-format parser (tests/tools/obs_promparse.py), which
# itself refuses the malformed pages it is shown first.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
PARSE="python3 $PREFIXD_SOURCE_DIR/tests/tools/obs_promparse.py"
pd_setup

# The parser is strict: each of these pages must be refused.
refuse() {
	local what=$1
	if printf '%b' "$2" | $PARSE >/dev/null 2>&1; then pd_fail "parser accepted: $what"; fi
}
refuse "a second TYPE" '# TYPE a gauge\na 1\n# TYPE a gauge\n'
refuse "TYPE after samples" 'a 1\n# TYPE a gauge\n'
refuse "interleaved families" '# TYPE a gauge\n# TYPE b gauge\na{x="1"} 1\nb 1\na{x="2"} 1\n'
refuse "a duplicate series" 'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n'
refuse "a bad escape" 'a{x="\\q"} 1\n'
refuse "a bad label name" 'a{1x="1"} 1\n'
refuse "a bad metric name" '1a 1\n'
refuse "a bad value" 'a one\n'
refuse "a missing newline" 'a 1'
refuse "an empty line" 'a 1\n\nb 1\n'
refuse "a negative counter" '# TYPE c counter\nc -1\n'
refuse "le not ascending" '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'
refuse "no +Inf bucket" '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'
refuse "count != +Inf" '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'
refuse "no _sum" '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 2\n'
printf '# HELP a x\n# TYPE a gauge\na{x="q\\"\\\\\\n"} 1\n' | $PARSE >/dev/null || pd_fail "parser refused a valid escape"
pd_ok "the strict parser refuses 15 malformed pages and accepts escaped label values"

# A [bird] section with no BIRD behind it: the BIRD families report it down.
pd_config <<INI
[bird]
socket = $PD_DIR/no-bird.ctl
config = $PD_DIR/bird.conf
include = $PD_DIR/bird.include
INI
pd_start
pd_ctl pool create top --scope private-default --alarm-at 50 >/dev/null
pd_ctl pool provision top 10.20.0.0/24 >/dev/null
for i in 1 2 3; do pd_ctl allocate top --netmask 27 >/dev/null; done

scrape() { pd_curl GET /metrics > "$PD_DIR/m.txt"; [ "$PD_STATUS" = 200 ] || pd_fail "GET /metrics: $PD_STATUS"
	$PARSE "$PD_DIR/m.txt" > "$PD_DIR/m.parsed" || pd_fail "the page does not parse: $($PARSE "$PD_DIR/m.txt" 2>&1 >/dev/null)"; }
want() {    # want SERIES VALUE: the parsed page holds exactly that sample
	local got
	got=$(awk -v s="$1" '$1 == s { print $2 }' "$PD_DIR/m.parsed")
	[ "$got" = "$2" ] || pd_fail "$1: want $2, got '${got:-absent}'"
}
L='{pool="top",scope="private-default"}'
scrape
want "prefixd_pool_provisioned_addresses$L" 256
want "prefixd_pool_allocated_addresses$L" 96
want "prefixd_pool_utilization_ratio$L" 0.375000
want "prefixd_pool_alarm_threshold_ratio$L" 0.50
want "prefixd_pool_alarm$L" 0
want prefixd_allocations 3
want 'prefixd_api_requests_total{code="201",method="POST",route="/v1/pools/{name}/allocations"}' 3
want 'prefixd_pool_alarm_transitions_total{transition="raised"}' 0
pd_ok "after 3 /27 of a /24: 256 provisioned, 96 allocated, ratio 0.375, alarm 0"

pd_ctl allocate top --netmask 27 >/dev/null      # 128 of 256: crosses alarm_at 50
alarmed() { scrape; grep -qx "prefixd_pool_alarm$L 1" "$PD_DIR/m.parsed" &&
	grep -qx 'prefixd_pool_alarm_transitions_total{transition="raised"} 1' "$PD_DIR/m.parsed"; }
pd_wait_for alarmed || pd_fail "alarm not raised: $(grep -E 'alarm' "$PD_DIR/m.parsed")"
want "prefixd_pool_allocated_addresses$L" 128
want "prefixd_pool_utilization_ratio$L" 0.500000
want prefixd_allocations 4
[ "$(pd_ctl --json events | jq '[.events[] | select(.action == "alarm-raised" and .after.pool == "top")] | length')" = 1 ] ||
	pd_fail "no single alarm-raised event for top"
pd_ok "the 4th /27 crosses alarm_at 50: ratio 0.5, alarm 1, one alarm-raised event"

for s in pending-provision failed-provision provisioned pending-advertise advertised pending-withdraw \
	pending-deprovision deprovisioned; do
	want "prefixd_prefixes{state=\"$s\"}" 0
done
for f in prefixd_build_info prefixd_api_request_duration_seconds_count prefixd_store_commit_duration_seconds_count \
	prefixd_events_last_id; do
	grep -q "^$f" "$PD_DIR/m.parsed" || pd_fail "no $f"
done
grep -q '^prefixd_rpki_' "$PD_DIR/m.parsed" || pd_fail "no prefixd_rpki_* family"
want prefixd_bird_up 0
pd_ok "public prefixes by state (all 0), build info, latency and commit histograms, RPKI families present, BIRD down"
pd_stop
