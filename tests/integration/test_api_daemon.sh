#!/usr/bin/env bash
# ctest-labels: asan
# The daemon itself: embedded default, request ids, status and metrics, SIGHUP reload (good
# config applied, bad config kept with the reason logged, restart-only keys named, tokens
# reloaded), a second daemon refusing a live socket, and SIGTERM (exit 0, socket removed).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup

# Embedded default: state and socket in the current directory.
mkdir "$PD_DIR/cwd"
(cd "$PD_DIR/cwd" && exec "$PD_BIN") >"$PD_DIR/default.log" 2>&1 &
dpid=$!
default_up() { curl -sf --unix-socket "$PD_DIR/cwd/prefixd.sock" http://prefixd/v1/status; }
pd_wait_for default_up || pd_fail "embedded default did not come up: $(cat "$PD_DIR/default.log")"
[ -f "$PD_DIR/cwd/prefixd-state/prefixd.db" ] || pd_fail "embedded default has no ./prefixd-state/prefixd.db"
st=$(curl -s --unix-socket "$PD_DIR/cwd/prefixd.sock" http://prefixd/v1/status)
[ "$(jq -r '.rpki.state + "," + (.bird.configured|tostring) + "," + (.prefixes.total|tostring)' <<<"$st")" = "not-configured,false,0" ] || pd_fail "status: $st"
kill -TERM "$dpid"
wait "$dpid" || pd_fail "embedded default did not exit 0 on SIGTERM"
[ ! -e "$PD_DIR/cwd/prefixd.sock" ] || pd_fail "socket left behind after SIGTERM"
pd_ok "embedded default: ./prefixd-state, ./prefixd.sock, rpki/bird not configured, SIGTERM exit 0 removes the socket"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'one admin %s\n' "$(printf %s token-one | sha256sum | cut -d' ' -f1)" > "$PD_DIR/tokens"
pd_config <<INI
[daemon]
listen = 127.0.0.1:$port
tokens_file = $PD_DIR/tokens
INI
pd_start

# Request ids: a sane client id is kept, anything else replaced; events record it.
hdr=$(curl -s -D - -o /dev/null --unix-socket "$PD_SOCK" -H 'X-Request-Id: runbook-42.step-1' \
	-X POST --data-binary '{"name":"p","scope":"private-default"}' http://prefixd/v1/pools)
grep -qi '^X-Request-Id: runbook-42.step-1' <<<"$hdr" || pd_fail "client request id not echoed: $hdr"
hdr=$(curl -s -D - -o /dev/null --unix-socket "$PD_SOCK" -H 'X-Request-Id: bad id;<script>' http://prefixd/v1/status)
id=$(sed -n 's/^X-Request-Id: *\([^\r]*\).*/\1/Ip' <<<"$hdr")
[ -n "$id" ] && [[ "$id" != *script* ]] || pd_fail "insane request id kept: $hdr"
curl -s -o /dev/null --unix-socket "$PD_SOCK" -H 'X-Request-Id: prov-1' -X POST \
	--data-binary '{"cidr":"10.9.0.0/16"}' http://prefixd/v1/pools/p/provision
ev=$(pd_curl GET '/v1/history?cidr=10.9.0.0/16')
[ "$(jq -r '[.events[] | select(.request_id == "prov-1")] | length' <<<"$ev")" -ge 1 ] || pd_fail "event lacks the request id: $ev"
[ "$(jq -r '.events[0].actor' <<<"$ev")" = uid:0 ] || pd_fail "event actor is not uid:0: $ev"
pd_ok "X-Request-Id kept when sane ($id otherwise) and recorded in history with actor uid:0"

# Metrics: bounded labels (route patterns), commit histogram, pool utilization.
m=$(pd_curl GET /metrics)
for fam in prefixd_build_info prefixd_api_requests_total prefixd_api_request_duration_seconds_bucket \
	prefixd_store_commit_duration_seconds_count prefixd_pool_utilization_ratio prefixd_allocations; do
	grep -q "^$fam" <<<"$m" || pd_fail "metric family $fam missing"
done
grep -q 'route="/v1/pools/{name}/provision"' <<<"$m" || pd_fail "route label is not the pattern"
! grep -q 'route="/v1/pools/p/' <<<"$m" || pd_fail "a raw path leaked into a label"
grep -q '^prefixd_pool_provisioned_addresses{pool="p",scope="private-default"} 65536' <<<"$m" || pd_fail "pool gauge wrong"
pd_ok "metrics: families present, labels are route patterns"

# SIGHUP: a bad config is refused and the old one kept.
cp "$PD_CONF" "$PD_DIR/good.conf"
printf '[daemon]\nnonsense = 1\n' >> "$PD_CONF"
kill -HUP "$PD_PID"
PD_TIMEOUT=5 pd_wait_for grep -q 'SIGHUP: keeping the old config: .*unknown key' "$PD_LOG" || pd_fail "bad reload not logged"
pd_answers || pd_fail "daemon died on a bad reload"
# A good config with a new token and debug logging applies; a changed socket path is named.
printf 'two admin %s\n' "$(printf %s token-two | sha256sum | cut -d' ' -f1)" > "$PD_DIR/tokens"
sed -e 's/^log_level = .*/log_level = debug/' -e "s|^socket = .*|socket = $PD_DIR/other.sock|" "$PD_DIR/good.conf" > "$PD_CONF"
kill -HUP "$PD_PID"
PD_TIMEOUT=5 pd_wait_for grep -q 'SIGHUP: config .* reloaded' "$PD_LOG" || pd_fail "good reload not logged"
grep -q 'SIGHUP: socket changed and take effect only after a restart' "$PD_LOG" || pd_fail "restart key not named"
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port/v1/status"; }
[ "$(code token-two)" = 200 ] || pd_fail "reloaded token refused"
[ "$(code token-one)" = 401 ] || pd_fail "old token still accepted after reload"
pd_answers || pd_fail "daemon stopped answering on its (unchanged) socket"
pd_ok "SIGHUP: bad config kept the old one, good config applied tokens, restart-only key named"

# A second daemon on a live socket refuses to start and leaves the first alone.
rc=0
"$PD_BIN" -c "$PD_DIR/good.conf" >"$PD_DIR/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || pd_fail "second daemon exit $rc"
grep -q 'another daemon is listening' "$PD_DIR/second.log" || pd_fail "second daemon: $(cat "$PD_DIR/second.log")"
pd_answers || pd_fail "first daemon harmed by the second"
pd_ok "a second prefixd refuses the live socket"

pd_stop
[ ! -e "$PD_SOCK" ] || pd_fail "socket left behind"
pd_ok "SIGTERM: exit 0, socket removed"
