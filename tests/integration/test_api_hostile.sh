#!/usr/bin/env bash
# ctest-labels: asan
# Hostile input over the unix socket (SPEC §8): malformed JSON, wrong types, unknown fields,
# a 10 MB body (with Content-Length and chunked), 10,000-deep nesting, invalid and
# non-canonical CIDRs, unknown routes and methods, bad ids and numbers, bad paging limits and
# forged cursors on every list route, a client that sends
# one byte per second (body and headers). Each gets a 4xx with an error code (the header
# trickle, which never completes a request, gets its connection closed), the daemon stays up
# and answers, and a dump of the store taken before equals one taken after.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<'INI'
[daemon]
request_timeout = 3
INI
pd_start

# A little state so that the dump is not empty and the refusals have something to hit.
pd_expect 201 - POST /v1/pools '{"name":"top","scope":"private-default","family":"ipv4"}' >/dev/null
pd_expect 201 - POST /v1/pools/top/provision '{"cidr":"10.0.0.0/16"}' >/dev/null
pd_expect 201 - POST /v1/pools/top/allocations '{"netmask":24,"tags":{"Owner":"test"}}' >/dev/null
pd_expect 201 - POST /v1/pools/top/allocations '{"netmask":24,"tags":{"Owner":"test"}}' >/dev/null
pd_dump > "$PD_DIR/before.sql"

# hostile STATUS CODE METHOD PATH [BODY]: the refusal, then the daemon must still answer.
hostile() {
	pd_expect "$@" >/dev/null
	pd_answers || pd_fail "daemon stopped answering after $3 $4"
	pd_ok "$3 $4 -> $1 $2"
}

# Malformed JSON.
hostile 400 invalid-json POST /v1/pools '{"name":'
hostile 400 invalid-json POST /v1/pools '{"name":"a",}'
hostile 400 invalid-json POST /v1/pools 'null'
hostile 400 invalid-json POST /v1/pools '[1,2,3]'
hostile 400 invalid-json POST /v1/pools '{"name":"a","name":"b","scope":"private-default"}'
hostile 400 invalid-json POST /v1/pools "$(printf '{"name":"\xff\xfe","scope":"private-default"}')"
hostile 400 invalid-json POST /v1/pools '{"name":"a"} trailing'
# Wrong types.
hostile 400 invalid-argument POST /v1/pools '{"name":5,"scope":"private-default"}'
hostile 400 invalid-argument POST /v1/pools '{"name":"p","scope":"private-default","default_netmask":"24"}'
hostile 400 invalid-argument POST /v1/pools '{"name":"p","scope":"private-default","tags":["a"]}'
hostile 400 invalid-argument POST /v1/pools '{"name":"p","scope":"private-default","tags":{"k":1}}'
hostile 400 invalid-argument POST /v1/pools/top/allocations '{"preview":"yes"}'
hostile 400 invalid-argument POST /v1/pools/top/allocations '{"netmask":24.5}'
hostile 400 invalid-argument POST /v1/pools/top/allocations '{"netmask":-1}'
hostile 400 invalid-json POST /v1/pools/top/allocations '{"netmask":99999999999999999999}'
hostile 400 invalid-argument POST /v1/pools/top/allocations '{"netmask":24,"cidr":"10.0.9.0/24"}'
hostile 400 invalid-argument POST /v1/pools '{"name":"p","scope":"private-default","alarm_at":0}'
hostile 400 invalid-argument POST /v1/pools '{"name":"p","scope":"private-default","family":"ipv5"}'
hostile 400 invalid-argument POST /v1/resources '{"scope":"private-default","resources":[5]}'
# Paging (issue 15): limit is 1..1000, a cursor only the one this list gave (hex "KIND:KEY").
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
for route in /v1/allocations /v1/pools /v1/scopes /v1/resources /v1/prefixes /v1/asns \
    '/v1/history?cidr=10.0.0.0/16' '/v1/allocations?pool=top'; do
	sep='?'; case $route in *\?*) sep='&' ;; esac
	for l in 0 1001 -1 abc 1e3 '' 99999999999999999999 '1%20' 0x10; do
		hostile 400 invalid-argument GET "$route${sep}limit=$l"
	done
	for c in zz abc "$(hex pools:1)x" "$(hex 'allocations:')" "$(hex 'x')" \
	    "$(hex 'history:1')00" "$(printf 'a%.0s' $(seq 4000))"; do
		hostile 400 bad-cursor GET "$route${sep}cursor=$c"
	done
done
for c in "$(hex allocations:x)" "$(hex allocations:1/10.0.0.1/24)" "$(hex 'allocations:1/10.0.0.0')" \
    "$(hex pools:1)" "$(hex allocations:-1/10.0.0.0/24)" "$(hex allocations:99999999999999999999/10.0.0.0/24)"; do
	hostile 400 bad-cursor GET "/v1/allocations?cursor=$c"
done
hostile 400 bad-cursor GET "/v1/allocations?pool=top&cursor=$(hex allocations:999/10.0.0.0/24)"
hostile 400 bad-cursor GET "/v1/history?cidr=10.0.0.0/16&cursor=$(hex history:-5)"
hostile 400 bad-cursor GET "/v1/pools?cursor=$(hex 'pools:1 ')"
hostile 400 bad-cursor GET "/v1/prefixes?cursor=$(hex prefixes:10.0.0.1/8)"
hostile 400 bad-cursor GET "/v1/asns?cursor=$(hex asns:AS1)"
# ... and a cursor that is good pages on: two allocations, one page each, then the end.
page1=$(pd_expect 200 - GET '/v1/allocations?limit=1')
cur=$(jq -r .next_cursor <<<"$page1")
[ "$(jq '.allocations | length' <<<"$page1")" = 1 ] && [ "$cur" != null ] || pd_fail "limit=1: $page1"
page2=$(pd_expect 200 - GET "/v1/allocations?limit=1&cursor=$cur")
[ "$(jq -r '.allocations[0].cidr' <<<"$page2")" = 10.0.1.0/24 ] && [ "$(jq -r .next_cursor <<<"$page2")" = null ] ||
	pd_fail "the cursor's page: $page2"
[ "$(pd_ctl allocation list --json | jq '.allocations | length')" = 2 ] || pd_fail "prefixctl did not follow the pages"
pd_ok "limit=1 pages the two allocations one by one (next_cursor, then null)"
ids=$(pd_curl GET '/v1/history?cidr=10.0.0.0/16' | jq -c '[.events[].id]')
got=() cur=
while :; do
	page=$(pd_expect 200 - GET "/v1/history?cidr=10.0.0.0/16&limit=1${cur:+&cursor=$cur}")
	got+=("$(jq -c '.events[].id' <<<"$page")")
	cur=$(jq -r .next_cursor <<<"$page")
	[ "$cur" != null ] || break
done
[ "$(printf '%s\n' "${got[@]}" | grep . | jq -sc .)" = "$ids" ] || pd_fail "history by pages of 1: ${got[*]}, whole: $ids"
pd_ok "history in pages of 1 gives the same events as one page: $ids"
# Unknown fields, top level and nested.
hostile 400 unknown-field POST /v1/pools '{"name":"p","scope":"private-default","colour":"red"}'
hostile 400 unknown-field POST /v1/pools/top/allocations '{"netmask":24,"netmaks":25}'
hostile 400 unknown-field POST /v1/resources '{"scope":"private-default","resources":[{"cidr":"192.0.2.0/24","name":"r","x":1}]}'
# A 10 MB body: with Content-Length, and chunked (no length known in advance).
head -c 10485760 /dev/zero | tr '\0' ' ' > "$PD_DIR/big.json"
hostile 413 body-too-large POST /v1/pools "@$PD_DIR/big.json"
hostile 413 body-too-large POST /v1/pools "@$PD_DIR/big.json" -H 'Transfer-Encoding: chunked'
# Headers beyond the 16 KiB connection memory: libmicrohttpd's 431 (no JSON body of ours).
hostile 431 - GET /v1/status '' -H "X-Padding: $(head -c 20000 /dev/zero | tr '\0' a)"
# Nesting 10,000 deep (arrays and objects).
deep=$(printf '%.0s[' $(seq 10000))$(printf '%.0s]' $(seq 10000))
hostile 400 invalid-json POST /v1/pools "{\"name\":\"p\",\"scope\":\"private-default\",\"tags\":$deep}"
deep=$(printf '%.0s{"a":' $(seq 10000))1$(printf '%.0s}' $(seq 10000))
hostile 400 invalid-json POST /v1/pools "$deep"
# Invalid and non-canonical CIDRs.
hostile 400 cidr-invalid POST /v1/pools/top/provision '{"cidr":"10.1.0.0/33"}'
hostile 400 cidr-invalid POST /v1/pools/top/provision '{"cidr":"banana"}'
hostile 400 cidr-invalid POST /v1/pools/top/provision '{"cidr":""}'
hostile 400 cidr-invalid POST /v1/pools/top/provision '{"cidr":"010.0.0.0/8"}'
hostile 400 invalid-json POST /v1/pools/top/provision '{"cidr":"10.1.0.0/16\u0000junk"}'
hostile 400 cidr-not-canonical POST /v1/pools/top/provision '{"cidr":"10.1.0.1/16"}'
hostile 400 cidr-not-canonical POST /v1/pools/top/allocations '{"cidr":"10.0.5.7/24"}'
hostile 400 cidr-invalid GET '/v1/history?cidr=10.0.0.0/99'
hostile 400 cidr-invalid POST /v1/resources '{"scope":"private-default","cidr":"1.2.3/24","name":"r"}'
# Unknown routes, methods and objects.
hostile 404 no-such-route GET /v1/nothing
hostile 404 no-such-route GET /v1/pools/top/allocations/extra
hostile 404 no-such-route GET /v2/status
hostile 404 no-such-route GET /
hostile 405 method-not-allowed PUT /v1/pools
hostile 405 method-not-allowed DELETE /v1/status
hostile 404 not-found GET /v1/pools/nosuchpool
hostile 400 bad-request GET /v1/pools/%00       # a NUL would end the path early (issue 15, 16)
hostile 404 not-found GET /v1/pools/no%20such
hostile 404 not-found GET /v1/pools/%FF%FE%C3
hostile 404 no-such-route GET /v1/%C3%28/x
hostile 400 invalid-argument GET /v1/allocations/abc
hostile 400 invalid-argument DELETE /v1/allocations/99999999999999999999999
hostile 404 not-found DELETE /v1/allocations/424242
hostile 400 invalid-argument GET '/v1/history?cidr=10.0.0.0/8&since=yesterday'
hostile 400 invalid-argument GET /v1/history

# A client that sends its body one byte per second gets 408 request-timeout; meanwhile the
# daemon keeps answering others.
python3 - "$PD_SOCK" > "$PD_DIR/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(30)
s.sendall(b"POST /v1/pools HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
got = b""
start = time.time()
try:
    for i in range(100):
        s.sendall(b" ")
        s.setblocking(False)
        try:
            chunk = s.recv(65536)
            if chunk == b"":
                break
            got += chunk
            if b"\r\n\r\n" in got:
                break
        except BlockingIOError:
            pass
        s.setblocking(True)
        time.sleep(1)
except (BrokenPipeError, ConnectionResetError):
    pass
s.settimeout(5)
try:
    while b"\r\n\r\n" not in got:
        c = s.recv(65536)
        if not c: break
        got += c
except Exception:
    pass
print(got.decode("latin1"))
print("elapsed %.1f" % (time.time() - start))
PY
slow=$!
pd_wait_for pd_answers || pd_fail "daemon does not answer while a slow client trickles"
PD_TIMEOUT=20 pd_wait_for bash -c "! kill -0 $slow" || pd_fail "slow client was never cut off"
grep -q '^HTTP/1.1 408' "$PD_DIR/slow.out" || pd_fail "slow body: want 408, got: $(cat "$PD_DIR/slow.out")"
grep -q '"request-timeout"' "$PD_DIR/slow.out" || pd_fail "slow body: no request-timeout code"
pd_ok "one byte per second body -> 408 request-timeout after $(sed -n 's/^elapsed //p' "$PD_DIR/slow.out") s"

# Headers one byte per second: no request ever completes, the connection is closed.
python3 - "$PD_SOCK" > "$PD_DIR/slowh.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
start = time.time()
closed = False
for ch in b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100:
    try:
        s.sendall(bytes([ch]))
        s.setblocking(False)
        try:
            if s.recv(4096) == b"":
                closed = True
                break
        except BlockingIOError:
            pass
        s.setblocking(True)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
        break
    time.sleep(1)
print("closed" if closed else "open", "%.1f" % (time.time() - start))
PY
slowh=$!
PD_TIMEOUT=20 pd_wait_for bash -c "! kill -0 $slowh" || pd_fail "header trickle was never cut off"
grep -q '^closed' "$PD_DIR/slowh.out" || pd_fail "header trickle: connection not closed: $(cat "$PD_DIR/slowh.out")"
pd_ok "one byte per second headers -> connection closed after $(cut -d' ' -f2 "$PD_DIR/slowh.out") s"

pd_answers || pd_fail "daemon not answering at the end"
pd_dump > "$PD_DIR/after.sql"
diff -u "$PD_DIR/before.sql" "$PD_DIR/after.sql" || pd_fail "the store changed under hostile input"
pd_ok "store dump before equals after"
pd_stop
