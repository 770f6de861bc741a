#!/usr/bin/env bash
# Bring your own ASN in the lab (issue 21, must-be-true 2 and 3), through the real prefixctl,
# prefixd, BIRD and the lab's RDAP server (autnum records):
#   - a public pool cannot be created with an unproven origin (asn-not-provisioned); AS 64500 is
#     proven over RDAP (lc_ensure_pool), the prefix is advertised from it and upstream sees
#     origin 64500; deprovisioning AS 64500 then is refused in-use;
#   - AS 64511 is proven too; `prefix associate` to it is refused rpki-not-found while no ROA
#     covers the prefix (scenario "none") and rpki-invalid while only 64500 may (scenario
#     "ours"); with a ROA for 64511 (scenario "other") it is accepted, advertise announces from
#     it and upstream sees origin 64511 (AS path 64500 64511); `asn deprovision AS64511` is
#     refused in-use while it is advertised;
#   - withdraw, disassociate: the prefix is the pool's again, and AS64511 can be deprovisioned.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lifecycle.sh"
LC_EXTRA_CONF=$'[policy]\nmin_change_interval = 0'
lc_test_start
lc_after_handover
p=$LAB_PREFIX4

lc_expect_refused asn-not-provisioned pool create unproven --scope public-default --origin-asn 64999
ok "a public pool with an unproven origin is refused asn-not-provisioned ($LC_MSG)"

# ---- advertised from the proven AS 64500 ----
lc_provision_ok "$p"
[ "$(lc_asn_state "AS$EDGE_AS")" = provisioned ] || fail "AS$EDGE_AS is not provisioned"
lc_json asn show "AS$EDGE_AS" | jq -e '.evidence.auth.evidence.rdap_source | endswith("/autnum/64500")' >/dev/null ||
	fail "AS$EDGE_AS's proof did not come from the lab's autnum record"
lc_advertise_ok "$p"
lab_wait_route_at_upstream "$p" "$EDGE_AS" edge
[ "$(lab_origins_at_upstream "$p" edge | sort -u)" = "$EDGE_AS" ] || fail "origins: $(lab_origins_at_upstream "$p" edge)"
ok "AS$EDGE_AS proven over RDAP; $p advertised from it; upstream sees origin $EDGE_AS"
lc_expect_refused in-use asn deprovision "AS$EDGE_AS"
ok "asn deprovision AS$EDGE_AS refused in-use while $p is advertised ($LC_MSG)"
lc_expect_refused in-use prefix associate "$p" --asn "AS$EDGE_AS"
ok "an advertised prefix's origin does not change (in-use)"
lc_withdraw_ok "$p"
lab_wait_no_route_at_upstream "$p" edge

# ---- a second proven ASN ----
lc_make_auth "AS$OTHER_AS"
lc_prove_asn "AS$OTHER_AS" || fail "AS$OTHER_AS could not be proven"
ok "AS$OTHER_AS proven"
lab_set_vrps none 20
lc_wait_check_state() { lc_rpki_state_is "$p" "$OTHER_AS" "$1"; }
wait_until 30 "no ROA for $p" lc_wait_check_state not-found
lc_expect_refused rpki-not-found prefix associate "$p" --asn "AS$OTHER_AS"
ok "associate to AS$OTHER_AS without a ROA: refused rpki-not-found"
lab_set_vrps ours 20
wait_until 30 "ROA for 64500 only" lc_wait_check_state invalid
lc_expect_refused rpki-invalid prefix associate "$p" --asn "$OTHER_AS"
lc_expect_refused asn-not-provisioned prefix associate "$p" --asn AS64999
[ "$(lc_field "$p" .origin_asn)" = "$EDGE_AS" ] || fail "a refused associate changed the origin"
ok "associate refused rpki-invalid (ROA for 64500 only) and asn-not-provisioned; origin unchanged"

lab_set_vrps other 20
wait_until 30 "a ROA for 64511" lc_wait_check_state valid
out=$(lc_json prefix associate "$p" --asn "AS$OTHER_AS") || fail "associate refused: $out"
jq -e --argjson a "$OTHER_AS" '.origin_asn == $a and .associated_asn == $a and .evidence.rpki.state == "valid"' <<<"$out" >/dev/null ||
	fail "associate answered $out"
lc_advertise_ok "$p"
lab_wait_route_at_upstream "$p" "$OTHER_AS" edge
paths=$(lc_upstream_paths "$p")
read -r _ origin aspath <<<"$paths"
[ "$origin" = "$OTHER_AS" ] && [ "$aspath" = "${EDGE_AS}_$OTHER_AS" ] || fail "upstream holds: $paths"
ok "associated to AS$OTHER_AS: advertised, upstream sees origin $OTHER_AS (AS path $EDGE_AS $OTHER_AS)"
lc_history=$(lc_json history "$p" | jq -c '[.events[] | select(.action == "associate")] | length')
[ "$lc_history" -ge 1 ] || fail "history has no associate event"
lc_expect_refused in-use asn deprovision "AS$OTHER_AS"
ok "asn deprovision AS$OTHER_AS refused in-use ($LC_MSG)"

lc_withdraw_ok "$p"
lab_wait_no_route_at_upstream "$p" edge
out=$(lc_json prefix disassociate "$p" 2>&1) && fail "disassociate accepted while 64500 is invalid: $out"
lab_set_vrps ours 20
wait_until 30 "ROA for 64500 again" lc_rpki_state_is "$p" "$EDGE_AS" valid
out=$(lc_json prefix disassociate "$p") || fail "disassociate refused: $out"
jq -e --argjson a "$EDGE_AS" '.origin_asn == $a and .associated_asn == null' <<<"$out" >/dev/null ||
	fail "disassociate answered $out"
lc_json asn deprovision "AS$OTHER_AS" >/dev/null || fail "AS$OTHER_AS could not be deprovisioned"
ok "withdrawn and disassociated: origin $EDGE_AS again; AS$OTHER_AS deprovisioned"
