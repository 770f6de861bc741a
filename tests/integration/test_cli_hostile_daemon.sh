#!/usr/bin/env bash
# prefixctl against a daemon that misbehaves (a fake HTTP server on a unix socket, one
# behaviour per socket): silence is a timeout (exit 3), an endless or oversized reply is cut
# at the size cap (exit 3), a reply that is not JSON or not HTTP is exit 3, an error status
# without the error object still shows the status (exit 1), and terminal escapes in a reply
# never reach the terminal.
# ctest-labels: asan
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
: "${PREFIXD_BUILD_DIR:?}"
PCTL=$PREFIXD_BUILD_DIR/prefixctl
dir=$(mktemp -d /tmp/prefixctl-hostile.XXXXXX)
on_exit rm -rf "$dir"

python3 - "$dir" >"$dir/server.log" 2>&1 <<'PY' &
import os, socket, sys, threading
d = sys.argv[1]
def reply(mode, c):
    if mode == "silent":
        threading.Event().wait(30); return
    if mode == "huge":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        chunk = b" " * 65536
        try:
            for _ in range(80 * 16):
                c.sendall(chunk)
        except OSError:
            pass
        return
    bodies = {
        "garbage": (200, b"this is not json"),
        "html500": (500, b"<html>internal\x1b[2J error</html>"),
        "escape": (409, b'{"error":{"code":"overlap","message":"evil \\u001b]0;owned\\u0007 \\u001b[2J text"}}'),
        "oddjson": (404, b'{"error":"just a string"}'),
        "c1bidi": (409, b'{"error":{"code":"overlap","message":"a\\u009b2J b\\u009d0;x\\u009c c\\u202edcba"}}'),
    }
    if mode == "nothttp":
        c.sendall(b"HELLO THERE\r\n\r\n"); return
    status, body = bodies[mode]
    c.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % (status, len(body)) + body)
def serve(mode):
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(d, mode + ".sock")); s.listen(8)
    while True:
        c, _ = s.accept()
        buf = b""
        while b"\r\n\r\n" not in buf:
            got = c.recv(4096)
            if not got: break
            buf += got
        reply(mode, c)
        c.close()
modes = ["silent", "huge", "garbage", "html500", "escape", "oddjson", "c1bidi", "nothttp"]
for m in modes:
    threading.Thread(target=serve, args=(m,), daemon=True).start()
threading.Event().wait(600)
PY
server=$!
on_exit kill "$server"
wait_until 10 "the fake servers" test -S "$dir/nothttp.sock"

# run MODE WANT_RC PATTERN [TIMEOUT]: prefixctl status against MODE's socket (PREFIXCTL_TIMEOUT
# 1 s unless given: only the silent case is about the timeout).
run() {
	local mode=$1 want=$2 pattern=$3 rc=0
	PREFIXCTL_TIMEOUT=${4:-1} "$PCTL" -s "$dir/$mode.sock" status >"$dir/out" 2>"$dir/err" || rc=$?
	[ "$rc" = "$want" ] || fail "$mode: want exit $want, got $rc: $(cat "$dir/err")"
	grep -q -- "$pattern" "$dir/err" || fail "$mode: want '$pattern' on stderr, got: $(cat "$dir/err")"
	if LC_ALL=C grep -q $'\x1b' "$dir/err" "$dir/out"; then fail "$mode: an escape reached the terminal"; fi
	ok "$mode -> exit $rc: $(head -n1 "$dir/err")"
}

t0=$(now_ms)
run silent 3 "no reply from $dir/silent.sock within 1000 ms"
[ $(( $(now_ms) - t0 )) -lt 5000 ] || fail "the timeout took $(( $(now_ms) - t0 )) ms"
run huge 3 "reply exceeds" 20     # 16+ MB from the fake server: no timeout on a loaded machine
run garbage 3 "unreadable reply from the daemon"
run nothttp 3 "^prefixctl: talking to $dir/nothttp.sock"
run html500 1 '^prefixctl: HTTP 500: <html>internal\\u001b\[2J error</html>'
run escape 1 '^prefixctl: overlap: evil \\u001b\]0;owned\\u0007 \\u001b\[2J text'
# C1 controls as UTF-8 (CSI, OSC, ST) and a bidi override (issue 15 finding 8).
run c1bidi 1 '^prefixctl: overlap: a\\u009b2J b\\u009d0;x\\u009c c\\u202edcba$'
LC_ALL=C grep -qP '\xc2[\x80-\x9f]|\xe2\x80\xae' "$dir/err" && fail "c1bidi: a C1 or bidi character reached the terminal"
run oddjson 1 '^prefixctl: HTTP 404: {"error":"just a string"}'
