#!/usr/bin/env bash
# ctest-labels: asan
# prefixctl's argument checking against a real prefixd: bad flags, bad values, missing
# arguments and unknown commands each exit 2 with a clear message and a one-line usage hint,
# and send nothing (the store dump is unchanged); the socket comes from -s, else
# $PREFIXD_SOCKET, else ./prefixd.sock; no daemon is exit 3 with a clear message.
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"

# usage_error PATTERN ARGS...: exit 2, PATTERN in the first stderr line, a usage hint after it.
usage_error() {
	local want=$1 rc=0
	shift
	pd_ctl --json "$@" >"$PD_DIR/out" 2>"$PD_DIR/err" || rc=$?
	[ "$rc" = 2 ] || pd_fail "prefixctl $*: want exit 2, got $rc: $(cat "$PD_DIR/err")"
	head -n1 "$PD_DIR/err" | grep -q -- "^prefixctl: .*$want" ||
		pd_fail "prefixctl $*: want '$want', got: $(cat "$PD_DIR/err")"
	sed -n 2p "$PD_DIR/err" | grep -q '^usage: prefixctl ' || pd_fail "prefixctl $*: no usage hint"
	[ ! -s "$PD_DIR/out" ] || pd_fail "prefixctl $*: printed on stdout: $(cat "$PD_DIR/out")"
	pd_ok "$* -> exit 2: $(head -n1 "$PD_DIR/err")"
}

# requests: how many API requests the daemon has served, from its own counter
# prefixd_api_requests_total (the /metrics reads themselves left out).
requests() {
	pd_curl GET /metrics | awk '/^prefixd_api_requests_total[{ ]/ && !/route="\/metrics"/ { s += $NF }
		END { print s + 0 }'
}

pd_setup
pd_start
pd_ctl --json pool create top --scope private-default >/dev/null
pd_ctl --json pool provision top 10.0.0.0/16 >/dev/null
pd_ctl --json pool create lab --scope private-default --parent top --default-netmask 24 \
	--min-netmask 20 --max-netmask 26 --require-tag Environment=lab >/dev/null
pd_ctl --json pool provision lab --netmask 20 >/dev/null
pd_dump > "$PD_DIR/before.sql"
before_req=$(requests)

# unknown commands and options
usage_error "unknown command 'frobnicate'" frobnicate
usage_error "unknown command 'bogus'" pool bogus
usage_error "'pool' needs a subcommand" pool
usage_error "missing command"
usage_error "unknown option --bogus" pool list --bogus
usage_error "unknown option -x" allocate lab -x
usage_error "unknown option --netmask for 'pool create'" pool create p --scope s --netmask 24
# bad values
usage_error "--netmask: 129 is out of range 0..128" allocate lab --netmask 129
usage_error "--netmask: '-1' is not a number" allocate lab --netmask -1
usage_error "--netmask: '24x' is not a number" allocate lab --netmask 24x
usage_error "--netmask: empty value" allocate lab --netmask ''
usage_error "--alarm-at: 101 is out of range 1..100" pool create p --scope s --alarm-at 101
usage_error "--origin-asn: 4294967296 is out of range" pool create p --scope s --origin-asn 4294967296
usage_error "--family: 'ipv5' is not one of ipv4|ipv6" pool create p --scope s --family ipv5
usage_error "--tag: 'Environment' is not KEY=VALUE" allocate lab --tag Environment
usage_error "--require-tag: '=lab' is not KEY=VALUE" pool create p --scope s --require-tag =lab
usage_error "--cidr: .*10.0.0.0/33" allocate lab --cidr 10.0.0.0/33
usage_error "--cidr: .*300.1.0.0/16" allocate lab --cidr 300.1.0.0/16
usage_error "CIDR: .*nonsense" pool provision top nonsense
usage_error "--since: 'yesterday' is not a time" history 10.0.0.0/8 --since yesterday
usage_error "--preview takes no value" allocate lab --preview=yes
usage_error "--token given more than once" allocate lab --token a --token b
# missing arguments and bad combinations
usage_error "--netmask needs a value" allocate lab --netmask
usage_error "'pool show' needs NAME" pool show
usage_error "'pool deprovision' needs CIDR" pool deprovision top
usage_error "'pool create' needs --scope" pool create p
usage_error "'import' needs --scope" import --cidr 10.9.0.0/16 --name x
usage_error "needs either CIDR or --netmask" pool provision lab
usage_error "needs either CIDR or --netmask" pool provision lab 10.0.16.0/20 --netmask 20
usage_error "--netmask or --cidr, not both" allocate lab --netmask 24 --cidr 10.0.1.0/24
usage_error "--auth-message and --auth-signature go together" pool provision top 192.0.2.0/24 --auth-message m
usage_error "'import' needs --cidr C --name N, or --file F" import --scope private-default --cidr 10.9.0.0/16
usage_error "unexpected argument 'extra'" release 1 extra
usage_error "-s needs a value" -s
# a bad import file is refused before anything is sent
printf 'cidr,name\n10.9.0.0/16,ok\n10.9.0.0/99,bad\n' > "$PD_DIR/bad.csv"
rc=0; pd_ctl import --scope private-default --file "$PD_DIR/bad.csv" 2>"$PD_DIR/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'CSV line 3' "$PD_DIR/err" || pd_fail "bad CSV: exit $rc: $(cat "$PD_DIR/err")"
pd_ok "bad import file -> exit 2 naming CSV line 3"

pd_dump > "$PD_DIR/after.sql"
cmp -s "$PD_DIR/before.sql" "$PD_DIR/after.sql" || pd_fail "the store changed: $(diff "$PD_DIR/before.sql" "$PD_DIR/after.sql")"
after_req=$(requests)
[ "$before_req" -gt 0 ] || pd_fail "no prefixd_api_requests_total in /metrics"
[ "$after_req" = "$before_req" ] || pd_fail "usage errors reached the daemon ($before_req -> $after_req requests)"
pd_ok "usage errors changed nothing and sent nothing"

# help exits 0 and names the command's options
pd_ctl pool create --help | grep -q -- '--require-tag K=V' || pd_fail "pool create --help lacks --require-tag"
pd_ctl help | grep -q '^  allocate POOL' || pd_fail "help lacks allocate"
pd_ok "help"

# where the socket comes from: -s, then $PREFIXD_SOCKET, then ./prefixd.sock
PREFIXD_SOCKET=$PD_DIR/nowhere.sock "$PCTL_BIN" -s "$PD_SOCK" status >/dev/null || pd_fail "-s is not preferred"
PREFIXD_SOCKET=$PD_SOCK "$PCTL_BIN" status >/dev/null || pd_fail "\$PREFIXD_SOCKET is not used"
(cd "$PD_DIR" && env -u PREFIXD_SOCKET "$PCTL_BIN" status >/dev/null) || pd_fail "./prefixd.sock is not the default"
pd_ok "socket from -s, \$PREFIXD_SOCKET, ./prefixd.sock"

# unreachable: no socket file, a socket nobody listens on, a stopped daemon
rc=0; "$PCTL_BIN" -s "$PD_DIR/nowhere.sock" status 2>"$PD_DIR/err" || rc=$?
[ "$rc" = 3 ] && grep -q "^prefixctl: cannot connect to $PD_DIR/nowhere.sock" "$PD_DIR/err" ||
	pd_fail "no socket: exit $rc: $(cat "$PD_DIR/err")"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$PD_DIR/dead.sock"
rc=0; "$PCTL_BIN" -s "$PD_DIR/dead.sock" status 2>"$PD_DIR/err" || rc=$?
[ "$rc" = 3 ] && grep -q "Connection refused" "$PD_DIR/err" || pd_fail "dead socket: exit $rc: $(cat "$PD_DIR/err")"
pd_stop
rc=0; pd_ctl --json pool list 2>"$PD_DIR/err" || rc=$?
[ "$rc" = 3 ] || pd_fail "stopped daemon: exit $rc: $(cat "$PD_DIR/err")"
pd_ok "unreachable daemon -> exit 3 with a clear message"
