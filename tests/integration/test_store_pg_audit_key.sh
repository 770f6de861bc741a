#!/usr/bin/env bash
# The keyed audit chain on several instances of one PostgreSQL store (issue 15 finding 7):
#   - two instances reading the same [daemon] audit_key_file write one chain: exactly one
#     audit-keyed event, and `audit verify` on either walks it intact with HMAC links, events
#     written by both;
#   - each instance publishes the head it committed in its own state directory: the tail cut
#     (the audit_head row moved back with it) is named by the instance that wrote it;
#   - an instance with another key, or with none, refuses to start and writes nothing.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
pd_setup
pgm_init
KEY=$PD_DIR/audit.key
head -c 48 /dev/urandom > "$KEY"
chmod 0400 "$KEY"
PGM_EXTRA=$(printf '[daemon]\naudit_key_file = %s' "$KEY")
pgm_start 1
pgm_start 2
ctl() { local n=$1; shift; "$PCTL_BIN" -s "$(pgm_sock "$n")" "$@"; }

ctl 1 pool create top --scope private-default >/dev/null
ctl 1 pool provision top 10.50.0.0/16 >/dev/null
pool_on_2() { ctl 2 --json pool show top >/dev/null 2>&1; }
pd_wait_for pool_on_2 || pd_fail "instance 2 never saw pool top"
for i in 1 2 3; do
	ctl 1 allocate top --netmask 24 --description "one-$i" >/dev/null
	ctl 2 allocate top --netmask 24 --description "two-$i" >/dev/null
done
n=$(pg_psql "SELECT count(*) FROM events")
[ "$(pg_psql "SELECT count(*) FROM events WHERE action = 'audit-keyed'")" = 1 ] ||
	pd_fail "not one audit-keyed event: $(pg_psql "SELECT id FROM events WHERE action = 'audit-keyed'")"
for i in 1 2; do
	ctl "$i" --json audit verify > "$PD_DIR/v$i.json" || pd_fail "instance $i: verify failed: $(cat "$PD_DIR/v$i.json")"
	jq -e --argjson n "$n" '.ok and .keyed and .keyed_from == 1 and .events == $n and
	    .published_head_id > 0' "$PD_DIR/v$i.json" >/dev/null ||
		pd_fail "instance $i: $(cat "$PD_DIR/v$i.json")"
done
[ "$(jq -r .key_id "$PD_DIR/v1.json")" = "$(jq -r .key_id "$PD_DIR/v2.json")" ] || pd_fail "two key ids"
pd_ok "one chain, keyed from event 1, $n events by both instances: intact on each"

last=$(pg_psql "SELECT max(id) FROM events")
cut=$((last - 1))
pg_psql "CREATE TABLE keep AS SELECT * FROM events WHERE id > $cut;
    DELETE FROM events WHERE id > $cut;
    UPDATE audit_head SET id = $cut, hash = (SELECT hash FROM events WHERE id = $cut)" >/dev/null
rc=0; ctl 2 audit verify > "$PD_DIR/v.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "audit-broken: event $last is missing: the log ends at event $cut but event $last was published outside the store" "$PD_DIR/v.out" ||
	pd_fail "instance 2 (wrote event $last): verify exit $rc: $(cat "$PD_DIR/v.out")"
pg_psql "INSERT INTO events SELECT * FROM keep; DROP TABLE keep;
    UPDATE audit_head SET id = $last, hash = (SELECT hash FROM events WHERE id = $last)" >/dev/null
ctl 2 audit verify >/dev/null || pd_fail "instance 2: verify fails after the tail is put back"
pd_ok "tail cut to event $cut, audit_head moved back: instance 2, which wrote event $last, names it; put back, intact"

refused() {  # refused N EXTRA PATTERN: instance N with EXTRA config exits non-zero saying PATTERN
	local dir=$PD_DIR/i$1 rc=0
	mkdir -p "$dir/state"
	printf '[daemon]\nstate_dir = %s\nsocket = %s\n[store]\nbackend = postgresql\ndsn = %s\n%s\n' \
		"$dir/state" "$dir/prefixd.sock" "$PG_DSN" "$2" > "$dir/prefixd.conf"
	timeout 30 "$PD_BIN" -c "$dir/prefixd.conf" > "$dir/log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || pd_fail "instance $1 started (rc $rc), want refused"
	grep -Eq "$3" "$dir/log" || pd_fail "instance $1 said '$(cat "$dir/log")', want /$3/"
}
before=$(pg_psql "SELECT count(*), max(id) FROM events")
head -c 32 /dev/urandom > "$PD_DIR/other.key"; chmod 0600 "$PD_DIR/other.key"
refused 3 "$(printf '[daemon]\naudit_key_file = %s' "$PD_DIR/other.key")" \
	"keyed with key [0-9a-f]{16} since event 1, but \[daemon\] audit_key_file holds key"
refused 4 "" "the audit chain is keyed with key [0-9a-f]{16} since event 1: set \[daemon\] audit_key_file"
[ "$(pg_psql "SELECT count(*), max(id) FROM events")" = "$before" ] || pd_fail "a refused instance wrote events"
pd_ok "a third instance with another key, and a fourth without one: refused, nothing written"
