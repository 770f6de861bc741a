# tests/integration/lib/pg_multi.sh — several prefixd instances on one throw-away PostgreSQL
# database (issue 16 "Several instances"), for tests and benchmarks.
#
#   export PREFIXD_TEST_STORE=postgresql
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
#   . "$PREFIXD_SOURCE_DIR/tests/integration/lib/pg_multi.sh"
#   pd_setup; pgm_init              # the cluster (lib/pg.sh via pd_setup) and the exit hook
#   pgm_start 1; pgm_start 2        # instance N: $PD_DIR/iN/{prefixd.conf,prefixd.sock,log}
#   pgm_curl 2 GET /v1/allocations  # like pd_curl, against instance N (sets PD_STATUS)
#   pgm_list_all 2 POOL             # "id cidr" of every allocation of POOL instance 2 lists
#   pgm_crash_verdict POOL LOGDIR 3 # a crash test's checks against its clients' records
#   pgm_kill 1; pgm_start 1         # SIGKILL, restart (same state dir, same database)
# Every instance is SIGKILLed on exit, before pd_cleanup stops the cluster. PGM_EXTRA (INI
# text) is appended to each instance's config.

declare -A PGM_PID=()

pgm_init() {
	[ -n "${PG_DSN:-}" ] || pd_fail "pgm_init needs PREFIXD_TEST_STORE=postgresql and pd_setup"
	trap pgm_cleanup EXIT
}

pgm_cleanup() {
	local rc=$? p
	set +e          # an exit hook: under errexit, (exit "$rc") below would end it early
	for p in "${PGM_PID[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	(exit "$rc")
	pd_cleanup
}

pgm_sock() { echo "$PD_DIR/i$1/prefixd.sock"; }
pgm_log() { echo "$PD_DIR/i$1/log"; }
pgm_alive() { [ -n "${PGM_PID[$1]:-}" ] && kill -0 "${PGM_PID[$1]}" 2>/dev/null; }
pgm_answers() { curl -sf --max-time 2 --unix-socket "$(pgm_sock "$1")" http://prefixd/v1/status >/dev/null; }

# pgm_start N: starts instance N (writing its config the first time), waits until it answers.
pgm_start() {
	local n=$1 dir=$PD_DIR/i$1
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir/state"
		printf '[daemon]\nstate_dir = %s\nsocket = %s\nlog_level = %s\n[store]\nbackend = postgresql\ndsn = %s\n%s\n' \
			"$dir/state" "$dir/prefixd.sock" "${PD_LOG_LEVEL:-info}" "$PG_DSN" "${PGM_EXTRA:-}" > "$dir/prefixd.conf"
	fi
	rm -f "$dir/prefixd.sock"
	"$PD_BIN" -c "$dir/prefixd.conf" >>"$dir/log" 2>&1 &
	PGM_PID[$n]=$!
	pd_wait_for pgm_answers "$n" || { tail -n 20 "$dir/log" >&2; pd_fail "instance $n did not answer"; }
}

pgm_kill() {
	local n=$1
	pgm_alive "$n" && kill -KILL "${PGM_PID[$n]}"
	wait "${PGM_PID[$n]}" 2>/dev/null || true
	PGM_PID[$n]=
}

pgm_stop() {
	local n=$1
	kill -TERM "${PGM_PID[$n]}"
	wait "${PGM_PID[$n]}" || pd_fail "instance $n did not exit 0 on SIGTERM"
	PGM_PID[$n]=
}

pgm_curl() {
	local n=$1
	shift
	PD_CURL_SOCK=$(pgm_sock "$n") pd_curl "$@"
}

# pgm_list_all N POOL: "id cidr" of every allocation of POOL instance N lists, page by page
# (next_cursor); fails when an answer is not a list.
pgm_list_all() {
	local out cur=
	while :; do
		out=$(pgm_curl "$1" GET "/v1/allocations?pool=$2&limit=1000${cur:+&cursor=$cur}") ||
			return 1
		jq -e '.allocations' <<<"$out" >/dev/null || return 1
		jq -r '.allocations[] | "\(.id) \(.cidr)"' <<<"$out"
		cur=$(jq -r '.next_cursor // empty' <<<"$out")
		[ -n "$cur" ] || return 0
	done
}

# pgm_crash_verdict POOL LOGDIR N: after a crash test whose clients (tests/tools/
# rel_crash_clients) wrote LOGDIR: every acknowledged allocation of POOL is stored and every
# acknowledged release stays released (lib/acks_check.py); instances 1..N each list exactly
# the stored allocations (they follow the feed; waits up to PD_TIMEOUT); `audit verify` passes.
pgm_crash_verdict() {
	local pool=$1 logs=$2 count=$3 n verify
	pg_psql "COPY (SELECT a.id, a.cidr, coalesce(a.token, '-') FROM allocations a JOIN pools p
		ON p.id = a.pool_id WHERE p.name = '$pool' ORDER BY a.id) TO STDOUT" > "$PD_DIR/stored.tsv"
	python3 "$PREFIXD_SOURCE_DIR/tests/integration/lib/acks_check.py" "$PD_DIR/stored.tsv" \
		"$logs" > "$PD_DIR/check.out" || pd_fail "store check failed: $(cat "$PD_DIR/check.out")"
	pd_ok "every acknowledged allocation stored, every acknowledged release released: $(cat "$PD_DIR/check.out")"
	cut -f1,2 "$PD_DIR/stored.tsv" | tr '\t' ' ' > "$PD_DIR/want.txt"
	for ((n = 1; n <= count; n++)); do
		pd_wait_for pgm_lists_stored "$n" "$pool" ||
			pd_fail "instance $n lists something else: $(diff "$PD_DIR/list.$n" "$PD_DIR/want.txt" | head -5)
$(grep -E 'reconnect|reload|lost|error' "$(pgm_log "$n")" | tail -n 15)"
	done
	pd_ok "each of the $count instances lists exactly the $(wc -l < "$PD_DIR/want.txt") stored allocations"
	verify=$("$PCTL_BIN" -s "$(pgm_sock 1)" --json audit verify) || pd_fail "audit verify: $verify"
	jq -e .ok <<<"$verify" >/dev/null || pd_fail "audit verify: $verify"
	pd_ok "audit verify: $(jq -c . <<<"$verify")"
}
pgm_lists_stored() {
	pgm_list_all "$1" "$2" | sort -n > "$PD_DIR/list.$1"
	cmp -s "$PD_DIR/list.$1" "$PD_DIR/want.txt"
}

# pgm_req N METHOD PATH [BODY]: sets BODY and PD_STATUS in this shell (safe in parallel
# subshells: each has its own file).
pgm_req() {
	local n=$1 method=$2 path=$3 data=${4:-} f=$PD_DIR/.req.$BASHPID
	local args=(-s -o "$f" -w '%{http_code}' --max-time 10 --unix-socket "$(pgm_sock "$n")" -X "$method")
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	PD_STATUS=$(curl "${args[@]}" "http://prefixd$path") || PD_STATUS=000
	BODY=$(cat "$f" 2>/dev/null || true)
	rm -f "$f"
}
