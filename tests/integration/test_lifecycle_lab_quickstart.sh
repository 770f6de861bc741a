#!/usr/bin/env bash
# Issue 8, must-be-true 1: lab/quickstart runs to the end with exit 0 and reads as a tutorial.
# Run as CI runs it: packages present (QUICKSTART_NO_DEPS=1) and the programs of this build
# (QUICKSTART_NO_BUILD=1), under a lab name of its own; the quickstart leaves its lab running,
# which this test then checks and removes. Asserted: every part and every runbook step is
# printed with its prefixctl commands, the upstream ends with the prefix from AS 64500 only,
# and the closing lines say how to explore and how to tear down.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"
[ "$(id -u)" = 0 ] || fail "the lab needs root (network namespaces); tests run as root here"
"$LAB_DIR/down" --stale || true
name=q$$
lab_init "$name"
on_exit '"$LAB_DIR/down" "$name" >/dev/null 2>&1'
out=$(mktemp /tmp/quickstart.XXXXXX)
on_exit 'rm -f "$out"'

rc=0
QUICKSTART_NO_DEPS=1 QUICKSTART_NO_BUILD=1 BUILD_DIR=$PREFIXD_BUILD_DIR LAB_NAME=$name \
	LAB_OWNER_PID=$$ "$LAB_DIR/quickstart" > "$out" 2>&1 || rc=$?
sed 's/^/[quickstart] /' "$out"
[ "$rc" = 0 ] || fail "lab/quickstart exited $rc"
ok "lab/quickstart exited 0"

for want in "1/5  Install" "2/5  Build" "3/5  Bring up the lab" "4/5  Start prefixd" \
	"5/5  Migrate" "== Step 1/8: ROAs for both origins" "== Step 3/8: prove ownership" \
	"$ prefixctl pool provision" "$ prefixctl advertise 203.0.113.0/24 --dry-run" \
	"refused: other-origin-present" "$ prefixctl advertise 203.0.113.0/24" \
	"== Step 8/8" "upstream sees: 203.0.113.0/24 from edge" "######## What happened" \
	"lab/down $name"; do
	grep -qF -- "$want" "$out" || fail "the quickstart's output lacks '$want'"
done
ok "the output walks through every part and step with its commands and what upstream sees"

. "$LAB_RUN/lab.env"
lab_upstream_established || fail "the quickstart's lab is not running any more"
[ "$(lab_origins_at_upstream "$LAB_PREFIX4" | sort -u)" = "$EDGE_AS" ] ||
	fail "upstream holds $LAB_PREFIX4 from: $(lab_origins_at_upstream "$LAB_PREFIX4")"
ok "the lab stays up; upstream holds $LAB_PREFIX4 from AS$EDGE_AS only"
