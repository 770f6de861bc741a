# tests/integration/lib/sites.sh — two prefixd sites in a `lab/up --sites` lab (issue 17): site
# edge1's prefixd beside edge's BIRD (lifecycle.sh's lc_pd_start: PD_SOCK, PD_PID) and site
# edge2's beside edge2's BIRD, both on the lab's PostgreSQL. Source prefixd.sh, lab.sh and
# lifecycle.sh first.
#   sites_start NAME [SITE_CONF]   pd_setup, the --sites lab NAME, edge1's prefixd (PostgreSQL,
#                                  site edge1, lease_renew 1, plus SITE_CONF lines of [site]),
#                                  waits for fresh RTR data and BIRD; LC_EXTRA_CONF as for
#                                  lc_pd_start. edge2's instance is not started (sites_b_start).
#   sites_b_start / sites_b_stop   start / stop (SIGTERM, must exit 0) edge2's prefixd (B_PID,
#                                  B_SOCK, B_CONF, B_LOG); its config is edge1's with edge2's
#                                  socket, state_dir, site name and BIRD
#   sites_b_ready                  edge2's prefixd is its site's writer with BIRD connected
#   sites_b_ctl ARGS...            prefixctl --json against edge2's instance
#   sites_reconciled SOCK          the instance on SOCK ran its reconciler since BIRD connected
#                                  and found BIRD holding its desired set
# shellcheck shell=bash

sites_start() {
	local name=$1 extra=${2:-}
	pd_setup
	LAB_UP_ARGS=--sites lab_start "$name"
	pd_config <<EOF2
[store]
backend = postgresql
dsn = $LAB_PG_DSN
[site]
name = edge1
lease_renew = 1
$extra
EOF2
	lc_pd_start
	wait_until 30 "edge1's prefixd: fresh RTR data" lc_rpki_fresh
	wait_until 30 "edge1's prefixd: BIRD connected" lc_bird_up
	B_SOCK=$PD_DIR/b.sock B_CONF=$PD_DIR/b.conf B_LOG=$PD_DIR/b.log B_PID=
}

_sites_b_conf() {
	sed -e "s|^socket = $PD_SOCK\$|socket = $B_SOCK|" -e "s|^state_dir = .*|state_dir = $PD_DIR/b-state|" \
	    -e "s|^name = edge1|name = edge2|" -e "s|^socket = $EDGE_BIRD_SOCK|socket = $EDGE2_BIRD_SOCK|" \
	    -e "s|^config = $EDGE_BIRD_CONF|config = $EDGE2_BIRD_CONF|" \
	    -e "s|^include = $EDGE_BIRD_INCLUDE|include = $EDGE2_BIRD_INCLUDE|" "$PD_CONF" > "$B_CONF"
	grep -qx "include = $EDGE2_BIRD_INCLUDE" "$B_CONF" && grep -qx 'name = edge2' "$B_CONF" &&
		grep -qx "socket = $B_SOCK" "$B_CONF" && grep -qx "socket = $EDGE2_BIRD_SOCK" "$B_CONF" ||
		fail "edge2's config: $(cat "$B_CONF")"
}

_sites_b_cleanup() {
	local rc=$?
	[ -z "$B_PID" ] || { kill -TERM "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null; } || true
	[ "$rc" = 0 ] || { echo "--- edge2's prefixd (last lines)" >&2; tail -n 30 "$B_LOG" >&2 || true; }
	return "$rc"
}

sites_b_start() {
	if [ ! -f "$B_CONF" ]; then
		_sites_b_conf
		on_exit _sites_b_cleanup
	fi
	ip netns exec "$NS_EDGE2" "$PD_BIN" -c "$B_CONF" >>"$B_LOG" 2>&1 &
	B_PID=$!
}

sites_b_stop() {
	kill -TERM "$B_PID"
	wait "$B_PID" || fail "edge2's prefixd exited $?"
	B_PID=
}

sites_b_ready() {
	curl -sf --max-time 2 --unix-socket "$B_SOCK" http://prefixd/v1/status |
		jq -e '.site.role == "writer" and .bird.up == true' >/dev/null
}

sites_b_ctl() { "$PCTL_BIN" -s "$B_SOCK" --json "$@"; }

sites_reconciled() {
	curl -sf --max-time 2 --unix-socket "$1" http://prefixd/v1/bird/status |
		jq -e '.reconcile.runs > 0 and .reconcile.last_code == "ok"' >/dev/null
}
