#!/usr/bin/env python3
"""bench_advertise.py — issue 7's advertise benchmark: from the `prefixctl advertise` call to
the route in the upstream's Adj-RIB-In, through the real prefixd, edge BIRD and GoBGP of a lab.

    tests/bench/bench_advertise.py BUILD_DIR [--single N] [--batch N]      (root; ~2-4 min)

1. Baseline, same run, same lab, before prefixd starts: the router alone. The include file is
   written by hand and BIRD reloaded (lab/announce edge, what prefixd automates), timed until
   upstream holds the prefix: N single prefixes one at a time, then one batch.
2. prefixd: N single prefixes, each `prefixctl advertise P` timed until upstream's Adj-RIB-In
   holds P (p50/p99); then one advertise of 10,000 prefixes, timed until upstream holds all of
   them. prefixctl takes at most 4,096 CIDRs per command (CTL_MAX_POS), so the batch is the
   API call prefixctl makes: POST /v1/advertise {"cidrs": [...]}.
Single prefixes: upstream's Adj-RIB-In is followed with `gobgp monitor adj-in -j`, each
prefix's arrival stamped when its update is read (no polling interval blurs the figure).
Batches: GoBGP's monitor stream cannot carry 10,000 paths in one update (gRPC's 4 MB message
limit), so the neighbour's received-prefix counter is polled (~40 ms a question) until it says
all of them are in.
The prefixes are IPv6 /48s from 2001:db8::/32 (documentation space), one ROA
2001:db8::/32-48 for AS 64500 covers them; every prefix is provisioned first with its own signed
message (one key; the certificate in each prefix's RDAP record, read from auth.rdap_dir).
Prints a Markdown table with the command. Targets: single p50 <= 1 s; 10,000 within 5 s.
"""
import http.client
import importlib.machinery
import importlib.util
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(SRC, "lab")
OWNER = "bench-owner"


def now_ms():
    return time.time() * 1000


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def prefixes(base, n):
    """n /48s from 2001:db8:BASE::/48 on."""
    return [str(ipaddress.ip_network(f"2001:db8:{base + i:x}::/48")) for i in range(n)]


class UnixHTTP(http.client.HTTPConnection):
    """HTTP/1.1 over prefixd's unix socket, one kept-alive connection."""

    def __init__(self, path):
        super().__init__("prefixd", timeout=600)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(600)
        self.sock.connect(self.path)

    def call(self, method, url, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.request(method, url, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        r = self.getresponse()
        return r.status, json.loads(r.read() or b"{}")


class Upstream:
    """First arrival time (ms) of each prefix upstream receives from edge (gobgp monitor), and
    the count of prefixes upstream holds from edge's IPv6 session (for batches)."""

    def __init__(self, env):
        self.env, self.seen, self.cv = env, {}, threading.Condition()
        host, port = env["GOBGP_API"].rsplit(":", 1)
        self.gobgp = ["ip", "netns", "exec", env["NS_UPSTREAM"], "gobgp", "-u", host, "-p", port]
        self.proc = None

    def start(self):
        """Follows the monitor (for single prefixes; a batch's big update ends the stream)."""
        with self.cv:
            self.seen = {}
        self.proc = subprocess.Popen(self.gobgp + ["monitor", "adj-in", "-j"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.follow, args=(self.proc,), daemon=True).start()
        time.sleep(0.5)  # the monitor subscribes before the first measured change

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def follow(self, proc):
        edge = {self.env["EDGE_UP_ADDR4"], self.env["EDGE_UP_ADDR6"]}
        for line in proc.stdout:
            t = now_ms()
            try:
                paths = json.loads(line)
            except ValueError:
                continue
            with self.cv:
                for p in paths if isinstance(paths, list) else []:
                    pfx = p.get("nlri", {}).get("prefix")
                    if p.get("neighbor-ip") not in edge:
                        continue
                    if p.get("withdrawal"):
                        self.seen.pop(pfx, None)
                    elif pfx not in self.seen:
                        self.seen[pfx] = t
                self.cv.notify_all()

    def wait_one(self, pfx, timeout):
        """Arrival time of pfx, or None on timeout."""
        deadline = time.time() + timeout
        with self.cv:
            while pfx not in self.seen:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cv.wait(left)
            return self.seen[pfx]

    def received(self):
        out = subprocess.run(self.gobgp + ["neighbor", self.env["EDGE_UP_ADDR6"], "-j"],
                             capture_output=True, text=True)
        try:
            fams = json.loads(out.stdout).get("afi_safis", [])
        except ValueError:
            return -1
        return sum(f.get("state", {}).get("received", 0) for f in fams)

    def wait_count(self, n, timeout):
        """The time upstream first held exactly n prefixes from edge (IPv6), or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.received() == n:
                return now_ms()
            time.sleep(0.02)
        return None


def lab_env(name):
    env = {}
    with open(os.path.join(LAB, "run", name, "lab.env")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                env[k] = v.strip("'\"")
    return env


def signer(key_path):
    """A function message -> SPEC §4 signature (URL-safe base64 of RSA-PSS/SHA-256)."""
    try:
        import base64
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)

        def sign(msg):
            sig = key.sign(msg.encode(), padding.PSS(padding.MGF1(hashes.SHA256()),
                           padding.PSS.DIGEST_LENGTH), hashes.SHA256())
            return base64.b64encode(sig).decode().translate(str.maketrans("+=/", "-_~"))
    except ImportError:
        def sign(msg):
            sh = ("printf %s \"$1\" | openssl dgst -sha256 -sigopt rsa_padding_mode:pss "
                  "-sigopt rsa_pss_saltlen:-1 -sign \"$2\" | openssl base64 -A | tr -- '+=/' '-_~'")
            return subprocess.run(["sh", "-c", sh, "sh", msg, key_path], check=True,
                                  capture_output=True, text=True).stdout
    return sign


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def baseline(env, up, singles, batch):
    """The router alone: lab/announce edge (include + configure) until upstream holds it."""
    lat, held = [], []
    up.start()
    for p in singles:
        held.append(p)
        t0 = now_ms()
        run(os.path.join(LAB, "announce"), "edge", *held, stdout=subprocess.DEVNULL)
        t = up.wait_one(p, 30)
        if t is None:
            sys.exit(f"baseline: upstream never got {p}")
        lat.append(t - t0)
    up.stop()
    t0 = now_ms()
    run(os.path.join(LAB, "announce"), "edge", *batch, stdout=subprocess.DEVNULL)
    t = up.wait_count(len(batch), 120)
    if t is None:
        sys.exit(f"baseline: upstream never held the whole batch ({up.received()})")
    batch_ms = t - t0
    run(os.path.join(LAB, "announce"), "edge", stdout=subprocess.DEVNULL)
    if up.wait_count(0, 120) is None:
        sys.exit("baseline: upstream kept routes after the include was emptied")
    return lat, batch_ms


def list_prefixes(api):
    """Every public prefix, page by page: GET /v1/prefixes answers at most 500 at a time and
    names the next page in next_cursor."""
    out, cursor = [], None
    while True:
        st, body = api.call("GET", "/v1/prefixes?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        if st >= 300:
            sys.exit(f"GET /v1/prefixes: {st} {body}")
        out += body.get("prefixes", [])
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def provision(api, pool, pfxs, sign, expires):
    msgs = {p: f"1|prefixd|{OWNER}|{p}|{expires}|SHA256|RSAPSS" for p in pfxs}
    st, body = api.call("POST", "/v1/auth/message", {"cidr": pfxs[0], "expires": expires})
    if body.get("message") != msgs[pfxs[0]]:
        sys.exit(f"prefixd's auth message differs from SPEC §4: {body}")
    with ThreadPoolExecutor(max_workers=4) as ex:
        sigs = dict(zip(pfxs, ex.map(lambda p: sign(msgs[p]), pfxs)))
    for p in pfxs:
        st, body = api.call("POST", f"/v1/pools/{pool}/provision",
                            {"cidr": p, "auth_message": msgs[p], "auth_signature": sigs[p]})
        if st >= 300:
            sys.exit(f"provision {p}: {st} {body}")
    deadline = time.time() + 600
    while time.time() < deadline:
        listed = list_prefixes(api)
        states = {x["cidr"]: x["state"] for x in listed}
        if all(states.get(p) == "provisioned" for p in pfxs):
            return
        bad = [p for p in pfxs if states.get(p) == "failed-provision"]
        if bad:
            sys.exit(f"provisioning failed for {bad[0]}: {next(x for x in listed if x['cidr'] == bad[0])}")
        time.sleep(0.5)
    sys.exit("provisioning did not finish in 600 s")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__.split("\n\n")[1])
    build, n_single, n_batch = args[0], 100, 10000
    for i, a in enumerate(args):
        if a == "--single":
            n_single = int(args[i + 1])
        elif a == "--batch":
            n_batch = int(args[i + 1])
    prefixd = os.path.join(build, "prefixd")
    pctl = os.environ.get("PCTL_BIN") or os.path.join(build, "prefixctl")
    name = f"ba{os.getpid()}"
    lab_up = subprocess.run([os.path.join(LAB, "up"), name], env={**os.environ,
                            "LAB_OWNER_PID": str(os.getpid())}, capture_output=True, text=True)
    if lab_up.returncode != 0:
        sys.exit(f"lab/up failed: {lab_up.stderr}")
    os.environ["LAB_NAME"] = name
    tmp = tempfile.mkdtemp(prefix="bench_advertise.")
    pd = up = None
    try:
        env = lab_env(name)
        # Baseline prefixes from 2001:db8:1000::, prefixd's from 2001:db8:4000::.
        b_single, b_batch = prefixes(0x1000, n_single), prefixes(0x1000 + n_single, n_batch)
        p_single, p_batch = prefixes(0x4000, n_single), prefixes(0x4000 + n_single, n_batch)
        vrps = os.path.join(tmp, "vrps.json")
        with open(vrps, "w") as f:
            json.dump({"roas": [{"prefix": "2001:db8::/32", "maxLength": 48, "asn": "AS64500"}]}, f)
        run(os.path.join(LAB, "rpki", "set-vrps"), "--file", vrps, stdout=subprocess.DEVNULL)
        up = Upstream(env)
        base_lat, base_batch = baseline(env, up, b_single, b_batch)

        # One key and certificate; each prefix's RDAP record (auth.rdap_dir) carries it.
        auth = os.path.join(tmp, "auth")
        run(os.path.join(LAB, "rdap", "make-cert"), "2001:db8::/32", auth, stdout=subprocess.DEVNULL)
        loader = importlib.machinery.SourceFileLoader("make_record", os.path.join(LAB, "rdap", "make-record"))
        spec = importlib.util.spec_from_loader("make_record", loader)
        mk = importlib.util.module_from_spec(spec)
        loader.exec_module(mk)
        with open(os.path.join(auth, "cert.pem")) as f:
            pem = [x.strip() for x in f if x.strip()]
        rdap = os.path.join(tmp, "rdap")
        os.mkdir(rdap)
        for p in p_single + p_batch:
            net = ipaddress.ip_network(p)
            with open(os.path.join(rdap, f"{net.network_address}_{net.prefixlen}.json"), "w") as f:
                json.dump(mk.record(net, pem), f)
        sock = os.path.join(tmp, "prefixd.sock")
        conf = os.path.join(tmp, "prefixd.conf")
        with open(conf, "w") as f:
            f.write(f"[daemon]\nstate_dir = {tmp}/state\nsocket = {sock}\nlog_level = warn\n"
                    f"[rpki]\ncache = {env['RTR_HOST']}:{env['RTR_PORT']}\n"
                    f"[bird]\nsocket = {env['EDGE_BIRD_SOCK']}\nconfig = {env['EDGE_BIRD_CONF']}\n"
                    f"include = {env['EDGE_BIRD_INCLUDE']}\n[bgp]\norigin_asn = 64500\n"
                    f"[auth]\nowner_id = {OWNER}\nrdap_dir = {rdap}\n"
                    "allow_unproven_asn = true\n")   # the origin's proof is not measured
        pd = subprocess.Popen(["ip", "netns", "exec", env["NS_EDGE"], prefixd, "-c", conf],
                              stdout=open(os.path.join(tmp, "prefixd.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.1)
        api = UnixHTTP(sock)
        # Until prefixd holds the bench's ROA (StayRTR re-reads its file every 2 s).
        while time.time() < deadline:
            st, body = api.call("GET", f"/v1/rpki/validate?prefix={p_single[0]}&asn=64500")
            if body.get("state") == "valid":
                break
            time.sleep(0.2)
        else:
            sys.exit(f"prefixd never validated {p_single[0]} for AS64500: {body}")
        st, body = api.call("POST", "/v1/pools", {"name": "bench", "scope": "public-default",
                                                  "family": "ipv6", "origin_asn": 64500})
        if st >= 300:
            sys.exit(f"pool create: {st} {body}")
        expires = time.strftime("%Y%m%d", time.gmtime(time.time() + 30 * 86400))
        t_prov = now_ms()
        provision(api, "bench", p_single + p_batch, signer(os.path.join(auth, "key.pem")), expires)
        prov_ms = now_ms() - t_prov

        lat, call = [], []
        up.start()
        for p in p_single:
            t0 = now_ms()
            run(pctl, "-s", sock, "advertise", p, stdout=subprocess.DEVNULL)
            call.append(now_ms() - t0)
            t = up.wait_one(p, 30)
            if t is None:
                sys.exit(f"upstream never got {p}")
            lat.append(t - t0)
        up.stop()
        # prefixctl takes at most 4,096 CIDRs (src/ctl/ctl.h CTL_MAX_POS): the batch goes through the
        # same API call prefixctl makes, POST /v1/advertise, on a fresh connection.
        batch_api = UnixHTTP(sock)
        t0 = now_ms()
        st, body = batch_api.call("POST", "/v1/advertise", {"cidrs": p_batch})
        batch_call = now_ms() - t0
        if st >= 300:
            sys.exit(f"batch advertise: {st} {json.dumps(body)[:300]}")
        t = up.wait_count(n_single + n_batch, 120)
        if t is None:
            sys.exit(f"upstream never held the whole batch ({up.received()})")
        batch_ms = max(t - t0, 0)
    finally:
        if up is not None:
            up.stop()
        if pd is not None:
            pd.terminate()
            pd.wait()
        subprocess.run([os.path.join(LAB, "down"), name], stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp])

    def r(a, b):
        return f"{a / b:.2f}"
    p50, p99, b50, b99 = pct(lat, 50), pct(lat, 99), pct(base_lat, 50), pct(base_lat, 99)
    print(f"## bench_advertise ({time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, "
          f"{os.cpu_count()} CPUs)\n")
    print(f"Command: `tests/bench/bench_advertise.py BUILD_DIR --single {n_single} --batch {n_batch}`\n")
    print("| measure (until upstream's Adj-RIB-In holds it) | prefixd: `prefixctl advertise` | "
          "baseline: include + `birdc configure` | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| one prefix, p50 (n={n_single}) | {p50:.0f} ms | {b50:.0f} ms | {r(p50, b50)} | <= 1000 ms |")
    print(f"| one prefix, p99 | {p99:.0f} ms | {b99:.0f} ms | {r(p99, b99)} | |")
    print(f"| batch of {n_batch} /48s | {batch_ms:.0f} ms | {base_batch:.0f} ms | "
          f"{r(batch_ms, base_batch)} | <= 5000 ms |")
    print(f"\n`prefixctl advertise` itself returned after p50 {pct(call, 50):.0f} ms (one prefix; it "
          f"waits for BIRD's read-back and confirm); the batch went through `POST /v1/advertise` "
          f"(prefixctl takes at most 4,096 CIDRs), which answered after {batch_call:.0f} ms. "
          f"Provisioning the {n_single + n_batch} prefixes took {prov_ms / 1000:.1f} s.")
    ok = p50 <= 1000 and batch_ms <= 5000
    print(f"\nTargets {'met' if ok else 'NOT met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
