#!/usr/bin/env bash
# ctest-labels: asan
#
# Log hygiene (issue 18, item 7): at log_level = info prefixd's log carries only lines that
# prefixd formatted itself, although Debian's librtr0 prints "RTR Socket: ..." debug lines on
# stderr at every sync. prefixd runs against a real StayRTR refreshing every second:
#   1. at info, once RPKI is synced and has taken three more serials, every log line has
#      prefixd's text format ("<ISO time> <level> <message>") and none mentions "RTR Socket"
#   2. after a SIGHUP to log_level = debug the library's lines appear, as prefixd's own debug
#      lines ("... debug library: ... RTR Socket: ...") -- captured, not lost
#   3. still every line of the log is in prefixd's format
set -euo pipefail

: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/stayrtr.sh"

pd_setup

# write_vrps N: the JSON StayRTR serves, with N extra ROAs (each N is a new serial).
write_vrps() {
	local extra="" i
	for (( i = 1; i <= $1; i++ )); do
		extra="$extra,{\"prefix\":\"198.51.$i.0/24\",\"maxLength\":24,\"asn\":\"AS65002\"}"
	done
	printf '{"metadata":{"buildtime":"%s"},"roas":[%s%s]}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	    '{"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS65001"}' "$extra" \
	    > "$PD_DIR/vrps.json.tmp"
	mv "$PD_DIR/vrps.json.tmp" "$PD_DIR/vrps.json"
}

write_vrps 0
stayrtr_start "$PD_DIR/vrps.json" "$PD_DIR/stayrtr.log"

printf '[daemon]\nlog_level = info\n[rpki]\ncache = 127.0.0.1:%s\nrefresh = 1\nretry = 1\n' "$SP" |
    pd_config
pd_start

# Every line of the log as prefixd's text format writes it (src/base/log.c).
PD_LINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (debug|info|warn|error) '
foreign_lines() { grep -a -v -E "$PD_LINE" "$PD_LOG" || true; }

serial() { pd_ctl --json rpki status | jq -r '.caches[0].serial // empty'; }
synced() { [ "$(pd_ctl --json rpki status | jq -r .state)" = synced ]; }
wait_until 10 "rpki status synced" synced
s0=$(serial)
for n in 1 2 3; do
	prev=$(serial)
	write_vrps "$n"
	moved() { [ "$(serial)" != "$prev" ]; }
	wait_until 10 "an RTR serial past $prev (refresh $n)" moved
done
ok "RPKI synced, serial $s0 -> $(serial) over three refreshes"

bad=$(foreign_lines)
[ -z "$bad" ] || pd_fail "at info, lines prefixd did not format: $(printf '%s' "$bad" | head -5)"
! grep -a -q 'RTR Socket' "$PD_LOG" || pd_fail "at info, the log carries rtrlib's lines"
ok "at info: $(wc -l < "$PD_LOG") lines, all in prefixd's format, none from rtrlib"

sed -i 's/^log_level = info$/log_level = debug/' "$PD_CONF"
kill -HUP "$PD_PID"
write_vrps 4
captured() { grep -a -q -E "${PD_LINE}library: .*RTR Socket" "$PD_LOG"; }
wait_until 10 "rtrlib's lines at debug, in prefixd's format" captured
ok "at debug: $(grep -a -c 'library: .*RTR Socket' "$PD_LOG") rtrlib lines, logged as prefixd's debug lines"
bad=$(foreign_lines)
[ -z "$bad" ] || pd_fail "at debug, lines prefixd did not format: $(printf '%s' "$bad" | head -5)"
pd_stop
ok "every line of the log is prefixd's own"
