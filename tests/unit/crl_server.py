#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small HTTP server for the CRL fetcher's tests, on 127.0.0.1 only.

Prints "PORT <n>" on stdout once listening, and exits by itself after
--lifetime seconds (default 120) so a crashed test cannot leave it behind.
With --tls-cert/--tls-key it speaks HTTPS instead.

  GET /crl/<name>        file <root>/<name> with ETag (sha256 of the bytes)
                         and Last-Modified; If-None-Match / If-Modified-Since
                         answered with 304. While <root>/<name>.chunked
                         exists the 200 goes out chunked, without a
                         Content-Length (a size cap must be enforced while
                         reading).
                         While <root>/<name>.gzip (or .deflate) exists, the
                         answer is instead (validators ignored, always a
                         200) a compression bomb: that many zero
                         bytes (the marker's text), compressed, with
                         Content-Encoding: gzip (deflate).
  GET /bomb/<n>?enc=<e>  n zero bytes compressed with e (gzip or deflate),
                         sent with Content-Encoding: e and the compressed
                         length; X-Plain-Length: n
  GET /chunked/<n>       n bytes, Transfer-Encoding: chunked, no length
  GET /length/<n>        n bytes with Content-Length: n
  GET /slow/<s>          headers and 16 bytes, then stalls s seconds
  GET /redirect?to=<u>   302 to u (any scheme)
  GET /status/<code>     that status with a short body
  GET /hits              number of /crl requests so far (text)
"""
import argparse
import email.utils
import functools
import hashlib
import os
import ssl
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HITS = 0
LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def bomb(n, enc):
    """n zero bytes compressed; deflate in HTTP is the zlib format."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31 if enc == "gzip" else 15)
    zeros = bytes(1 << 20)
    body = b"".join(c.compress(zeros) for _ in range(n >> 20))
    return body + c.compress(bytes(n & ((1 << 20) - 1))) + c.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def send_body(self, code, body, ctype="application/octet-stream", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/", 1)
        route, arg = parts[0], parts[1] if len(parts) > 1 else ""
        handler = getattr(self, "route_" + route, None)
        if handler is None:
            self.send_body(404, b"no such route\n", "text/plain")
            return
        try:
            handler(arg, urllib.parse.parse_qs(url.query))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route_crl(self, name, _q):
        global HITS
        with LOCK:
            HITS += 1
        path = os.path.join(self.root, os.path.basename(name))
        try:
            with open(path, "rb") as f:
                body = f.read()
            mtime = os.stat(path).st_mtime
        except OSError:
            self.send_body(404, b"no such CRL\n", "text/plain")
            return
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
        lm = email.utils.formatdate(int(mtime), usegmt=True)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = inm == etag if inm is not None else (
            ims is not None and email.utils.parsedate_to_datetime(ims).timestamp() >= int(mtime))
        hdrs = (("ETag", etag), ("Last-Modified", lm))
        for enc in ("gzip", "deflate"):  # hostile: validators ignored
            if os.path.exists(path + "." + enc):
                with open(path + "." + enc) as f:
                    self.send_bomb(int(f.read()), enc, hdrs)
                return
        if fresh:
            self.send_response(304)
            for k, v in hdrs:
                self.send_header(k, v)
            self.end_headers()
            return
        if os.path.exists(path + ".chunked"):
            self.send_chunked(body, "application/pkix-crl", hdrs)
            return
        self.send_body(200, body, "application/pkix-crl", hdrs)

    def send_chunked(self, body, ctype, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        for at in range(0, len(body), 16384):
            c = body[at:at + 16384]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
        self.wfile.write(b"0\r\n\r\n")

    def send_bomb(self, n, enc, extra=()):
        body = bomb(n, enc)
        self.send_body(200, body, "application/pkix-crl",
                       (("Content-Encoding", enc),
                        ("X-Plain-Length", str(n))) + tuple(extra))

    def route_bomb(self, n, q):
        self.send_bomb(int(n), q.get("enc", ["gzip"])[0])

    def route_chunked(self, n, _q):
        self.send_chunked(b"A" * int(n), "application/octet-stream")

    def route_length(self, n, _q):
        n = int(n)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = b"B" * 65536
        while n > 0:
            self.wfile.write(chunk[:min(n, len(chunk))])
            n -= min(n, len(chunk))

    def route_slow(self, s, _q):
        self.send_response(200)
        self.send_header("Content-Length", "32")
        self.end_headers()
        self.wfile.write(b"x" * 16)
        self.wfile.flush()
        time.sleep(float(s))
        self.wfile.write(b"y" * 16)

    def route_redirect(self, _arg, q):
        self.send_response(302)
        self.send_header("Location", q.get("to", ["/"])[0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_status(self, code, _q):
        self.send_body(int(code), b"status page\n", "text/plain")

    def route_hits(self, _arg, _q):
        self.send_body(200, b"%d\n" % HITS, "text/plain")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # clients that give up early (size cap, timeouts) are expected
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    Handler.root = args.root
    srv = Server(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Timer(args.lifetime, srv.shutdown).start()
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
