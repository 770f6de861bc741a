#!/usr/bin/python3
"""bench_netaddr - the engine benchmark's workload done the way NetBox finds free space.

NetBox (ipam/models/ip.py, Prefix.get_available_prefixes / get_first_available_prefix)
builds netaddr.IPSet(parent) - netaddr.IPSet(children) on every request and walks the
result's CIDRs for the first block that fits. Each request costs O(number of children), so
the full workload (allocate all 65,536 /24s of a /8, release a random half, allocate them
again) would take hours. We measure the cost of one request at several numbers of existing
children (in phase 1 the first n /24s, since first fit hands them out in order; in phase 3 a
random half plus the refilled holes), interpolate linearly between the points, and sum that
over the exact sequence of child counts the workload goes through. Releases are counted as
free (a list removal), which flatters netaddr.

Run with Debian's python3-netaddr: /usr/bin/python3 tests/bench/bench_netaddr.py [SECONDS]
Prints one line: "netaddr ops_per_s=<float> points=<n:seconds_per_op,...> ..."
"""
import random
import sys
import time

import netaddr

PARENT = netaddr.IPNetwork("10.0.0.0/8")
TOTAL = 65536


def first_available(parent_set, children, plen):
    """NetBox's method: set difference, then the first free block that fits."""
    available = parent_set - netaddr.IPSet(children)
    for cidr in available.iter_cidrs():
        if cidr.prefixlen <= plen:
            return netaddr.IPNetwork("%s/%d" % (cidr.network, plen))
    return None


def cost_of(children, budget):
    """Seconds per request with these /24 children allocated."""
    parent_set = netaddr.IPSet([PARENT])
    reps, start = 0, time.perf_counter()
    while True:
        got = first_available(parent_set, children, 24)
        assert got is not None
        reps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget or reps >= 200:
            return elapsed / reps


def interpolate(points, n):
    for (n0, c0), (n1, c1) in zip(points, points[1:]):
        if n <= n1:
            return c0 + (c1 - c0) * (n - n0) / (n1 - n0)
    return points[-1][1]


def main():
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    all24 = list(PARENT.subnet(24))
    # phase 1: first fit hands out /24s in order, so the children are the first n
    p1 = [(n, cost_of(all24[:n], budget)) for n in (0, 8192, 32768, 65535)]
    # phase 3: a random half was released; the holes are refilled lowest first
    rng = random.Random(1)
    released = set(rng.sample(range(TOTAL), TOTAL // 2))
    kept = [all24[i] for i in range(TOTAL) if i not in released]
    holes = [all24[i] for i in sorted(released)]
    p3 = [(k, cost_of(kept + holes[:k], budget)) for k in (0, 8192, 16384, 32767)]
    total = sum(interpolate(p1, n) for n in range(TOTAL))
    total += sum(interpolate(p3, k) for k in range(TOTAL // 2))
    ops = TOTAL + TOTAL // 2 + TOTAL // 2   # releases counted as free
    print("netaddr ops_per_s=%.3f est_total_s=%.1f phase1=%s phase3=%s netaddr_version=%s" % (
        ops / total, total,
        ",".join("%d:%.6f" % (n, c) for n, c in p1),
        ",".join("%d:%.6f" % (n, c) for n, c in p3), netaddr.__version__))


if __name__ == "__main__":
    main()
