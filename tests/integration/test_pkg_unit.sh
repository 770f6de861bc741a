#!/usr/bin/env bash
#
# The shipped systemd unit (contrib/systemd/prefixd.service, issue 18 item 3):
#   1. `systemd-analyze security --offline=true` rates its exposure at 2.0 or lower (the figure
#      is printed, for the README)
#   2. the settings the issue names are there, as written: Type=notify, WatchdogSec,
#      ExecReload with SIGHUP, NoNewPrivileges, ProtectSystem=strict, ReadWritePaths,
#      PrivateTmp, ProtectHome, an empty CapabilityBoundingSet, RestrictAddressFamilies,
#      SystemCallFilter=@system-service
#   3. `systemd-analyze verify` finds nothing wrong beyond the binary and the man pages not
#      being installed on this host (test_pkg_deb.sh verifies the installed unit)
set -euo pipefail
: "${PREFIXD_SOURCE_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (package systemd)"
UNIT=$PREFIXD_SOURCE_DIR/contrib/systemd/prefixd.service
MAX=${PREFIXD_MAX_EXPOSURE:-2.0}

out=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>&1) || true
figure=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for prefixd.service: \([0-9.]*\).*/\1/p')
[ -n "$figure" ] || fail "no exposure figure in: $out"
echo "exposure: $figure (limit $MAX)"
awk -v f="$figure" -v m="$MAX" 'BEGIN { exit !(f <= m) }' ||
	fail "exposure $figure is above $MAX:
$(printf '%s\n' "$out" | grep '✗')"
ok "systemd-analyze security --offline=true: exposure $figure <= $MAX"

for want in 'Type=notify' 'WatchdogSec=30' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/prefixd -/etc/bird/prefixd' \
    'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service'; do
	grep -qxF -- "$want" "$UNIT" || fail "the unit has no line '$want'"
done
ok "the unit names every setting of the issue"

verify=$(systemd-analyze verify "$UNIT" 2>&1 | grep -v -e 'is not executable' -e "Command 'man " || true)
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
ok "systemd-analyze verify: nothing but the missing installed files"
