#!/usr/bin/env bash
# The bash completion (contrib/bash-completion/prefixctl) as bash runs it: command words,
# subcommands, options of the typed command, an option's choices, and global options that
# must not count as command words. No daemon is needed: the candidates come from prefixctl's
# own command tables through `prefixctl __complete`.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
: "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/contrib/bash-completion/prefixctl"
PCTL=$PREFIXD_BUILD_DIR/prefixctl

# completes WANT WORDS...: completing the last word of "prefixctl WORDS..." offers exactly WANT.
completes() {
	local want=$1 got
	shift
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
