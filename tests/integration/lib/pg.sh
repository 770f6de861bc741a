# tests/integration/lib/pg.sh — a throw-away PostgreSQL 15 cluster for one test.
#
# Source it (bash only):
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg.sh"
#   pg_setup                  # temp cluster, stopped and removed when the shell exits
#   pg_start DIR              # the same inside DIR (which the caller removes); pg_stop stops it
#   pg_psql [-d DB] SQL       # runs SQL as the superuser, prints unaligned tuples, fails loudly
#   pg_crash                  # the server crashes (immediate shutdown) and starts again
# With lib/prefixd.sh, do not call pg_setup: export PREFIXD_TEST_STORE=postgresql before
# pd_setup, which starts the cluster in $PD_DIR/pg and stops it after prefixd (pd_setup's
# `trap pd_cleanup EXIT` would replace the exit hook pg_setup registered).
#
# What it makes: initdb + pg_ctl from /usr/lib/postgresql/15/bin (Debian's postgresql package),
# run as a non-root user (PostgreSQL refuses to run as root; CI runs as root): the system user
# prefixd-test, created on first use. The server listens on a unix socket in the cluster's own
# directory only (listen_addresses = ''), so no port is taken and nothing outside the test can
# reach it; authentication is trust (only the socket's directory protects it, and it is 0700
# except for the socket). A database "prefixd" is created; btree_gist (postgresql-contrib, part
# of the postgresql 15 package) is available to it.
#
# Variables set: PG_DIR (cluster directory), PG_SOCKDIR (where the socket is), PG_DSN (a libpq
# connection string for the prefixd database as the superuser "postgres"), PG_LOG (server log).
# PG_FSYNC=off before pg_start makes commits skip fsync (functional tests on a shared machine;
# the benchmark leaves it on). Every wait polls with a deadline (pg_ctl -w, -t).

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-prefixd-test}

# pg_run CMD...: runs CMD as the cluster's owner (root: as $PG_USER; otherwise as ourselves).
pg_run() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid "$PG_USER" --regid "$PG_USER" --clear-groups --reset-env -- "$@"
	else
		"$@"
	fi
}

# pg_user: makes sure the system user exists (two tests may race to create it).
pg_user() {
	[ "$(id -u)" = 0 ] || return 0
	id -u "$PG_USER" >/dev/null 2>&1 && return 0
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$PG_USER" 2>/dev/null || true
	id -u "$PG_USER" >/dev/null 2>&1 || { echo "FAIL: cannot create user $PG_USER" >&2; exit 1; }
}

# pg_start DIR: initdb in DIR/data, start the server on a socket in DIR, create "prefixd".
pg_start() {
	local dir=$1
	[ -x "$PG_BINDIR/initdb" ] || { echo "FAIL: $PG_BINDIR/initdb missing (scripts/install-deps installs postgresql)" >&2; exit 1; }
	pg_user
	PG_DIR=$dir
	PG_SOCKDIR=$dir/sock
	PG_LOG=$dir/server.log
	mkdir -p "$PG_SOCKDIR"
	[ "$(id -u)" = 0 ] && chown -R "$PG_USER:$PG_USER" "$dir"
	chmod 0700 "$dir"
	# the socket is reached by root (prefixd, psql) only; root passes the 0700 directory
	pg_run "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
		--no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; echo "FAIL: initdb" >&2; exit 1; }
	pg_server_start
	PG_DSN="host=$PG_SOCKDIR user=postgres dbname=prefixd"
	# A test that replaces the EXIT hook (its own `trap ... EXIT`) or dies by SIGKILL would
	# leave the server running: a watchdog stops it once the test's shell is gone.
	(
		trap '' HUP INT TERM
		while kill -0 "$$" 2>/dev/null; do sleep 1; done
		[ -f "$dir/data/postmaster.pid" ] &&
			pg_run "$PG_BINDIR/pg_ctl" -D "$dir/data" -w -t 20 -m immediate stop
		rm -rf "$dir"
	) </dev/null >/dev/null 2>&1 &
	pg_psql -d postgres "CREATE DATABASE prefixd" >/dev/null
}

# pg_server_start: starts the server of the cluster in $PG_DIR (made by pg_start) again.
pg_server_start() {
	pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -t 30 \
		-o "-c listen_addresses='' -k $PG_SOCKDIR -c fsync=${PG_FSYNC:-on} -c max_connections=100" \
		start >/dev/null ||
		{ cat "$PG_LOG" >&2; echo "FAIL: pg_ctl start" >&2; exit 1; }
}

# pg_crash: the server crashes (immediate shutdown: every process quits at once, no
# checkpoint, and the WAL in shared memory that was not yet written out is lost, as in a
# crash) and is started again; it recovers from its log before it answers.
pg_crash() {
	pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 20 -m immediate stop >/dev/null ||
		{ echo "FAIL: pg_ctl stop -m immediate" >&2; exit 1; }
	pg_server_start
}

# pg_stop: stops the server (fast shutdown; immediate if that does not finish in time).
pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 20 -m fast stop >/dev/null 2>&1 ||
		pg_run "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 20 -m immediate stop >/dev/null 2>&1
}

# pg_cleanup: stop and remove a cluster made by pg_setup.
pg_cleanup() {
	pg_stop
	[ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
	PG_DIR=
}

# pg_setup: a cluster in its own temp dir, gone when the shell exits (however it exits).
pg_setup() {
	. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
	pg_start "$(mktemp -d /tmp/prefixd-pg.XXXXXX)"
	on_exit pg_cleanup
}

# pg_psql [-d DB] SQL: one statement (or several) as the superuser; stops on the first error.
pg_psql() {
	local db=prefixd
	[ "$1" = -d ] && { db=$2; shift 2; }
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -U postgres -d "$db" -c "$1"
}
