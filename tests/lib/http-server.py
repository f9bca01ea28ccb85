#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small HTTP(S) server for the pull tests, on 127.0.0.1:
http-server.py --dir DIR --port-file FILE [--tls CERT KEY]

Serves DIR's files. Binds a free port and writes it to FILE (by a rename,
so FILE is whole when it appears) once it listens. Two made-up paths:
  /redirect?to=URL   a 302 to URL
  /stall/NAME        says 64 MiB are coming, sends 1 MiB, then stalls until killed"""

import argparse
import functools
import http.server
import os
import ssl
import threading
import urllib.parse


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", urllib.parse.parse_qs(u.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if u.path.startswith("/stall/"):
            self.send_response(200)
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            self.wfile.write(b"\0" * (1 << 20))
            self.wfile.flush()
            threading.Event().wait()
            return
        super().do_GET()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=a.dir))
    server.daemon_threads = True
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*a.tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
