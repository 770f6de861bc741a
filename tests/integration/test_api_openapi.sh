#!/usr/bin/env bash
# Every route the daemon registers (prefixd --list-routes) is described in doc/openapi.json
# with the same method, and its x-min-role is the role the server enforces; the document
# describes no route the server lacks.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
doc=$PREFIXD_SOURCE_DIR/doc/openapi.json
jq -e '.openapi and .paths' "$doc" >/dev/null || pd_fail "$doc is not an OpenAPI document"

routes=$("$PD_BIN" --list-routes)
[ -n "$routes" ] || pd_fail "prefixd --list-routes printed nothing"
n=0
while read -r method pattern role; do
	m=$(tr 'A-Z' 'a-z' <<<"$method")
	got=$(jq -r --arg p "$pattern" --arg m "$m" '.paths[$p][$m]["x-min-role"] // "MISSING"' "$doc")
	[ "$got" != MISSING ] || pd_fail "$method $pattern is served but not in doc/openapi.json"
	[ "$got" = "$role" ] || pd_fail "$method $pattern: openapi says role $got, server enforces $role"
	n=$((n + 1))
done <<<"$routes"
pd_ok "$n served routes are described with their roles"

jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | select(. != "parameters") |
	"\(ascii_upcase) \($p)"' "$doc" | while read -r method pattern; do
	grep -q "^$method $pattern " <<<"$routes" || pd_fail "openapi describes $method $pattern, the server has no such route"
done
pd_ok "every documented route is served"
