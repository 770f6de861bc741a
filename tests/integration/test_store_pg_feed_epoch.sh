#!/usr/bin/env bash
# A feed position read before the database's connection was lost is not trusted (store.h
# store_feed_epoch). Two instances on one database. Instance 1 allocates X; instance 2
# follows it. Then the database loses X's commit, as a server that crashes loses a commit
# another instance had read before it was flushed (store_release_early): psql removes X, its
# events and its feed entries and moves the audit head back, and the server crashes and
# starts again (pg_crash). Instance 1 then allocates Y, whose feed entries take the numbers
# X's had. Instance 2 must list Y and not X: its position (past X's numbers) is void after the
# reconnect, so it reloads. Following from that position would skip Y's entries as already
# read and keep X.
set -euo pipefail
export PREFIXD_TEST_STORE=postgresql
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
pd_setup
pgm_init
pgm_start 1
pgm_start 2
pgm_curl 1 POST /v1/pools '{"name":"p","scope":"private-default"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "pool create: $PD_STATUS"
pgm_curl 1 POST /v1/pools/p/provision '{"cidr":"10.9.0.0/16"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "provision: $PD_STATUS"

head=$(pg_psql "SELECT id || ' ' || hash || ' ' || seq FROM audit_head")
read -r eid ehash eseq <<<"$head"
pgm_curl 1 POST /v1/pools/p/allocations '{"cidr":"10.9.1.0/24"}' >/dev/null
[ "$PD_STATUS" = 201 ] || pd_fail "allocating X: $PD_STATUS"
lists() { [ "$(pgm_list_all 2 p | cut -d' ' -f2 | tr '\n' ' ')" = "$1" ]; }
pd_wait_for lists "10.9.1.0/24 " || pd_fail "instance 2 did not follow X: $(pgm_list_all 2 p)"
pd_ok "instance 2 follows X (feed up to $(pg_psql "SELECT seq FROM audit_head"), from $eseq)"

# The database loses X's commit, then crashes and starts again.
pg_psql "BEGIN; DELETE FROM allocations WHERE cidr = '10.9.1.0/24';
	DELETE FROM events WHERE id > $eid; DELETE FROM changes WHERE seq > $eseq;
	UPDATE audit_head SET id = $eid, hash = '$ehash', seq = $eseq; COMMIT" >/dev/null
pg_crash

# Y, by instance 1 once it has reconnected (503 until then; the token makes a retry safe).
alloc_y() {
	pgm_curl 1 POST /v1/pools/p/allocations '{"cidr":"10.9.2.0/24","token":"y"}' >/dev/null
	[ "$PD_STATUS" = 201 ] || [ "$PD_STATUS" = 200 ]
}
pd_wait_for alloc_y || pd_fail "instance 1 did not allocate Y after the crash: $PD_STATUS"
[ "$(pg_psql "SELECT min(seq) FROM changes WHERE seq > $eseq")" = "$((eseq + 1))" ] ||
	pd_fail "Y's feed entries do not take X's numbers: the test shows nothing"
pd_wait_for lists "10.9.2.0/24 " ||
	pd_fail "instance 2 lists '$(pgm_list_all 2 p | cut -d' ' -f2 | tr '\n' ' ')', the store holds Y only"
pd_ok "instance 2 lists Y only: it reloaded after the reconnect instead of following a void position"
verify=$("$PCTL_BIN" -s "$(pgm_sock 2)" --json audit verify) || pd_fail "audit verify: $verify"
jq -e .ok <<<"$verify" >/dev/null || pd_fail "audit verify: $verify"
pd_ok "audit verify: $(jq -c . <<<"$verify")"
