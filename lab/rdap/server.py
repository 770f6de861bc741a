#!/usr/bin/env python3
"""lab/rdap/server.py — a small RDAP server for the lab (RFC 9082 ip and autnum queries).

    server.py --bind ADDR --port PORT --dir DIR

Serves the JSON records in DIR (written by lab/rdap/make-record, one per network) for
    GET /ip/<address>            the most specific record containing the address
    GET /ip/<address>/<length>   the most specific record containing that whole network
    GET /autnum/<number>         the autnum record whose startAutnum..endAutnum holds it
with Content-Type application/rdap+json; 404 with an RDAP error object when no record covers
the query, 400 for a malformed one. DIR is read on every request, so a test may add, change or
remove records while the server runs. It binds ADDR only (the lab's svc address), never every
address. lab/up runs it in the namespace NAME-svc; it logs each request on stderr.
"""
import argparse
import ipaddress
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_RECORD = 1024 * 1024


def record_networks(rec):
    """The networks a record says it covers: its cidr0_cidrs, else start..end."""
    nets = []
    for c in rec.get("cidr0_cidrs") or []:
        addr = c.get("v4prefix") or c.get("v6prefix")
        if addr is not None:
            nets.append(ipaddress.ip_network("%s/%s" % (addr, c.get("length")), strict=False))
    if not nets and "startAddress" in rec and "endAddress" in rec:
        nets.extend(ipaddress.summarize_address_range(
            ipaddress.ip_address(rec["startAddress"]), ipaddress.ip_address(rec["endAddress"])))
    return nets


def find_record(directory, query):
    """(body bytes) of the most specific record in directory covering query, or None."""
    best, best_len = None, -1
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not name.endswith(".json") or os.path.getsize(path) > MAX_RECORD:
            continue
        try:
            with open(path, "rb") as f:
                body = f.read()
            nets = record_networks(json.loads(body))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        for net in nets:
            if net.version == query.version and query.subnet_of(net) and net.prefixlen > best_len:
                best, best_len = body, net.prefixlen
    return best


def find_autnum(directory, asn):
    """(body bytes) of the narrowest autnum record in directory holding asn, or None."""
    best, best_span = None, None
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not name.endswith(".json") or os.path.getsize(path) > MAX_RECORD:
            continue
        try:
            with open(path, "rb") as f:
                body = f.read()
            rec = json.loads(body)
            first, last = int(rec["startAutnum"]), int(rec.get("endAutnum", rec["startAutnum"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
        if rec.get("objectClassName") == "autnum" and first <= asn <= last and \
                (best_span is None or last - first < best_span):
            best, best_span = body, last - first
    return best


def parse_query(path):
    """The network an /ip/ path asks for, or None when it is malformed."""
    if not path.startswith("/ip/"):
        return None
    text = path[len("/ip/"):].split("?", 1)[0]
    try:
        if "/" in text:
            return ipaddress.ip_network(text, strict=False)
        return ipaddress.ip_network(ipaddress.ip_address(text))
    except ValueError:
        return None


class Handler(BaseHTTPRequestHandler):
    server_version = "prefixd-lab-rdap/1"

    def reply(self, status, body, head_only):
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def error(self, status, title, head_only):
        body = json.dumps({"rdapConformance": ["rdap_level_0"], "errorCode": status,
                           "title": title}).encode()
        self.reply(status, body, head_only)

    def answer(self, head_only):
        if self.path.startswith("/autnum/"):
            text = self.path[len("/autnum/"):].split("?", 1)[0]
            if not text.isdigit() or not 0 < int(text) < 4294967296:
                self.error(400, "Bad Request: expected /autnum/NUMBER", head_only)
                return
            body = find_autnum(self.server.rdap_dir, int(text))
            if body is None:
                self.error(404, "Not Found", head_only)
            else:
                self.reply(200, body, head_only)
            return
        query = parse_query(self.path)
        if query is None:
            self.error(400, "Bad Request: expected /ip/ADDRESS or /ip/ADDRESS/LENGTH", head_only)
            return
        body = find_record(self.server.rdap_dir, query)
        if body is None:
            self.error(404, "Not Found", head_only)
        else:
            self.reply(200, body, head_only)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.answer(False)

    def do_HEAD(self):  # noqa: N802
        self.answer(True)


def main():
    ap = argparse.ArgumentParser(description="lab RDAP server")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    if not os.path.isdir(args.dir):
        sys.exit("server.py: %s is not a directory" % args.dir)
    httpd = ThreadingHTTPServer((args.bind, args.port), Handler)
    httpd.rdap_dir = args.dir
    httpd.daemon_threads = True
    sys.stderr.write("rdap: serving %s on %s:%d\n" % (args.dir, args.bind, args.port))
    sys.stderr.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
