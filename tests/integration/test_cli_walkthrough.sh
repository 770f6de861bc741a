#!/usr/bin/env bash
# ctest-labels: asan
# The README walk-through (doc/walkthrough.md), command for command, against a real prefixd:
# a top-level pool 10.0.0.0/16; a leaf pool (default 24, min 20, max 26, Environment=lab
# required) drawing a /20 from it; a compliant allocation; untagged, /19 and /27 requests
# refused with their codes; the allocation listed; teardown bottom-up, with out-of-order steps
# refused with in-use. Driven by `prefixctl --json`, checked with jq.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

# ctl ARGS...: prefixctl --json ARGS must exit 0; prints its stdout.
ctl() {
	local out rc=0
	out=$(pd_ctl --json "$@" 2>"$PD_DIR/ctl.err") || rc=$?
	[ "$rc" = 0 ] || pd_fail "prefixctl $*: exit $rc: $(cat "$PD_DIR/ctl.err")"
	printf '%s\n' "$out"
}

# refused CODE ARGS...: exit 1, "prefixctl: CODE: ..." on stderr, the code in the JSON on stdout.
refused() {
	local code=$1 out rc=0
	shift
	out=$(pd_ctl --json "$@" 2>"$PD_DIR/ctl.err") || rc=$?
	[ "$rc" = 1 ] || pd_fail "prefixctl $*: want exit 1 ($code), got $rc: $out $(cat "$PD_DIR/ctl.err")"
	grep -q "^prefixctl: $code: " "$PD_DIR/ctl.err" ||
		pd_fail "prefixctl $*: want '$code' on stderr, got: $(cat "$PD_DIR/ctl.err")"
	[ "$(jq -r .error.code <<<"$out")" = "$code" ] || pd_fail "prefixctl $*: JSON code is not $code: $out"
	pd_ok "$* refused with $code"
}

# expect FILTER JSON: jq -e FILTER must hold.
expect() { jq -e "$1" <<<"$2" >/dev/null || pd_fail "expected $1 in: $2"; }

pd_setup
pd_start

expect '.version' "$(ctl status)"
# --json prints the API's reply as it is (plus a final newline when it has none)
[ "$(pd_ctl --json scope list)" = "$(pd_curl GET /v1/scopes)" ] || pd_fail "--json differs from the API's reply"

# 1. a top-level pool, provisioned
j=$(ctl pool create top --scope private-default)
expect '.name == "top" and .scope == "private-default" and .family == "ipv4"' "$j"
expect '.cidr == "10.0.0.0/16"' "$(ctl pool provision top 10.0.0.0/16)"
pd_ok "top-level pool top holds 10.0.0.0/16"

# 2. the leaf pool with its rules; the parent picks the /20
j=$(ctl pool create lab --scope private-default --parent top \
	--default-netmask 24 --min-netmask 20 --max-netmask 26 --require-tag Environment=lab)
expect '.parent == "top" and .default_netmask == 24 and .min_netmask == 20 and .max_netmask == 26' "$j"
expect '.required_tags == {"Environment": "lab"}' "$j"
expect '.cidr == "10.0.0.0/20"' "$(ctl pool provision lab --netmask 20)"
pd_ok "leaf pool lab drew 10.0.0.0/20 from top"

# 3. a compliant allocation
j=$(ctl allocate lab --tag Environment=lab --description "lab web tier")
expect '.cidr == "10.0.0.0/24" and .pool == "lab" and .tags.Environment == "lab"' "$j"
id=$(jq -r .id <<<"$j")
[ -n "$id" ] && [ "$id" != null ] || pd_fail "allocation has no id: $j"
pd_ok "compliant allocation $id got 10.0.0.0/24"

# 4. refusals, each with its code
refused missing-tag allocate lab
refused netmask-too-large allocate lab --netmask 19 --tag Environment=lab
refused netmask-too-small allocate lab --netmask 27 --tag Environment=lab

# 5. listed (JSON and the human table)
j=$(ctl allocation list --pool lab)
expect "[.allocations[] | {id, cidr}] == [{\"id\": \"$id\", \"cidr\": \"10.0.0.0/24\"}]" "$j"
table=$(pd_ctl allocation list --pool lab)
head -n1 <<<"$table" | grep -q '^ID  *POOL  *CIDR' || pd_fail "no table heading: $table"
grep -q "^$id  *lab  *10.0.0.0/24 " <<<"$table" || pd_fail "allocation not in the table: $table"
# a pool's cidrs: strings, or objects with a cidr (doc/openapi.json's ProvisionedCidr)
expect '[.cidrs[] | if type == "object" then .cidr else . end] == ["10.0.0.0/20"]' "$(ctl pool show lab)"
pd_ok "the allocation is listed"

# 6. teardown: out of order is refused, bottom-up succeeds
refused in-use pool deprovision top 10.0.0.0/16
refused in-use pool delete top
refused in-use pool delete lab
refused in-use pool deprovision lab 10.0.0.0/20
ctl release "$id" >/dev/null
ctl pool deprovision lab 10.0.0.0/20 >/dev/null
ctl pool delete lab >/dev/null
ctl pool deprovision top 10.0.0.0/16 >/dev/null
ctl pool delete top >/dev/null
expect '[.pools[] | select(.name == "top" or .name == "lab")] == []' "$(ctl pool list)"
expect '.allocations == []' "$(ctl allocation list)"
pd_ok "teardown bottom-up left nothing"
