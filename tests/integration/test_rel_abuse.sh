#!/usr/bin/env bash
# ctest-labels: asan reliability
# Abuse of the TCP listener (issue 10, item 6), with tests/tools/rel_abuse:
#   - 2,000 idle TCP connections (prefixd serves at most [daemon] max_connections per listener,
#     256 by default; the rest wait in the kernel's backlog or are refused);
#   - slowloris: 300 connections sending request headers at 1 byte/s; prefixd cuts every one
#     after request_timeout (5 s here) plus its grace;
#   - a burst of 20 requests with 10 MB bodies: each is refused (413 body-too-large, or the
#     connection is cut) without reading 10 MB into memory.
# Throughout, a probe asks GET /v1/status over the unix socket every 20 ms and fails the test if
# one answer takes 100 ms or more (or fails). "Survives" means: the unix socket stays
# responsive, prefixd stays up, its peak RSS stays under REL_ABUSE_MAX_RSS_MB (default 200; an
# ASan build's shadow memory counts too), and after the abuse TCP serves again.
# The figures (probe latencies, peak RSS) are printed for the README's Reliability section.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
abuse=$PREFIXD_BUILD_DIR/tests/rel_abuse
[ -x "$abuse" ] || pd_fail "missing $abuse"
max_rss_mb=${REL_ABUSE_MAX_RSS_MB:-200}
ulimit -n 8192
pd_setup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=rel-abuse-token
printf 'abuser operator %s\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" > "$PD_DIR/tokens"
pd_config <<INI
[daemon]
listen = 127.0.0.1:$port
tokens_file = $PD_DIR/tokens
request_timeout = 5
INI
pd_start
nofile=$(awk '/Max open files/ { print $4 }' "/proc/$PD_PID/limits")
pd_ok "prefixd's open-file limit: $nofile"
tcp_ok() { curl -sf --max-time 2 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/status" >/dev/null; }
pd_wait_for tcp_ok || pd_fail "TCP listener does not answer"

stop=$PD_DIR/stop-probe
"$abuse" probe "$PD_SOCK" 300 "$stop" > "$PD_DIR/probe.out" 2> "$PD_DIR/probe.err" &
probe=$!
rel_status() { return "$1"; }
rel_cleanup() { local rc=$?; touch "$stop"; wait "$probe" 2>/dev/null || true; rel_status "$rc"; pd_cleanup; }
trap rel_cleanup EXIT
rss_kb() { awk '/VmHWM/ { print $2 }' "/proc/$PD_PID/status"; }
rss0=$(rss_kb)
t_probe=$(now_ms)
phase() { echo -n "$1 $(( ($(now_ms) - t_probe) / 1000 )) s; " >> "$PD_DIR/phases"; }
phase idle

out=$("$abuse" idle 127.0.0.1 "$port" 2000 8)
pd_alive || pd_fail "prefixd died under 2,000 idle connections"
pd_ok "2,000 idle connections: $out"
pd_wait_for tcp_ok || pd_fail "TCP does not serve again after the idle connections"

phase slowloris
out=$("$abuse" slowloris 127.0.0.1 "$port" 300 20)
pd_alive || pd_fail "prefixd died under slowloris"
closed=$(grep -o 'closed_by_prefixd=[0-9]*' <<<"$out" | cut -d= -f2)
est=$(grep -o 'established=[0-9]*' <<<"$out" | cut -d= -f2)
[ "$closed" = 300 ] || pd_fail "slowloris connections were not all cut by request_timeout: $out"
pd_ok "slowloris, 300 connections at 1 byte/s: $out (of $est established)"
pd_wait_for tcp_ok || pd_fail "TCP does not serve again after slowloris"

phase bigbody
out=$("$abuse" bigbody 127.0.0.1 "$port" 20 10 "$token")
pd_alive || pd_fail "prefixd died under 10 MB bodies"
grep -qE 'status_(2|4)[0-9][0-9]=' <<<"$out" || [ "$(grep -o 'status_0=[0-9]*' <<<"$out")" = status_0=20 ] ||
	pd_fail "10 MB bodies: unexpected answers: $out"
grep -qE 'status_2[0-9][0-9]=' <<<"$out" && pd_fail "a 10 MB body was accepted: $out"
pd_ok "20 concurrent 10 MB bodies: $out"
pd_wait_for tcp_ok || pd_fail "TCP does not serve again after the big bodies"

touch "$stop"
rc=0
wait "$probe" || rc=$?
probe_out=$(cat "$PD_DIR/probe.out")
[ "$rc" = 0 ] || pd_fail "unix socket status probe: $probe_out; $(cat "$PD_DIR/probe.err"); phases began at: $(cat "$PD_DIR/phases")"
pd_ok "unix socket status throughout: $probe_out"
rss1=$(rss_kb)
[ "$rss1" -lt $(( max_rss_mb * 1024 )) ] || pd_fail "peak RSS ${rss1} kB exceeds ${max_rss_mb} MB"
pd_ok "peak RSS: $(( rss0 / 1024 )) MB before the abuse, $(( rss1 / 1024 )) MB after (limit ${max_rss_mb} MB)"
pd_stop
