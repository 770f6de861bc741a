#!/usr/bin/env bash
# ctest-labels: asan
# The keyed audit chain (issue 15, finding 7). A store begun without a key gets one: an
# audit-keyed event, written at the keyed start, switches the chain to HMAC links. Then `prefixctl audit verify` exits 1
# naming the first bad event after each tampering that an unkeyed chain with its head in the
# store let through ("intact"), and passes again once it is undone:
#   1. the tail cut and the store's head moved back with it: named by the head published
#      outside the store (<state_dir>/audit-head);
#   2. an event edited and the chain re-hashed with the unkeyed algorithm
#      (lib/audit_rehash.py), the head updated: named by its keyed link (HMAC); an event of
#      the unkeyed segment edited and that segment re-hashed: the switch event is named;
#   3. (SQLite) history's address index edited: a row deleted, ranges_upto moved past the
#      log: verify names the hidden event and rebuilds the index, `history` shows it again;
#      a restart rebuilds it too.
# Then the key file itself, hostile: readable by group or others, short, missing, another
# key, no key on a keyed store: `prefixd -n` and the start refuse with a clear error and the
# store is unchanged. Runs on SQLite and (postgresql.test_obs_audit_key) on PostgreSQL.
set -euo pipefail; [ -n "${OBS_TRACE:-}" ] && set -x
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
REHASH=$PREFIXD_SOURCE_DIR/tests/integration/lib/audit_rehash.py
pd_setup
KEY=$PD_DIR/audit.key
head -c 32 /dev/urandom > "$KEY"
chmod 0600 "$KEY"
pd_start                                  # a store from before the key: unkeyed events
pd_ctl pool create top --scope private-default >/dev/null
pd_ctl pool provision top 10.40.0.0/16 >/dev/null
pd_stop
printf '[daemon]\naudit_key_file = %s\n' "$KEY" | pd_config
pd_start
for i in 1 2 3 4 5 6; do pd_ctl allocate top --netmask 24 --description "n$i" >/dev/null; done

pg() { [ -n "${PG_DSN:-}" ]; }
sql() {  # sql SQLITE-SQL POSTGRESQL-SQL: runs it behind prefixd's back, prints the rows
	if pg; then pg_psql "$2"; else sqlite3 -cmd ".timeout 10000" "$(pd_db)" "$1"; fi
}
hash_of() { sql "SELECT lower(hex(hash)) FROM events WHERE id = $1" "SELECT hash FROM events WHERE id = $1"; }
last_id() { sql "SELECT max(id) FROM events" "SELECT max(id) FROM events"; }
set_head() {  # set_head ID: the store's own head moved to event ID, as an attacker would
	sql "UPDATE meta SET value = '$1 $(hash_of "$1")' WHERE key = 'audit_head'" \
	    "UPDATE audit_head SET id = $1, hash = (SELECT hash FROM events WHERE id = $1)"
}
snapshot() { sql "DROP TABLE IF EXISTS keep; CREATE TABLE keep AS SELECT * FROM events" \
	"DROP TABLE IF EXISTS keep; CREATE TABLE keep AS SELECT * FROM events"; }
restore() {  # the events as snapshot() saw them, and the head at the last one
	sql "DELETE FROM events; INSERT INTO events SELECT * FROM keep; DROP TABLE keep" \
	    "DELETE FROM events; INSERT INTO events SELECT * FROM keep; DROP TABLE keep"
	set_head "$(last_id)"
}
verify() {  # verify WANT_EXIT PATTERN: audit verify exits WANT_EXIT, its output matches PATTERN
	local rc=0
	pd_ctl audit verify > "$PD_DIR/v.out" 2>&1 || rc=$?
	[ "$rc" = "$1" ] || pd_fail "audit verify exit $rc, want $1: $(cat "$PD_DIR/v.out")"
	grep -Eq "$2" "$PD_DIR/v.out" || pd_fail "audit verify said '$(cat "$PD_DIR/v.out")', want /$2/"
}

n=$(sql "SELECT count(*) FROM events" "SELECT count(*) FROM events")
sw=$(sql "SELECT id FROM events WHERE action = 'audit-keyed'" "SELECT id FROM events WHERE action = 'audit-keyed'")
[ "$sw" -gt 2 ] || pd_fail "the switch is event '$sw', want one after the unkeyed events"
verify 0 "intact: $n events"
verify 0 "keyed: HMAC with key [0-9a-f]{16} from event $sw; published head: event $n"
[ "$(sql "SELECT action FROM events WHERE id = $((sw + 1))" "SELECT action FROM events WHERE id = $((sw + 1))")" = allocate ] ||
	pd_fail "event $((sw + 1)) is not the first allocation: the switch was not written at start"
[ "$(stat -c %a "$PD_STATE/audit-head")" = 600 ] || pd_fail "audit-head mode $(stat -c %a "$PD_STATE/audit-head")"
pd_ok "events 1-$((sw - 1)) unkeyed, keyed from event $sw (audit-keyed) on, $n events intact, head $n published in audit-head (0600)"

# 1. The tail cut, the store's head moved back with it.
last=$(last_id); cut=$((last - 2))
snapshot
sql "DELETE FROM events WHERE id > $cut" "DELETE FROM events WHERE id > $cut"
set_head "$cut"
verify 1 "audit-broken: event $((cut + 1)) is missing: the log ends at event $cut but event $last was published outside the store"
restore
verify 0 "intact: $n events"
pd_ok "tail cut to event $cut with the store's head moved back: exit 1 naming event $((cut + 1)); undone, passes"

# 2. An event edited and the chain after it re-hashed without the key (unkeyed SHA-256).
victim=$(sql "SELECT id FROM events WHERE action = 'allocate' AND after LIKE '%\"10.40.1.0/24\"%'" \
	"SELECT id FROM events WHERE action = 'allocate' AND after LIKE '%\"10.40.1.0/24\"%'")
snapshot
sql "UPDATE events SET after = replace(after, '10.40.1.0/24', '10.99.1.0/24') WHERE id = $victim" \
    "UPDATE events SET after = replace(after, '10.40.1.0/24', '10.99.1.0/24') WHERE id = $victim"
rehash() {  # rehash FROM TO: events FROM..TO re-linked with the unkeyed hash, as without the key
	local rows=$PD_DIR/rows.json
	if pg; then
		pg_psql "SELECT row_to_json(t) FROM (SELECT id, time, actor, role, request_id, action,
		    object_kind, cidr::text AS cidr, before, after, evidence FROM events
		    WHERE id BETWEEN $1 AND $2 ORDER BY id) t" > "$rows"
	else
		sqlite3 -cmd ".timeout 10000" -json "$(pd_db)" "SELECT id, time, actor, role, request_id, action, object_kind,
		    family, hex(start) AS start, len, before, after, evidence FROM events
		    WHERE id BETWEEN $1 AND $2 ORDER BY id" > "$rows"
	fi
	if [ "$1" = 1 ]; then prev=0000000000000000000000000000000000000000000000000000000000000000
	else prev=$(hash_of $(($1 - 1))); fi
	python3 "$REHASH" "$prev" < "$rows" > "$PD_DIR/rehash.txt"
	[ "$(wc -l < "$PD_DIR/rehash.txt")" = $(($2 - $1 + 1)) ] || pd_fail "re-hashed $(wc -l < "$PD_DIR/rehash.txt") events"
	while read -r id h; do
		sql "UPDATE events SET hash = X'$h' WHERE id = $id" "UPDATE events SET hash = '$h' WHERE id = $id"
	done < "$PD_DIR/rehash.txt"
	[ "$(hash_of "$2")" = "$(tail -n1 "$PD_DIR/rehash.txt" | cut -d' ' -f2)" ] || pd_fail "the re-hash did not take"
}
rehash "$victim" "$last"
set_head "$last"
verify 1 "audit-broken: event $victim does not match its keyed link \(HMAC\)"
restore
verify 0 "intact: $n events"
pd_ok "event $victim edited, events $victim..$last re-hashed unkeyed, head updated: exit 1 naming event $victim; undone, passes"

# 2b. The unkeyed segment before the switch edited and re-hashed: the switch event's HMAC
# covers it, so the switch is named.
snapshot
sql "UPDATE events SET actor = 'uid:1000' WHERE id = 1" "UPDATE events SET actor = 'uid:1000' WHERE id = 1"
rehash 1 $((sw - 1))
verify 1 "audit-broken: event $sw does not match its keyed link \(HMAC\)"
restore
verify 0 "intact: $n events"
pd_ok "event 1 (unkeyed segment) edited and events 1-$((sw - 1)) re-hashed: exit 1 naming the switch, event $sw"

if ! pg; then
	# 3. History's address index (SQLite; PostgreSQL answers history from the events' own
	# gist index). Wait until the daemon has indexed every event (about once a second).
	indexed() { [ "$(sql "SELECT value FROM meta WHERE key = 'ranges_upto'" "")" = "$(last_id)" ]; }
	pd_wait_for indexed || pd_fail "the address index never caught up"
	hidden=$(sql "SELECT id FROM events WHERE action = 'allocate' AND after LIKE '%\"10.40.2.0/24\"%'" "")
	in_history() { pd_ctl --json history "$1" | jq -e --argjson id "$2" 'any(.events[]; .id == $id)' >/dev/null; }
	in_history 10.40.2.0/24 "$hidden" || pd_fail "event $hidden not in history before the edit"
	sql "DELETE FROM event_ranges WHERE id = $hidden" ""
	! in_history 10.40.2.0/24 "$hidden" || pd_fail "the index edit did not hide event $hidden"
	verify 1 "audit-broken: event $hidden is missing from history's address index: the index was edited; it is rebuilt"
	in_history 10.40.2.0/24 "$hidden" || pd_fail "event $hidden still hidden from history after verify"
	verify 0 "intact"
	pd_ok "index row of event $hidden deleted (hidden from history): verify names it, rebuilds, history shows it"

	ahead=$(( $(last_id) + 50 ))
	sql "UPDATE meta SET value = '$ahead' WHERE key = 'ranges_upto'" ""
	pd_ctl allocate top --netmask 24 --description late >/dev/null
	late=$(last_id)
	late_cidr=$(sql "SELECT json_extract(after, '\$.cidr') FROM events WHERE id = $late" "")
	! in_history "$late_cidr" "$late" || pd_fail "ranges_upto $ahead did not hide event $late"
	verify 1 "audit-broken: event $late is missing from history's address index"
	in_history "$late_cidr" "$late" || pd_fail "event $late still hidden after verify"
	verify 0 "intact"
	pd_ok "ranges_upto moved past the log: the next event ($late) hidden; verify names it, history shows it"

	sql "DELETE FROM event_ranges WHERE id = $hidden" ""
	pd_stop
	pd_start
	grep -q "event $hidden is missing from history's address index" "$PD_LOG" ||
		pd_fail "no log line about the rebuilt index at start"
	in_history 10.40.2.0/24 "$hidden" || pd_fail "event $hidden hidden after a restart"
	pd_ok "an index row deleted while stopped: rebuilt at start (logged), history shows event $hidden"
fi

# The published head file: forged (no key: no valid MAC), emptied, replaced by another file.
H=$PD_STATE/audit-head
cp "$H" "$PD_DIR/head.keep"
echo "$((last + 9)) $(hash_of "$last") $(hash_of "$last")" > "$H"
verify 1 "audit-broken: the published audit head .* does not check with the key"
cat "$PD_DIR/head.keep" > "$H"
verify 0 "intact"
: > "$H"
verify 1 "audit-broken: the published audit head .* was emptied \(this daemon wrote event $(last_id) to it\)"
cat "$PD_DIR/head.keep" > "$H"
verify 0 "intact"
cp "$PD_DIR/head.keep" "$PD_DIR/head.new"; mv "$PD_DIR/head.new" "$H"
verify 1 "audit-broken: the published audit head .* was removed or replaced"
pd_stop
pd_start                                    # the file found at start is the one kept
verify 0 "intact"
pd_ok "the published head forged without the key, emptied, or replaced by another file: exit 1"

# The key file, hostile. Each refusal leaves the store as it was.
pd_stop
before=$(pd_dump | sha256sum)
refused() {  # refused PATTERN: prefixd -n and the daemon's start both fail with PATTERN
	local rc=0
	pd_write_config
	"$PD_BIN" -n -c "$PD_CONF" > "$PD_DIR/n.out" 2>&1 && pd_fail "prefixd -n accepted: $1"
	grep -Eq "$1" "$PD_DIR/n.out" || pd_fail "prefixd -n said '$(cat "$PD_DIR/n.out")', want /$1/"
	timeout 30 "$PD_BIN" -c "$PD_CONF" > "$PD_DIR/start.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || pd_fail "prefixd started (rc $rc), want refused: $1"
	grep -Eq "$1" "$PD_DIR/start.out" || pd_fail "prefixd said '$(cat "$PD_DIR/start.out")', want /$1/"
	[ "$(pd_dump | sha256sum)" = "$before" ] || pd_fail "a refused start changed the store"
}
refused_start() {  # refused_start PATTERN: -n passes (the file is fine), the start refuses
	local rc=0
	pd_write_config
	"$PD_BIN" -n -c "$PD_CONF" >/dev/null 2>&1 || pd_fail "prefixd -n refused: $(cat "$PD_DIR/n.out")"
	timeout 30 "$PD_BIN" -c "$PD_CONF" > "$PD_DIR/start.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || pd_fail "prefixd started (rc $rc), want refused: $1"
	grep -Eq "$1" "$PD_DIR/start.out" || pd_fail "prefixd said '$(cat "$PD_DIR/start.out")', want /$1/"
	[ "$(pd_dump | sha256sum)" = "$before" ] || pd_fail "a refused start changed the store"
}
chmod 0644 "$KEY"; refused "audit_key_file $KEY: mode 0644 lets group or others read it"
chmod 0640 "$KEY"; refused "audit_key_file $KEY: mode 0640 lets group or others read it"
chmod 0600 "$KEY"
cp "$KEY" "$PD_DIR/key.keep"
head -c 16 /dev/urandom > "$KEY"; refused "audit_key_file $KEY: 16 bytes, want at least 32"
rm "$KEY"; refused "audit_key_file $KEY: No such file or directory"
head -c 32 /dev/urandom > "$KEY"; chmod 0600 "$KEY"
refused_start "the audit chain is keyed with key [0-9a-f]{16} since event $sw, but \[daemon\] audit_key_file holds key"
pd_ok "key file refused by -n and at start: mode 0644, mode 0640, 16 bytes, missing; another key refused at start"
cp "$PD_DIR/key.keep" "$KEY"
sed -i '/^audit_key_file/d' "$PD_EXTRA"
refused_start "the audit chain is keyed with key [0-9a-f]{16} since event $sw: set \[daemon\] audit_key_file"
pd_ok "no key on a keyed store: refused at start; the store unchanged by every refusal"
printf '[daemon]\naudit_key_file = %s\n' "$KEY" | pd_config
pd_start
verify 0 "intact"
pd_stop
