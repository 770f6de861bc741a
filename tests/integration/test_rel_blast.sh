#!/usr/bin/env bash
# ctest-labels: reliability lab
# Blast radius (issue 10, item 7). Withdrawing "all prefixes in a pool" or "all matching a
# filter" is two steps for a script or an operator: select (GET /v1/prefixes?pool=P&state=S,
# `prefixctl prefix list --pool P --state S`), then withdraw exactly that list. So:
#   - an empty or unknown filter is refused at both steps: ?pool= (400), ?pool=nope (404),
#     ?state= / ?state=bogus (400), a withdraw of {} / {"cidrs":[]} (400, "never means all"),
#     and prefixctl exits 1 or 2 — never an empty answer a script could read as "nothing" or
#     a selection that means "all";
#   - in the lab, with both lab prefixes advertised, withdrawing the pool's whole selection is
#     above the cap (max_withdraw 1): refused with too-many, nothing withdrawn (upstream keeps
#     both); with --confirm-large exactly the selected set is withdrawn and upstream holds none.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
LC_EXTRA_CONF=$(printf '[policy]\nmin_change_interval = 0\nmax_withdraw = 1\nmax_withdraw_percent = 10')
lc_test_start
lc_after_handover
lc_provision_ok "$LAB_PREFIX4"
lc_provision_ok "$LAB_PREFIX6"
lc_advertise_ok "$LAB_PREFIX4"
lc_advertise_ok "$LAB_PREFIX6"
lc_wait_edge_exactly 30 "$LAB_PREFIX4" "$LAB_PREFIX6"
ok "both lab prefixes advertised"

# Empty and unknown filters, API.
pd_expect 400 invalid-argument GET '/v1/prefixes?pool=' >/dev/null
pd_expect 404 not-found GET '/v1/prefixes?pool=no-such-pool' >/dev/null
pd_expect 400 invalid-argument GET '/v1/prefixes?state=' >/dev/null
pd_expect 400 invalid-argument GET '/v1/prefixes?state=bogus' >/dev/null
pd_expect 400 invalid-argument POST /v1/withdraw '{}' >/dev/null
pd_expect 400 invalid-argument POST /v1/withdraw '{"cidrs":[]}' >/dev/null
pd_expect 400 cidr-invalid POST /v1/withdraw '{"cidr":""}' >/dev/null
pd_expect 400 unknown-field POST /v1/withdraw '{"pool":"lc-v4"}' >/dev/null
ok "API: empty and unknown filters and selections are refused"

# Empty and unknown filters, CLI.
cli_refuses() { local rc=0; lc_json "$@" >/dev/null 2>&1 || rc=$?; [ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "prefixctl $* exited $rc"; }
cli_refuses prefix list --pool no-such-pool
cli_refuses prefix list --pool ''
cli_refuses prefix list --state bogus
cli_refuses withdraw
cli_refuses withdraw ''
lc_wait_edge_exactly 5 "$LAB_PREFIX4" "$LAB_PREFIX6"
[ "$(advertised=$(lc_json prefix list --state advertised | jq '.prefixes | length'); echo "$advertised")" = 2 ] ||
	fail "a refused request changed something"
ok "CLI: empty and unknown filters refused (exit 1/2); both prefixes still advertised"

# "All advertised prefixes of the public pools": above the cap.
sel=$( { lc_json prefix list --pool "$LC_POOL4" --state advertised; lc_json prefix list --pool "$LC_POOL6" --state advertised; } |
	jq -r '.prefixes[].cidr' | sort)
[ "$(wc -l <<<"$sel")" = 2 ] || fail "selection: $sel"
# shellcheck disable=SC2086
lc_expect_refused too-many withdraw $sel
lc_wait_edge_exactly 5 "$LAB_PREFIX4" "$LAB_PREFIX6"
[ "$(lc_state "$LAB_PREFIX4") $(lc_state "$LAB_PREFIX6")" = "advertised advertised" ] || fail "too-many changed states"
ok "withdraw of the 2 selected prefixes above max_withdraw=1: too-many, nothing withdrawn ($LC_MSG)"

# With --confirm-large: exactly the selection.
# shellcheck disable=SC2086
lc_withdraw_ok $sel --confirm-large
lc_wait_edge_exactly 30
[ "$(lc_json prefix list --state provisioned | jq -r '.prefixes[].cidr' | sort)" = "$sel" ] ||
	fail "after the withdraw: $(lc_json prefix list | jq -c '[.prefixes[] | {cidr, state}]')"
ok "with --confirm-large exactly the 2 selected prefixes were withdrawn; upstream holds none"
pd_stop
