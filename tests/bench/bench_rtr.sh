#!/usr/bin/env bash
# bench_rtr.sh — RTR full sync: prefixd's rpki/rtr against BIRD's own `rpki` protocol, on the
# same StayRTR cache serving the same synthetic VRPs, in one run; plus rov look-ups/s and
# peak RSS. Prints a Markdown table (the figures the README quotes).
#
#   tests/bench/bench_rtr.sh BUILD_DIR [V4_COUNT V6_COUNT]     (default 650000 160000)
#
# Loopback only (127.0.0.1). StayRTR is started, waited for until its metrics say it holds
# every VRP (so neither client meets "No Data Available"), then:
#   1. bench_rtr (tests/bench/bench_rtr.c): rtr_start -> synced, and -> VRP counts complete
#   2. BIRD 2 with roa4/roa6 tables and one rpki protocol: launch -> `show route count table
#      r4` and `r6` equal the VRP counts (polled every 50 ms through birdc on a socket in the
#      temp dir). BIRD's figure includes its start-up (a few ms) and up to 50 ms of polling.
# Both run ROUNDS times (default 3), interleaved; the table compares the best of each.
# Targets (issue 5): prefixd sync <= 1.2 x BIRD's; >= 1,000,000 validations/s.
set -euo pipefail

BUILD=${1:?usage: bench_rtr.sh BUILD_DIR [V4 V6]}
N4=${2:-650000}
N6=${3:-160000}
BENCH=$BUILD/tests/bench_rtr
[ -x "$BENCH" ] || { echo "build bench_rtr first ($BENCH)" >&2; exit 1; }
for p in stayrtr bird birdc curl python3; do
	command -v "$p" >/dev/null || { echo "$p is not installed" >&2; exit 1; }
done

T=$(mktemp -d /tmp/bench_rtr.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
port_free() { [ -z "$(ss -Htln "sport = :$1")" ]; }
until P=$(( 20000 + RANDOM % 20000 )); port_free "$P" && port_free $((P + 1)); do :; done

# Synthetic VRPs: N4 IPv4 /24s from 11.0.0.0 (every 16th also gets a covering /20 with
# maxLength 24, a nested case), N6 IPv6 /48s from 2a00::; ASNs 64512..65511.
python3 - "$N4" "$N6" >"$T/vrps.json" <<'EOF'
import sys, json, ipaddress, datetime
n4, n6 = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
out.write('{"metadata":{"buildtime":"%s"},"roas":[' %
          datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))
first = True
def roa(p, ml, asn):
    global first
    out.write(('' if first else ',') + '{"prefix":"%s","maxLength":%d,"asn":%d}' % (p, ml, asn))
    first = False
base4 = int(ipaddress.IPv4Address("11.0.0.0"))
made = 0
i = 0
while made < n4:
    a = base4 + i * 256
    if i % 256 == 0 and made + 1 < n4:
        roa("%s/16" % ipaddress.IPv4Address(a), 24, 64512 + (i // 256) % 1000)
        made += 1
    roa("%s/24" % ipaddress.IPv4Address(a), 24, 64512 + i % 1000)
    made += 1
    i += 1
base6 = int(ipaddress.IPv6Address("2a00::"))
for j in range(n6):
    roa("%s/48" % ipaddress.IPv6Address(base6 + (j << 80)), 48, 64512 + j % 1000)
out.write(']}\n')
EOF
TOTAL=$((N4 + N6))

stayrtr -bind "127.0.0.1:$P" -metrics.addr "127.0.0.1:$((P + 1))" -cache "$T/vrps.json" \
    -refresh 3600 -checktime=false -log.verbose=false >"$T/stayrtr.log" 2>&1 &
PIDS+=($!)
deadline=$(( $(date +%s) + 120 ))
loaded() {
	curl -s "http://127.0.0.1:$((P + 1))/metrics" |
	    awk '/^rpki_vrps[{ ]/ { s += $NF } END { exit !(s + 0 >= '"$TOTAL"') }'
}
until loaded; do
	[ "$(date +%s)" -lt "$deadline" ] || { echo "StayRTR did not load" >&2; exit 1; }
	sleep 0.2
done

cat >"$T/bird.conf" <<EOF
router id 192.0.2.1;
log "$T/bird.log" all;
roa4 table r4;
roa6 table r6;
protocol rpki rpki1 {
	roa4 { table r4; };
	roa6 { table r6; };
	remote 127.0.0.1 port $P;
	refresh keep 3600; retry keep 600; expire keep 7200;
}
EOF
count() { birdc -s "$T/bird.ctl" show route count table "$1" 2>/dev/null |
    awk '/routes for/ { print $1 }'; }

# One BIRD round: launch -> both ROA tables complete; the seconds go to $T/bird.s, BIRD's
# peak RSS (KB) and its counts to BIRD_RSS, BIRD_N4, BIRD_N6.
bird_round() {
	local b0 deadline pid
	rm -f "$T/bird.ctl"
	b0=$(now)
	bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid" &
	pid=$!
	deadline=$(( $(date +%s) + 120 ))
	until [ "$(count r4)" = "$N4" ] && [ "$(count r6)" = "$N6" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "BIRD did not load" >&2; kill "$pid"; exit 1; }
		sleep 0.05
	done
	elapsed "$b0" "$(now)" >"$T/bird.s"
	BIRD_RSS=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	BIRD_N4=$(count r4)
	BIRD_N6=$(count r6)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# The floor both clients share: a bare client (Python) sends a Reset Query and only splits
# the reply into PDUs until End of Data. Prints the seconds.
bare_round() {
	python3 - "$P" <<'PY'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
s.sendall(bytes([1, 2, 0, 0, 0, 0, 0, 8]))      # RTR v1 Reset Query
buf, done = b"", False
while not done:
    d = s.recv(1 << 20)
    if not d:
        sys.exit("cache closed the session")
    buf += d
    off = 0
    while len(buf) - off >= 8:
        n = struct.unpack("!I", buf[off + 4:off + 8])[0]
        if n < 8 or len(buf) - off < n:
            break
        done = done or buf[off + 1] == 7            # End of Data
        off += n
    buf = buf[off:]
print("%.3f" % (time.time() - t0))
PY
}

# Interleaved rounds (the machine may be shared): prefixd, BIRD, prefixd, BIRD, ... The
# first prefixd round also runs the look-ups. The table compares each side's best round.
ROUNDS=${ROUNDS:-3}
ours=()
theirs=()
bare=()
for r in $(seq "$ROUNDS"); do
	l=0
	[ "$r" = 1 ] && l=1000000
	"$BENCH" -c "127.0.0.1:$P" -n "$TOTAL" -l "$l" >"$T/bench.$r" 2>"$T/bench.err"
	ours+=("$(sed -n 's/^sync_s=//p' "$T/bench.$r")")
	bird_round
	theirs+=("$(cat "$T/bird.s")")
	bare+=("$(bare_round)")
done
val() { sed -n "s/^$1=//p" "$T/bench.1"; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
bird_s=$(best "${theirs[@]}")
bird_rss=$BIRD_RSS

sync=$(best "${ours[@]}")
ratio=$(awk -v a="$sync" -v b="$bird_s" 'BEGIN { printf "%.2f", a / b }')
cat <<EOF

Command: tests/bench/bench_rtr.sh $BUILD $N4 $N6   ($(nproc) CPUs, $(date -u +%Y-%m-%d))
VRPs: $N4 IPv4 + $N6 IPv6 = $TOTAL, served by StayRTR $(dpkg-query -W -f '${Version}' stayrtr 2>/dev/null) on 127.0.0.1; BIRD $(bird --version 2>&1 | awk '{print $NF}')

| measure | prefixd rpki/rtr | BIRD rpki protocol | ratio / target |
|---|---|---|---|
| full sync (start -> all VRPs held), best of $ROUNDS | $sync s | $bird_s s | $ratio x (target <= 1.2) |
| full sync, every round | ${ours[*]} | ${theirs[*]} | |
| StayRTR delivering the reset to a bare client, every round | ${bare[*]} | | the floor for both |
| sync incl. debounced change event and index build (round 1) | $(val counted_s) s | | |
| VRPs held (v4 / v6) | $(val vrps_v4) / $(val vrps_v6) | $BIRD_N4 / $BIRD_N6 | |
| look-up index current when the look-ups ran | $(val index_current) | | |
| rov_check (state only), 1,000,000 random look-ups | $(val random_check_per_s) /s | | target >= 1,000,000 /s |
| rov_validate (reasons + deciding VRPs), same look-ups | $(val random_validate_per_s) /s | | |
| answer mixture (random) | $(val random_mixture) | | |
| rov_check, 1,000,000 look-ups all inside the VRP ranges | $(val covered_check_per_s) /s | | worst case |
| rov_validate, same | $(val covered_validate_per_s) /s | | |
| answer mixture (covered) | $(val covered_mixture) | | |
| peak RSS | $(( $(val peak_rss_kb) / 1024 )) MB | $(( bird_rss / 1024 )) MB | |
EOF
