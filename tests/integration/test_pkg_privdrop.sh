#!/usr/bin/env bash
# ctest-labels: asan
#
# Least privilege (issue 18, item 2; src/priv.c). Needs root (fails, never skips, without it).
#   1. `[daemon] user = nobody`: prefixd answers on its socket while `ps -o user=` says nobody;
#      the kernel reports the ids, no capability left and NoNewPrivs; the state directory and
#      the store are owned by nobody; prefixd still writes (a scope is created) after the drop,
#      and a restart opens the store that nobody owns
#   2. supplementary groups: `groups = bird` (when a bird group exists) is what the process has;
#      started as nobody already (the unit's User=), prefixd checks ids, groups and capabilities
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
pd_start
pd_expect 200 - GET /v1/scopes/after-drop >/dev/null
[ "$(ps -o user= -p "$PD_PID" | tr -d ' ')" = nobody ] || pd_fail "restart: not nobody"
pd_stop
ok "a restart opens the store nobody owns, as nobody"
# As the unit starts it (contrib/systemd/prefixd.service): root with only the bounding set
# CAP_SETUID CAP_SETGID CAP_CHOWN -- no CAP_DAC_OVERRIDE to enter nobody's state directory.
printf '#!/bin/sh\nexec setpriv --bounding-set=-all,+setuid,+setgid,+chown "%s" "$@"\n' \
    "$PD_BIN" > "$PD_DIR/prefixd-unit-caps"
chmod +x "$PD_DIR/prefixd-unit-caps"
PD_BIN=$PD_DIR/prefixd-unit-caps pd_start
[ "$(status_field CapBnd)" = 00000000000000c1 ] || pd_fail "CapBnd $(status_field CapBnd)"
pd_expect 200 - GET /v1/scopes/after-drop >/dev/null
pd_stop
ok "with the unit's bounding set only (CapBnd c1: chown, setgid, setuid) the drop and the store work"

# As the shipped unit starts it (User=, Group=, SupplementaryGroups=): already that user;
# prefixd checks the ids, groups and capabilities, and refuses a mismatch.
as_nobody() {   # as_nobody SETPRIV-GROUP-ARGS...: a wrapper that starts prefixd as nobody
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=%s %s "%s" "$@"\n' "$nobody_gid" \
	    "$*" "$PD_BIN" > "$PD_DIR/prefixd-as-nobody"
	chmod +x "$PD_DIR/prefixd-as-nobody"
}
saved_sock=$PD_SOCK
PD_SOCK=$PD_STATE/prefixd.sock      # a directory nobody may write
if [ -n "$bird_gid" ]; then as_nobody --groups="$bird_gid"; else as_nobody --clear-groups; fi
PD_BIN=$PD_DIR/prefixd-as-nobody pd_start
grep -q 'running as user nobody (started so)' "$PD_LOG" || pd_fail "no 'started so' line"
pd_stop
ok "started as nobody with the configured groups: checked, runs"
if [ -n "$bird_gid" ]; then
	as_nobody --clear-groups
	rc=0
	timeout 10 "$PD_DIR/prefixd-as-nobody" -c "$PD_CONF" > "$PD_DIR/nogroups.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] && grep -q "cannot run as \[daemon\] user nobody: the process has 0 supplementary groups, \[daemon\] groups wants 1" "$PD_DIR/nogroups.log" ||
		pd_fail "started as nobody without bird: exit $rc, $(cat "$PD_DIR/nogroups.log")"
	ok "started as nobody without the bird group: exit 1, $(tail -1 "$PD_DIR/nogroups.log" | cut -d' ' -f3-)"
fi
PD_SOCK=$saved_sock

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
