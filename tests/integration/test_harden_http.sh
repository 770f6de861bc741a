#!/usr/bin/env bash
# Issue 15 finding 16, the transport's part:
#   1. "%00" anywhere in the request target is refused 400 bad-request (libmicrohttpd unescapes
#      in place, so the NUL used to end the path early: /v1/status%00junk answered as /v1/status)
#   2. a request with both Content-Length and Transfer-Encoding is refused 400 and the
#      connection closed (a smuggling primitive behind a proxy that frames by the other header)
#   3. the unix sockets get their group and mode without a chown/chmod by name: traced with
#      strace, no chown/chmod-family call names the socket's path (the daemon binds in a private
#      directory and renames the socket into place); the socket ends up 0660 in its group
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
command -v strace >/dev/null || pd_fail "strace is not installed (scripts/install-deps)"
PD_TIMEOUT=30             # strace slows the start-up
pd_setup

# Run prefixd under strace (file-name calls only); PD_PID is strace, its child is prefixd.
real=$PD_BIN
PD_BIN=$PD_DIR/traced
printf '#!/bin/sh\nexec strace -f -o "%s" -e trace=%s -- "%s" "$@"\n' "$PD_DIR/trace" \
	chown,lchown,fchownat,chmod,fchmodat,rename,renameat,renameat2,bind "$real" > "$PD_BIN"
chmod +x "$PD_BIN"
pd_config <<INI
[daemon]
readonly_socket = $PD_RO_SOCK
INI
pd_start

# raw REQUEST-TEXT: sends the bytes as they are on the main socket, prints the answer.
raw() {
	python3 - "$PD_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
out = b''
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    out += b'\n(timeout: connection left open)'
sys.stdout.write(out.decode('latin-1'))
PY
}

# 1. %00 in the target
for target in '/v1/status%00junk' '/v1/pools%00' '/v1/status?x=a%00b' '/v1/status%2500'; do
	ans=$(raw "GET $target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	line=$(printf '%s' "$ans" | head -1)
	case $target in
	*%2500) # an escaped percent sign is no NUL: answered as usual
		printf '%s' "$line" | grep -q ' 404 ' || pd_fail "$target: want 404, got: $line";;
	*)	printf '%s' "$line" | grep -q ' 400 ' || pd_fail "$target: want 400, got: $line"
		printf '%s' "$ans" | grep -q '"bad-request"' || pd_fail "$target: want bad-request: $ans";;
	esac
done
pd_ok "a request target holding %00 is refused 400 bad-request"

# 2. Content-Length together with chunked (no Connection: close from the client: the daemon
# must close it itself)
ans=$(raw "GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
line=$(printf '%s' "$ans" | head -1)
printf '%s' "$line" | grep -q ' 400 ' || pd_fail "Content-Length + chunked: want 400, got: $line"
printf '%s' "$ans" | grep -qi '^connection: close' ||
	pd_fail "Content-Length + chunked: the connection stays open: $ans"
pd_ok "Content-Length together with Transfer-Encoding is refused 400, connection closed"
pd_curl GET /v1/status >/dev/null
[ "$PD_STATUS" = 200 ] || pd_fail "status after the refusals: $PD_STATUS"

# 3. socket owner and mode set without following names
for s in "$PD_SOCK" "$PD_RO_SOCK"; do
	[ -S "$s" ] || pd_fail "$s is no socket"
	[ "$(stat -c %a "$s")" = 660 ] || pd_fail "$s has mode $(stat -c %a "$s")"
	[ "$(stat -c %g "$s")" = "$(id -g)" ] || pd_fail "$s has group $(stat -c %g "$s")"
	bad=$(grep -E '(chown|chmod|fchownat|fchmodat|lchown)\(' "$PD_DIR/trace" | grep -F "\"$s\"" || true)
	[ -z "$bad" ] || pd_fail "the socket's group or mode was set by name (a planted symlink is followed): $bad"
	grep -E 'rename(at2?)?\(' "$PD_DIR/trace" | grep -qF "\"$s\"" ||
		pd_fail "$s was not renamed into place: $(grep -E 'bind|rename' "$PD_DIR/trace")"
done
! ls -a "$PD_DIR" | grep -q '^\.prefixd\.' || pd_fail "a private bind directory was left: $(ls -a "$PD_DIR")"
pd_ok "both sockets are 0660 in their group, set in a private directory, renamed into place"

# Stop prefixd itself (strace's child); strace exits with it.
child=$(pgrep -P "$PD_PID" -x prefixd || true)
[ -n "$child" ] || pd_fail "no prefixd under strace"
kill -TERM "$child"
pd_wait_for pd_exited || pd_fail "prefixd did not stop"
PD_PID=
pd_ok "done"
