#!/usr/bin/env bash
# Hardening finding 3 (issue 15): a reader cannot corrupt /metrics or fill its series table.
# Hostile methods (quotes, backslashes, control bytes, 600 invented ones), hostile paths and
# headers go to a real prefixd; then `promtool check metrics` (Debian prometheus) accepts the
# page, the method label holds only GET HEAD POST PUT PATCH DELETE OPTIONS other, and
# prefixd_metrics_series_dropped_total is exported (0: nothing was dropped).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
command -v promtool >/dev/null || pd_fail "promtool missing (scripts/install-deps installs prometheus)"
pd_setup
pd_start

python3 - "$PD_SOCK" <<'PY'
import socket, sys
def send(raw):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(raw)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
hostile = [b'X"}\x07', b'A\\B', b'GET"', b'\xc3\x28', b'M\x7f', b'Q{a="b"}']
hostile += [b"INVENTED%d" % i for i in range(600)]
for m in hostile:
    send(m + b" /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
for path in [b'/v1/"}\\n', b'/v1/pools/%22%7D%0A', b'/v1/\xff\xfe', b'/v1/pools/a%00b']:
    send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
send(b'GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Request-Id: a"}\x01\r\nUser-Agent: \xe2\x80\xae\r\nConnection: close\r\n\r\n')
PY
pd_alive || pd_fail "prefixd died on hostile methods"
pd_curl GET /metrics > "$PD_DIR/metrics.txt"
[ "$PD_STATUS" = 200 ] || pd_fail "GET /metrics: $PD_STATUS"
promtool check metrics < "$PD_DIR/metrics.txt" > "$PD_DIR/promtool.out" 2>&1 ||
	pd_fail "promtool check metrics refuses the page: $(head -5 "$PD_DIR/promtool.out")"
pd_ok "promtool check metrics accepts /metrics after hostile methods, paths and headers"

methods=$(grep -o 'method="[^"]*"' "$PD_DIR/metrics.txt" | sort -u | tr '\n' ' ')
bad=$(grep -o 'method="[^"]*"' "$PD_DIR/metrics.txt" | sort -u |
	grep -vxE 'method="(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|other)"' || true)
[ -z "$bad" ] || pd_fail "method labels outside the closed set: $(head -3 <<<"$bad")"
grep -q '^prefixd_metrics_series_dropped_total 0$' "$PD_DIR/metrics.txt" ||
	pd_fail "no series-dropped counter at 0: $(grep series_dropped "$PD_DIR/metrics.txt")"
pd_ok "method labels: $methods; prefixd_metrics_series_dropped_total 0"

# A series first seen after the flood is still counted (a first 503 must not vanish).
pd_curl GET /v1/pools/nosuchpool >/dev/null
grep -q 'route="/v1/pools/{name}",method="GET",code="404"' <<<"$(pd_curl GET /metrics)" ||
	pd_fail "a new series after the flood is missing"
pd_ok "a new series after the flood is counted"
