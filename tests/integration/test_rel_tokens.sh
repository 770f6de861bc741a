#!/usr/bin/env bash
# ctest-labels: asan reliability
# The tokens file is read line by line into a fixed buffer: a line longer than the buffer must
# be refused as a whole, never split so that its tail is read as a line of its own. Found while
# writing fuzz_tokens: a commented-out line of 520+ bytes whose tail is "NAME admin HASH" used to
# grant that token admin (fixed in 9f60dfc). prefixd refuses the file: at start, exit 1 naming
# file:line.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=commented-out-token
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
# 511 bytes fill the reader's 512-byte buffer; the rest of the line is "evil admin HASH".
{
	printf '#'
	head -c 510 /dev/zero | tr '\0' 'x'
	printf 'evil admin %s\n' "$hash"
} > "$PD_DIR/tokens"
pd_config <<INI
[daemon]
listen = 127.0.0.1:$port
tokens_file = $PD_DIR/tokens
INI
pd_write_config
rc=0
timeout 10 "$PD_BIN" -n -c "$PD_CONF" > "$PD_DIR/check.out" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
	# The config check may not read the tokens file; a started daemon must not honour the token.
	"$PD_BIN" -c "$PD_CONF" >>"$PD_LOG" 2>&1 &
	PD_PID=$!
	answers_or_exited() { pd_answers || ! pd_alive; }
	pd_wait_for answers_or_exited || true
	if pd_answers; then
		status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $token" \
			"http://127.0.0.1:$port/v1/status")
		[ "$status" = 401 ] || pd_fail "a token on a commented-out long line was honoured (HTTP $status)"
		pd_ok "a commented-out long line grants nothing (401)"
		pd_stop
		exit 0
	fi
	rc=0
	wait "$PD_PID" || rc=$?
	PD_PID=
fi
[ "$rc" != 0 ] || pd_fail "prefixd neither refused the file nor served"
grep -q "$PD_DIR/tokens:1" "$PD_DIR/check.out" "$PD_LOG" 2>/dev/null || pd_fail "the refusal does not name $PD_DIR/tokens:1: $(cat "$PD_DIR/check.out" "$PD_LOG")"
pd_ok "a tokens file with an over-long line is refused, naming the line"
