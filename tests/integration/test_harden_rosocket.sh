#!/usr/bin/env bash
# Issue 15 finding 13: the read-only socket has its own group and mode ([daemon]
# readonly_socket_group, readonly_socket_mode), so a monitoring agent need not be an operator.
# The agent here is uid nobody in group nogroup: with readonly_socket_group = nogroup and mode
# 0660 it reads /metrics and /v1/status (as reader) on the read-only socket, while the main
# socket (0660, the daemon's group) stays closed to it. A second start with mode 0666 and no
# group of its own lets every local user read. Needs root (setpriv to nobody).
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
[ "$(id -u)" = 0 ] || pd_fail "needs root (setpriv)"
getent group nogroup >/dev/null || pd_fail "no group nogroup"
pd_setup
nogid=$(getent group nogroup | cut -d: -f3)
install -d -m 0777 "$PD_DIR/agent"     # the agent's answers (nobody cannot write PD_DIR)
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
# agent SOCKET PATH: the agent's HTTP status for PATH on SOCKET (000 when it cannot connect)
agent() {
	as_nobody curl -s -o "$PD_DIR/agent/out" -w '%{http_code}' --max-time 5 --unix-socket "$1" \
		"http://prefixd$2" 2>/dev/null || true
}
pd_config <<INI
[daemon]
readonly_socket = $PD_RO_SOCK
readonly_socket_group = nogroup
readonly_socket_mode = 0660
INI
pd_start
[ "$(stat -c '%a %g' "$PD_RO_SOCK")" = "660 $nogid" ] ||
	pd_fail "read-only socket: $(stat -c '%a %g' "$PD_RO_SOCK"), want 660 $nogid"
[ "$(stat -c '%a %g' "$PD_SOCK")" = "660 $(id -g)" ] ||
	pd_fail "main socket: $(stat -c '%a %g' "$PD_SOCK"), want 660 $(id -g)"
[ "$(agent "$PD_RO_SOCK" /metrics)" = 200 ] || pd_fail "the agent cannot read /metrics on the read-only socket"
grep -q '^prefixd_' "$PD_DIR/agent/out" || pd_fail "/metrics: $(head -3 "$PD_DIR/agent/out")"
[ "$(agent "$PD_RO_SOCK" /v1/status)" = 200 ] || pd_fail "the agent cannot read /v1/status"
jq -e '.role == "reader"' "$PD_DIR/agent/out" >/dev/null || pd_fail "the agent's role: $(cat "$PD_DIR/agent/out")"
st=$(agent "$PD_SOCK" /v1/status)
[ "$st" = 000 ] || pd_fail "the agent reached the main socket: HTTP $st"
pd_ok "readonly_socket_group = nogroup: the agent (nobody:nogroup) reads /metrics as reader; the main socket stays closed"
pd_stop

pd_config <<INI
[daemon]
readonly_socket_mode = 0666
INI
# the extra config now sets [daemon] twice: drop the first group setting
sed -i '/^readonly_socket_group = nogroup$/d; /^readonly_socket_mode = 0660$/d' "$PD_EXTRA"
pd_start
[ "$(stat -c '%a %g' "$PD_RO_SOCK")" = "666 $(id -g)" ] ||
	pd_fail "read-only socket: $(stat -c '%a %g' "$PD_RO_SOCK"), want 666 $(id -g)"
[ "$(agent "$PD_RO_SOCK" /metrics)" = 200 ] || pd_fail "mode 0666: the agent cannot read /metrics"
pd_ok "readonly_socket_mode = 0666 without a group: every local user reads"
pd_stop
