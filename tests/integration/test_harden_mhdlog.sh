#!/usr/bin/env bash
# Issue 15 finding 12: with log_format = json, libmicrohttpd's own messages go through prefixd's
# logger (MHD_OPTION_EXTERNAL_LOGGER): at log_level = info, a malformed request line is logged
# as a JSON line whose msg starts "libmicrohttpd: ", and every line of the log is JSON (they used to reach stderr as plain
# text, later only as "library:" lines at debug, invisible at info).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<INI
[daemon]
log_format = json
INI
pd_start

# A malformed request line: libmicrohttpd answers 400 itself and says so.
python3 - "$PD_SOCK" <<'PY'
import socket, sys
g = socket.socket(socket.AF_UNIX); g.settimeout(5); g.connect(sys.argv[1])
g.sendall(b'\x01GARBAGE \xff\r\n\r\n')
try:
    g.recv(4096)
except socket.timeout:
    pass
PY
pd_wait_for grep -q '"msg":"libmicrohttpd: ' "$PD_LOG" ||
	pd_fail "no libmicrohttpd line in the JSON log: $(tail -5 "$PD_LOG")"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	jq -e . <<<"$line" >/dev/null 2>&1 || pd_fail "log line $n is not JSON: $line"
done < "$PD_LOG"
pd_ok "libmicrohttpd's messages are JSON log lines at info: $(grep -o '"msg":"libmicrohttpd: [^"]*"' "$PD_LOG" | sort -u | head -3 | paste -sd' ')"
pd_stop
