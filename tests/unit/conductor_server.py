#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A stand-in conductor for the router's tests: HTTPS on 127.0.0.1 with a
client certificate required (the conductor's wire contract of
Documentation/conductor.md), serving signed documents the test made.

Prints "PORT <n>" once listening; exits by itself after --lifetime
seconds. Files in --root, each replaced atomically by the test:

  current        "<epoch hex> <generation>": the conductor's state
  full.der       the signed full set of the current generation
  delta-<G>.der  the signed delta from generation G to the current one
  refuse         while present: 403 with its text
  max-wait       seconds a request is held at most (default 60)
  requests.log   appended: "<path?query> <client CN>" per request
  inm.log        appended: "<path?query> <If-None-Match, or ->" per request

GET /v1/revocation                     full.der
GET /v1/revocation?epoch=E&since=G&wait=W
    E, G the current state: held until "current" changes (or W, or
    max-wait, seconds pass: 304); another epoch: full.der; else
    delta-G.der if there is one, else full.der. ETag "E-G" of the answer.
"""
import argparse
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read(root, name, default=None):
    try:
        with open(os.path.join(root, name), "rb") as f:
            return f.read()
    except OSError:
        return default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="application/octet-stream",
             etag=None):
        self.send_response(code)
        if etag:
            self.send_header("ETag", etag)
        if code != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304:
            self.wfile.write(body)

    def client_cn(self):
        cert = self.connection.getpeercert() or {}
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return "-"

    def current(self):
        cur = read(self.root, "current", b"").decode().split()
        return (cur[0], int(cur[1])) if len(cur) == 2 else (None, None)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with open(os.path.join(self.root, "requests.log"), "a") as f:
            f.write("%s %s\n" % (self.path, self.client_cn()))
        with open(os.path.join(self.root, "inm.log"), "a") as f:
            f.write("%s %s\n" % (self.path,
                                 self.headers.get("If-None-Match", "-")))
        if u.path != "/v1/revocation":
            return self.send(404, b"no such resource\n", "text/plain")
        refuse = read(self.root, "refuse")
        if refuse is not None:
            return self.send(403, refuse, "text/plain")
        epoch, gen = self.current()
        if "epoch" in q and q["epoch"] == epoch and int(q["since"]) == gen:
            t0 = time.monotonic()
            while self.current() == (epoch, gen) and \
                    time.monotonic() - t0 < min(
                        float(q.get("wait", 0)),
                        float(read(self.root, "max-wait", b"60"))):
                time.sleep(0.05)
            if self.current() == (epoch, gen):
                return self.send(304, etag='"%s-%d"' % (epoch, gen))
            epoch, gen = self.current()
        body = None
        if "epoch" in q and q["epoch"] == epoch:
            body = read(self.root, "delta-%s.der" % q["since"])
        if body is None:
            body = read(self.root, "full.der", b"")
        self.send(200, body, etag='"%s-%d"' % (epoch, gen))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    Handler.root = a.root
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
