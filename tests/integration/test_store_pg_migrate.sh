#!/usr/bin/env bash
# `prefixd --migrate-store FROM TO` (issue 16, "must be true" 5): an SQLite store moves into
# PostgreSQL, and every object is there afterwards.
#   - A real prefixd on SQLite is given, through prefixctl and the API: pools (a child pool, an
#     IPv6 pool), allocations by size, explicit and with a client token, a release, public
#     prefixes (failed-provision rows with their reasons), a pool grant, an ASN; its events.
#   - prefixd --migrate-store sqlite:FILE postgresql:DSN copies it (exit 0, one summary line).
#   - prefixd started on PostgreSQL lists exactly what the SQLite one listed (pools, every
#     pool's allocations with ids and tokens, prefixes, ASNs, grants, the events with their
#     hashes), `audit verify` passes over the same chain head, and new writes work: an
#     allocation gets a fresh id (the id blocks moved past the copied ids) and a token copied
#     with its allocation still conflicts.
#   - The way back (PostgreSQL into a new SQLite file) copies the same store again.
#   - Hostile: a target that is not empty, a bad DSN, a missing source, a source that is not a
#     database, a source whose audit chain was edited, FROM equal to TO, a malformed spec:
#     a config (-c, read for the audit key) that does not load: each exits 1 (2 for usage)
#     with an error naming the cause, and the target is unchanged
#     (a SQLite target the migration would have created is not left behind).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<EOF
[auth]
owner_id = test-owner
rdap_dir = $PD_DIR/no-rdap
allow_unproven_asn = true
EOF
pd_start

# ---- a store with something of everything, made by the daemon ----
pd_ctl pool create lan --scope private-default --description "office" >/dev/null
pd_ctl pool provision lan 10.1.0.0/16 >/dev/null
pd_ctl pool create lan-dev --scope private-default --parent lan --tag env=dev >/dev/null
pd_ctl pool provision lan-dev --netmask 20 >/dev/null
pd_ctl pool create lan6 --scope private-default --family ipv6 >/dev/null
pd_ctl pool provision lan6 fd00:1::/48 >/dev/null
for i in 1 2 3; do pd_ctl allocate lan --netmask 24 --description "by size $i" >/dev/null; done
pd_ctl allocate lan --cidr 10.1.200.0/24 --tag role=edge >/dev/null
tok_id=$(pd_ctl --json allocate lan-dev --netmask 26 --token client-tok-1 | jq -r .id)
pd_ctl allocate lan6 --netmask 64 >/dev/null
gone=$(pd_ctl --json allocate lan --netmask 28 | jq -r .id)
pd_ctl release "$gone" >/dev/null
pd_ctl pool share lan --to token:team-a --role operator >/dev/null
pd_expect 201 - POST /v1/pools '{"name":"pub4","scope":"public-default","family":"ipv4","origin_asn":64500}' >/dev/null
pd_expect 422 prefix-too-specific POST /v1/pools/pub4/provision '{"cidr":"203.0.113.128/25"}' >/dev/null
pd_expect 422 auth-malformed POST /v1/pools/pub4/provision '{"cidr":"198.51.100.0/24"}' >/dev/null
pd_ctl asn provision AS64501 --auth-message x --auth-signature y >/dev/null 2>&1 || true
pd_wait_for sh -c "'$PCTL_BIN' -s '$PD_SOCK' --json asn list | jq -e '.asns | length == 1'" ||
	pd_fail "no ASN row: $(pd_ctl --json asn list)"

# snapshot: what an operator sees, as JSON (volatile fields left out)
snapshot() {
	local p
	pd_ctl --json pool list | jq -S .
	for p in lan lan-dev lan6 pub4; do pd_ctl --json allocation list --pool "$p" | jq -S .; done
	pd_ctl --json pool show lan | jq -S .grants
	pd_ctl --json prefix list | jq -S ".prefixes |= sort_by(.cidr)"
	pd_ctl --json asn list | jq -S .
	pd_ctl --json events --limit 1000 | jq -S .
}
snapshot > "$PD_DIR/before.json"
nalloc=$(jq -s '[.[1:5][] | .allocations | length] | add' "$PD_DIR/before.json")
nev=$(pd_ctl --json events --limit 1000 | jq '.events | length')
verify_before=$(pd_ctl --json audit verify)
jq -e .ok <<<"$verify_before" >/dev/null || pd_fail "audit verify before: $verify_before"
[ "$nalloc" -ge 7 ] && [ "$nev" -ge 15 ] || pd_fail "the store is too small: $nalloc allocations, $nev events"
pd_stop
DB=$(pd_db)
pd_ok "SQLite store: $nalloc allocations, $nev events, prefixes, a grant, an ASN"

# ---- PostgreSQL ----
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg.sh"
PG_FSYNC=off
mkdir "$PD_DIR/pg"
pg_start "$PD_DIR/pg"
pgdump() {
	local t
	for t in scopes pools provisions allocations resources events docs counters prefix_sites site_leases; do
		pg_psql "SELECT count(*) FROM $t" 2>/dev/null || echo "no $t"
	done
	pg_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
}

# migrate_refused WANT FROM TO: exit 1 and stderr contains WANT.
migrate_refused() {
	local want=$1 rc=0
	shift
	if [ "$1" = -c ]; then
		timeout 60 "$PD_BIN" -c "$2" --migrate-store "$3" "$4" > "$PD_DIR/mig.out" 2>&1 || rc=$?
	else
		timeout 60 "$PD_BIN" --migrate-store "$@" > "$PD_DIR/mig.out" 2>&1 || rc=$?
	fi
	[ "$rc" = 1 ] || pd_fail "--migrate-store $*: want exit 1, got $rc: $(cat "$PD_DIR/mig.out")"
	grep -qF -- "$want" "$PD_DIR/mig.out" || pd_fail "--migrate-store $*: error does not name '$want': $(cat "$PD_DIR/mig.out")"
	pd_ok "refused: $(tail -n 1 "$PD_DIR/mig.out")"
}

# hostile input first, while the target is empty
empty=$(pgdump)
migrate_refused 'is not sqlite:PATH or postgresql:DSN' "mysql:$DB" "postgresql:$PG_DSN"
migrate_refused 'is not sqlite:PATH or postgresql:DSN' "sqlite:$DB" "postgresql:"
migrate_refused 'the source and the target are the same store' "sqlite:$DB" "sqlite:$DB"
migrate_refused "prefixd: --migrate-store: $PD_DIR/none.conf" -c "$PD_DIR/none.conf" "sqlite:$DB" "postgresql:$PG_DSN"
rc=0; "$PD_BIN" --migrate-store "sqlite:$DB" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || pd_fail "--migrate-store with one store: exit $rc, want 2 (usage)"
migrate_refused "source: $PD_DIR/nope.db: No such file or directory" "sqlite:$PD_DIR/nope.db" "postgresql:$PG_DSN"
[ ! -e "$PD_DIR/nope.db" ] || pd_fail "a missing source was created"
head -c 4096 /dev/urandom > "$PD_DIR/garbage.db"
migrate_refused "source: store $PD_DIR/garbage.db: PRAGMA journal_mode=WAL: file is not a database" "sqlite:$PD_DIR/garbage.db" "postgresql:$PG_DSN"
migrate_refused 'dsn is not a libpq connection string: missing "=" after "dbname"' "sqlite:$DB" "postgresql:host=$PG_SOCKDIR dbname"
migrate_refused 'database "nope" does not exist' "sqlite:$DB" "postgresql:host=$PG_SOCKDIR user=postgres dbname=nope"
[ "$(pgdump)" = "$empty" ] || pd_fail "a refused migration changed the target: $(pgdump)"
cp "$DB" "$PD_DIR/edited.db"
sqlite3 "$PD_DIR/edited.db" "UPDATE events SET actor = 'mallory' WHERE id = 3"
migrate_refused "the source's audit chain does not verify, so it is not copied: event 3" "sqlite:$PD_DIR/edited.db" "sqlite:$PD_DIR/new.db"
[ ! -e "$PD_DIR/new.db" ] || pd_fail "a refused migration left its new SQLite target behind"
pd_ok "hostile FROM/TO: clear errors, the target unchanged"

# ---- the migration ----
before_db=$(sqlite3 -readonly "$DB" .dump | md5sum)
out=$("$PD_BIN" --migrate-store "sqlite:$DB" "postgresql:$PG_DSN") || pd_fail "--migrate-store failed: $out"
echo "$out"
grep -q "^migrated $DB to postgresql prefixd on $PG_SOCKDIR: .*, $nev events; audit chain verified" <<<"$out" ||
	pd_fail "summary: $out"
[ "$(sqlite3 -readonly "$DB" .dump | md5sum)" = "$before_db" ] || pd_fail "the source was changed"
[ "$(pg_psql "SELECT count(*) FROM allocations")" = "$(sqlite3 "$DB" "SELECT count(*) FROM allocations")" ] ||
	pd_fail "allocation rows differ"
[ "$(pg_psql "SELECT id || ' ' || hash FROM audit_head")" = "$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'audit_head'")" ] ||
	pd_fail "chain heads differ: $(pg_psql "SELECT id, hash FROM audit_head")"

# a second run: the target is not empty now
after=$(pgdump)
migrate_refused "the target postgresql prefixd on $PG_SOCKDIR is not empty (" "sqlite:$DB" "postgresql:$PG_DSN"
grep -qF "allocations" "$PD_DIR/mig.out" || pd_fail "not-empty does not say what is there"
[ "$(pgdump)" = "$after" ] || pd_fail "a refused migration changed the non-empty target"

# ---- the daemon on PostgreSQL sees everything ----
pd_start
snapshot > "$PD_DIR/after.json"
diff "$PD_DIR/before.json" "$PD_DIR/after.json" >&2 || pd_fail "the PostgreSQL instance lists something else"
verify_after=$(pd_ctl --json audit verify)
jq -e .ok <<<"$verify_after" >/dev/null || pd_fail "audit verify after: $verify_after"
[ "$(jq -c 'del(.checked_at)' <<<"$verify_after")" = "$(jq -c 'del(.checked_at)' <<<"$verify_before")" ] ||
	pd_fail "verify differs: $verify_before vs $verify_after"
pd_ok "prefixd on PostgreSQL lists every pool, allocation, token, prefix, grant, ASN and event; audit verify passes"

maxid=$(jq -s '[.[1:5][] | .allocations[] | .id | tonumber] | max' "$PD_DIR/before.json")
new=$(pd_ctl --json allocate lan --netmask 24 | jq -r .id)
[ "$new" -gt "$maxid" ] || pd_fail "new allocation id $new is not above the copied ids ($maxid)"
replay=$(pd_curl POST /v1/pools/lan-dev/allocations '{"netmask":26,"token":"client-tok-1"}')
[ "$(jq -r .id <<<"$replay")" = "$tok_id" ] || pd_fail "a replay of the copied token gave $PD_STATUS $replay, not allocation $tok_id"
jq -e .ok <<<"$(pd_ctl --json audit verify)" >/dev/null || pd_fail "audit verify after a new write"
pd_ok "after the move: new allocation id $new, a replay of the copied token answers its allocation, the chain goes on"
pd_stop

# ---- and back: PostgreSQL into a new SQLite file ----
out=$("$PD_BIN" --migrate-store "postgresql:$PG_DSN" "sqlite:$PD_DIR/back.db") || pd_fail "back: $out"
[ "$(sqlite3 "$PD_DIR/back.db" "SELECT count(*) FROM allocations")" = "$(pg_psql "SELECT count(*) FROM allocations")" ] ||
	pd_fail "back: allocation rows differ"
pd_ok "and back into SQLite: $out"

# ---- a keyed audit chain ([daemon] audit_key_file) moves with its key ----
KEY=$PD_DIR/audit.key
head -c 32 /dev/urandom > "$KEY"
chmod 0600 "$KEY"
printf '[daemon]\naudit_key_file = %s\n' "$KEY" | pd_config
printf '[store]\nbackend = sqlite\n' | pd_config
rm -rf "$PD_STATE"
pd_start
pd_ctl pool create keyed --scope private-default >/dev/null
pd_stop
migrate_refused "but no [daemon] audit_key_file is set" "sqlite:$(pd_db)" "sqlite:$PD_DIR/keyed.db"
[ ! -e "$PD_DIR/keyed.db" ] || pd_fail "a refused keyed migration left its target behind"
out=$("$PD_BIN" -c "$PD_CONF" --migrate-store "sqlite:$(pd_db)" "sqlite:$PD_DIR/keyed.db") ||
	pd_fail "keyed migration with -c: $out"
[ "$(sqlite3 "$PD_DIR/keyed.db" "SELECT doc FROM docs WHERE kind = 'audit'")" = "$(sqlite3 "$(pd_db)" "SELECT doc FROM docs WHERE kind = 'audit'")" ] ||
	pd_fail "the chain's key record did not move"
pd_ok "a keyed chain: refused without its key, copied and verified with -c: $out"
