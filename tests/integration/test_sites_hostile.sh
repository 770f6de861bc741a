#!/usr/bin/env bash
# Advertise / withdraw by site (issue 17, must-be-true 7): two prefixd instances on one
# PostgreSQL 15 (sites edge1 and edge2, lib/pg.sh). An unknown site, an empty site list, an
# empty name in --site, a name with characters outside [a-z0-9-], a name given twice, both
# --site and --all-sites, and a dry run of another site are refused with clear errors, by the
# API and by prefixctl, and change nothing (the store dumped before and after, the site rows
# included). GET /v1/sites lists both sites with a live writer; POST /v1/sites/breaker/reset
# (an admin route) and `prefixctl breaker reset` close the breaker.
# ctest-labels: postgresql
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<'EOF2'
[site]
name = edge1
lease_renew = 1
EOF2
pd_start

B_SOCK=$PD_DIR/b.sock B_CONF=$PD_DIR/b.conf B_LOG=$PD_DIR/b.log
sed -e "s|^socket = .*|socket = $B_SOCK|" -e "s|^state_dir = .*|state_dir = $PD_DIR/b-state|" \
    -e "s|^name = edge1|name = edge2|" "$PD_CONF" > "$B_CONF"
grep -qx 'name = edge2' "$B_CONF" || pd_fail "second config has no site edge2"
"$PD_BIN" -c "$B_CONF" >>"$B_LOG" 2>&1 &
B_PID=$!
b_cleanup() {
	local rc=$?
	set +e          # under set -e, (exit "$rc") below would end the hook before pd_cleanup
	kill -TERM "$B_PID" 2>/dev/null && wait "$B_PID" 2>/dev/null || true
	(exit "$rc")
	pd_cleanup
}
trap b_cleanup EXIT

two_live() { pd_curl GET /v1/sites | jq -e '[.sites[] | select(.live)] | map(.site) == ["edge1","edge2"]'; }
pd_wait_for two_live || pd_fail "GET /v1/sites: $(pd_curl GET /v1/sites)"
pd_ok "GET /v1/sites lists edge1 and edge2, each with a live writer"

sites_rows() { pg_psql "COPY (SELECT * FROM prefix_sites ORDER BY 1, 2) TO STDOUT"; }
before=$(pd_dump; sites_rows)

# the API
for c in \
    '{"cidr":"192.0.2.0/24","sites":["ams9"]}|404|site-unknown|no site .ams9. in the store \(known: edge1, edge2\)' \
    '{"cidr":"192.0.2.0/24","sites":[]}|400|invalid-argument|empty list never means all' \
    '{"cidr":"192.0.2.0/24","sites":["Edge1"]}|400|invalid-argument|sites\[0\] is not a site name' \
    '{"cidr":"192.0.2.0/24","sites":["edge1;rm"]}|400|invalid-argument|not a site name' \
    '{"cidr":"192.0.2.0/24","sites":["edge1\u0000x"]}|400|invalid-json|not allowed' \
    '{"cidr":"192.0.2.0/24","sites":[""]}|400|invalid-argument|not a site name' \
    '{"cidr":"192.0.2.0/24","sites":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}|400|invalid-argument|not a site name' \
    '{"cidr":"192.0.2.0/24","sites":["edge1","edge1"]}|400|invalid-argument|given twice' \
    '{"cidr":"192.0.2.0/24","sites":[7]}|400|invalid-argument|not a site name' \
    '{"cidr":"192.0.2.0/24","sites":"edge1"}|400|invalid-argument|must be' \
    '{"cidr":"192.0.2.0/24","sites":["edge1"],"all_sites":true}|400|invalid-argument|not both' \
    '{"cidr":"192.0.2.0/24","all_sites":false}|400|invalid-argument|all_sites is true or absent' \
    '{"cidr":"192.0.2.0/24","sites":["edge2"],"dry_run":true}|400|invalid-argument|dry run covers this instance' \
    ; do
	IFS='|' read -r body status code msg <<<"$c"
	for path in /v1/advertise /v1/withdraw; do
		got=$(pd_expect "$status" "$code" POST "$path" "$body")
		jq -r .error.message <<<"$got" | grep -Eq "$msg" ||
			pd_fail "$path $body: message does not say '$msg': $got"
	done
done
pd_ok "the API refuses unknown, empty, malformed and repeated sites, both selectors, a remote dry run"

# prefixctl
ctl_refuses() {   # WANT-EXIT PATTERN ARGS...
	local want=$1 pat=$2 rc=0 out
	shift 2
	out=$(pd_ctl "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || pd_fail "prefixctl $*: exit $rc, want $want: $out"
	grep -Eq "$pat" <<<"$out" || pd_fail "prefixctl $*: no '$pat' in: $out"
}
for cmd in advertise withdraw; do
	ctl_refuses 1 "site-unknown|no site 'ams9'" "$cmd" 192.0.2.0/24 --site ams9
	ctl_refuses 1 "site-unknown|no site 'ams9'" "$cmd" 192.0.2.0/24 --site edge1,ams9
	ctl_refuses 1 "not a site name" "$cmd" 192.0.2.0/24 --site 'EDGE1'
	ctl_refuses 1 "not a site name" "$cmd" 192.0.2.0/24 --site 'edge 1'
	ctl_refuses 1 "given twice" "$cmd" 192.0.2.0/24 --site edge1,edge1
	ctl_refuses 2 "empty" "$cmd" 192.0.2.0/24 --site ''
	ctl_refuses 2 "empty site name" "$cmd" 192.0.2.0/24 --site edge1,
	ctl_refuses 2 "empty site name" "$cmd" 192.0.2.0/24 --site ,edge1
	ctl_refuses 2 "not both" "$cmd" 192.0.2.0/24 --site edge1 --all-sites
done
pd_ok "prefixctl refuses the same with clear errors (exit 1 from the daemon, 2 for usage)"

# a CIDR that is no public prefix: refused per site, at once, nothing desired anywhere
for sites in '["edge1"]' '["edge2"]' '["edge1","edge2"]'; do
	got=$(pd_expect 404 not-found POST /v1/advertise "{\"cidr\":\"192.0.2.0/24\",\"sites\":$sites}")
	jq -e --argjson s "$sites" '[.results[] | .site] == $s and all(.results[]; .code == "not-found")' \
		<<<"$got" >/dev/null || pd_fail "advertise 192.0.2.0/24 at $sites: $got"
done
pd_ok "a CIDR that is no public prefix is refused not-found at each named site"

after=$(pd_dump; sites_rows)
[ "$before" = "$after" ] || pd_fail "the store changed: $(diff <(echo "$before") <(echo "$after") | head -20)"
pd_ok "nothing changed in the store (site rows included)"

# the breaker: readable by readers, reset by admins only
pd_curl GET /v1/sites | jq -e '.breaker.state == "closed"' >/dev/null || pd_fail "breaker: $(pd_curl GET /v1/sites)"
pd_expect 200 - POST /v1/sites/breaker/reset '{}' >/dev/null
pd_expect 400 unknown-field POST /v1/sites/breaker/reset '{"x":1}' >/dev/null
pd_ctl breaker reset | grep -q 'withdrawal breaker: closed' || pd_fail "prefixctl breaker reset"
pd_ctl site list | grep -Eq '^edge2 ' || pd_fail "prefixctl site list: $(pd_ctl site list)"
pd_ok "the breaker shows closed; POST /v1/sites/breaker/reset and prefixctl breaker reset close it"
