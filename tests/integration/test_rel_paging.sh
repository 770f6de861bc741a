#!/usr/bin/env bash
# ctest-labels: reliability
# Unbounded reads must not stall the loop (issue 15, finding 5; "must be true" 3). With 200,000
# allocations and as many events (seeded through the engine by tests/tools/rel_seed before
# prefixd opens the store), a reader pages through ALL allocations and ALL of history
# (cidr=0.0.0.0/0, the read that once answered 57 MB in 4.3 s). Throughout, `rel_abuse probe` asks GET /v1/status over the unix socket every 20 ms
# and fails if one answer takes 100 ms or more (the abuse test's bound), and prefixd's peak RSS
# (VmHWM) stays under REL_PAGING_MAX_RSS_MB (default 300; 900 against a sanitized build, where
# ASan's shadow memory and its 256 MB free quarantine come on top: 592 MB measured). The reader checks that paging gives
# every row exactly once: no id twice, every allocation that existed before and was not
# released seen, every IPv4 event written before; then once more while a writer releases and
# allocates. SQLite only: the seed writes the file.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
seed=$PREFIXD_BUILD_DIR/tests/rel_seed
abuse=$PREFIXD_BUILD_DIR/tests/rel_abuse
[ -x "$seed" ] && [ -x "$abuse" ] || pd_fail "missing $seed or $abuse"
n=${REL_PAGING_ROWS:-200000}
# grep -c reads all of nm's output (grep -q would stop early, and pipefail would count nm's
# SIGPIPE as "not found")
if [ "$( { nm -D "$PD_BIN"; nm "$PD_BIN"; } 2>/dev/null | grep -c __asan_init || true)" -gt 0 ]; then
	max_rss_mb=${REL_PAGING_MAX_RSS_MB:-900}
else
	max_rss_mb=${REL_PAGING_MAX_RSS_MB:-300}
fi
[ "${PREFIXD_TEST_STORE:-sqlite}" = sqlite ] || pd_fail "test_rel_paging seeds a SQLite file"
pd_setup
mkdir -p "$PD_STATE"
seeded=$("$seed" "$PD_STATE/prefixd.db" big 10.0.0.0/8 "$n") || pd_fail "seeding failed"
pd_ok "seeded: $seeded"
# the events history must give for 0.0.0.0/0: every IPv4 one written so far
sqlite3 "$PD_STATE/prefixd.db" "SELECT id FROM events WHERE family = 4 ORDER BY id" > "$PD_DIR/events.want"
PD_TIMEOUT=60 pd_start

# reader.py MODE: follows next_cursor (pages of the default size) to the end of the allocations
# ("allocations") or of both lists ("all"); prints figures, fails on a duplicate, a row out of
# order or a missing one. Allocation ids 101..n existed before and nobody releases them.
cat > "$PD_DIR/reader.py" <<'PY'
import http.client, json, socket, sys, time, urllib.parse
sock, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[4]
want = [int(x) for x in open(sys.argv[3])]
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sock)
def walk(path, key):
    c, rows, pages, worst, cur = Unix("prefixd"), [], 0, 0.0, None
    while True:
        q = path + (("&" if "?" in path else "?") + "cursor=" + urllib.parse.quote(cur) if cur else "")
        t = time.monotonic(); c.request("GET", q); r = c.getresponse(); body = r.read()
        worst = max(worst, time.monotonic() - t)
        if r.status != 200: sys.exit("%s: HTTP %d %s" % (q, r.status, body[:200]))
        j = json.loads(body); rows += [x["id"] for x in j[key]]; pages += 1
        cur = j.get("next_cursor")
        if not cur: return rows, pages, worst
allocs, ap, aw = walk("/v1/allocations", "allocations")
ids = [int(x) for x in allocs]
if len(ids) != len(set(ids)): sys.exit("allocations: an id came twice")
missing = set(range(101, n + 1)) - set(ids)
if missing: sys.exit("allocations: %d rows that existed were skipped, e.g. %s" % (len(missing), sorted(missing)[:5]))
out = "allocations=%d pages=%d slowest_page_ms=%.0f" % (len(ids), ap, aw * 1000)
if mode == "all":
    events, hp, hw = walk("/v1/history?cidr=0.0.0.0/0", "events")
    if len(events) != len(set(events)): sys.exit("history: an event came twice")
    if events != sorted(events): sys.exit("history: not in id order")
    lost = set(want) - set(events)
    if lost: sys.exit("history: %d events were skipped, e.g. %s" % (len(lost), sorted(lost)[:5]))
    out += " history_events=%d pages=%d slowest_page_ms=%.0f" % (len(events), hp, hw * 1000)
print(out)
PY
reader() {
	python3 "$PD_DIR/reader.py" "$PD_SOCK" "$n" "$PD_DIR/events.want" "$1" > "$PD_DIR/reader.out" 2> "$PD_DIR/reader.err" ||
		pd_fail "paging reader ($1): $(tail -n 3 "$PD_DIR/reader.err")"
	cat "$PD_DIR/reader.out"
}

# 1. Everything, paged, under the status probe.
stop=$PD_DIR/stop-probe
"$abuse" probe "$PD_SOCK" 300 "$stop" > "$PD_DIR/probe.out" 2> "$PD_DIR/probe.err" &
probe=$!
rel_status() { return "$1"; }
rel_cleanup() { local rc=$?; touch "$stop"; wait "$probe" 2>/dev/null || true; rel_status "$rc"; pd_cleanup; }
trap rel_cleanup EXIT
t0=$(now_ms)
out=$(reader all)
pd_ok "paged all allocations and all of history in $(( ($(now_ms) - t0) / 1000 )) s: $out"
touch "$stop"
rc=0
wait "$probe" || rc=$?
[ "$rc" = 0 ] || pd_fail "unix socket status probe: $(cat "$PD_DIR/probe.out"); $(head -n 5 "$PD_DIR/probe.err")"
pd_ok "unix socket status throughout: $(cat "$PD_DIR/probe.out")"
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$PD_PID/status")
[ "$hwm" -lt $(( max_rss_mb * 1024 )) ] || pd_fail "peak RSS ${hwm} kB exceeds ${max_rss_mb} MB"
pd_ok "peak RSS $(( hwm / 1024 )) MB (limit ${max_rss_mb} MB)"

# 2. Paging while others write: a writer releases the first 100 allocations and allocates 100
# more; the reader must still see every other allocation exactly once. (No latency bound here:
# each change's COMMIT waits for the disk.)
writer() {
	for id in $(seq 1 100); do
		pd_ctl release "$id" > /dev/null 2>&1 || true
		pd_ctl allocate big --netmask 32 > /dev/null
	done
}
writer &
wpid=$!
out=$(reader allocations)
wait "$wpid" || pd_fail "the writer failed"
pd_ok "paged the allocations while 100 were released and 100 allocated: $out"
pd_stop
