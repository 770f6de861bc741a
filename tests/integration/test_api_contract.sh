#!/usr/bin/env bash
# The typed API contract (issue 18, item 6): every answer prefixd gives in the README
# walk-through (test_cli_walkthrough.sh) and in the lifecycle lab's happy path
# (test_lifecycle_lab_happy.sh) validates against doc/openapi.json.
#   1. the document itself: OpenAPI 3.1, every schema a valid JSON Schema Draft 2020-12, every
#      operation with `security`, no JSON answer without a real schema (openapi_validate --lint);
#   2. both tests run unchanged with PD_RECORD set: lib/prefixd.sh then puts a recording proxy
#      (tests/tools/api_recorder.py) in front of prefixd's socket, so every request of prefixctl
#      and curl is recorded with its status and body;
#   3. a daemon without [rpki]/[bird]/lifecycle extras answers the routes those tests do not
#      reach, and refusals (401-less unix errors: 404 no-such-route, 405, 400, 503 ...);
#   4. every recorded answer is validated (tests/tools/openapi_validate.py: path templates,
#      the status must be documented, the JSON body must match that status's schema);
#   5. the check can fail: a recorded answer with one state changed to a value the enum lacks,
#      and one with a required member removed, are each refused.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
doc=$PREFIXD_SOURCE_DIR/doc/openapi.json
validate=$PREFIXD_SOURCE_DIR/tests/tools/openapi_validate.py
python3 -c 'import jsonschema' 2>/dev/null ||
	pd_fail "python3-jsonschema is not installed (scripts/install-deps)"

pd_setup
rec=$PD_DIR/records
mkdir -p "$rec"

# 1
[ "$(jq -r .openapi "$doc")" = 3.1.0 ] || pd_fail "doc/openapi.json is not OpenAPI 3.1.0"
out=$(python3 "$validate" "$doc" --lint) || pd_fail "doc/openapi.json: $out"
pd_ok "${out#lint: }"

# 2: the two tests, unchanged, recorded
for t in test_cli_walkthrough test_lifecycle_lab_happy; do
	rc=0
	PD_RECORD=$rec/$t.jsonl bash "$PREFIXD_SOURCE_DIR/tests/integration/$t.sh" \
		>"$PD_DIR/$t.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || pd_fail "$t failed under the recorder (exit $rc): $(tail -n 20 "$PD_DIR/$t.out")"
	[ -s "$rec/$t.jsonl" ] || pd_fail "$t: nothing recorded"
	pd_ok "$t passed under the recorder: $(wc -l <"$rec/$t.jsonl") answers recorded"
done

# 3: the other routes and refusals, on a plain daemon
PD_RECORD=$rec/plain.jsonl pd_start
reqs=("GET /v1/status" "GET /v1/prefixes" "GET /v1/prefixes?state=bogus" "GET /v1/prefixes/10.9.0.0/24"
	"GET /v1/rpki/status" "GET /v1/rpki/validate?prefix=10.0.0.0/8&asn=65001"
	"GET /v1/rpki/validate?prefix=10.0.0.1/8&asn=1" "GET /v1/bird/status" "POST /v1/bird/reconcile"
	"GET /v1/events" "GET /v1/audit/verify" "GET /v1/history" "GET /v1/reports/overlaps"
	"GET /v1/reports/compliance" "GET /v1/resources" "GET /v1/asns" "GET /v1/asns/AS64999"
	"GET /v1/sites" "GET /v1/visibility/10.0.0.0/8" "GET /v1/scopes/nope" "GET /v1/pools/nope"
	"GET /v1/allocations/99" "GET /v1/nope" "DELETE /v1/status")
for r in "${reqs[@]}"; do
	pd_curl ${r% *} "${r#* }" >/dev/null
done
pd_curl POST /v1/scopes '{"name":' >/dev/null
pd_curl POST /v1/scopes '{"name":"s1","bogus":1}' >/dev/null
pd_curl POST /v1/auth/message '{"cidr":"10.0.0.0/8","expires":"20200101"}' >/dev/null
pd_curl POST /v1/advertise '{"cidrs":["10.9.0.0/24"]}' >/dev/null
pd_ok "plain daemon: $(wc -l <"$rec/plain.jsonl") answers recorded"

# 4
out=$(python3 "$validate" "$doc" "$rec"/*.jsonl) || pd_fail "answers that do not match doc/openapi.json:
$(grep MISMATCH <<<"$out")"
pd_ok "$(tail -n 1 <<<"$out")"
grep -q 'covered: GET /v1/prefixes/{cidr} 200' <<<"$out" || pd_fail "the lab's prefix answers were not validated"
grep -q 'covered: POST /v1/advertise 200' <<<"$out" || pd_fail "the lab's advertise answer was not validated"

# 5: the check refuses a wrong answer
jq -c 'select(.path == "/v1/status" and .status == 200) | .body |= (fromjson | .role = "root" | tojson)' \
	"$rec/plain.jsonl" | sed -n 1p > "$PD_DIR/bad-enum.jsonl"
jq -c 'select(.path | startswith("/v1/prefixes/")) | select(.status == 200) |
	.body |= (fromjson | del(.state) | tojson)' "$rec/test_lifecycle_lab_happy.jsonl" |
	sed -n 1p > "$PD_DIR/bad-required.jsonl"
for bad in bad-enum bad-required; do
	[ -s "$PD_DIR/$bad.jsonl" ] || pd_fail "$bad: no answer to corrupt"
	if out=$(python3 "$validate" "$doc" "$PD_DIR/$bad.jsonl"); then
		pd_fail "$bad: the validator accepted a wrong answer: $out"
	fi
	pd_ok "$bad refused: $(grep -m1 MISMATCH <<<"$out" | cut -c1-160)"
done
