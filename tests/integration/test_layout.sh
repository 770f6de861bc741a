#!/usr/bin/env bash
# The layout's promises (issue 14), checked on the built tree:
#   1. scripts/check-layout: no file outside src/api/ and src/prefixd.c includes api.h or
#      http.h, and no import circle crosses a module boundary (nm over the built objects)
#   2. prefixd --list-routes lists each METHOD and pattern once
#   3. prefixctl's link line names none of librtr, libsqlite3, libmicrohttpd, libev, libinih
#      or the daemon's core library
#   4. every request prefixctl can send (each command of `prefixctl --help`, run against a
#      recorder on a unix socket) is described in doc/openapi.json with the same method
#   5. every script path the README quotes exists and is executable
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
src=$PREFIXD_SOURCE_DIR
b=$PREFIXD_BUILD_DIR
pd_setup

out=$("$src/scripts/check-layout" "$b" 2>&1) || pd_fail "check-layout: $out"
[ -z "$out" ] || pd_fail "check-layout printed: $out"
pd_ok "no engine includes api.h/http.h; no import circle crosses a module boundary"

dups=$("$PD_BIN" --list-routes | awk '{print $1, $2}' | sort | uniq -d)
[ -z "$dups" ] || pd_fail "routes listed twice: $dups"
pd_ok "$("$PD_BIN" --list-routes | wc -l) routes, each METHOD and pattern once"

link=$b/CMakeFiles/prefixctl.dir/link.txt
[ -f "$link" ] || pd_fail "no $link"
if grep -Eo 'librtr|libsqlite3|libmicrohttpd|libev[.a-z]|-lev\b|libinih|prefixd_core' "$link"; then
	pd_fail "prefixctl links daemon libraries: $(cat "$link")"
fi
pd_ok "prefixctl links src/ctl, src/base, libcurl and jansson only"

# 4: a recorder that answers every request with 200 {} and writes "METHOD PATH" per request.
rec=$PD_DIR/requests.txt
sock=$PD_DIR/recorder.sock
python3 - "$sock" "$rec" <<'PY' &
import http.server, socketserver, sys, os
sock, rec = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        pass
    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        with open(rec, "a") as f:
            f.write(f"{self.command} {self.path.split('?')[0]}\n")
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any
    def log_message(self, *a): pass
    def address_string(self): return "unix"
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(sock, H).serve_forever()
PY
rec_pid=$!
trap 'rc=$?; kill $rec_pid 2>/dev/null; (exit $rc); pd_cleanup' EXIT
pd_wait_for test -S "$sock" || pd_fail "recorder did not start"
: > "$rec"
certf=$PD_DIR/cert.pem; echo x > "$certf"
importf=$PD_DIR/import.csv; printf 'cidr,name\n10.9.0.0/24,lan\n' > "$importf"
ctl() { PREFIXCTL_TIMEOUT=5 "$PCTL_BIN" -s "$sock" "$@" >/dev/null 2>&1 || true; }
ctl status
ctl scope list; ctl scope show s; ctl scope create s; ctl scope delete s
ctl pool create p --scope s; ctl pool list; ctl pool show p; ctl pool delete p
ctl pool provision p 10.0.0.0/8; ctl pool deprovision p 10.0.0.0/8
ctl allocate p --netmask 24; ctl release 1; ctl allocation list; ctl allocation show 1
ctl resource list; ctl import --scope s --cidr 10.9.0.0/24 --name lan
ctl import --scope s --file "$importf"
ctl report overlaps; ctl report compliance; ctl history 10.0.0.0/8
ctl prefix list; ctl prefix show 203.0.113.0/24
ctl advertise 203.0.113.0/24; ctl withdraw 203.0.113.0/24
ctl rpki status; ctl rpki validate 203.0.113.0/24 64500
ctl auth message 203.0.113.0/24 --expires 20991231
ctl auth verify 203.0.113.0/24 --message m --signature s --cert "$certf"
ctl bird status; ctl bird reconcile
ctl events; ctl audit verify
doc=$src/doc/openapi.json
n=0
while read -r method path; do
	m=$(tr 'A-Z' 'a-z' <<<"$method")
	found=$(jq -r --arg path "$path" --arg m "$m" '
		($path | split("/")) as $seg |
		[.paths | to_entries[] | select(.value[$m] != null) | .key |
		 select((split("/")) as $pat | ($pat | length) == ($seg | length) and
			all(range(0; $pat | length); ($pat[.] | startswith("{")) and ($seg[.] != "")
			    or $pat[.] == $seg[.]))] | first // "MISSING"' "$doc")
	[ "$found" != MISSING ] || pd_fail "prefixctl sends $method $path; doc/openapi.json has no such $method route"
	n=$((n + 1))
done < <(sort -u "$rec")
[ "$n" -ge 25 ] || pd_fail "only $n distinct requests recorded: $(sort -u "$rec")"
pd_ok "$n distinct requests prefixctl sends are in doc/openapi.json with their methods"

# 5: script paths the README quotes (`lab/...`, `scripts/...`, `tests/.../*.sh|.py`, `.ci/run`)
m=0
while read -r p; do
	[ -e "$src/$p" ] || pd_fail "README quotes $p, which does not exist"
	[ -x "$src/$p" ] || pd_fail "README quotes $p, which is not executable"
	m=$((m + 1))
done < <(grep -oE '(^|[` (])((lab|scripts|tests/[a-z]+)/[A-Za-z0-9_./-]+|\.ci/run)' "$src/README.md" |
	sed -E 's/^[` (]//' | grep -vE '\.(md|c|h|txt|json|conf|csv|supp)$|/$' |
	grep -E '^(\.ci/run|scripts/[a-z-]+|lab/[a-z-]+|tests/.*\.(sh|py)|tests/fuzz/run)$' | sort -u)
[ "$m" -ge 5 ] || pd_fail "found only $m script paths in the README"
pd_ok "$m script paths quoted in the README exist and are executable"
