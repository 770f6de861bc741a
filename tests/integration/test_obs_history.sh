#!/usr/bin/env bash
# ctest-labels: asan
# History (issue 9, must-be-true 2): `prefixctl history CIDR` shows every step of a sequence,
# in order, with the right actor -- root is uid:0 (admin), uid nobody in the socket's group is
# uid:65534 (operator). The sequence: allocate 10.30.1.0/24 (root), release it (nobody),
# allocate the same CIDR again (nobody), release it (root: a child pool needs the space
# free), provision a child pool over it (root). History of the /24 also lists the events of
# CIDRs that overlap it (the parent's /16 provision); history of a /25 inside it lists the
# same steps; --since/--until bound the answer; every event carries a request id, and the
# API returns it in the X-Request-Id header.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<INI
[daemon]
socket_group = users
INI
pd_start
as_nobody() { setpriv --reuid nobody --regid nogroup --groups users "$PCTL_BIN" -s "$PD_SOCK" "$@"; }

X=10.30.1.0/24
pd_ctl pool create top --scope private-default >/dev/null
pd_ctl pool provision top 10.30.0.0/16 >/dev/null
id1=$(pd_ctl --json allocate top --cidr $X | jq -r .id)
as_nobody release "$id1" >/dev/null || pd_fail "nobody could not release"
id2=$(as_nobody --json allocate top --cidr $X | jq -r .id)
[ -n "$id2" ] && [ "$id2" != null ] || pd_fail "nobody could not allocate $X again"
pd_ctl release "$id2" >/dev/null
pd_ctl pool create kid --scope private-default --parent top >/dev/null
pd_ctl pool provision kid $X >/dev/null
pd_ok "sequence done: allocate (root), release (nobody), allocate again (nobody), release (root), child pool over it (root)"

pd_ctl --json history $X > "$PD_DIR/h.json" || pd_fail "history failed"
steps=$(jq -r '.events[] | "\(.action) \(.actor) \(.role) \(.cidr)"' "$PD_DIR/h.json")
want="provision uid:0 admin 10.30.0.0/16
allocate uid:0 admin $X
release uid:65534 operator $X
allocate uid:65534 operator $X
release uid:0 admin $X"
[ "$(head -n5 <<<"$steps")" = "$want" ] || pd_fail "history of $X, first steps:
$steps
want:
$want"
tail -n +6 <<<"$steps" | grep -q "^provision uid:0 admin $X$" || pd_fail "no child-pool provision of $X: $steps"
jq -e '[.events[].id] | . == sort' "$PD_DIR/h.json" >/dev/null || pd_fail "events not in id order"
jq -e '[.events[].time] | . == sort' "$PD_DIR/h.json" >/dev/null || pd_fail "events not in time order"
jq -e 'all(.events[]; (.request_id | type) == "string" and (.request_id | length) > 0)' "$PD_DIR/h.json" >/dev/null ||
	pd_fail "an event without a request id"
jq -e '[.events[] | select(.action == "release")] | all(.before != null)' "$PD_DIR/h.json" >/dev/null ||
	pd_fail "a release without its before state"
pd_ok "history $X: every step in order with actor uid:0/admin or uid:65534/operator and a request id"

inner=$(pd_ctl --json history 10.30.1.128/25 | jq -r '.events[] | "\(.action) \(.actor)"')
[ "$(jq -r '.events[] | "\(.action) \(.actor)"' "$PD_DIR/h.json")" = "$inner" ] ||
	pd_fail "history of a /25 inside differs from the /24's"
[ "$(pd_ctl --json history 10.31.0.0/24 | jq '.events | length')" = 0 ] || pd_fail "unrelated CIDR has history"
pd_ok "overlap: a /25 inside shows the same events; an unrelated /24 shows none"

[ "$(pd_ctl --json history $X --until 2000-01-01 | jq '.events | length')" = 0 ] || pd_fail "--until 2000 not empty"
[ "$(pd_ctl --json history $X --since 2999-01-01 | jq '.events | length')" = 0 ] || pd_fail "--since 2999 not empty"
n=$(jq '.events | length' "$PD_DIR/h.json")
[ "$(pd_ctl --json history $X --since 2000-01-01 --until 2999-01-01 | jq '.events | length')" = "$n" ] ||
	pd_fail "--since/--until around now lost events"
pd_ctl history $X | grep -q "uid:65534" || pd_fail "human history has no operator actor"
pd_ctl history $X | head -n1 | grep -q "ACTOR *ROLE *REQUEST" || pd_fail "human history has no ROLE column"
pd_ctl history $X | grep -Eq "uid:65534 +operator " || pd_fail "human history does not show the operator's role"
pd_ctl history $X | grep -Eq "uid:0 +admin " || pd_fail "human history does not show root's role"
pd_ok "--since/--until bound the answer; the human table names the actors"

hdr=$(curl -s -D - -o /dev/null --unix-socket "$PD_SOCK" -H 'X-Request-Id: obs-test-42' -X POST \
	-H 'Content-Type: application/json' --data '{"netmask":28}' http://prefixd/v1/pools/kid/allocations)
grep -qi '^X-Request-Id: obs-test-42' <<<"$hdr" || pd_fail "no X-Request-Id header: $hdr"
[ "$(pd_ctl --json history $X | jq -r '.events[-1].request_id')" = obs-test-42 ] || pd_fail "event lacks the request id"
pd_ok "the request id travels: header in the answer, field in the event"
pd_stop
