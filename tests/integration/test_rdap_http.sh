#!/usr/bin/env bash
# RDAP over real HTTP from a loopback server (issue 6, "must be true" 3): the proof check
# fetches the record with libcurl on authctx's worker while the libev loop keeps turning, and
# every hostile answer gives a clear code within the configured timeout. Keys and certificates
# are made here with the openssl CLI; signatures with SPEC §4's exact command.
# Also runs the good path against the lab's own RDAP server (lab/rdap/server.py) and records
# (lab/rdap/make-cert, make-record).
# ctest-labels: asan
set -euo pipefail
src=${PREFIXD_SOURCE_DIR:?} build=${PREFIXD_BUILD_DIR:?}
. "$src/tests/integration/lib/common.sh"

tool_bin=$build/tests/auth_verify
[ -x "$tool_bin" ] || fail "$tool_bin not built"
# The driver exits 1 when a proof is refused; sanitizer reports go to tool.err, checked at the end.
tool() { "$tool_bin" "$@" 2>> "$work/tool.err" || true; }
work=$(mktemp -d)
on_exit "rm -rf '$work'"

prefix=192.0.2.0/24 owner=example-net timeout_ms=1500
mkdir -p "$work/recs" "$work/lab"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=test \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
expires=$(date -u -d '+30 days' +%Y%m%d)
msg="1|prefixd|$owner|$prefix|$expires|SHA256|RSAPSS"
sig=$(printf %s "$msg" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign "$work/key.pem" | openssl base64 -A | tr -- '+=/' '-_~')

# record NAME REMARKS_JSON: an RDAP record for 192.0.2.0/24 with the given remarks.
record() {
	jq -n --argjson remarks "$2" '{objectClassName: "ip network",
		startAddress: "192.0.2.0", endAddress: "192.0.2.255", remarks: $remarks}' \
		> "$work/recs/$1"
}
pem_lines=$(jq -R . < "$work/cert.pem" | jq -s .)
record 192.0.2.0_24.json "[{\"description\": $pem_lines}]"

"$src/tests/integration/lib/rdap_fake_server.py" --dir "$work/recs" \
	--port-file "$work/port" 2> "$work/server.log" &
server=$!
on_exit "kill $server 2>/dev/null"
wait_until 10 "the fake RDAP server's port file" test -s "$work/port"
port=$(cat "$work/port")
base="http://127.0.0.1:$port"

# run MODE [PREFIX]: verify against $base/MODE/ip/{cidr}; prints the JSON line.
run() {
	tool --prefix "${2:-$prefix}" --message "$msg" --signature "$sig" --owner "$owner" \
		--rdap-url "$base/$1/ip/{cidr}" --timeout-ms "$timeout_ms" \
		--connect-timeout-ms 1000
}

# expect MODE CODE [MESSAGE-WORD]: the verification ends with CODE within the timeout.
expect() {
	local out code elapsed
	out=$(run "$1")
	code=$(jq -r '.code' <<< "$out")
	elapsed=$(jq -r '.elapsed_ms' <<< "$out")
	[ "$code" = "$2" ] || fail "$1: expected $2, got $code: $out"
	[ "$elapsed" -le $(( timeout_ms + 1000 )) ] || fail "$1: took ${elapsed} ms"
	if [ -n "${3:-}" ]; then
		jq -e --arg w "$3" '.message | contains($w)' <<< "$out" > /dev/null \
			|| fail "$1: message lacks '$3': $out"
	fi
	ok "${label:-$1} -> $2 in ${elapsed} ms ($(jq -r .message <<< "$out"))"
}

out=$(run ok)
jq -e '.ok == true and (.cert_sha256 | length) == 64 and .rdap_len > 0' <<< "$out" > /dev/null \
	|| fail "good proof over HTTP refused: $out"
ok "good proof verifies over HTTP"

expect 404 rdap-unavailable "HTTP 404"
expect bad rdap-unavailable "not JSON"
expect big rdap-unavailable "larger than"
expect bigcl rdap-unavailable
expect redirect-file rdap-unavailable

# A server that accepts and never answers: fails at the configured timeout, and the loop kept
# turning meanwhile (the 50 ms timer ticked).
for mode in hang slow; do
	out=$(run "$mode")
	elapsed=$(jq -r .elapsed_ms <<< "$out")
	ticks=$(jq -r .ticks <<< "$out")
	jq -e '.code == "rdap-unavailable" and (.message | contains("timed out"))' <<< "$out" \
		> /dev/null || fail "$mode: $out"
	[ "$elapsed" -ge $(( timeout_ms - 50 )) ] && [ "$elapsed" -le $(( timeout_ms + 1000 )) ] \
		|| fail "$mode: timed out after $elapsed ms, configured $timeout_ms"
	[ "$ticks" -ge 10 ] || fail "$mode: loop ticked only $ticks times during the fetch"
	ok "$mode -> rdap-unavailable after $elapsed ms (timeout $timeout_ms), loop ticked $ticks times"
done

# Nothing listens: connection refused, quickly.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(tool --prefix "$prefix" --message "$msg" --signature "$sig" --owner "$owner" \
	--rdap-url "http://127.0.0.1:$closed/ip/{cidr}" --timeout-ms "$timeout_ms")
jq -e '.code == "rdap-unavailable"' <<< "$out" > /dev/null || fail "closed port: $out"
ok "closed port -> rdap-unavailable"

record 192.0.2.0_24.json '[{"title": "no certificate here", "description": ["hello"]}]'
label="record without a certificate" expect ok cert-not-found
record 192.0.2.0_24.json '[{"description": ["-----BEGIN CERTIFICATE-----", "bm90IGEgY2VydA==", "-----END CERTIFICATE-----"]}]'
label="PEM of something that is not X.509" expect ok cert-invalid
record 192.0.2.0_24.json '[{"description": ["-----BEGIN CERTIFICATE----- %%% garbage -----END CERTIFICATE-----"]}]'
label="PEM garbage" expect ok cert-invalid
jq '.startAddress = "198.51.100.0" | .endAddress = "198.51.100.255"' "$work/recs/192.0.2.0_24.json" \
	> "$work/recs/x" && mv "$work/recs/x" "$work/recs/192.0.2.0_24.json"
label="record for another range" expect ok rdap-unavailable "does not cover"

# The lab's RDAP server and record format.
"$src/lab/rdap/make-cert" "$prefix" "$work/lab" 30
"$src/lab/rdap/make-record" "$prefix" "$work/lab/cert.pem" "$work/lab"
sig=$(printf %s "$msg" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign "$work/lab/key.pem" | openssl base64 -A | tr -- '+=/' '-_~')
labport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$src/lab/rdap/server.py" --bind 127.0.0.1 --port "$labport" --dir "$work/lab" \
	2> "$work/lab.log" &
lab=$!
on_exit "kill $lab 2>/dev/null"
wait_until 10 "the lab RDAP server" curl -sf "http://127.0.0.1:$labport/ip/$prefix"
out=$(tool --prefix "$prefix" --message "$msg" --signature "$sig" --owner "$owner" \
	--rdap-url "http://127.0.0.1:$labport/ip/{cidr}")
jq -e '.ok == true' <<< "$out" > /dev/null || fail "lab RDAP server: $out"
ok "good proof verifies against the lab's RDAP server"
out=$(tool --prefix "$prefix" --message "$msg" --signature "$sig" --owner "$owner" \
	--rdap-dir "$work/lab")
jq -e '.ok == true and (.rdap_source | endswith("192.0.2.0_24.json"))' <<< "$out" > /dev/null \
	|| fail "rdap_dir with the lab's record: $out"
ok "good proof verifies from auth.rdap_dir with the lab's record file"

if grep -q 'Sanitizer' "$work/tool.err" 2>/dev/null; then
	cat "$work/tool.err" >&2
	fail "auth_verify reported a sanitizer error"
fi
ok "no sanitizer reports from auth_verify"
