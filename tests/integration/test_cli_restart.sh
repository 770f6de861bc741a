#!/usr/bin/env bash
# ctest-labels: asan
# A restart keeps everything: scopes, pools (rules, tags, CIDRs, utilization), allocations
# (tags, tokens), imported resources and the reports are the same after SIGTERM and a new
# start on the same state directory, compared as full `prefixctl --json` listings. After the
# restart a token replay still returns the first allocation, and new allocations do not
# collide with old ones.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

ctl() {
	local out rc=0
	out=$(pd_ctl --json "$@" 2>"$PD_DIR/ctl.err") || rc=$?
	[ "$rc" = 0 ] || pd_fail "prefixctl $*: exit $rc: $(cat "$PD_DIR/ctl.err")"
	printf '%s\n' "$out"
}

# snapshot FILE: every listing the CLI offers, sorted keys, one document.
snapshot() {
	{
		ctl scope list
		ctl scope show lab-domain
		ctl pool list
		for p in top lab v6; do ctl pool show "$p"; done
		ctl allocation list
		ctl resource list
		ctl report overlaps
		ctl report compliance
		ctl history 10.0.0.0/8
	} | jq -S . > "$1"
}

pd_setup
pd_start

ctl scope create lab-domain >/dev/null
ctl pool create top --scope private-default --tag Owner=net --alarm-at 70 >/dev/null
ctl pool provision top 10.0.0.0/16 >/dev/null
ctl pool create lab --scope private-default --parent top --default-netmask 24 \
	--min-netmask 20 --max-netmask 26 --require-tag Environment=lab --locale site-a >/dev/null
ctl pool provision lab --netmask 20 >/dev/null
first=$(ctl allocate lab --tag Environment=lab --locale site-a --token t-1 --description one)
ctl allocate lab --netmask 26 --tag Environment=lab --tag Team=web --locale site-a >/dev/null
ctl allocate lab --cidr 10.0.8.0/24 --tag Environment=lab --locale site-a >/dev/null
ctl pool create v6 --scope lab-domain --family ipv6 --default-netmask 64 >/dev/null
ctl pool provision v6 2001:db8::/48 >/dev/null
ctl allocate v6 >/dev/null
ctl import --scope private-default --cidr 10.0.0.0/25 --name overlapping-vpc --tag Owner=legacy >/dev/null
printf 'cidr,name,tags\n172.16.0.0/12,site-lans,Owner=ops;Site=b\n' > "$PD_DIR/res.csv"
ctl import --scope private-default --file "$PD_DIR/res.csv" >/dev/null
printf '{"resources": [{"cidr": "192.168.0.0/16", "name": "office", "tags": {"Site": "c"}}]}' > "$PD_DIR/res.json"
ctl import --scope lab-domain --file "$PD_DIR/res.json" >/dev/null
jq -e '[.resources[] | .name] | sort == ["office", "overlapping-vpc", "site-lans"]' <<<"$(ctl resource list)" >/dev/null ||
	pd_fail "imported resources missing: $(ctl resource list)"
# --since/--until reach the daemon as times: nothing before 2000, everything after it
jq -e '.events == []' <<<"$(ctl history 10.0.0.0/8 --until 2000-01-01)" >/dev/null || pd_fail "history --until"
jq -e '.events | length > 0' <<<"$(ctl history 10.0.0.0/8 --since 2000-01-01T00:00:00Z)" >/dev/null ||
	pd_fail "history --since"
snapshot "$PD_DIR/before.json"
jq -e '[.. | objects | select(.kind? == "allocation")] | length >= 4' -s "$PD_DIR/before.json" >/dev/null ||
	pd_fail "the snapshot lacks the allocations"

pd_stop
pd_start
snapshot "$PD_DIR/after.json"
diff -u "$PD_DIR/before.json" "$PD_DIR/after.json" >&2 || pd_fail "state differs after the restart"
pd_ok "every listing is identical after a restart"

again=$(ctl allocate lab --tag Environment=lab --locale site-a --token t-1 --description one)
[ "$(jq -c '{id, cidr}' <<<"$again")" = "$(jq -c '{id, cidr}' <<<"$first")" ] ||
	pd_fail "token replay after restart: $again, first was $first"
pd_ok "token replay after the restart returns the first allocation"

new=$(ctl allocate lab --tag Environment=lab --locale site-a | jq -r .cidr)
ctl allocation list --pool lab | jq -r '.allocations[].cidr' | python3 -c '
import ipaddress, sys
cidrs = [ipaddress.ip_network(l.strip()) for l in sys.stdin if l.strip()]
new = ipaddress.ip_network(sys.argv[1])
clash = [str(c) for c in cidrs if c != new and c.overlaps(new)]
assert not clash, f"{new} overlaps {clash}"
' "$new" || pd_fail "a new allocation collides after the restart"
pd_ok "new allocation $new after the restart collides with nothing"
