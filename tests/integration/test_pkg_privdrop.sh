#!/usr/bin/env bash
# ctest-labels: asan
#
# Least privilege (issue 18, item 2; src/priv.c). Needs root (fails, never skips, without it).
#   1. `[daemon] user = nobody`: prefixd answers on its socket while `ps -o user=` says nobody;
#      the kernel reports the ids, no capability left and NoNewPrivs; the state directory and
#      the store are owned by nobody; prefixd still writes (a scope is created) after the drop
#   2. supplementary groups: `groups = bird` (when a bird group exists) is what the process has
#   3. an impossible drop exits non-zero with a clear message, before anything is created:
#      an unknown user, an unknown group, and a user that is root
#   4. without `user`, prefixd runs as root, as before
set -euo pipefail

: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
[ "$(id -u)" = 0 ] || fail "needs root (it drops root)"

pd_setup
status_field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$PD_PID/status"; }

# 1. the drop
bird_gid=$(getent group bird | cut -d: -f3 || true)
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
if [ -n "$bird_gid" ]; then
	printf '[daemon]\nuser = nobody\ngroups = bird\n' | pd_config
else
	printf '[daemon]\nuser = nobody\n' | pd_config
fi
pd_start
user=$(ps -o user= -p "$PD_PID" | tr -d ' ')
[ "$user" = nobody ] || pd_fail "ps -o user= says '$user', want nobody"
ok "ps -o user= -p $PD_PID: $user"
uids=$(status_field Uid); gids=$(status_field Gid)
[ "$(echo "$uids" | tr -s '\t ' ' ')" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	pd_fail "Uid line: $uids"
[ "$(echo "$gids" | tr -s '\t ' ' ')" = "$nobody_gid $nobody_gid $nobody_gid $nobody_gid" ] ||
	pd_fail "Gid line: $gids"
for cap in CapPrm CapEff CapInh CapAmb; do
	[ "$(status_field $cap)" = 0000000000000000 ] || pd_fail "$cap is $(status_field $cap)"
done
[ "$(status_field NoNewPrivs)" = 1 ] || pd_fail "NoNewPrivs is $(status_field NoNewPrivs)"
ok "real/effective/saved/fs uid $nobody_uid and gid $nobody_gid, no capability, NoNewPrivs"
groups=$(status_field Groups | tr -d ' ')
[ "$groups" = "$bird_gid" ] || pd_fail "supplementary groups '$groups', want '$bird_gid'"
ok "supplementary groups: '${groups}' (bird's gid, or none without a bird group)"
[ "$(stat -c %U "$PD_STATE")" = nobody ] && [ "$(stat -c %U "$(pd_db)")" = nobody ] ||
	pd_fail "state dir/store not owned by nobody: $(ls -la "$PD_STATE")"
pd_expect 201 - POST /v1/scopes '{"name":"after-drop"}' >/dev/null
pd_expect 200 - GET /v1/scopes/after-drop >/dev/null
grep -q 'dropped to user nobody' "$PD_LOG" || pd_fail "no 'dropped to user' line in the log"
ok "the store is nobody's and takes writes after the drop"
pd_stop

# 3. impossible drops: exit non-zero, say why, create nothing
refuses() {   # refuses WANT-MESSAGE INI-TEXT
	local want=$1 dir rc=0 what
	what=$(printf '%s' "$2" | tr '\n' ' ')
	dir=$PD_DIR/refuse
	rm -rf "$dir"; mkdir "$dir"
	printf '[daemon]\nstate_dir = %s/state\nsocket = %s/s.sock\n%s\n' "$dir" "$dir" "$2" > "$dir/c.conf"
	timeout 10 "$PD_BIN" -c "$dir/c.conf" > "$dir/out" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || pd_fail "$what: exit status $rc, want a refusal"
	grep -q -- "$want" "$dir/out" || pd_fail "$what: want '$want', got: $(cat "$dir/out")"
	[ ! -e "$dir/state" ] && [ ! -e "$dir/s.sock" ] || pd_fail "$what: created files before refusing"
	ok "$what: exit $rc, '$(tail -1 "$dir/out" | cut -d' ' -f3-)'"
}
refuses "refusing to start: \[daemon\] user: no such user 'prefixd-no-such-user'" \
    "user = prefixd-no-such-user"
refuses "refusing to start: \[daemon\] group: no such group 'prefixd-no-such-group'" \
    "$(printf 'user = nobody\ngroup = prefixd-no-such-group')"
refuses "refusing to start: \[daemon\] user 'root' is root" "user = root"

# 4. no user: as before
: > "$PD_EXTRA"
pd_start
[ "$(ps -o user= -p "$PD_PID" | tr -d ' ')" = root ] || pd_fail "without user, not root"
pd_stop
ok "without [daemon] user prefixd keeps running as root"
