#!/usr/bin/env python3
"""A recording HTTP proxy between a test's clients and prefixd's unix socket.

Usage: api_recorder.py LISTEN_SOCK UPSTREAM_SOCK OUT.jsonl

Listens on LISTEN_SOCK; forwards every request unchanged to prefixd on UPSTREAM_SOCK (a new
upstream connection per request, so it survives daemon restarts); returns the answer unchanged
and appends one JSON line per exchange to OUT.jsonl:
  {"method", "path" (without the query), "query", "status", "content_type", "body"}.
Streamed answers (text/event-stream) are forwarded as they come and recorded without body.
Callers see the proxy's uid as their peer credential: use it only where every client is root.
"""
import http.client
import http.server
import json
import os
import socket
import socketserver
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("prefixd", timeout=600)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "unix"

    def record(self, status, ctype, body):
        path, _, query = self.path.partition("?")
        rec = {"method": self.command, "path": path, "query": query, "status": status,
               "content_type": ctype, "body": body}
        with Server.lock, open(self.server.out, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn = UnixHTTPConnection(self.server.upstream)
        try:
            conn.request(self.command, self.path, body=data, headers=headers)
            resp = conn.getresponse()
        except OSError as e:
            self.send_error(502, "upstream: %s" % e)
            return
        ctype = resp.getheader("Content-Type", "")
        if ctype.startswith("text/event-stream"):
            self.stream(resp, ctype)
            conn.close()
            return
        body = resp.read()
        conn.close()
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(resp.status, ctype, body.decode("utf-8", "replace"))

    def stream(self, resp, ctype):
        self.record(resp.status, ctype, None)
        self.close_connection = True
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = forward


def main():
    listen, upstream, out = sys.argv[1:4]
    if os.path.exists(listen):
        os.unlink(listen)
    srv = Server(listen, Handler)
    os.chmod(listen, 0o777)
    srv.upstream = upstream
    srv.out = out
    srv.serve_forever()


if __name__ == "__main__":
    main()
