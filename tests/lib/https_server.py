"""The shell tests' HTTPS server: answers every GET on port 443 with a fixed body, using srv.pem
and srv.key from the current folder (made by lbg_test_pki in bump.sh). Run inside the server
namespace."""
import http.server
import ssl


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the server\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("0.0.0.0", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("srv.pem", "srv.key")
# The handshake in the connection's thread, as real servers do: the gateway may hold one
# connection's ClientHello while its certificate probe connects to this server.
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
srv.serve_forever()
