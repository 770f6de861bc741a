#!/usr/bin/env bash
# test_lab_tools — the lab's tools refuse bad input without harm, and labs stay apart.
# Needs root (network namespaces); never skips.
#
#   - lab/up refuses a bad name and an existing lab, and the existing lab keeps running;
#     lab/down of a lab that does not exist succeeds;
#   - a second lab runs beside the first: a route announced in one never shows in the other,
#     and removing one leaves the other up;
#   - a lab whose owner process dies is removed by its watcher; lab/down --stale removes such a
#     lab when the watcher is gone too, and only that one;
#   - set-vrps refuses an unknown scenario, a file that is not JSON and one without a "roas"
#     array, and leaves the served file as it was;
#   - lab/announce refuses what is not a prefix (no config injection), include unchanged;
#   - the RDAP server answers hostile or malformed queries with 400/404 and keeps serving, also
#     with a broken record file in its directory.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/lab.sh"

# --- names and existence (no lab needed) ---------------------------------------------------
for bad in 'Bad Name' '../x' 'x;rm' "$(printf 'a%.0s' {1..30})" '_x'; do
	if out=$("$LAB_DIR/up" "$bad" 2>&1); then fail "lab/up accepted the name '$bad'"; fi
	grep -q 'bad lab name' <<<"$out" || fail "lab/up '$bad' said: $out"
done
! ip netns list | grep -q '^Bad' || fail "a refused name left a namespace"
"$LAB_DIR/down" "nosuchlab$$" >/dev/null || fail "lab/down of a missing lab failed"
ok "lab/up refuses bad names; lab/down of a missing lab is harmless"

lab_start
if out=$("$LAB_DIR/up" "$LAB_NAME" 2>&1); then fail "lab/up started $LAB_NAME twice"; fi
grep -q 'exists' <<<"$out" || fail "second lab/up said: $out"
lab_upstream_established || fail "a refused second lab/up harmed the running lab"
lab_roas_match || fail "a refused second lab/up harmed the VRPs"
ok "lab/up refuses an existing lab and leaves it running"

# --- two labs side by side -----------------------------------------------------------------
a=$LAB_NAME b=${LAB_NAME}b
on_exit "\"$LAB_DIR/down\" $b >/dev/null 2>&1"
LAB_OWNER_PID=$$ "$LAB_DIR/up" "$b" >/dev/null || fail "second lab $b did not come up"
LAB_NAME=$b "$LAB_DIR/announce" edge "$LAB_VALID4" >/dev/null || fail "announce in $b failed"
in_b() { LAB_NAME=$b "$LAB_DIR/peer-routes" edge | jq -e --arg p "$LAB_VALID4" 'has($p)'; }
wait_until 20 "lab $b's upstream to receive $LAB_VALID4" in_b
lab_stays_absent_at_upstream "$LAB_VALID4" 1 edge
"$LAB_DIR/down" "$b" >/dev/null || fail "lab/down $b failed"
[ ! -e "/run/netns/$b-edge" ] || fail "lab $b's namespace remains"
lab_upstream_established || fail "removing lab $b disturbed lab $a"
ok "labs $a and $b ran side by side; a route in $b never reached $a; $a survived $b's removal"

# --- owner watcher and down --stale -------------------------------------------------------
c=${LAB_NAME}c
on_exit "\"$LAB_DIR/down\" $c >/dev/null 2>&1"
start_owned() {  # start_owned NAME: a lab owned by a fresh background process; sets owner
	sleep 600 &
	owner=$!
	LAB_WAIT=0 LAB_OWNER_PID=$owner "$LAB_DIR/up" "$1" >/dev/null || fail "lab $1 did not start"
}
gone() { [ ! -e "/run/netns/$1-edge" ] && [ ! -e "${LAB_RUN%/*}/$1" ]; }
start_owned "$c"
kill "$owner"
wait_until 10 "lab $c to be removed by its watcher after its owner died" gone "$c"
ok "a lab whose owner dies is removed by its watcher"

start_owned "$c"
kill -TERM -- "-$(cat "${LAB_RUN%/*}/$c/owner.watch")"
kill "$owner"
wait "$owner" 2>/dev/null || true
! gone "$c" || fail "lab $c vanished without its watcher"
"$LAB_DIR/down" --stale >/dev/null 2>&1 || fail "lab/down --stale failed"
gone "$c" || fail "lab/down --stale left lab $c (owner $owner is gone)"
[ -e "/run/netns/$a-edge" ] || fail "lab/down --stale removed lab $a, whose owner runs"
if LAB_OWNER_PID=$owner "$LAB_DIR/up" "$c" >/dev/null 2>&1; then fail "lab/up took a dead owner"; fi
ok "lab/down --stale removed $c (dead owner, no watcher) and kept $a; lab/up refuses a dead owner"

# --- set-vrps ------------------------------------------------------------------------------
before=$(sha256sum < "$VRPS_FILE")
bad=$(mktemp)
on_exit rm -f "$bad"
for content in 'not json at all' '{"roas": 5}' '{"metadata": {}}' ''; do
	printf '%s' "$content" > "$bad"
	if "$LAB_DIR/rpki/set-vrps" --file "$bad" >/dev/null 2>&1; then fail "set-vrps took '$content'"; fi
done
if "$LAB_DIR/rpki/set-vrps" nosuchscenario >/dev/null 2>&1; then fail "set-vrps took an unknown scenario"; fi
if "$LAB_DIR/rpki/set-vrps" >/dev/null 2>&1; then fail "set-vrps ran without arguments"; fi
[ "$(sha256sum < "$VRPS_FILE")" = "$before" ] || fail "a refused set-vrps changed $VRPS_FILE"
lab_roas_match || fail "edge's ROA tables changed after refused set-vrps calls"
ok "set-vrps refuses bad scenarios and files; the served file is unchanged"

# --- announce --------------------------------------------------------------------------------
before=$(cat "$EDGE_BIRD_INCLUDE")
for r in 'nonsense' '198.51.100.0/24; protocol static evil { ipv4; }' '198.51.100.0' '/24' \
	'198.51.100.0/24,other'; do
	if "$LAB_DIR/announce" edge "$r" >/dev/null 2>&1; then fail "announce took '$r'"; fi
done
if "$LAB_DIR/announce" nosuchnode >/dev/null 2>&1; then fail "announce took an unknown node"; fi
[ "$(cat "$EDGE_BIRD_INCLUDE")" = "$before" ] || fail "a refused announce changed the include"
ok "lab/announce refuses what is not a prefix; the include is unchanged"

# --- RDAP server under hostile queries ---------------------------------------------------------
base="http://$SVC_ADDR4:$RDAP_PORT"
code() { lab_exec edge curl -s --path-as-is -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
for q in /ip/../../etc/passwd /ip/300.1.1.1 /ip/203.0.113.0/99 /ip/203.0.113.0/-1 /ip/ / \
	/domain/example.com '/ip/203.0.113.0/24%00' "/ip/$(printf 'f%.0s' {1..3000})" /ip/2001:db8::/200; do
	c=$(code "$base$q")
	case $c in
	400|404|414) ;;
	*) fail "RDAP $q answered $c, want 400/404" ;;
	esac
done
[ "$(code "$base/ip/203.0.113.0/16")" = 404 ] || fail "a query wider than the record should be 404"
[ "$(code -X POST "$base/ip/203.0.113.0/24")" = 501 ] || fail "POST should be 501"
printf '{"cidr0_cidrs": [{"v4prefix": "203.0.113.0", "length": "x"}], "startAddress": 7' \
	> "$RDAP_DIR/broken.json"
printf '[1, 2, 3]' > "$RDAP_DIR/list.json"
[ "$(code "$base/ip/203.0.113.0/24")" = 200 ] || fail "a broken record file stopped the good one"
rm -f "$RDAP_DIR/broken.json" "$RDAP_DIR/list.json"
lab_rdap_answers "$LAB_PREFIX6" || fail "the RDAP server stopped answering"
ok "RDAP server: hostile queries get 400/404/501, broken files are skipped, it keeps serving"
