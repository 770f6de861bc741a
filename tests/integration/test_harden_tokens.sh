#!/usr/bin/env bash
# Issue 15 finding 14: the tokens file and `prefixd -n`.
#   1. a tokens file group or others may write is refused (prefixd -n and the daemon at start),
#      naming the mode; 0600 and 0644 pass
#   2. a hash listed twice is an error naming both lines (the last role used to win quietly)
#   3. prefixd -n reads the tokens file: a missing file fails -n (it used to pass -n, then the
#      daemon died at start)
#   4. prefixd -n prints credentials embedded in [auth] rdap_url as "***@", never the password
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
h1=$(printf %s token-one | sha256sum | cut -d' ' -f1)
h2=$(printf %s token-two | sha256sum | cut -d' ' -f1)
tok=$PD_DIR/tokens
pd_config <<INI
[daemon]
listen = 127.0.0.1:$port
tokens_file = $tok

[auth]
rdap_url = https://monitor:S3cretPassw0rd@rdap.example.net/ip/{cidr}
INI
pd_write_config

# check WANT-RC PATTERN: prefixd -n exits WANT-RC (0 or 1) and its output matches PATTERN.
check() {
	local rc=0
	timeout 10 "$PD_BIN" -n -c "$PD_CONF" > "$PD_DIR/check.out" 2>&1 || rc=$?
	[ "$rc" = "$1" ] || pd_fail "prefixd -n exited $rc, want $1: $(cat "$PD_DIR/check.out")"
	grep -qE -- "$2" "$PD_DIR/check.out" || pd_fail "prefixd -n: want /$2/ in: $(cat "$PD_DIR/check.out")"
}

printf 'ci operator %s\nmon reader %s\n' "$h1" "$h2" > "$tok"
chmod 0600 "$tok"
check 0 '^tokens_file = '
pd_ok "a 0600 tokens file passes -n"

# 4. credentials in rdap_url
grep -q 'S3cretPassw0rd' "$PD_DIR/check.out" && pd_fail "prefixd -n prints the rdap_url password: $(grep rdap_url "$PD_DIR/check.out")"
grep -qx 'rdap_url = https://\*\*\*@rdap.example.net/ip/{cidr}' "$PD_DIR/check.out" ||
	pd_fail "rdap_url not shown redacted: $(grep rdap_url "$PD_DIR/check.out")"
pd_ok "prefixd -n shows rdap_url as https://***@rdap.example.net/ip/{cidr}"

# 1. group- or world-writable
for m in 0666 0620 0602; do
	chmod "$m" "$tok"
	check 1 "$tok: mode $m lets group or others write it"
done
chmod 0666 "$tok"
rc=0
timeout 10 "$PD_BIN" -c "$PD_CONF" >> "$PD_LOG" 2>&1 || rc=$?
[ "$rc" != 0 ] || pd_fail "the daemon started with a 0666 tokens file"
grep -q "mode 0666 lets group or others write it" "$PD_LOG" || pd_fail "the daemon's refusal: $(tail -3 "$PD_LOG")"
chmod 0644 "$tok"
check 0 '^tokens_file = '
pd_ok "a tokens file group or others may write is refused (-n and start); 0644 passes"

# 2. a hash twice
printf 'ci operator %s\n# a comment\nmon reader %s\nroot admin %s\n' "$h1" "$h2" "$h1" > "$tok"
check 1 "$tok:4: the hash of line 1 again"
pd_ok "a hash listed twice is refused, naming both lines"

# 3. a missing file fails -n
rm -f "$tok"
check 1 "tokens_file $tok: No such file or directory"
pd_ok "prefixd -n fails on a missing tokens file"
