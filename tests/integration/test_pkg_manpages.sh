#!/usr/bin/env bash
#
# The man pages (doc/man, mdoc; issue 18 item 5):
#   1. `mandoc -Tlint` finds nothing on any of them, except "referenced manual not found" and
#      mandoc.db notes, which depend on which manuals this host has installed (our own three
#      are not installed while the test runs from the source tree)
#   2. every key that `prefixd -n` prints has an entry (".It Cm KEY") in its section of
#      prefixd.conf(5) (".Ss [SECTION] section")
#   3. every command of `prefixctl --help` has an entry (".Ic WORDS") in prefixctl(8)
#   4. every option of `prefixd --help` has an entry (".It Fl X") in prefixd(8)
set -euo pipefail
: "${PREFIXD_SOURCE_DIR:?}" "${PREFIXD_BUILD_DIR:?}"
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/common.sh"
command -v mandoc >/dev/null || fail "mandoc is not installed"
MAN=${PREFIXD_MAN_DIR:-$PREFIXD_SOURCE_DIR/doc/man}
PD=$PREFIXD_BUILD_DIR/prefixd
PCTL=$PREFIXD_BUILD_DIR/prefixctl

lint=$(mandoc -Tlint "$MAN/prefixd.8" "$MAN/prefixctl.8" "$MAN/prefixd.conf.5" 2>&1 |
    grep -v -e 'STYLE: referenced manual not found' -e 'mandoc.db' || true)
[ -z "$lint" ] || fail "mandoc -Tlint:
$lint"
ok "mandoc -Tlint: clean"

# 2. config keys, section by section
missing=0 n=0
section=
while IFS= read -r line; do
	case $line in
	'['*']') section=${line#[}; section=${section%]} ;;
	*' ='*)
		key=${line%% =*}
		n=$((n + 1))
		awk -v s=".Ss [$section] section" -v k="$key" '
		    /^\.Ss / { in_s = ($0 == s) }
		    in_s && ($0 == ".It Cm " k || index($0, ".It Cm " k " ") == 1) { found = 1 }
		    END { exit !found }' "$MAN/prefixd.conf.5" ||
			{ echo "prefixd.conf(5) lacks [$section] $key" >&2; missing=$((missing + 1)); }
		;;
	esac
done < <("$PD" -n)
[ "$n" -ge 30 ] || fail "only $n keys read from prefixd -n"
[ "$missing" = 0 ] || fail "$missing of $n config keys are not in prefixd.conf(5)"
ok "prefixd.conf(5) documents all $n keys that prefixd -n prints"

# 3. prefixctl commands: the leading lowercase words of each line of `commands:`; a second
# word counts when `prefixctl help W1 W2` knows it
missing=0 n=0
while read -r w1 w2 _; do
	words=$w1
	[[ "${w2:-}" =~ ^[a-z]+$ ]] && "$PCTL" help "$w1" "$w2" >/dev/null 2>&1 && words="$w1 $w2"
	n=$((n + 1))
	grep -qxF ".Ic $words" "$MAN/prefixctl.8" ||
		{ echo "prefixctl(8) lacks the command '$words'" >&2; missing=$((missing + 1)); }
done < <("$PCTL" --help | sed -n '/^commands:/,/^$/p' | sed '1d;/^$/d')
[ "$n" -ge 20 ] || fail "only $n commands read from prefixctl --help"
[ "$missing" = 0 ] || fail "$missing of $n commands are not in prefixctl(8)"
ok "prefixctl(8) documents all $n commands of prefixctl --help"

# 4. prefixd options
missing=0
for opt in $("$PD" --help | grep -o -E '(^|[ [])-(-[a-z-]+|[a-zA-Z])' | tr -d ' [' | sort -u); do
	grep -qE "^\.It Fl ${opt#-}( |$)|^\.Fl ${opt#-}$" "$MAN/prefixd.8" ||
		{ echo "prefixd(8) lacks the option $opt" >&2; missing=$((missing + 1)); }
done
[ "$missing" = 0 ] || fail "$missing options of prefixd --help are not in prefixd(8)"
ok "prefixd(8) documents every option of prefixd --help"
