#!/usr/bin/env bash
# ctest-labels: asan
# Tamper detection (issue 9, must-be-true 3): untouched, `prefixctl audit verify` exits 0;
# after one event's JSON is changed with the sqlite3 CLI it exits 1 and names that event;
# put back, it passes again; after a row is deleted it exits 1 and names the missing event;
# after the last row is deleted (a truncated tail) it names that one too. Also: events
# written after a restart continue the chain, and the feed shows each event's hash.
set -euo pipefail; [ -n "${OBS_TRACE:-}" ] && set -x
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_start
pd_ctl pool create top --scope private-default >/dev/null
pd_ctl pool provision top 10.40.0.0/16 >/dev/null
for i in 1 2 3 4; do pd_ctl allocate top --netmask 24 --description "n$i" >/dev/null; done
pd_stop
pd_start                                  # the chain goes on across a restart
pd_ctl allocate top --netmask 24 >/dev/null
DB=$(pd_db)
sql() { sqlite3 "$DB" "$@"; }

verify() {  # verify WANT_EXIT PATTERN: audit verify exits WANT_EXIT, its output matches PATTERN
	local rc=0
	pd_ctl audit verify > "$PD_DIR/v.out" 2>&1 || rc=$?
	[ "$rc" = "$1" ] || pd_fail "audit verify exit $rc, want $1: $(cat "$PD_DIR/v.out")"
	grep -Eq "$2" "$PD_DIR/v.out" || pd_fail "audit verify said '$(cat "$PD_DIR/v.out")', want /$2/"
}
n=$(sql "SELECT count(*) FROM events")
[ "$n" -ge 8 ] || pd_fail "only $n events"
verify 0 "intact: $n events"
verify 0 "unkeyed: shows accidental damage"     # no [daemon] audit_key_file: said so
[ "$(pd_ctl --json events | jq -r '.events[-1].hash')" = "$(sql 'SELECT lower(hex(hash)) FROM events ORDER BY id DESC LIMIT 1')" ] ||
	pd_fail "the feed does not show the stored hash"
pd_ok "untouched: audit verify exits 0 over $n events (across a restart)"

# Edit one event's JSON: the second allocation now claims another CIDR.
victim=$(sql "SELECT id FROM events WHERE action = 'allocate' AND after LIKE '%\"10.40.1.0/24\"%'")
orig=$(sql "SELECT after FROM events WHERE id = $victim")
sql "UPDATE events SET after = replace(after, '10.40.1.0/24', '10.99.1.0/24') WHERE id = $victim"
[ "$(sql "SELECT after FROM events WHERE id = $victim")" != "$orig" ] || pd_fail "the edit did not take"
verify 1 "audit-broken: event $victim does not match"
pd_ok "event $victim's JSON edited with sqlite3: exit 1 naming event $victim"

sql "UPDATE events SET after = '$(sed "s/'/''/g" <<<"$orig")' WHERE id = $victim"
verify 0 "intact"
pd_ok "put back: passes again"

sql "UPDATE events SET actor = 'uid:1000' WHERE id = 3"
verify 1 "event 3 does not match"
sql "UPDATE events SET actor = 'uid:0' WHERE id = 3"
verify 0 "intact"
pd_ok "a changed actor is caught too (event 3)"

last=$(sql "SELECT max(id) FROM events")
sql "CREATE TABLE keep AS SELECT * FROM events WHERE id = $last; DELETE FROM events WHERE id = $last"
verify 1 "audit-broken: event $last is missing: the log ends at event $((last - 1))"
sql "INSERT INTO events SELECT * FROM keep; DROP TABLE keep"
verify 0 "intact"
pd_ok "the last row deleted (truncated tail): exit 1 naming event $last; put back, passes"

gone=$((victim + 1))
sql "DELETE FROM events WHERE id = $gone"
verify 1 "audit-broken: event $gone is missing"
pd_ok "row $gone deleted: exit 1 naming event $gone"

sql "INSERT INTO events(id, time, action) VALUES($gone, 0, 'forged')"
verify 1 "event $gone does not match"
pd_ok "a forged row in its place: exit 1 naming event $gone"
sql "DELETE FROM events WHERE id = $gone"

pd_stop
