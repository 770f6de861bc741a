#!/usr/bin/env bash
# ctest-labels: asan
# Issue 18 item 8: TLS on the TCP listener ([daemon] tls_cert, tls_key).
#   1. prefixd -n and the start refuse, naming the file: a missing cert, a key group or others
#      may read, a key that is not the cert's, no PEM, an expired cert, tls_cert without tls_key
#      or without listen; prefixd exits non-zero and never listens
#   2. over TLS: curl --cacert and prefixctl --url https://... --cacert (token from
#      PREFIXD_TOKEN or --token-file) work; without the CA the client refuses the server
#   3. a plain-HTTP request to the TLS port gets no HTTP answer; TLS 1.0 and 1.1 clients fail
#      the handshake (the same client with -tls1_2 / -tls1_3 succeeds)
#   4. prefixctl never takes the token on the command line and refuses hostile remote
#      options (a token with a newline, a readable token file, --cacert with http://, ...)
#   5. SIGHUP with a new cert: new connections see its fingerprint; SIGHUP with a broken or
#      expired one: the old one keeps serving, the log says why
set -euo pipefail
. "$PREFIXD_SOURCE_DIR/tests/integration/lib/prefixd.sh"
pd_setup
D=$PD_DIR
secret=tls-test-secret
pd_tcp_listen "ci:admin:$secret"
port=${PD_URL##*:}
HTTPS=https://127.0.0.1:$port

# --- certificates: a CA, two server certs for 127.0.0.1, an expired one ---------------------
ossl() { openssl "$@" 2>>"$D/openssl.log" >/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
	-out "$D/ca.pem" -days 30 -subj /CN=prefixd-test-ca
mkcsr() {       # mkcsr NAME: NAME.key and NAME.csr for 127.0.0.1
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1.key" \
		-out "$D/$1.csr" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1
}
for n in srv1 srv2 old; do mkcsr $n; done
for n in srv1 srv2; do
	ossl x509 -req -in "$D/$n.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
		-days 30 -copy_extensions copy -out "$D/$n.pem"
done
mkdir -p "$D/ca/new" && : > "$D/ca/index.txt" && echo 1000 > "$D/ca/serial"
cat > "$D/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $D/ca/index.txt
new_certs_dir = $D/ca/new
serial = $D/ca/serial
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
EOF
ossl ca -batch -config "$D/ca.cnf" -cert "$D/ca.pem" -keyfile "$D/ca.key" -in "$D/old.csr" \
	-out "$D/old.pem" -startdate 20200101000000Z -enddate 20200201000000Z -notext
chmod 600 "$D"/*.key
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
fp1=$(fp "$D/srv1.pem"); fp2=$(fp "$D/srv2.pem")

# The served cert and key live at fixed paths; SIGHUP re-reads them.
install_pair() { cp "$D/$1.pem" "$D/cert.pem"; cp "$D/$2.key" "$D/key.pem"; chmod 600 "$D/key.pem"; }
install_pair srv1 srv1
printf '[daemon]\ntls_cert = %s\ntls_key = %s\n' "$D/cert.pem" "$D/key.pem" | pd_config
pd_write_config

# --- 1. refusals at -n and at start ------------------------------------------------------
# refused PATTERN: prefixd -n and prefixd exit non-zero with PATTERN, and nothing listens.
refused() {
	local rc=0
	pd_write_config
	timeout 10 "$PD_BIN" -n -c "$PD_CONF" > "$D/check.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || pd_fail "prefixd -n exited $rc, want 1 for /$1/: $(cat "$D/check.out")"
	grep -qE -- "$1" "$D/check.out" || pd_fail "prefixd -n: want /$1/ in: $(cat "$D/check.out")"
	rc=0
	timeout 10 "$PD_BIN" -c "$PD_CONF" > "$D/start.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || pd_fail "prefixd started (exit 0) with /$1/"
	[ "$rc" != 124 ] || pd_fail "prefixd kept running with /$1/"
	grep -qE -- "$1" "$D/start.out" || pd_fail "prefixd at start: want /$1/ in: $(tail -3 "$D/start.out")"
	[ ! -e "$PD_SOCK" ] || pd_fail "prefixd left $PD_SOCK behind after refusing /$1/"
}
timeout 10 "$PD_BIN" -n -c "$PD_CONF" > "$D/check.out" 2>&1 || pd_fail "prefixd -n refused a good pair: $(cat "$D/check.out")"
grep -qx "tls_cert = $D/cert.pem" "$D/check.out" && grep -qx "tls_key = $D/key.pem" "$D/check.out" ||
	pd_fail "prefixd -n does not print tls_cert/tls_key: $(grep tls "$D/check.out")"
pd_ok "prefixd -n passes a good pair and prints tls_cert and tls_key"

mv "$D/cert.pem" "$D/cert.gone"
refused "tls_cert $D/cert.pem: No such file or directory"
mv "$D/cert.gone" "$D/cert.pem"
for m in 0640 0604 0660; do
	chmod "$m" "$D/key.pem"
	refused "tls_key $D/key.pem: mode $m lets group or others read it"
done
chmod 600 "$D/key.pem"
install_pair srv1 srv2
refused "tls_key $D/key.pem is not the key of tls_cert $D/cert.pem"
install_pair srv1 srv1
echo 'not a certificate' > "$D/cert.pem"
refused "tls_cert $D/cert.pem: no PEM certificate"
install_pair old old
refused "tls_cert $D/cert.pem: expired at 2020-02-01T00:00:00Z"
install_pair srv1 srv1
pd_ok "missing cert, key mode 0640/0604/0660, mismatched key, no PEM, expired cert: refused by -n and at start, naming the file"

cp "$PD_EXTRA" "$D/extra.good"
sed -i '/^tls_key = /d' "$PD_EXTRA"
refused "tls_cert and tls_key go together"
cp "$D/extra.good" "$PD_EXTRA"
sed -i '/^listen = /d; /^tokens_file = /d' "$PD_EXTRA"
refused "tls_cert needs listen"
cp "$D/extra.good" "$PD_EXTRA"
pd_ok "tls_cert without tls_key, and tls_cert without listen: conf-invalid"

# --- 2. clients over TLS -----------------------------------------------------------------
pd_start
grep -q "listening on tcp 127.0.0.1:$port (bearer tokens, TLS 1.2/1.3)" "$PD_LOG" ||
	pd_fail "no TLS listener in the log"
code=$(curl -s -o "$D/out" -w '%{http_code}' --max-time 10 --cacert "$D/ca.pem" \
	-H "Authorization: Bearer $secret" "$HTTPS/v1/status") || pd_fail "curl --cacert failed: $code"
[ "$code" = 200 ] && jq -e .version "$D/out" >/dev/null || pd_fail "curl --cacert: $code $(cat "$D/out")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$D/ca.pem" "$HTTPS/v1/status") || true
[ "$code" = 401 ] || pd_fail "no token over TLS answered $code, want 401"
rc=0; curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $secret" "$HTTPS/v1/status" || rc=$?
[ "$rc" = 60 ] || pd_fail "curl without the CA exited $rc, want 60 (certificate not trusted)"
pd_ok "curl --cacert: 200 with the token, 401 without; without the CA curl refuses the server"

PREFIXD_TOKEN=$secret "$PCTL_BIN" --url "$HTTPS" --cacert "$D/ca.pem" --json status > "$D/out" ||
	pd_fail "prefixctl --url https with PREFIXD_TOKEN failed"
jq -e .version "$D/out" >/dev/null || pd_fail "prefixctl status: $(cat "$D/out")"
printf '%s\n' "$secret" > "$D/token"; chmod 600 "$D/token"
"$PCTL_BIN" --url "$HTTPS/" --cacert "$D/ca.pem" --token-file "$D/token" pool create tlspool --scope private-default >/dev/null ||
	pd_fail "prefixctl --token-file: pool create failed"
"$PCTL_BIN" --json pool list -s "$PD_SOCK" | jq -e '.. | objects | select(.name? == "tlspool")' >/dev/null ||
	pd_fail "the pool created over TLS is not there"
rc=0; "$PCTL_BIN" --url "$HTTPS" --token-file "$D/token" status > /dev/null 2> "$D/err" || rc=$?
[ "$rc" = 3 ] && grep -qi "certificate" "$D/err" || pd_fail "prefixctl without --cacert: exit $rc, $(cat "$D/err")"
rc=0; PREFIXD_TOKEN=wrong "$PCTL_BIN" --url "$HTTPS" --cacert "$D/ca.pem" status > /dev/null 2> "$D/err" || rc=$?
[ "$rc" = 1 ] && grep -q unauthorized "$D/err" || pd_fail "prefixctl with a wrong token: exit $rc, $(cat "$D/err")"
pd_ok "prefixctl --url https --cacert: PREFIXD_TOKEN and --token-file work (status, pool create); no CA: exit 3; wrong token: 401"

# --- 3. what must fail ---------------------------------------------------------------------
rc=0; code=$(curl -s -o "$D/out" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $secret" \
	"http://127.0.0.1:$port/v1/status") || rc=$?
[ "$rc" != 0 ] && [ "$code" = 000 ] || pd_fail "plain HTTP to the TLS port: curl exit $rc, status $code"
pd_ok "plain HTTP to the TLS port: no HTTP answer (curl exit $rc)"

handshake() {   # handshake VERSION-FLAG: 0 when the TLS handshake completes
	openssl s_client -connect "127.0.0.1:$port" "$1" -cipher 'DEFAULT@SECLEVEL=0' \
		-CAfile "$D/ca.pem" < /dev/null > "$D/s_client.out" 2>&1 &&
		grep -q '^New, TLSv1' "$D/s_client.out"
}
handshake -tls1_2 || pd_fail "a TLS 1.2 client failed: $(tail -5 "$D/s_client.out")"
handshake -tls1_3 || pd_fail "a TLS 1.3 client failed: $(tail -5 "$D/s_client.out")"
for v in -tls1 -tls1_1; do
	! handshake "$v" || pd_fail "a $v client completed the handshake: $(grep Protocol "$D/s_client.out")"
done
pd_answers || pd_fail "prefixd stopped answering after the refused clients"
pd_ok "TLS 1.0 and 1.1 clients fail the handshake; 1.2 and 1.3 succeed"

# --- 4. prefixctl's hostile remote options -------------------------------------------------
# usage_error ENV-ASSIGNMENT ARGS...: prefixctl exits 2 and prints nothing on stdout.
usage_error() {
	local rc=0
	env "$1" "$PCTL_BIN" "${@:2}" > "$D/out" 2> "$D/err" || rc=$?
	[ "$rc" = 2 ] || pd_fail "prefixctl ${*:2}: exit $rc, want 2: $(cat "$D/err")"
	grep -q "$secret" "$D/err" && pd_fail "prefixctl ${*:2} echoes the token"
	return 0
}
usage_error X=1 --url "$HTTPS" --cacert "$D/ca.pem" --token "$secret" status
usage_error X=1 --url "$HTTPS" --cacert "$D/ca.pem" status --token "$secret"
usage_error X=1 --url "$HTTPS" --cacert "$D/ca.pem" --bearer "$secret" status
usage_error "PREFIXD_TOKEN=$secret$(printf '\r\nX-Evil: 1')" --url "$HTTPS" --cacert "$D/ca.pem" status
usage_error "PREFIXD_TOKEN=a b" --url "$HTTPS" --cacert "$D/ca.pem" status
usage_error "PREFIXD_TOKEN=$(head -c 2000 /dev/zero | tr '\0' a)" --url "$HTTPS" --cacert "$D/ca.pem" status
chmod 644 "$D/token"
usage_error X=1 --url "$HTTPS" --cacert "$D/ca.pem" --token-file "$D/token" status
grep -q "mode 0644 lets group or others read it" "$D/err" || pd_fail "token file mode: $(cat "$D/err")"
chmod 600 "$D/token"
usage_error X=1 --url "$HTTPS" --cacert "$D/ca.pem" --token-file "$D/nothing" status
usage_error X=1 --url "http://127.0.0.1:$port" --cacert "$D/ca.pem" status
usage_error X=1 --url "ftp://127.0.0.1:$port" status
usage_error X=1 --url "$HTTPS/v1/status" status
usage_error X=1 --url "https://user@127.0.0.1:$port" status
usage_error X=1 --url "" status
usage_error X=1 --cacert "$D/ca.pem" status
usage_error X=1 --token-file "$D/token" status
pd_ok "prefixctl: no option takes the token; bad tokens, a readable token file, bad URLs and orphan --cacert/--token-file are usage errors"

# --- 5. SIGHUP ---------------------------------------------------------------------------
served() {      # served FP: a new connection sees the certificate with fingerprint FP
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$D/ca.pem" < /dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | grep -qx "sha256 Fingerprint=$1"
}
served "$fp1" || pd_fail "the first certificate is not served"
install_pair srv2 srv2
kill -HUP "$PD_PID"
pd_wait_for served "$fp2" || pd_fail "after SIGHUP the new certificate is not served"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$D/ca.pem" \
	-H "Authorization: Bearer $secret" "$HTTPS/v1/status") || true
[ "$code" = 200 ] || pd_fail "curl after the reload: $code"
pd_ok "SIGHUP with a new cert: new connections see it ($fp2)"

hup_count() { grep -c 'SIGHUP: keeping the old config' "$PD_LOG" || true; }
hups=$(hup_count)
# counted again on every poll (a "$(...)" argument to pd_wait_for would be counted once)
hup_logged() { [ "$(hup_count)" -gt "$hups" ]; }
kept() {        # kept WHY: the next SIGHUP keeps the old certificate and logs WHY
	kill -HUP "$PD_PID"
	pd_wait_for hup_logged ||
		pd_fail "no 'keeping the old config' after SIGHUP with $1"
	hups=$((hups + 1))
	grep 'SIGHUP: keeping the old config' "$PD_LOG" | tail -1 | grep -q -- "$1" ||
		pd_fail "the log does not say $1: $(grep 'keeping the old' "$PD_LOG" | tail -1)"
	pd_alive || pd_fail "prefixd died on SIGHUP with $1"
	served "$fp2" || pd_fail "after SIGHUP with $1 the old certificate is not served"
}
install_pair srv1 srv2
kept "is not the key of tls_cert"
install_pair old old
kept "expired at 2020-02-01"
echo garbage > "$D/cert.pem"
kept "no PEM certificate"
install_pair srv2 srv2
chmod 644 "$D/key.pem"
kept "mode 0644 lets group or others read it"
pd_ok "SIGHUP with a mismatched, expired, garbage cert or a readable key: the old cert keeps serving, the log says why"
PREFIXD_TOKEN=$secret "$PCTL_BIN" --url "$HTTPS" --cacert "$D/ca.pem" status > /dev/null ||
	pd_fail "prefixctl after the refused reloads"
pd_stop
pd_ok "test_harden_tls"
