#!/usr/bin/env python3
"""python3's http.server on 127.0.0.1 (any free port), serving a directory, plus PUT so that an
upload through the proxy can be inspected after REQMOD. Prints "PORT <n>" once listening."""

import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        name = os.path.basename(self.path.split("?")[0]) or "upload"
        with open(os.path.join(sys.argv[2], name), "wb") as f:
            f.write(data)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        # Keeps the raw body and its Content-Type, to look at a multipart upload after REQMOD.
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        name = os.path.basename(self.path.split("?")[0]) or "post"
        with open(os.path.join(sys.argv[2], name + ".body"), "wb") as f:
            f.write(data)
        with open(os.path.join(sys.argv[2], name + ".type"), "w") as f:
            f.write(self.headers.get("Content-Type", ""))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("http: " + (fmt % args) + "\n")


def main():
    os.chdir(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
