#!/usr/bin/env bash
# ctest-labels: asan
# The bash completion (contrib/bash-completion/prefixctl) as bash runs it: command words,
# subcommands, options of the typed command, an option's choices, global options that must
# not count as command words (all from prefixctl's own tables through `prefixctl
# __complete`), and existing pool names, scope names and allocation ids fetched from a real
# prefixd where one is expected (a pool's CIDRs for "pool deprovision", public prefixes for
# prefix show / advertise / withdraw) -- never for the name a "create" invents.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
. "$PREFIXD_SOURCE_DIR/contrib/bash-completion/prefixctl"
PCTL=$PCTL_BIN

# completes WANT WORDS...: completing the last word of "prefixctl WORDS..." offers exactly WANT.
# The script reads COMP_LINE up to COMP_POINT (the cursor, here at the end), not COMP_WORDS.
completes() {
	local want=$1 got
	shift
	COMP_LINE="$PCTL $*"
	COMP_POINT=${#COMP_LINE}
	COMP_WORDS=("$PCTL" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_prefixctl
	got="${COMPREPLY[*]}"
	[ "$got" = "$want" ] || fail "prefixctl $* <TAB>: want '$want', got '$got'"
	ok "prefixctl $* <TAB> -> $got"
}

completes "pool" po
completes "delete deprovision" pool d
completes "create" pool cr
completes "deprovision" pool dep
completes "--min-netmask" pool create lab --min
completes "ipv4 ipv6" pool create lab --family ""
completes "ipv6" pool create lab --family ipv6
completes "--preview" -s /tmp/x.sock --json allocate lab --pre
completes "overlaps" report o
completes "" allocate lab --netmask ""
complete -p prefixctl | grep -q _prefixctl || fail "completion not registered for prefixctl"

# names from the daemon
pd_setup
pd_start
pd_ctl pool create top --scope private-default >/dev/null
pd_ctl pool create tiny --scope private-default >/dev/null
pd_ctl pool provision top 10.0.0.0/16 >/dev/null
id=$(pd_ctl --json allocate top --netmask 24 | jq -r .id)
completes "top tiny" -s "$PD_SOCK" pool show t
completes "top" -s "$PD_SOCK" allocate to
completes "private-default" -s "$PD_SOCK" pool list --scope pr
completes "top tiny" -s "$PD_SOCK" pool create x --scope private-default --parent t
completes "$id" -s "$PD_SOCK" release "$id"
completes "" -s "$PD_SOCK" pool create t
completes "10.0.0.0/16" -s "$PD_SOCK" pool deprovision top 1
# IPv6: bash replaces only what follows the last ':' of the word
pd_ctl pool create v6 --scope private-default --family ipv6 >/dev/null
pd_ctl pool provision v6 2001:db8:100::/48 >/dev/null
completes "db8:100::/48" -s "$PD_SOCK" pool deprovision v6 2001:
completes "/48" -s "$PD_SOCK" pool deprovision v6 2001:db8:100::
completes "2001:db8:100::/48" -s "$PD_SOCK" pool deprovision v6 2
# public prefixes: one without an authorization context stays as failed-provision (SPEC §3)
pd_ctl pool create pub --scope public-default >/dev/null
pd_ctl pool provision pub 192.0.2.0/24 >/dev/null 2>&1 || true
completes "192.0.2.0/24" -s "$PD_SOCK" prefix show 19
completes "192.0.2.0/24" -s "$PD_SOCK" advertise 198.51.100.0/24 19
PREFIXD_SOCKET=$PD_SOCK completes "top tiny" pool delete t
completes "" -s "$PD_DIR/nowhere.sock" pool show t
