"""The shell tests' plain HTTP/1.1 server on port 80, keep-alive, answering every GET with a fixed
body and appending each request's Host header to the file `hosts_seen` in the current folder, so
a test can prove which requests reached the server. Run inside the server namespace.
GET /slow/<MB> answers <MB> MiB of slowBody() (a fixed pattern a test can check) in 64 KiB
pieces, 20 ms apart: a long download that is still running when the HA tests kill a box."""
import http.server
import time


def slowBody(mib):
    piece = bytes(i % 251 for i in range(65536))
    return piece * (16 * mib)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: several requests on one connection

    def do_GET(self):
        with open("hosts_seen", "a") as f:
            f.write(f"{self.headers.get('Host', '')} {self.path}\n")
        if self.path.startswith("/slow/"):
            body = slowBody(int(self.path[6:]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for at in range(0, len(body), 65536):
                self.wfile.write(body[at:at + 65536])
                time.sleep(0.02)
            return
        body = b"hello over http\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
