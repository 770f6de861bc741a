#!/usr/bin/env bash
# `prefixd -n -c FILE` against the golden files in conf/: each NAME.conf with a NAME.out must
# print exactly NAME.out and exit 0; each bad_*.conf must exit 1 with exactly bad_*.err on
# stderr (file:line and the reason). `prefixd -n` without -c prints the embedded default.
# `prefixd -n` reads the tokens file the config names: the golden files run from a copy whose
# /etc/prefixd/tokens is a 0600 file of the copy's.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
work=$(mktemp -d)
tmp=$work/out
trap 'rm -rf "$work"' EXIT
mkdir "$work/conf"
install -m 0600 /dev/null "$work/tokens"
for f in "$PREFIXD_SOURCE_DIR"/tests/integration/conf/*; do
	sed "s|/etc/prefixd/tokens|$work/tokens|g" "$f" > "$work/conf/${f##*/}"
done
cd "$work/conf"

"$PD_BIN" -n > "$tmp" || pd_fail "prefixd -n (embedded default) exited non-zero"
diff -u default.out "$tmp" || pd_fail "embedded default differs from default.out"
pd_ok "embedded default matches default.out"

n=0
for conf in *.conf; do
	name=${conf%.conf}
	if [ -f "$name.out" ]; then
		"$PD_BIN" -n -c "$conf" > "$tmp" || pd_fail "prefixd -n -c $conf exited non-zero"
		diff -u "$name.out" "$tmp" || pd_fail "$conf: normalised output differs from $name.out"
		# The normalised output is itself a valid config that normalises to itself.
		"$PD_BIN" -n -c "$tmp" | diff -u "$name.out" - || pd_fail "$conf: output does not read back"
		pd_ok "$conf normalises to $name.out"
	else
		[ -f "$name.err" ] || pd_fail "$conf has neither $name.out nor $name.err"
		rc=0
		"$PD_BIN" -n -c "$conf" > /dev/null 2> "$tmp" || rc=$?
		[ "$rc" = 1 ] || pd_fail "$conf: want exit 1, got $rc"
		diff -u "$name.err" "$tmp" || pd_fail "$conf: error differs from $name.err"
		pd_ok "$conf refused: $(cat "$tmp")"
	fi
	n=$((n + 1))
done
[ "$n" -ge 5 ] || pd_fail "only $n golden configs found"
