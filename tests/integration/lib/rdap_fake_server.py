#!/usr/bin/env python3
"""rdap_fake_server.py — a hostile RDAP server on loopback for tests/integration/test_rdap_*.sh.

    rdap_fake_server.py --dir DIR --port-file FILE

Binds 127.0.0.1 on a port the kernel picks and writes the port number to FILE once listening
(tests poll for it). The first path segment chooses the behaviour, the rest is an RFC 9082
query (/ip/ADDR/LEN):

    /ok/ip/A/L      200 with DIR/A_L.json (404 when absent)
    /ok/autnum/N    200 with DIR/ASN.json (an autnum record, issue 21; 404 when absent)
    /404/ip/...     404 with an RDAP error object
    /hang/ip/...    accepts, reads the request, never answers (until the client gives up)
    /slow/ip/...    sends headers then dribbles one byte a second, never finishing
    /big/ip/...     200 with a 5 MB JSON document (no Content-Length; chunked by closing)
    /bigcl/ip/...   200 announcing 5 MB in Content-Length
    /bad/ip/...     200 with malformed JSON
    /redirect-file/ip/...  302 to file:///etc/passwd
    /redirect-host/ip/...  302 to the same path under /ok/ on http://localhost:PORT (another host)
    /redirect-same/ip/...  302 to the same path under /ok/ on this host
    /secret/ip/...  200 with a JSON object that is not an RDAP record (an intranet page)

Logs each request on stderr when it arrives ("rdap-fake: request PATH") and when answered. Stops on SIGTERM.
"""
import argparse
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIG = 5 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    server_version = "rdap-fake/1"
    protocol_version = "HTTP/1.0"

    def send(self, status, body, length=True):
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = self.path.split("/", 2)
        mode = parts[1] if len(parts) > 1 else ""
        query = "/" + parts[2] if len(parts) > 2 else ""
        sys.stderr.write("rdap-fake: request %s\n" % self.path)
        sys.stderr.flush()
        if mode == "hang":
            time.sleep(3600)
        elif mode == "slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(3600):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1)
        elif mode == "404":
            self.send(404, b'{"errorCode":404,"title":"Not Found"}')
        elif mode == "big":
            self.send_response(200)
            self.end_headers()
            chunk = b'{"pad":"' + b"x" * 65536
            sent = 0
            while sent < BIG:
                self.wfile.write(chunk)
                sent += len(chunk)
        elif mode == "bigcl":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            self.wfile.write(b"{" + b" " * (BIG - 2) + b"}")
        elif mode == "bad":
            self.send(200, b'{"startAddress": "192.0.2.0", "remarks": [')
        elif mode == "redirect-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif mode in ("redirect-host", "redirect-same"):
            host = "localhost" if mode == "redirect-host" else "127.0.0.1"
            self.send_response(302)
            self.send_header("Location", "http://%s:%d/ok%s" % (
                host, self.server.server_address[1], query))
            self.end_headers()
        elif mode == "secret":
            self.send(200, b'{"internal":"TOPSECRET-admin-page"}')
        elif mode == "ok" and (query.startswith("/ip/") or query.startswith("/autnum/")):
            if query.startswith("/ip/"):
                name = query[len("/ip/"):].replace("/", "_") + ".json"
            else:
                name = "AS" + query[len("/autnum/"):] + ".json"
            path = os.path.join(self.server.rdap_dir, os.path.basename(name))
            try:
                with open(path, "rb") as f:
                    self.send(200, f.read())
            except OSError:
                self.send(404, b'{"errorCode":404,"title":"Not Found"}')
        else:
            self.send(400, b'{"errorCode":400,"title":"Bad Request"}')

    def log_message(self, fmt, *args):
        sys.stderr.write("rdap-fake: " + (fmt % args) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.rdap_dir = args.dir
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
