#!/usr/bin/env bash
# ctest-labels: package
#
# The Debian package (debian/, issue 18 item 4), as CI on Debian 12 runs it as root:
#   1. `dpkg-buildpackage -us -uc -b` builds prefixd_*.deb from a copy of the source tree (the
#      tree's own build/ directories are never touched)
#   2. lintian reports no error
#   3. the .deb holds the programs, the unit, the conffile, the man pages, the completion and
#      the BIRD example; installing it creates the prefixd user (in group bird) and the state
#      directory
#   4. `prefixd -n -c /etc/prefixd/prefixd.conf` passes from the installed files; the installed
#      unit passes `systemd-analyze verify`
#   5. the installed prefixd, started as root with the package's config, runs as user prefixd
#      and answers `prefixctl status`
#   6. `dpkg --purge` removes it again
# Needs root (dpkg -i). Set PREFIXD_DEB_KEEP=DIR to keep the built .deb in DIR.
set -euo pipefail
: "${PREFIXD_SOURCE_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
for t in dpkg-buildpackage dh lintian git; do
	command -v "$t" >/dev/null || fail "$t is not installed (scripts/install-deps)"
done
! dpkg-query -W -f='${Status}' prefixd 2>/dev/null | grep -q 'install ok installed' ||
	fail "a prefixd package is installed already; remove it first (dpkg --purge prefixd)"

T=$(mktemp -d /tmp/test_pkg_deb.XXXXXX)
PD_PID=
cleanup() {
	[ -n "$PD_PID" ] && kill "$PD_PID" 2>/dev/null && wait "$PD_PID" 2>/dev/null
	dpkg-query -W prefixd >/dev/null 2>&1 && dpkg --purge prefixd >/dev/null 2>&1
	rm -rf /run/prefixd /var/lib/prefixd
	rm -rf "$T"
}
on_exit cleanup

# 1. build from a copy: the committed and the new (not ignored) files of the tree
mkdir "$T/src"
git -C "$PREFIXD_SOURCE_DIR" ls-files -z --cached --others --exclude-standard |
	(cd "$PREFIXD_SOURCE_DIR" && xargs -0 cp --parents -P -t "$T/src" 2>/dev/null || true)
[ -f "$T/src/debian/control" ] || fail "the copy has no debian/control"
build_dirs_before=$(ls -d "$PREFIXD_SOURCE_DIR"/build* 2>/dev/null | xargs -r stat -c '%n %Y' || true)
(cd "$T/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	> "$T/build.log" 2>&1 || { tail -40 "$T/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$(ls "$T"/prefixd_*.deb)
[ "$(ls -d "$PREFIXD_SOURCE_DIR"/build* 2>/dev/null | xargs -r stat -c '%n %Y' || true)" = \
  "$build_dirs_before" ] || fail "the build touched the source tree's build directories"
ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
[ -z "${PREFIXD_DEB_KEEP:-}" ] || cp "$deb" "$PREFIXD_DEB_KEEP/"

# 2. lintian: no error (warnings and infos are printed for the record)
lintian --no-tag-display-limit "$deb" > "$T/lintian.log" 2>&1 || true
cat "$T/lintian.log"
! grep -q '^E: ' "$T/lintian.log" || fail "lintian reports errors"
ok "lintian: no error ($(grep -c '^W: ' "$T/lintian.log" || true) warnings)"

# 3. contents
contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
for f in /usr/sbin/prefixd /usr/bin/prefixctl /lib/systemd/system/prefixd.service \
    /etc/prefixd/prefixd.conf /usr/share/man/man8/prefixd.8.gz /usr/share/man/man8/prefixctl.8.gz \
    /usr/share/man/man5/prefixd.conf.5.gz /usr/share/bash-completion/completions/prefixctl \
    /usr/share/doc/prefixd/examples/edge.conf; do
	printf '%s\n' "$contents" | grep -qxF "$f" || fail "the .deb lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qxF /etc/prefixd/prefixd.conf || fail "prefixd.conf is no conffile"
ok "the .deb holds programs, unit, conffile, man pages, completion, BIRD example"

dpkg -i "$deb" > "$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "dpkg -i failed"; }
id prefixd >/dev/null 2>&1 || fail "no prefixd user after installation"
if getent group bird >/dev/null; then
	id -nG prefixd | tr ' ' '\n' | grep -qx bird || fail "prefixd is not in group bird: $(id prefixd)"
fi
[ "$(stat -c '%U:%G %a' /var/lib/prefixd)" = "prefixd:prefixd 750" ] ||
	fail "state dir: $(stat -c '%U:%G %a' /var/lib/prefixd)"
ok "installed: user $(id prefixd), state dir prefixd:prefixd 0750"

# 4. the installed files
/usr/sbin/prefixd -n -c /etc/prefixd/prefixd.conf > "$T/n.out" 2>&1 ||
	fail "prefixd -n -c /etc/prefixd/prefixd.conf: $(cat "$T/n.out")"
grep -qx 'user = prefixd' "$T/n.out" || fail "the package's config does not say user = prefixd"
ok "prefixd -n -c /etc/prefixd/prefixd.conf: exit 0"
verify=$(systemd-analyze verify /lib/systemd/system/prefixd.service 2>&1 || true)
[ -z "$verify" ] || fail "systemd-analyze verify on the installed unit: $verify"
ok "systemd-analyze verify /lib/systemd/system/prefixd.service: clean"

# 5. run it from the installed files, as root with the package's config (systemd would make
# /run/prefixd): it drops to prefixd
install -d -m 0755 /run/prefixd
/usr/sbin/prefixd -c /etc/prefixd/prefixd.conf > "$T/prefixd.log" 2>&1 &
PD_PID=$!
answers() { /usr/bin/prefixctl -s /run/prefixd/prefixd.sock status; }
poll_until 10 answers || { cat "$T/prefixd.log" >&2; fail "the installed prefixd does not answer"; }
user=$(ps -o user= -p "$PD_PID" | tr -d ' ')
[ "$user" = prefixd ] || fail "ps -o user= says '$user', want prefixd"
ok "the installed prefixd runs as $user and answers prefixctl status"
kill -TERM "$PD_PID"
wait "$PD_PID" || fail "prefixd exited with $? on SIGTERM: $(tail -5 "$T/prefixd.log")"
PD_PID=

# 6. removal
dpkg --purge prefixd > "$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; fail "dpkg --purge failed"; }
[ ! -e /usr/sbin/prefixd ] && [ ! -e /etc/prefixd/prefixd.conf ] || fail "files left after purge"
ok "dpkg --purge prefixd: programs and conffile gone"
