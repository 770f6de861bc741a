# tests/integration/lib/prefixd.sh — shell helpers to run a real prefixd in a test.
#
# Source it from an integration test:
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
#   pd_setup                       # temp dir in $PD_DIR, removed (and prefixd stopped) on exit
#   pd_config <<EOF ... EOF        # optional: extra INI text appended to the generated config
#   pd_tcp_listen NAME:ROLE:SECRET...  # optional: a TCP listener with bearer tokens; sets PD_URL
#   pd_start                       # starts prefixd -c $PD_CONF, polls until the socket answers
#   pd_curl GET /v1/status         # curl over the unix socket; prints the body, sets $PD_STATUS
#   pd_dump > before.sql           # the store as text (sqlite3 .dump), for before/after diffs
#   pd_stop                        # SIGTERM, waits for exit (fails if it does not exit)
#
# Variables: PD_DIR (temp dir), PD_SOCK (main socket), PD_RO_SOCK (read-only socket),
# PD_CONF (config file), PD_PID, PD_LOG (prefixd's stderr), PD_STATE (state dir),
# PD_BIN / PCTL_BIN (the programs, from $PREFIXD_BUILD_DIR). Every wait polls with a deadline
# (pd_wait_for CMD... ; default 10 s, PD_TIMEOUT to change); nothing sleeps and hopes.
#
# PREFIXD_TEST_STORE=postgresql runs the same test against the PostgreSQL backend: pd_setup
# starts a throw-away PostgreSQL 15 cluster in $PD_DIR/pg (lib/pg.sh; fsync off unless
# PG_FSYNC=on), the generated config gets [store] backend = postgresql and its dsn (unless the
# extra config has a [store] section), pd_dump dumps the PostgreSQL tables, and the cluster is
# stopped after prefixd on exit. ctest runs the IPAM/API tests this way under the label
# "postgresql" (tests/CMakeLists.txt). Unset or "sqlite": the embedded SQLite store.

: "${PREFIXD_BUILD_DIR:?PREFIXD_BUILD_DIR must be set (ctest sets it)}"
: "${PREFIXD_SOURCE_DIR:?PREFIXD_SOURCE_DIR must be set (ctest sets it)}"
PD_BIN=${PD_BIN:-$PREFIXD_BUILD_DIR/prefixd}
PCTL_BIN=${PCTL_BIN:-$PREFIXD_BUILD_DIR/prefixctl}
PD_TIMEOUT=${PD_TIMEOUT:-10}

pd_fail() { echo "FAIL: $*" >&2; [ -n "${PD_LOG:-}" ] && [ -f "$PD_LOG" ] && tail -n 40 "$PD_LOG" >&2; exit 1; }
pd_ok()   { echo "ok: $*"; }

# pd_wait_for CMD ARGS...: run CMD every 50 ms until it succeeds or PD_TIMEOUT seconds pass.
pd_wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + PD_TIMEOUT * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

pd_setup() {
	PD_DIR=$(mktemp -d /tmp/prefixd-test.XXXXXX)
	chmod 0755 "$PD_DIR"
	PD_SOCK=$PD_DIR/prefixd.sock
	PD_RO_SOCK=$PD_DIR/prefixd-ro.sock
	PD_STATE=$PD_DIR/state
	PD_CONF=$PD_DIR/prefixd.conf
	PD_LOG=$PD_DIR/prefixd.log
	PD_EXTRA=$PD_DIR/extra.conf
	: > "$PD_EXTRA"
	if [ "${PREFIXD_TEST_STORE:-sqlite}" = postgresql ]; then
		. "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg.sh"
		PG_FSYNC=${PG_FSYNC:-off}
		mkdir "$PD_DIR/pg"
		pg_start "$PD_DIR/pg"
		echo "store: postgresql ($PG_DSN)"
	fi
	# Tests that run prefixctl as uid nobody (roles, history) need it reachable: a clone inside a
	# 0700 directory (mktemp -d) hides the build directory from nobody, so use a copy in PD_DIR.
	if [ "$(id -u)" = 0 ] && [ -x "$PCTL_BIN" ] &&
	    ! setpriv --reuid nobody --regid nogroup --clear-groups test -x "$PCTL_BIN" 2>/dev/null; then
		cp "$PCTL_BIN" "$PD_DIR/prefixctl"
		PCTL_BIN=$PD_DIR/prefixctl
	fi
	trap pd_cleanup EXIT
}

pd_cleanup() {
	local rc=$?
	[ -n "${PD_PID:-}" ] && kill -0 "$PD_PID" 2>/dev/null && { kill -TERM "$PD_PID"; pd_wait_for pd_exited || kill -KILL "$PD_PID"; }
	[ -n "${PG_DIR:-}" ] && pg_stop
	[ -n "${PD_REC_PID:-}" ] && kill "$PD_REC_PID" 2>/dev/null
	if [ "$rc" = 0 ] || [ -z "${PD_KEEP:-}" ]; then rm -rf "$PD_DIR"; else echo "kept $PD_DIR" >&2; fi
	exit "$rc"
}

# pd_config: appends stdin (INI text) to the config. The generated config opens with
# [daemon] state_dir, socket and log_level for the temp dir; a key that the extra text sets
# itself is left out of that preamble (sections may be repeated: inih merges them).
pd_config() { cat >> "$PD_EXTRA"; }

# pd_daemon_has KEY: the extra config sets KEY inside a [daemon] section.
pd_daemon_has() {
	awk -v k="$1" '/^\[/ { d = ($0 ~ /^\[daemon\]/) } d && $1 == k { f = 1 } END { exit !f }' "$PD_EXTRA"
}

pd_write_config() {
	{
		echo '[daemon]'
		pd_daemon_has state_dir || echo "state_dir = $PD_STATE"
		pd_daemon_has socket || echo "socket = $PD_SOCK"
		pd_daemon_has log_level || echo "log_level = ${PD_LOG_LEVEL:-info}"
		if [ -n "${PG_DSN:-}" ] && ! grep -q '^\[store\]' "$PD_EXTRA"; then
			printf '[store]\nbackend = postgresql\ndsn = %s\n[daemon]\n' "$PG_DSN"
		fi
		cat "$PD_EXTRA"
	} > "$PD_CONF"
}

pd_alive() { [ -n "${PD_PID:-}" ] && kill -0 "$PD_PID" 2>/dev/null; }
pd_exited() { ! pd_alive; }
pd_answers() { curl -sf --max-time 2 --unix-socket "$PD_SOCK" http://prefixd/v1/status >/dev/null; }

# pd_start [extra prefixd args]: starts prefixd in the background, waits until it answers.
pd_start() {
	[ -z "${PD_REC_UPSTREAM:-}" ] || PD_SOCK=$PD_REC_UPSTREAM
	pd_write_config
	"$PD_BIN" -c "$PD_CONF" "$@" >>"$PD_LOG" 2>&1 &
	PD_PID=$!
	pd_wait_for pd_answers || pd_fail "prefixd did not answer on $PD_SOCK within ${PD_TIMEOUT}s"
	[ -z "${PD_RECORD:-}" ] || pd_record_start
}

# pd_record_start: with PD_RECORD=FILE set (test_api_contract.sh), puts a recording proxy
# (tests/tools/api_recorder.py) in front of prefixd's socket and points PD_SOCK at it, so every
# request of pd_curl, pd_ctl and lifecycle.sh's lc_ctl is appended to FILE (one JSON line each).
pd_record_start() {
	PD_REC_UPSTREAM=$PD_SOCK
	PD_SOCK=$PD_DIR/recorder.sock
	if [ -z "${PD_REC_PID:-}" ]; then
		python3 "$PREFIXD_SOURCE_DIR/tests/tools/api_recorder.py" "$PD_SOCK" "$PD_REC_UPSTREAM" \
			"$PD_RECORD" 2>>"$PD_DIR/recorder.log" &
		PD_REC_PID=$!
	fi
	pd_wait_for pd_answers || pd_fail "the recorder did not answer on $PD_SOCK"
}

# pd_stop: SIGTERM and wait; fails the test if prefixd does not exit 0 in time.
pd_stop() {
	pd_alive || pd_fail "prefixd is not running"
	kill -TERM "$PD_PID"
	pd_wait_for pd_exited || pd_fail "prefixd did not stop on SIGTERM"
	local rc=0
	wait "$PD_PID" || rc=$?
	PD_PID=
	[ "$rc" = 0 ] || pd_fail "prefixd exited with $rc"
}

# pd_curl METHOD PATH [JSON-BODY] [extra curl args...]: prints the body; $PD_STATUS is the code.
pd_curl() {
	local method=$1 path=$2 data=${3:-}
	shift 2; [ $# -gt 0 ] && shift
	local out=$PD_DIR/.curl.out
	if [ -n "$data" ]; then
		PD_STATUS=$(curl -s -o "$out" -w '%{http_code}' --max-time 10 --unix-socket "${PD_CURL_SOCK:-$PD_SOCK}" \
			-X "$method" -H 'Content-Type: application/json' --data-binary "$data" "$@" "http://prefixd$path")
	else
		PD_STATUS=$(curl -s -o "$out" -w '%{http_code}' --max-time 10 --unix-socket "${PD_CURL_SOCK:-$PD_SOCK}" \
			-X "$method" "$@" "http://prefixd$path")
	fi
	cat "$out"
}

# pd_expect STATUS CODE METHOD PATH [BODY]: asserts the HTTP status and the error code ("-" = none).
pd_expect() {
	local want_status=$1 want_code=$2 body got_code
	shift 2
	pd_curl "$@" > "$PD_DIR/.expect.body"
	body=$(cat "$PD_DIR/.expect.body")
	[ "$PD_STATUS" = "$want_status" ] || pd_fail "$1 $2: want HTTP $want_status, got $PD_STATUS: $body"
	if [ "$want_code" != - ]; then
		got_code=$(printf '%s' "$body" | jq -r '.error.code' 2>/dev/null)
		[ "$got_code" = "$want_code" ] || pd_fail "$1 $2: want error $want_code, got '$got_code': $body"
	fi
	printf '%s' "$body"
}

# pd_db: path of the SQLite store file in the state dir.
pd_db() {
	local f
	for f in "$PD_STATE"/*.db "$PD_STATE"/*.sqlite "$PD_STATE"/*.sqlite3; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# pd_dump: the store as SQL text, stable across runs (reads through WAL; safe while running).
# Leaves out history's address index (event_ranges and meta "ranges_upto"): derived data
# that the daemon brings up to date on its own about once a second (store_events_index),
# and the site lease (site_leases: renewed every [site] lease_renew seconds, liveness).
pd_dump() {
	local db t
	if [ -n "${PG_DSN:-}" ]; then
		for t in scopes pools provisions allocations resources events audit_head counters docs; do
			echo "-- $t"
			pg_psql "COPY (SELECT * FROM $t ORDER BY 1, 2) TO STDOUT"
		done
		return
	fi
	db=$(pd_db) || pd_fail "no store file in $PD_STATE"
	sqlite3 -readonly "$db" .dump |
		grep -v -e '^INSERT INTO event_ranges VALUES' -e "^INSERT INTO meta VALUES('ranges_upto'" \
		    -e '^INSERT INTO site_leases VALUES'
}

# pd_store_sql SQLITE-SQL POSTGRESQL-SQL: edits the store behind prefixd's back (stop it
# first), with the statement written for the backend in use.
pd_store_sql() {
	if [ -n "${PG_DSN:-}" ]; then
		pg_psql "$2" >/dev/null
	else
		sqlite3 "$(pd_db)" "$1"
	fi
}

# pd_ctl ARGS...: runs prefixctl against the test daemon.
pd_ctl() { "$PCTL_BIN" -s "$PD_SOCK" "$@"; }

# pd_auth_proof OWNER CIDR FIRST LAST: a key and self-signed certificate in $PD_DIR, the RDAP
# record of CIDR (FIRST..LAST) holding it in $PD_DIR/rdap (point [auth] rdap_dir there), and
# prints the provision body {"cidr","auth_message","auth_signature"} signed as SPEC §4 says.
pd_auth_proof() {
	local owner=$1 cidr=$2 msg sig
	mkdir -p "$PD_DIR/rdap"
	[ -f "$PD_DIR/key.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
		-subj /CN=test -keyout "$PD_DIR/key.pem" -out "$PD_DIR/cert.pem" 2>/dev/null
	jq -n --rawfile pem "$PD_DIR/cert.pem" --arg a "$3" --arg b "$4" '{objectClassName:
		"ip network", startAddress: $a, endAddress: $b, remarks: [{description: [$pem]}]}' \
		> "$PD_DIR/rdap/${cidr/\//_}.json"
	msg="1|prefixd|$owner|$cidr|$(date -u -d '+30 days' +%Y%m%d)|SHA256|RSAPSS"
	sig=$(printf %s "$msg" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-1 -sign "$PD_DIR/key.pem" | openssl base64 -A | tr -- '+=/' '-_~')
	jq -nc --arg c "$cidr" --arg m "$msg" --arg s "$sig" '{cidr: $c, auth_message: $m, auth_signature: $s}'
}

# pd_tcp_listen NAME:ROLE:SECRET...: a TCP listener on a free loopback port with these bearer
# tokens (written to $PD_DIR/tokens); sets PD_URL. Call before pd_start.
pd_tcp_listen() {
	local port t
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	: > "$PD_DIR/tokens"
	for t in "$@"; do
		IFS=: read -r name role secret <<<"$t"
		printf '%s %s %s\n' "$name" "$role" "$(printf %s "$secret" | sha256sum | cut -d' ' -f1)" >> "$PD_DIR/tokens"
	done
	printf '[daemon]\nlisten = 127.0.0.1:%s\ntokens_file = %s\n' "$port" "$PD_DIR/tokens" | pd_config
	PD_URL=http://127.0.0.1:$port
}
