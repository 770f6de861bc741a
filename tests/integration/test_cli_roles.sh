#!/usr/bin/env bash
# ctest-labels: asan
# What an operator sees from prefixctl when the daemon's access control says no (SPEC §6
# roles): uid nobody in the socket's group is operator -- it may list and allocate, but a
# pool create is exit 1 with "prefixctl: forbidden: ..."; nobody outside the group cannot
# connect to the 0660 socket -- exit 3 naming the permission problem; the read-only socket
# (also 0660, same group) serves listings and refuses allocate and import with forbidden.
# No refusal changes the store.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
pd_config <<INI
socket_group = users
readonly_socket = $PD_RO_SOCK
INI
pd_start
[ -x "$PCTL_BIN" ] && setpriv --reuid nobody --regid nogroup --clear-groups test -x "$PCTL_BIN" ||
	pd_fail "uid nobody cannot run $PCTL_BIN (build directory not world-readable?)"

pd_ctl pool create top --scope private-default >/dev/null
pd_ctl pool provision top 10.0.0.0/16 >/dev/null

# nobody GROUPS ARGS...: prefixctl --json ARGS as uid nobody with those extra groups ("" none);
# stdout to $PD_DIR/out, stderr to $PD_DIR/err; returns prefixctl's exit status.
nobody() {
	local groups=$1 g=(--clear-groups)
	shift
	[ -n "$groups" ] && g=(--groups "$groups")
	setpriv --reuid nobody --regid nogroup "${g[@]}" "$PCTL_BIN" --json "$@" \
		>"$PD_DIR/out" 2>"$PD_DIR/err"
}

# expect_exit RC PATTERN GROUPS ARGS...: nobody's prefixctl exits RC with PATTERN on stderr.
expect_exit() {
	local want=$1 pattern=$2 rc=0
	shift 2
	nobody "$@" || rc=$?
	[ "$rc" = "$want" ] || pd_fail "as nobody ($1) prefixctl ${*:2}: want exit $want, got $rc: $(cat "$PD_DIR/err")"
	[ -z "$pattern" ] || grep -q -- "$pattern" "$PD_DIR/err" ||
		pd_fail "as nobody ($1) prefixctl ${*:2}: want '$pattern', got: $(cat "$PD_DIR/err")"
	pd_ok "as nobody (groups '$1') prefixctl ${*:2} -> exit $rc"
}

expect_exit 0 "" users -s "$PD_SOCK" allocate top --netmask 24
jq -e '.cidr == "10.0.0.0/24"' "$PD_DIR/out" >/dev/null || pd_fail "operator allocate: $(cat "$PD_DIR/out")"
pd_dump > "$PD_DIR/before.sql"
expect_exit 1 "^prefixctl: forbidden: " users -s "$PD_SOCK" pool create evil --scope private-default
jq -e '.error.code == "forbidden"' "$PD_DIR/out" >/dev/null || pd_fail "no forbidden JSON: $(cat "$PD_DIR/out")"
expect_exit 1 "^prefixctl: forbidden: " users -s "$PD_SOCK" pool delete top
expect_exit 3 "^prefixctl: cannot connect to $PD_SOCK: Permission denied" "" -s "$PD_SOCK" pool list
expect_exit 0 "" users -s "$PD_RO_SOCK" pool list
jq -e '[.pools[].name] == ["top"]' "$PD_DIR/out" >/dev/null || pd_fail "read-only pool list: $(cat "$PD_DIR/out")"
expect_exit 1 "^prefixctl: forbidden: " users -s "$PD_RO_SOCK" allocate top --netmask 24
expect_exit 1 "^prefixctl: forbidden: " users -s "$PD_RO_SOCK" import --scope private-default --cidr 10.9.0.0/16 --name x
pd_dump > "$PD_DIR/after.sql"
diff -u "$PD_DIR/before.sql" "$PD_DIR/after.sql" >&2 || pd_fail "a refused command changed the store"
pd_ok "refusals changed nothing"
