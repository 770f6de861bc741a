#!/usr/bin/env bash
# The authorization-context routes of the control API (src/api/api_auth.c) over the real HTTP
# transport on a unix socket, served by tests/tools/auth_api_server (wired as prefixd.c is
# told to): POST /v1/auth/message gives the exact message and a signing command that works;
# POST /v1/auth/verify checks with a PEM or with RDAP over loopback HTTP; a hanging RDAP server
# does not stall other requests; SIGTERM answers a pending verification before exiting.
# When prefixctl has the auth commands (src/ctl_auth.c registered), they are driven too.
# ctest-labels: asan
set -euo pipefail
src=${PREFIXD_SOURCE_DIR:?} build=${PREFIXD_BUILD_DIR:?}
. "$src/tests/integration/lib/common.sh"

server_bin=$build/tests/auth_api_server
[ -x "$server_bin" ] || fail "$server_bin not built"
work=$(mktemp -d)
on_exit "rm -rf '$work'"
mkdir -p "$work/recs"
prefix=192.0.2.0/24 owner=example-net
expires=$(date -u -d '+30 days' +%Y%m%d)

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=test \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
jq -n --rawfile pem "$work/cert.pem" '{objectClassName: "ip network",
	startAddress: "192.0.2.0", endAddress: "192.0.2.255",
	remarks: [{description: [$pem]}]}' > "$work/recs/192.0.2.0_24.json"

"$src/tests/integration/lib/rdap_fake_server.py" --dir "$work/recs" --port-file "$work/port" \
	2> "$work/rdap.log" &
rdap=$!
on_exit "kill $rdap 2>/dev/null"
wait_until 10 "the fake RDAP server" test -s "$work/port"
base="http://127.0.0.1:$(cat "$work/port")"

sock=$work/prefixd.sock
cat > "$work/prefixd.conf" <<EOF
[daemon]
state_dir = $work/state
socket = $sock
[auth]
owner_id = $owner
rdap_url = $base/ok/ip/{cidr}
EOF
"$server_bin" -c "$work/prefixd.conf" 2> "$work/server.log" &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
wait_until 10 "the API socket" test -S "$sock"

api() { curl -s --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
	-w '\n%{http_code}' --data "$2" "http://prefixd$1"; }
status_of() { tail -n1 <<< "$1"; }
body_of() { sed '$d' <<< "$1"; }

# 1. The message and its signing command.
out=$(api /v1/auth/message "{\"cidr\":\"$prefix\",\"expires\":\"$expires\"}")
[ "$(status_of "$out")" = 200 ] || fail "auth/message: $out"
msg=$(body_of "$out" | jq -r .message)
[ "$msg" = "1|prefixd|$owner|$prefix|$expires|SHA256|RSAPSS" ] || fail "message is '$msg'"
cmd=$(body_of "$out" | jq -r .sign_command)
sig=$(cd "$work" && bash -c "$cmd")
ok "auth/message gives '$msg' and a signing command"

out=$(api /v1/auth/message "{\"cidr\":\"$prefix\",\"expires\":\"20200101\"}")
[ "$(status_of "$out")" = 400 ] && body_of "$out" | jq -e '.error.code == "auth-expired"' >/dev/null \
	|| fail "auth/message with a past date: $out"
ok "auth/message refuses a past date with auth-expired"

# 2. Verify with the certificate in the request.
body=$(jq -n --arg c "$prefix" --arg m "$msg" --arg s "$sig" --rawfile pem "$work/cert.pem" \
	'{cidr: $c, message: $m, signature: $s, cert: $pem}')
out=$(api /v1/auth/verify "$body")
[ "$(status_of "$out")" = 200 ] && body_of "$out" | jq -e '.ok and (.checks | length) >= 8' >/dev/null \
	|| fail "verify with cert: $out"
ok "auth/verify with --cert's PEM: ok, $(body_of "$out" | jq '.checks | length') checks"

# 3. Verify with the configured RDAP URL: evidence carries the document.
verify_body() { jq -n --arg c "$prefix" --arg m "$1" --arg s "$sig" '{cidr: $c, message: $m, signature: $s}'; }
out=$(api /v1/auth/verify "$(verify_body "$msg")")
[ "$(status_of "$out")" = 200 ] || fail "verify over RDAP: $out"
body_of "$out" | jq -e '.evidence.rdap_document | fromjson | .startAddress == "192.0.2.0"' >/dev/null \
	|| fail "evidence lacks the RDAP document: $out"
ok "auth/verify over the configured RDAP URL: ok, document kept as evidence"

# 4. A refusal: 422 with the code, the message naming the field, and every check.
bad=${msg/$owner/intruder}
out=$(api /v1/auth/verify "$(verify_body "$bad")")
[ "$(status_of "$out")" = 422 ] || fail "wrong owner: $out"
body_of "$out" | jq -e '.error.code == "auth-owner-mismatch" and (.error.message | contains("owner"))
	and (.checks[-1].ok == false)' >/dev/null || fail "wrong owner: $out"
ok "auth/verify refuses a wrong owner: 422 auth-owner-mismatch"

out=$(api /v1/auth/verify '{"cidr":"192.0.2.0/24","message":"x","signature":"y","bogus":1}')
[ "$(status_of "$out")" = 400 ] && body_of "$out" | jq -e '.error.code == "unknown-field"' >/dev/null \
	|| fail "unknown field: $out"
ok "auth/verify refuses an unknown field"

out=$(api /v1/auth/verify '{"cidr":"192.0.2.1/24","message":"x","signature":"y"}')
[ "$(status_of "$out")" = 400 ] && body_of "$out" | jq -e '.error.code == "cidr-not-canonical"' >/dev/null \
	|| fail "non-canonical cidr: $out"
{ printf '{"cidr":"%s","message":"%s","signature":"' "$prefix" "$msg"
  head -c 2000000 /dev/zero | tr '\0' A; printf '"}'; } > "$work/big.json"
out=$(curl -s --unix-socket "$sock" -X POST -w '\n%{http_code}' --data @"$work/big.json" \
	http://prefixd/v1/auth/verify)
[ "$(status_of "$out")" = 413 ] || fail "2 MB signature: $out"
ok "auth/verify refuses a non-canonical cidr (400) and a 2 MB body (413)"

# 5. A hanging RDAP server (the configured source; a request cannot name one) does not stall
# the loop: restart on a configuration whose rdap_url hangs.
kill -TERM "$server"
wait "$server" || fail "auth_api_server exited with status $?"
sed "s|/ok/ip/|/hang/ip/|" "$work/prefixd.conf" > "$work/hang.conf"
"$server_bin" -c "$work/hang.conf" 2> "$work/server.log" &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
wait_until 10 "the API socket" curl -sf --unix-socket "$sock" -X POST --data \
	"{\"cidr\":\"$prefix\",\"expires\":\"$expires\"}" http://prefixd/v1/auth/message
api /v1/auth/verify "$(verify_body "$msg")" > "$work/hang.out" &
hung=$!
wait_until 5 "the hanging fetch to arrive" grep -q 'hang' "$work/rdap.log"
t0=$(now_ms)
out=$(api /v1/auth/message "{\"cidr\":\"$prefix\",\"expires\":\"$expires\"}")
t1=$(now_ms)
[ "$(status_of "$out")" = 200 ] || fail "request during a hanging fetch: $out"
[ $(( t1 - t0 )) -lt 1000 ] || fail "a request took $(( t1 - t0 )) ms during a hanging fetch"
ok "another request answered in $(( t1 - t0 )) ms while an RDAP fetch hangs"

# 6. SIGTERM while that fetch hangs: the pending request is answered, the server exits.
kill -TERM "$server"
wait_until 10 "the pending verify to be answered" test -s "$work/hang.out"
wait "$hung" || true
grep -q '"rdap-unavailable"' "$work/hang.out" || fail "pending verify at SIGTERM: $(cat "$work/hang.out")"
wait_until 10 "the server to exit" bash -c "! kill -0 $server 2>/dev/null"
wait "$server" || fail "auth_api_server exited with status $?: $(tail -5 "$work/server.log")"
ok "SIGTERM answers the pending verification (rdap-unavailable) and exits cleanly"

# 7. prefixctl's auth commands, once src/ctl_auth.c is in the registry.
ctl=$build/prefixctl
if [ -x "$ctl" ] && "$ctl" help auth 2>/dev/null | grep -q 'auth verify'; then
	"$server_bin" -c "$work/prefixd.conf" 2> "$work/server2.log" &
	server=$!
	on_exit "kill $server 2>/dev/null"
	wait_until 10 "the API socket" test -S "$sock"
	out=$("$ctl" -s "$sock" auth message "$prefix" --expires "$expires")
	grep -qF "$msg" <<< "$out" || fail "prefixctl auth message: $out"
	"$ctl" -s "$sock" auth verify "$prefix" --message "$msg" --signature "$sig" \
		--cert "$work/cert.pem" > "$work/ctl.out" || fail "prefixctl auth verify: $(cat "$work/ctl.out")"
	grep -q '^ok  *signature' "$work/ctl.out" || fail "prefixctl auth verify output: $(cat "$work/ctl.out")"
	rc=0
	"$ctl" -s "$sock" auth verify "$prefix" --message "$bad" --signature "$sig" \
		--rdap-url "$base/ok/ip/{cidr}" > "$work/ctl.out" 2> "$work/ctl.err" || rc=$?
	[ "$rc" = 1 ] && grep -q 'auth-owner-mismatch' "$work/ctl.err" \
		&& grep -q '^FAIL  *owner' "$work/ctl.out" || fail "prefixctl auth verify refusal (rc $rc)"
	rc=0
	"$ctl" -s "$sock" auth verify "$prefix" --message "$msg" --signature "$sig" 2>/dev/null || rc=$?
	[ "$rc" = 2 ] || fail "auth verify without --cert/--rdap-url exited $rc, not 2"
	ok "prefixctl auth message / verify (ok, refused, usage)"
else
	echo "note: prefixctl has no auth commands yet (src/ctl_auth.c not registered); CLI part skipped"
fi
