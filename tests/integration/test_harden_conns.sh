#!/usr/bin/env bash
# ctest-labels: reliability
# Hardening finding 4 (issue 15): the connection budget. max_connections = 4 per listener,
# request_timeout = 30 (so the watchdog never frees a slot within this test's bounds):
#   (b) one TCP address (127.0.0.7) keeps 20 half-sent requests open and reconnects each one
#       that is closed: max_connections_per_address = 2 keeps it to 2 slots, and another client
#       (127.0.0.8) and the unix socket's admin are answered within 2 s;
#   (a) four readers from four addresses each open a long poll (wait=60): at most half of
#       max_connections wait (max_long_polls), the others are answered 429
#       too-many-long-polls at once; an admin on TCP (127.0.0.9) is answered within 2 s. On the
#       main unix socket a non-admin peer (uid nobody in socket_group: operator) opens four long
#       polls and eight half-sent requests: two long polls wait, the rest get 429 or 503
#       connection-limit, and root (admin) is still answered within 2 s;
#   (c) a request without a known token is answered 401 before its body is sent, and the
#       connection is closed at once (no keep-alive for nobody). This part already held on
#       653b16d's successors (the 401 was answered at the header stage and libmicrohttpd closed
#       the connection); it stays as a guard for the transport's early authentication;
#   hostile config: bad values of the three keys are refused at start, naming the key.
# Source addresses other than 127.0.0.1 are loopback aliases (Linux routes 127/8 to lo).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_tcp_listen "r:reader:reader-secret" "a:admin:admin-secret"
port=${PD_URL##*:}
pd_config <<INI
[daemon]
socket_group = users
max_connections = 4
max_connections_per_address = 2
max_long_polls = 16
admin_connections = 2
request_timeout = 30
INI
pd_start

# hog.py MODE TARGET N OUT: holds N connections to TARGET ("unix:PATH" or "tcp:SRC") until
# $PD_DIR/stop exists. MODE long: each sends a long poll and OUT gets "answered=A waiting=W
# codes=..." once every connection has answered or waited 2 s. MODE half: each sends half a
# request's headers and reconnects whenever prefixd closes it; OUT gets "held" once started.
cat > "$PD_DIR/hog.py" <<'PY'
import os, socket, sys, time
mode, target, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
stop = os.path.join(os.path.dirname(out), "stop")
port = int(os.environ.get("PORT", "0"))
def conn():
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX); s.connect(target[5:])
    else:
        s = socket.socket(); s.bind((target[4:], 0)); s.connect(("127.0.0.1", port))
    return s
if mode == "long":
    req = (b"GET /v1/events?after=999999&wait=60 HTTP/1.1\r\nHost: p\r\n"
           b"Authorization: Bearer reader-secret\r\n\r\n")
    socks = []
    for _ in range(n):
        s = conn(); s.sendall(req); s.settimeout(2.0); socks.append(s)
    codes = []
    for s in socks:
        try:
            data = s.recv(4096)
            codes.append(data.split(b" ")[1].decode() if data else "closed")
        except (socket.timeout, OSError):
            codes.append("waiting")
    with open(out + ".tmp", "w") as f:
        f.write("answered=%d waiting=%d codes=%s\n" % (n - codes.count("waiting"),
                codes.count("waiting"), ",".join(sorted(codes))))
    os.rename(out + ".tmp", out)
    while not os.path.exists(stop):
        time.sleep(0.1)
else:
    half = b"GET /v1/status HTTP/1.1\r\nHost: p\r\n"
    socks, reconnects, refused = [], 0, 0
    def fresh():
        s = conn(); s.setblocking(False)
        try: s.send(half)
        except OSError: pass
        return s
    socks = [fresh() for _ in range(n)]
    open(out, "w").write("held\n")
    while not os.path.exists(stop):
        for i, s in enumerate(socks):
            try:
                refused += s.recv(4096).startswith(b"HTTP/1.1 503")  # an answer, or EOF
            except BlockingIOError:
                continue                # still held
            except OSError:
                pass                    # reset
            s.close(); socks[i] = fresh(); reconnects += 1
        time.sleep(0.05)
    open(out, "w").write("reconnects=%d refused_503=%d\n" % (reconnects, refused))
PY
py=/usr/bin/python3                     # not a per-user shim: uid nobody runs it too
[ -x "$py" ] || pd_fail "missing $py"
hogs=()
hog() { PORT=$port "$py" "$PD_DIR/hog.py" "$@" & hogs+=($!); }
conns_cleanup() {
	local rc=$?
	touch "$PD_DIR/stop" "$PD_DIR/nobody/stop" 2>/dev/null || true
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${hogs[@]}"; do wait "$p" 2>/dev/null || true; done
	rel_status "$rc"
	pd_cleanup
}
rel_status() { return "$1"; }
trap conns_cleanup EXIT

# prompt NAME CMD...: CMD answers 200 within 2 s; prints the time taken.
prompt() {
	local name=$1 t0 t1 code
	shift
	t0=$(now_ms)
	code=$("$@" -s -o /dev/null -w '%{http_code}' --max-time 2 || true)
	t1=$(now_ms)
	[ "$code" = 200 ] || pd_fail "$name: want 200 within 2 s, got '$code' after $(( t1 - t0 )) ms"
	pd_ok "$name answered 200 in $(( t1 - t0 )) ms"
}
# tcp_as SRC TOKEN CURL-ARGS... / unix_root CURL-ARGS...: GET /v1/status.
tcp_as() { local src=$1 tok=$2; shift 2; curl "$@" --interface "$src" -H "Authorization: Bearer $tok" "$PD_URL/v1/status"; }
unix_root() { curl "$@" --unix-socket "$PD_SOCK" http://prefixd/v1/status; }
exists() { [ -s "$1" ]; }

# (b) one address with 20 half-sent, reconnecting requests
hog half tcp:127.0.0.7 20 "$PD_DIR/half.out"
pd_wait_for exists "$PD_DIR/half.out" || pd_fail "the half-sent hog did not start"
prompt "another address (reader) on TCP, next to 20 half-sent requests of 127.0.0.7" \
	tcp_as 127.0.0.8 reader-secret
prompt "root on the unix socket, next to them" unix_root
touch "$PD_DIR/stop"
wait "${hogs[0]}" || true
pd_ok "the half-sent hog: $(cat "$PD_DIR/half.out")"
rm -f "$PD_DIR/stop"
hogs=()

# (a) four reader long polls on TCP, from four addresses
for i in 2 3 4 5; do hog long "tcp:127.0.0.$i" 1 "$PD_DIR/long$i.out"; done
for i in 2 3 4 5; do
	pd_wait_for exists "$PD_DIR/long$i.out" || pd_fail "long poll from 127.0.0.$i did not report"
done
waiting=$(cat "$PD_DIR"/long[2-5].out | grep -c 'waiting=1' || true)
refused=$(cat "$PD_DIR"/long[2-5].out | grep -c 'codes=429' || true)
[ "$waiting" = 2 ] && [ "$refused" = 2 ] ||
	pd_fail "four TCP long polls, max_connections 4: want 2 waiting and 2 answered 429, got: $(cat "$PD_DIR"/long[2-5].out)"
pd_ok "four TCP long polls: 2 wait, 2 answered 429 at once"
prompt "an admin on TCP next to the waiting long polls" tcp_as 127.0.0.9 admin-secret
prompt "root on the unix socket next to them" unix_root
body=$(curl -s --interface 127.0.0.10 -H "Authorization: Bearer reader-secret" -D "$PD_DIR/h" \
	"$PD_URL/v1/events?after=999999&wait=60" --max-time 2 || true)
[ "$(jq -r .error.code <<<"$body")" = too-many-long-polls ] || pd_fail "a third long poll: $body"
grep -qi '^Retry-After: 1' "$PD_DIR/h" || pd_fail "429 without Retry-After: $(cat "$PD_DIR/h")"
grep -qi '^Connection: close' "$PD_DIR/h" || pd_fail "429 keeps the connection: $(cat "$PD_DIR/h")"
pd_ok "a third long poll: 429 too-many-long-polls, Retry-After: 1, Connection: close"

# (a) on the main unix socket: a non-admin peer holds long polls and half-sent requests
[ -x "$(command -v setpriv)" ] || pd_fail "setpriv missing"
nb=$PD_DIR/nobody                       # where uid nobody's hogs write (and find stop)
mkdir "$nb" && chown nobody "$nb"
setpriv --reuid nobody --regid nogroup --groups users "$py" "$PD_DIR/hog.py" long \
	"unix:$PD_SOCK" 4 "$nb/ulong.out" & hogs+=($!)
pd_wait_for exists "$nb/ulong.out" || pd_fail "the unix long polls did not report"
grep -q 'waiting=2 codes=429,429,waiting,waiting' "$nb/ulong.out" ||
	pd_fail "four unix long polls of uid nobody: want 2 waiting, 2 answered 429: $(cat "$nb/ulong.out")"
setpriv --reuid nobody --regid nogroup --groups users "$py" "$PD_DIR/hog.py" half \
	"unix:$PD_SOCK" 8 "$nb/uhalf.out" & hogs+=($!)
pd_wait_for exists "$nb/uhalf.out" || pd_fail "the unix half-sent hog did not start"
pd_wait_for grep -q 'refusing connections of peers that are not admin (.*uid:65534' "$PD_LOG" ||
	pd_fail "no unix connection of uid nobody was refused past max_connections"
prompt "root on the unix socket next to uid nobody's 2 long polls and 8 half-sent requests" unix_root
# The 503 comes at once, before the peer sends anything (a client that writes first may meet
# the socket already shut, http_listen.c): read what arrives without writing.
code=$(setpriv --reuid nobody --regid nogroup --groups users "$py" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1]); b = b""
try:
    while (c := s.recv(4096)): b += c
except OSError: pass
print(b.decode(errors="replace").partition("\r\n\r\n")[2])' "$PD_SOCK" || true)
[ "$(jq -r .error.code <<<"$code" 2>/dev/null)" = connection-limit ] ||
	pd_fail "uid nobody past max_connections: want 503 connection-limit, got '$code'"
pd_ok "uid nobody past max_connections on the unix socket: 503 connection-limit"

# prefixctl events --follow next to the full long poll cap (uid nobody's 2 long polls): it says
# so once and asks again every second (Retry-After); it does not exit "refused"
"$PCTL_BIN" -s "$PD_SOCK" events --follow > "$PD_DIR/follow.out" 2> "$PD_DIR/follow.err" &
fpid=$!
hogs+=("$fpid")
said_busy() { grep -q 'too-many-long-polls' "$PD_DIR/follow.err"; }
pd_wait_for said_busy || pd_fail "prefixctl events --follow at the cap: $(cat "$PD_DIR/follow.err")"
t_end=$(( $(now_ms) + 2500 ))   # two more refusals in that time: it must still be following
while [ "$(now_ms)" -lt "$t_end" ]; do
	kill -0 "$fpid" 2>/dev/null ||
		pd_fail "prefixctl events --follow gave up at the cap: $(cat "$PD_DIR/follow.err")"
	sleep 0.1
done
[ "$(grep -c 'too-many-long-polls' "$PD_DIR/follow.err")" = 1 ] ||
	pd_fail "the follower repeats its notice: $(cat "$PD_DIR/follow.err")"
kill "$fpid"
pd_ok "prefixctl events --follow at the long poll cap: says too-many-long-polls once, keeps asking"

# (c) no token: 401 at the header stage, before the body, and the connection closed
check_401() {
	python3 - "$port" "$1" <<'PY'
import socket, sys, time
port, req = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode()
s = socket.socket(); s.bind(("127.0.0.11", 0)); s.connect(("127.0.0.1", port))
s.sendall(req); s.settimeout(2.0); t0 = time.time(); data = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
except socket.timeout:
    sys.exit("not closed within 2 s after %r" % data[:40])
if not data.startswith(b"HTTP/1.1 401"): sys.exit("want 401, got %r" % data[:60])
print("401 and closed in %d ms" % ((time.time() - t0) * 1000))
PY
}
out=$(check_401 'POST /v1/pools HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n') ||
	pd_fail "a POST without token announcing 100 kB (none sent): $out"
pd_ok "a POST without token, body announced but never sent: $out"
out=$(check_401 'GET /v1/status HTTP/1.1\r\nHost: p\r\nAuthorization: Bearer wrong\r\n\r\n') ||
	pd_fail "a GET with a wrong token: $out"
pd_ok "a keep-alive GET with a wrong token: $out"

# hostile values of the new keys: refused at start, naming the key
for kv in "max_long_polls = -1" "max_long_polls = 65537" "max_long_polls = 2x" \
    "max_connections_per_address = 0" "max_connections_per_address = 99999999999999999999" \
    "admin_connections = 0" "admin_connections = 1025" "admin_connections = eight"; do
	printf '[daemon]\nstate_dir = %s/bad\nsocket = %s/bad.sock\n%s\n' "$PD_DIR" "$PD_DIR" "$kv" > "$PD_DIR/bad.conf"
	rc=0
	timeout 10 "$PD_BIN" -c "$PD_DIR/bad.conf" > "$PD_DIR/bad.err" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || pd_fail "'$kv' was accepted (exit $rc)"
	grep -q "bad.conf:4: ${kv%% *}: " "$PD_DIR/bad.err" || pd_fail "'$kv': unclear error: $(cat "$PD_DIR/bad.err")"
	[ ! -e "$PD_DIR/bad.sock" ] || pd_fail "'$kv': a socket was opened"
done
pd_ok "bad values of max_long_polls, max_connections_per_address, admin_connections refused at start"
pd_stop
