#!/usr/bin/env bash
# ctest-labels: package
#
# Issue 15 finding 16: test failpoints exist only in test builds. A plain `cmake` build (what a
# user or a distribution does; the Debian package sets the same default) of prefixd compiles
# none: the binary holds no failpoint code and never reads PREFIXD_FAILPOINT (the variable's name
# is not even in it), so the environment cannot freeze or fail a release daemon. Builds the
# prefixd target from the source tree into a temp dir (a few minutes on a busy machine: label
# package, run once like the .deb test), then starts it with PREFIXD_FAILPOINT set to every
# failpoint name and checks it serves as usual.
set -euo pipefail
: "${PREFIXD_SOURCE_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
for t in cmake nm curl; do command -v "$t" >/dev/null || fail "$t is not installed"; done

T=$(mktemp -d /tmp/test_harden_failpoints.XXXXXX)
on_exit 'rm -rf "$T"'
cmake -S "$PREFIXD_SOURCE_DIR" -B "$T/build" >"$T/configure.log" 2>&1 ||
	{ cat "$T/configure.log" >&2; fail "plain cmake configure failed"; }
grep -q '^PREFIXD_FAILPOINTS:BOOL=OFF$' "$T/build/CMakeCache.txt" ||
	fail "a plain cmake build has failpoints on: $(grep '^PREFIXD_FAILPOINTS' "$T/build/CMakeCache.txt")"
ok "a plain cmake configure leaves PREFIXD_FAILPOINTS off"
nice cmake --build "$T/build" --target prefixd -j2 >"$T/build.log" 2>&1 ||
	{ tail -30 "$T/build.log" >&2; fail "building the release prefixd failed"; }
pd=$T/build/prefixd
syms=$(nm "$pd" | grep -i ' failpoint_' || true)
[ -z "$syms" ] || fail "the release prefixd holds failpoint code: $syms"
! grep -q PREFIXD_FAILPOINT "$pd" || fail "the release prefixd reads PREFIXD_FAILPOINT"
ok "the release prefixd holds no failpoint code and never reads PREFIXD_FAILPOINT"

# And it runs with the variable set (to every failpoint the tree knows) as if it were unset.
PD_BIN=$pd
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
names=$(grep -rhoE 'failpoint_(hit|fail)\("[a-z_]+"' "$PREFIXD_SOURCE_DIR"/src "$PREFIXD_SOURCE_DIR"/bgp \
	"$PREFIXD_SOURCE_DIR"/rpki | sed 's/.*("//; s/"//' | sort -u | paste -sd,)
names="$names,lifecycle_applied_commit,bird_apply_before_confirm"
pd_setup
PREFIXD_FAILPOINT=$names pd_start
pd_curl GET /v1/status >/dev/null
[ "$PD_STATUS" = 200 ] || fail "status answered $PD_STATUS"
! grep -q failpoint "$PD_LOG" || fail "the release prefixd logged a failpoint: $(grep failpoint "$PD_LOG")"
ok "a release prefixd started with PREFIXD_FAILPOINT=$names ignores it"
