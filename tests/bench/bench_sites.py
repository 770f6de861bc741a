#!/usr/bin/env python3
"""bench_sites.py — issue 17's sites benchmark (run it through bench_sites.sh): advertise to
two sites next to the same on one site, in one run, through the real prefixd instances, BIRDs
and GoBGP of a `lab/up --sites` lab.

    tests/bench/bench_sites.sh BUILD_DIR [--single N] [--batch N]        (root; ~2-4 min)

Two prefixd on the lab's PostgreSQL: site edge1 beside edge's BIRD, site edge2 beside edge2's;
every call goes to edge1's instance (the other site's part travels through the store). Timed
from the call until upstream's Adj-RIB-In holds every path asked for:
  - one prefix, N times, alternating: `advertise P --site edge1` (one path) and
    `advertise Q --all-sites` (two paths: from edge1 and from edge2); p50 / p99;
  - one batch of M prefixes (POST /v1/advertise, the call prefixctl makes) with
    "sites": ["edge1"] (M paths) and with "all_sites": true (2M paths), four runs in the order
    one, two, two, one; after each, the batch is withdrawn at every site and upstream polled
    back to its count, so every run starts from the same routers (before, the two-site batch
    always ran second, on an edge1 BIRD already holding the one-site batch's 1,000 routes).
    Upstream is polled while the call runs: the call also waits for the other site's result
    to be recorded in the store, which is not the measured event.
The single-prefix cases use their own prefixes. Single prefixes are stamped from `gobgp
monitor adj-in -j` (per neighbour, on arrival); batches by polling every neighbour's
received-prefix counter with one `gobgp neighbor -j` (the monitor cannot carry thousands of
paths in one update; one call for both neighbours costs the one- and two-site runs alike).
The prefixes are IPv6 /48s from 2001:db8::/32 (documentation space); one ROA 2001:db8::/32-48
for AS 64500 (lab/rpki/set-vrps --file) and one RDAP certificate (lab/rdap/make-cert,
make-record) cover them; all are provisioned at edge1's instance before edge2's starts (an
instance loads the public prefixes at start).
[site] lease_renew is the default 2 s (PREFIXD_BENCH_LEASE_RENEW=N sets another, e.g. 5 to
measure a build from before the desires of a request were written in one statement: its 2,000
round trips for 1,000 prefixes at two sites blocked the loop long enough to lose the lease).
Prints a Markdown table with the ratio two sites / one site. Target: <= 1.5.
"""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("bench_advertise", os.path.join(HERE, "bench_advertise.py"))
_spec = importlib.util.spec_from_loader("bench_advertise", _loader)
ba = importlib.util.module_from_spec(_spec)
_loader.exec_module(ba)
LAB, now_ms, run = ba.LAB, ba.now_ms, ba.run


class Upstream:
    """Arrival times of (neighbour, prefix) at upstream, and received-prefix counters."""

    def __init__(self, env):
        self.env, self.seen, self.cv, self.proc = env, {}, threading.Condition(), None
        host, port = env["GOBGP_API"].rsplit(":", 1)
        self.gobgp = ["ip", "netns", "exec", env["NS_UPSTREAM"], "gobgp", "-u", host, "-p", port]

    def start(self):
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
        for line in proc.stdout:
            t = now_ms()
            try:
                paths = json.loads(line)
            except ValueError:
                continue
            with self.cv:
                for p in paths if isinstance(paths, list) else []:
                    key = (p.get("neighbor-ip"), p.get("nlri", {}).get("prefix"))
                    if not p.get("withdrawal") and key not in self.seen:
                        self.seen[key] = t
                self.cv.notify_all()

    def wait_all(self, keys, timeout):
        """The time the last of keys arrived, or None on timeout."""
        deadline = time.time() + timeout
        with self.cv:
            while not all(k in self.seen for k in keys):
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cv.wait(left)
            return max(self.seen[k] for k in keys)

    def received_all(self):
        """{neighbour address: prefixes received}, every neighbour in one `gobgp neighbor`
        call (one process, whatever the number of sites: the poll costs both cases alike)."""
        out = subprocess.run(self.gobgp + ["neighbor", "-j"], capture_output=True, text=True)
        try:
            peers = json.loads(out.stdout)
        except ValueError:
            return {}
        counts = {}
        for peer in peers if isinstance(peers, list) else []:
            addr = peer.get("conf", {}).get("neighbor_address") or \
                peer.get("state", {}).get("neighbor_address")
            counts[addr] = sum(f.get("state", {}).get("received", 0)
                               for f in peer.get("afi_safis", []))
        return counts

    def wait_counts(self, want, timeout):
        """The time every neighbour of want {nbr: n} first held n prefixes, or None."""
        deadline, left = time.time() + timeout, dict(want)
        while time.time() < deadline:
            have = self.received_all()
            for nbr in list(left):
                if have.get(nbr, -1) == left[nbr]:
                    del left[nbr]
            if not left:
                return now_ms()
            time.sleep(0.02)
        return None


def start_prefixd(env, prefixd, tmp, site, rdap):
    ns, bird = ("NS_EDGE", "EDGE") if site == "edge1" else ("NS_EDGE2", "EDGE2")
    sock, conf = os.path.join(tmp, f"{site}.sock"), os.path.join(tmp, f"{site}.conf")
    with open(conf, "w") as f:
        f.write(f"[daemon]\nstate_dir = {tmp}/{site}-state\nsocket = {sock}\nlog_level = {os.environ.get('PREFIXD_BENCH_LOG_LEVEL', 'info')}\n"
                f"[store]\nbackend = postgresql\ndsn = {env['LAB_PG_DSN']}\n"
                f"[site]\nname = {site}\nlease_renew = {os.environ.get('PREFIXD_BENCH_LEASE_RENEW', '2')}\n"
                f"[rpki]\ncache = {env['RTR_HOST']}:{env['RTR_PORT']}\n"
                f"[bird]\nsocket = {env[bird + '_BIRD_SOCK']}\nconfig = {env[bird + '_BIRD_CONF']}\n"
                f"include = {env[bird + '_BIRD_INCLUDE']}\n[bgp]\norigin_asn = 64500\n"
                "[policy]\nmin_change_interval = 0\n"
                f"[auth]\nowner_id = {ba.OWNER}\nrdap_dir = {rdap}\n"
                "allow_unproven_asn = true\n")   # the origin's proof is not measured
    pd = subprocess.Popen(["ip", "netns", "exec", env[ns], prefixd, "-c", conf],
                          stdout=open(os.path.join(tmp, f"{site}.log"), "w"), stderr=subprocess.STDOUT)
    api, deadline = None, time.time() + 60
    while time.time() < deadline:
        try:
            if api is None and os.path.exists(sock):
                api = ba.UnixHTTP(sock)
            if api is not None:
                st, body = api.call("GET", "/v1/status")
                if body.get("site", {}).get("role") == "writer" and body.get("bird", {}).get("up"):
                    return pd, sock, api
        except OSError:
            api = None
        time.sleep(0.2)
    sys.exit(f"{site}'s prefixd did not become its site's writer with BIRD up (see {tmp}/{site}.log)")


def rdap_records(tmp, pfxs):
    """One key and certificate; each prefix's RDAP record (auth.rdap_dir) carries it."""
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
    import ipaddress
    for p in pfxs:
        net = ipaddress.ip_network(p)
        with open(os.path.join(rdap, f"{net.network_address}_{net.prefixlen}.json"), "w") as f:
            json.dump(mk.record(net, pem), f)
    return rdap, os.path.join(auth, "key.pem")


def change(sock, action, cidrs, sites):
    """POST /v1/advertise or /v1/withdraw at edge1's instance; None or the error."""
    body = {"cidrs": cidrs, **({"all_sites": True} if sites == "all" else {"sites": sites})}
    if action == "withdraw":
        body["confirm_large"] = True
    st, out = ba.UnixHTTP(sock).call("POST", f"/v1/{action}", body)
    if st >= 300:
        return f"{action} {cidrs[0]}.. ({len(cidrs)}) at {sites}: {st} {json.dumps(out)[:400]}"
    return None


def advertise(sock, cidrs, sites):
    err = change(sock, "advertise", cidrs, sites)
    if err:
        sys.exit(err)


def batch_case(sock, up, pfxs, sites, nbrs):
    """Advertise pfxs at sites; ms until upstream holds every path. Upstream is polled while
    the call runs (the call also waits for the other site's result to be recorded, which is
    not the measured event). Afterwards the batch is withdrawn at every site and upstream
    polled back to where it was, so every case starts from the same routers."""
    base = up.received_all()
    want = {nbr: base.get(nbr, 0) + len(pfxs) for nbr in nbrs}
    res = {}
    th = threading.Thread(target=lambda: res.update(err=change(sock, "advertise", pfxs, sites)))
    t0 = now_ms()
    th.start()
    t = up.wait_counts(want, 300)
    th.join()
    if res.get("err"):
        sys.exit(res["err"])
    if t is None:
        sys.exit(f"upstream never held the batch at {sites}: {up.received_all()} want {want}")
    err = change(sock, "withdraw", pfxs, "all")
    if err:
        sys.exit(err)
    if up.wait_counts({nbr: base.get(nbr, 0) for nbr in nbrs}, 300) is None:
        sys.exit(f"upstream did not drop the batch: {up.received_all()} want {base}")
    return t - t0


def measure(env, sock, up, n_single, n_batch):
    e1, e2 = env["EDGE_UP_ADDR6"], env["EDGE2_UP_ADDR6"]
    one, two = ba.prefixes(0x4000, n_single), ba.prefixes(0x5000, n_single)
    b = ba.prefixes(0x6000, n_batch)
    lat1, lat2 = [], []
    up.start()
    for p, q in zip(one, two):
        t0 = now_ms()
        advertise(sock, [p], ["edge1"])
        t = up.wait_all([(e1, p)], 30)
        if t is None:
            sys.exit(f"upstream never got {p} from edge1")
        lat1.append(t - t0)
        t0 = now_ms()
        advertise(sock, [q], "all")
        t = up.wait_all([(e1, q), (e2, q)], 30)
        if t is None:
            sys.exit(f"upstream never got {q} from both edge1 and edge2")
        lat2.append(t - t0)
    up.stop()
    # The same batch, one site and two sites in the order one, two, two, one: each case
    # starts from the same routers (batch_case withdraws), and neither runs always first.
    batch = {"one": [], "two": []}
    for name in ("one", "two", "two", "one"):
        sites, nbrs = (["edge1"], [e1]) if name == "one" else ("all", [e1, e2])
        batch[name].append(batch_case(sock, up, b, sites, nbrs))
    return lat1, lat2, batch


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__.split("\n\n")[1])
    build, n_single, n_batch = args[0], 20, 1000
    for i, a in enumerate(args):
        if a == "--single":
            n_single = int(args[i + 1])
        elif a == "--batch":
            n_batch = int(args[i + 1])
    prefixd = os.path.join(build, "prefixd")
    name = f"bs{os.getpid()}"
    lab_up = subprocess.run([os.path.join(LAB, "up"), "--sites", name], env={**os.environ,
                            "LAB_OWNER_PID": str(os.getpid())}, capture_output=True, text=True)
    if lab_up.returncode != 0:
        sys.exit(f"lab/up --sites failed: {lab_up.stderr}")
    os.environ["LAB_NAME"] = name
    tmp = tempfile.mkdtemp(prefix="bench_sites.")
    pds, up = [], None
    try:
        env = ba.lab_env(name)
        pfxs = ba.prefixes(0x4000, n_single) + ba.prefixes(0x5000, n_single) + \
            ba.prefixes(0x6000, n_batch)
        vrps = os.path.join(tmp, "vrps.json")
        with open(vrps, "w") as f:
            json.dump({"roas": [{"prefix": "2001:db8::/32", "maxLength": 48, "asn": "AS64500"}]}, f)
        run(os.path.join(LAB, "rpki", "set-vrps"), "--file", vrps, stdout=subprocess.DEVNULL)
        rdap, key = rdap_records(tmp, pfxs)
        pd, sock, api = start_prefixd(env, prefixd, tmp, "edge1", rdap)
        pds.append(pd)
        deadline = time.time() + 30
        while time.time() < deadline:   # until prefixd holds the bench's ROA
            st, body = api.call("GET", f"/v1/rpki/validate?prefix={pfxs[0]}&asn=64500")
            if body.get("state") == "valid":
                break
            time.sleep(0.2)
        else:
            sys.exit(f"prefixd never validated {pfxs[0]} for AS64500: {body}")
        st, body = api.call("POST", "/v1/pools", {"name": "bench", "scope": "public-default",
                                                  "family": "ipv6", "origin_asn": 64500})
        if st >= 300:
            sys.exit(f"pool create: {st} {body}")
        expires = time.strftime("%Y%m%d", time.gmtime(time.time() + 30 * 86400))
        t_prov = now_ms()
        ba.provision(api, "bench", pfxs, ba.signer(key), expires)
        prov_ms = now_ms() - t_prov
        pds.append(start_prefixd(env, prefixd, tmp, "edge2", rdap)[0])
        live_since, deadline = None, time.time() + 120
        while time.time() < deadline:   # edge2 live, as edge1 sees it, for 5 s in a row
            st, body = api.call("GET", "/v1/sites")
            live = any(x["site"] == "edge2" and x["live"] for x in body.get("sites", []))
            live_since = (live_since or time.time()) if live else None
            if live_since is not None and time.time() - live_since >= 5:
                break
            time.sleep(0.5)
        else:
            sys.exit(f"edge2 never stayed live for 5 s: {body}")
        up = Upstream(env)
        lat1, lat2, batch = measure(env, sock, up, n_single, n_batch)
    except BaseException:
        for site in ("edge1", "edge2"):
            try:
                print(f"--- {site}: /v1/status site {ba.UnixHTTP(os.path.join(tmp, site + '.sock')).call('GET', '/v1/status')[1].get('site')}", file=sys.stderr)
            except OSError as e:
                print(f"--- {site}: {e}", file=sys.stderr)
        try:
            print(f"--- /v1/sites at {time.time():.0f}: {ba.UnixHTTP(os.path.join(tmp, 'edge1.sock')).call('GET', '/v1/sites')[1]}", file=sys.stderr)
        except OSError:
            pass
        for site in ("edge1", "edge2"):
            log = os.path.join(tmp, f"{site}.log")
            if os.path.exists(log):
                with open(log) as f:
                    print(f"--- {site}'s prefixd (last lines)\n" + "".join(f.readlines()[-15:]), file=sys.stderr)
        raise
    finally:
        if up is not None:
            up.stop()
        for pd in pds:
            pd.terminate()
            pd.wait()
        subprocess.run([os.path.join(LAB, "down"), name], stdout=subprocess.DEVNULL)
        if os.environ.get("PREFIXD_BENCH_KEEP"):
            print(f"kept {tmp} (PREFIXD_BENCH_KEEP)", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", tmp])

    p = ba.pct
    rows = [(f"one prefix, p50 (n={n_single} each, alternating)", p(lat2, 50), p(lat1, 50)),
            ("one prefix, p99", p(lat2, 99), p(lat1, 99)),
            (f"batch of {n_batch} /48s (POST /v1/advertise), mean of 2", sum(batch["two"]) / 2,
             sum(batch["one"]) / 2)]
    print(f"## bench_sites ({time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {os.cpu_count()} CPUs)\n")
    print(f"Command: `tests/bench/bench_sites.sh BUILD_DIR --single {n_single} --batch {n_batch}`\n")
    print("| advertise, until upstream's Adj-RIB-In holds every path | two sites (`all_sites`) | "
          "one site (`sites: [edge1]`) | ratio | target |")
    print("|---|---|---|---|---|")
    for what, two, one in rows:
        print(f"| {what} | {two:.0f} ms | {one:.0f} ms | {two / max(one, 1):.2f} | <= 1.50 |")
    print(f"\nBatch runs, in order one, two, two, one: {batch['one'][0]:.0f}, {batch['two'][0]:.0f}, "
          f"{batch['two'][1]:.0f}, {batch['one'][1]:.0f} ms.")
    print(f"\nProvisioning the {len(pfxs)} prefixes (PostgreSQL store) took {prov_ms / 1000:.1f} s.")
    ok = all(two <= 1.5 * max(one, 1) for _, two, one in rows)
    print(f"\nTarget {'met' if ok else 'NOT met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
