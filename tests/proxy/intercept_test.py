#!/usr/bin/env python3
"""lbg-proxy explicit mode on loopback: real curl --proxy -> lbg-proxy -> small TLS origins.

Checks: the origin sees each tenant header once with the configured value even when the client
sent its own (mixed case, duplicated); wrong root, wrong name and expired upstream certificates
are refused with their reason in the log; keep-alive and chunked bodies arrive intact; a host not
marked for interception is spliced (the client sees the origin's own certificate); stapled OCSP
(openssl s_server origins with responses signed by the test root): revoked refused (cert-revoked),
good accepted under `ocsp: require`, none under `require` refused (ocsp-missing). Client session
resumption (two workers): TLS 1.3 and 1.2 tickets resume (counted, tenant headers still set), a
session offered for another intercepted name gets a full handshake with that name's leaf, and one
offered toward a spliced host reaches the origin's own certificate.
usage: intercept_test.py LBG_PROXY WORKDIR
"""
import datetime
import glob
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import DAY, NOW, make_cert, pem  # noqa: E402
from procs import wait_port_file  # noqa: E402

PROXY, WORK = sys.argv[1], sys.argv[2]


SEEN = []  # (origin, client port, method, path, [(name, value)], body)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.record(b"")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.record(body)

    def record(self, body):
        SEEN.append((self.server.label, self.client_address[1], self.command, self.path,
                     list(self.headers.items()), body))
        out = b"origin %s saw %d bytes\n" % (self.server.label.encode(), len(body))
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def origin(label, cert, key):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.label = label
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem(f"{WORK}/{label}.crt", cert), pem(f"{WORK}/{label}.key", key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def stapling_origin(label, cert, key, issuer, status):
    """`openssl s_server` (python's ssl cannot staple) answering with a stapled OCSP response
    about `cert` signed by `issuer` (the test root: the issuer signs its own answers)."""
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=issuer[0], algorithm=hashes.SHA1(), cert_status=status,
        this_update=NOW - datetime.timedelta(minutes=1), next_update=NOW + DAY,
        revocation_time=NOW - DAY if status == ocsp.OCSPCertStatus.REVOKED else None,
        revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer[0])
    with open(f"{WORK}/{label}.ocsp", "wb") as f:
        f.write(b.sign(issuer[1], hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["openssl", "s_server", "-quiet", "-www", "-accept", f"127.0.0.1:{port}",
                             "-cert", pem(f"{WORK}/{label}.crt", cert),
                             "-key", pem(f"{WORK}/{label}.key", key),
                             "-status_file", f"{WORK}/{label}.ocsp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STAPLERS.append(proc)
    for _ in range(250):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
    return port


STAPLERS = []


RESUMED_REQUESTS = 0  # requests to login.microsoftonline.com made by resumption_checks


def tls_via_proxy(port, ctx, connect_host, sni, session=None, path="/resume"):
    """CONNECT connect_host:443, a TLS handshake with `sni` offering `session`, one GET.
    Returns (handshake ok, reused, the session to offer next, issuer CN of the peer, response)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(f"CONNECT {connect_host}:443 HTTP/1.1\r\nHost: {connect_host}:443\r\n\r\n".encode())
    if not s.recv(100).startswith(b"HTTP/1.1 200"):
        s.close()
        return False, False, None, "", b""
    try:
        t = ctx.wrap_socket(s, server_hostname=sni, session=session)
    except (ssl.SSLError, OSError):
        s.close()
        return False, False, None, "", b""
    issuer = dict(x[0] for x in t.getpeercert()["issuer"]).get("commonName", "")
    t.sendall(f"GET {path} HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:  # reading the answer also takes the TLS 1.3 tickets sent after the handshake
        try:
            chunk = t.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        data += chunk
    reused, sess = t.session_reused, t.session
    try:
        t.unwrap()  # close_notify: a session freed without it is marked not resumable
    except (ssl.SSLError, OSError, ValueError):
        pass
    t.close()
    return True, reused, sess, issuer, data


def resumption_checks(port, check):
    """Returns how many handshakes resumed."""
    global RESUMED_REQUESTS
    resumed = 0
    a, b = "login.microsoftonline.com", "stapled.example.com"
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        # One context per version (Python offers a session only in the context it came from),
        # trusting the appliance CA and the origins' root, to tell a minted leaf from the origin's.
        ctx = ssl.create_default_context(cafile=f"{WORK}/appliance.pem")
        ctx.load_verify_locations(f"{WORK}/root.pem")
        ctx.minimum_version = ctx.maximum_version = version
        ok, reused, sess, issuer, _ = tls_via_proxy(port, ctx, a, a)
        RESUMED_REQUESTS += 1
        check(ok and not reused and issuer == "lbg appliance CA" and sess is not None and
              sess.has_ticket, f"{version.name}: a full handshake with a minted leaf and a ticket")
        # Resumed several times: with two workers each connection lands on either one, and the
        # ticket is good on both (a worker with keys of its own would fail about every other).
        before = len([x for x in SEEN if x[3] == "/resume"])
        all_reused = True
        for _ in range(6):
            ok, reused, sess2, issuer, data = tls_via_proxy(port, ctx, a, a, sess)
            RESUMED_REQUESTS += 1
            all_reused = all_reused and ok and reused and b"origin good" in data
            resumed += 1 if ok and reused else 0
            sess = sess2 or sess
        check(all_reused, f"{version.name}: six connections resumed, on either worker")
        seen = [x for x in SEEN if x[3] == "/resume"][before:]
        check(len(seen) == 6 and all([v for n, v in x[4] if n.lower() == "restrict-access-context"] ==
                                     ["dir-0001"] for x in seen),
              f"{version.name}: a resumed connection still gets the tenant headers")
        # The same session toward another intercepted name (its SNI, as the proxy demands): a
        # full handshake and that name's own minted leaf (check_hostname verified it).
        ok, reused, _, issuer, data = tls_via_proxy(port, ctx, b, b, sess, path="/")
        check(ok and not reused and issuer == "lbg appliance CA" and b"s_server" in data,
              f"{version.name}: a session of {a} offered for {b}: full handshake, {b}'s leaf")
        # With the first name in the SNI: refused (the ClientHello must name the CONNECT host).
        ok, _, _, _, _ = tls_via_proxy(port, ctx, b, a, sess)
        check(not ok, f"{version.name}: a session of {a} with SNI {a} on a CONNECT to {b}: refused")
        # Toward a spliced host: still spliced, the origin's own certificate.
        ok, reused, _, issuer, data = tls_via_proxy(port, ctx, "splice.example.com",
                                                    "splice.example.com", sess)
        check(ok and not reused and issuer == "Test Root" and b"origin splice" in data,
              f"{version.name}: a session offered toward a spliced host: spliced, origin's certificate")
    return resumed


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK, mode=0o700)
    root = make_cert("Test Root", ca=True)
    other = make_cert("Other Root", ca=True)
    appliance = make_cert("lbg appliance CA", ca=True)
    pem(f"{WORK}/root.pem", root[0])
    pem(f"{WORK}/appliance.pem", appliance[0])
    pem(f"{WORK}/appliance.key", appliance[1])
    ports = {
        "login.microsoftonline.com": origin("good", *make_cert(
            "login.microsoftonline.com", root, ["login.microsoftonline.com", "login.microsoft.com"])),
        "login.windows.net": origin("wrongroot", *make_cert(
            "login.windows.net", other, ["login.windows.net"])),
        "login.microsoft.com": origin("wrongname", *make_cert(
            "elsewhere.example", root, ["elsewhere.example"])),
        "expired.example.com": origin("expired", *make_cert(
            "expired.example.com", root, ["expired.example.com"], not_before=NOW - 10 * DAY,
            not_after=NOW - DAY)),
        "pinned.example.com": origin("pinned", *make_cert(
            "pinned.example.com", root, ["pinned.example.com"])),
        "splice.example.com": origin("splice", *make_cert(
            "splice.example.com", root, ["splice.example.com"])),
        "nostaple.example.com": origin("nostaple", *make_cert(
            "nostaple.example.com", root, ["nostaple.example.com"])),
    }
    for host, status in (("revoked.example.com", ocsp.OCSPCertStatus.REVOKED),
                         ("stapled.example.com", ocsp.OCSPCertStatus.GOOD)):
        label = host.split(".")[0]
        ports[host] = stapling_origin(label, *make_cert(host, root, [host]), root, status)
    with open(f"{WORK}/policy.yaml", "w") as f:
        f.write("""version: 1
segment: {inside: [127.0.0.0/8]}
defaults: {deny: reset}
services:
  - name: entra
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-03-31}
    fqdn: [login.microsoftonline.com, login.microsoft.com, login.windows.net]
    ports: [tcp/443]
    intercept: true
    tenant:
      profile: entra-v1
      headers: {Restrict-Access-To-Tenants: "contoso.onmicrosoft.com,contoso.jp", Restrict-Access-Context: "dir-0001"}
  - name: expired
    kind: lgwan-asp
    fqdn: [expired.example.com]
    ports: [tcp/443]
    intercept: true
  - name: pinned
    kind: lgwan-asp
    fqdn: [pinned.example.com]
    ports: [tcp/443]
    intercept: true
    pins: ["sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
  - name: revoked
    kind: lgwan-asp
    fqdn: [revoked.example.com]
    ports: [tcp/443]
    intercept: true
  - name: ocsp-required
    kind: lgwan-asp
    fqdn: [stapled.example.com, nostaple.example.com]
    ports: [tcp/443]
    intercept: true
    certificate: {ocsp: require}
  - name: spliced
    kind: lgwan-asp
    fqdn: [splice.example.com]
    ports: [tcp/443]
""")
    args = [PROXY, "--listen", "127.0.0.1:0", "--port-file", f"{WORK}/port", "--policy",
            f"{WORK}/policy.yaml", "--ca-cert", f"{WORK}/appliance.pem", "--ca-key",
            f"{WORK}/appliance.key", "--trust-file", f"{WORK}/root.pem", "--log-dir", f"{WORK}/log",
            "--workers", "2", "--stats-file", f"{WORK}/counters.json"]
    for host, port in ports.items():
        args += ["--connect-to", f"{host}=127.0.0.1:{port}"]
    os.makedirs(f"{WORK}/log", mode=0o700)
    proxy = subprocess.Popen(args)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    try:
        port = wait_port_file(f"{WORK}/port", proxy, "lbg-proxy", tries=500)
        curl = ["curl", "-sS", "--proxy", f"http://127.0.0.1:{port}", "--cacert",
                f"{WORK}/appliance.pem", "--max-time", "20"]

        # 1. Tenant headers replaced: the client's own copies (mixed case, duplicated) are gone.
        r = subprocess.run(curl + ["-H", "restrict-access-to-tenants: evil.example",
                                   "-H", "RESTRICT-ACCESS-TO-TENANTS: evil2.example",
                                   "-H", "Restrict-Access-Context: attacker",
                                   "https://login.microsoftonline.com/common/oauth2/authorize",
                                   "https://login.microsoftonline.com/second"],
                           capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout.count("origin good saw 0 bytes") == 2,
              f"two GETs through the interception ({r.returncode} {r.stderr.strip()})")
        good = [s for s in SEEN if s[0] == "good"]
        for s in good:
            t = [v for n, v in s[4] if n.lower() == "restrict-access-to-tenants"]
            c = [v for n, v in s[4] if n.lower() == "restrict-access-context"]
            check(t == ["contoso.onmicrosoft.com,contoso.jp"] and c == ["dir-0001"],
                  f"origin sees exactly the configured tenant headers on {s[3]}: {t} {c}")
        check(len(good) == 2 and good[0][1] == good[1][1], "keep-alive: both requests on one upstream connection")

        # 1b. The explicit listener on IPv6 ([::1]): the same interception, and the PAC file names
        # the proxy by its bracketed address. Skipped where the host has no IPv6 loopback.
        if socket.has_ipv6 and subprocess.run(["ip", "-6", "addr", "show", "dev", "lo"],
                                              capture_output=True, text=True).stdout.count("::1"):
            args6 = [a if a != "127.0.0.1:0" else "[::1]:0" for a in args]
            args6[args6.index(f"{WORK}/port")] = f"{WORK}/port6"
            args6[args6.index(f"{WORK}/counters.json")] = f"{WORK}/counters6.json"
            args6[args6.index(f"{WORK}/log")] = f"{WORK}/log6"
            os.makedirs(f"{WORK}/log6", mode=0o700)
            proxy6 = subprocess.Popen(args6)
            try:
                port6 = wait_port_file(f"{WORK}/port6", proxy6, "lbg-proxy on [::1]", tries=500)
                r = subprocess.run(["curl", "-sS", "--proxy", f"http://[::1]:{port6}", "--cacert",
                                    f"{WORK}/appliance.pem", "--max-time", "20",
                                    "https://login.microsoftonline.com/v6"], capture_output=True, text=True)
                seen6 = [s for s in SEEN if s[0] == "good" and s[3] == "/v6"]
                check(r.returncode == 0 and len(seen6) == 1 and
                      [v for n, v in seen6[0][4] if n.lower() == "restrict-access-to-tenants"] ==
                      ["contoso.onmicrosoft.com,contoso.jp"],
                      f"intercepted through the IPv6 explicit listener ({r.returncode} {r.stderr.strip()})")
                r = subprocess.run(["curl", "-sS", "--max-time", "20", f"http://[::1]:{port6}/proxy.pac"],
                                   capture_output=True, text=True)
                check(f"PROXY [::1]:{port6}" in r.stdout, "the PAC names the IPv6 listener bracketed")
            finally:
                proxy6.terminate()
                proxy6.wait(timeout=20)
        else:
            print("skip IPv6 explicit listener (no ::1)")

        # 2. Chunked body intact (and Expect: 100-continue relayed).
        body = os.urandom(70000).hex()
        with open(f"{WORK}/body", "w") as f:
            f.write(body)
        r = subprocess.run(curl + ["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue",
                                   "--data-binary", f"@{WORK}/body",
                                   "https://login.microsoftonline.com/post"],
                           capture_output=True, text=True)
        posted = [s for s in SEEN if s[3] == "/post"]
        check(r.returncode == 0 and len(posted) == 1 and posted[0][5] == body.encode(),
              f"chunked body of {len(body)} bytes intact ({r.stderr.strip()})")
        check("origin good saw %d bytes" % len(body) in r.stdout, "response relayed")

        # 3. Refusals by upstream validation.
        for host, reason in (("login.windows.net", "cert-untrusted"),
                             ("login.microsoft.com", "cert-name"),
                             ("expired.example.com", "cert-expired"),
                             ("pinned.example.com", "pin-mismatch"),
                             ("revoked.example.com", "cert-revoked"),
                             ("nostaple.example.com", "ocsp-missing")):
            r = subprocess.run(curl + [f"https://{host}/"], capture_output=True, text=True)
            check(r.returncode != 0, f"{host} refused ({reason})")
        check(not [s for s in SEEN if s[0] in ("wrongroot", "wrongname", "expired", "pinned",
                                                "nostaple")],
              "no request reached a refused origin")
        r = subprocess.run(curl + ["https://stapled.example.com/"], capture_output=True, text=True)
        check(r.returncode == 0 and "s_server" in r.stdout,
              f"a good stapled answer passes under ocsp: require ({r.stderr.strip()})")

        # 4. Not intercepted: spliced, the client sees the origin's own certificate.
        r = subprocess.run(["curl", "-sS", "--proxy", f"http://127.0.0.1:{port}", "--cacert",
                            f"{WORK}/root.pem", "--max-time", "20", "-w", "%{certs}",
                            "https://splice.example.com/x"],
                           capture_output=True, text=True)
        check(r.returncode == 0 and "origin splice saw 0 bytes" in r.stdout and
              "Test Root" in r.stdout and "lbg appliance" not in r.stdout,
              f"splice.example.com spliced with the origin's certificate ({r.stderr.strip()})")
        r = subprocess.run(curl + ["https://splice.example.com/x"], capture_output=True, text=True)
        check(r.returncode != 0, "the appliance CA does not vouch for a spliced host")
        # Not in the policy at all: 403 from the proxy.
        r = subprocess.run(curl + ["https://denied.example.org/"], capture_output=True, text=True)
        check(r.returncode != 0, "a host outside the policy is refused")
        # A CONNECT target with a comma is refused before anything is minted.
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"CONNECT login.microsoftonline.com,evil.example:443 HTTP/1.1\r\n"
                      b"Host: x\r\n\r\n")
            check(s.recv(100).startswith(b"HTTP/1.1 400"), "a name with a comma is refused")
        # The client's SNI must be the CONNECT host: no leaf for a name that was not validated.
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n"
                      b"Host: login.microsoftonline.com:443\r\n\r\n")
            check(s.recv(100).startswith(b"HTTP/1.1 200"), "CONNECT accepted")
            ctx = ssl.create_default_context(cafile=f"{WORK}/appliance.pem")
            ctx.check_hostname = False
            try:
                ctx.wrap_socket(s, server_hostname="evil.example").close()
                check(False, "a ClientHello naming another host is refused")
            except (ssl.SSLError, OSError):
                check(True, "a ClientHello naming another host is refused")

        # 5. Client session resumption.
        resumed = resumption_checks(port, check)
        counter = None
        for _ in range(100):  # the counters file follows within a second
            with open(f"{WORK}/counters.json") as f:
                counter = {c["name"]: c["value"] for c in json.load(f)["counters"]}["proxy_client_resumed"]
            if counter == resumed:
                break
            time.sleep(0.05)
        check(resumed > 0 and counter == resumed, f"proxy_client_resumed {counter} = {resumed} resumed handshakes")
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)
        for p in STAPLERS:
            p.terminate()
            p.wait(timeout=20)

    records = []
    for seg in sorted(glob.glob(f"{WORK}/log/seg-*.jsonl*")) + sorted(glob.glob(f"{WORK}/log/seg-*.log")):
        with open(seg) as f:
            records += [json.loads(line) for line in f if line.strip()]
    reasons = {(r.get("tls", {}).get("sni"), r.get("reason")) for r in records
               if r.get("event_type") == "tls" and r.get("action") == "deny"}
    for host, reason in (("login.windows.net", "cert-untrusted"), ("login.microsoft.com", "cert-name"),
                         ("expired.example.com", "cert-expired"), ("pinned.example.com", "pin-mismatch"),
                         ("revoked.example.com", "cert-revoked"), ("nostaple.example.com", "ocsp-missing")):
        check((host, reason) in reasons, f"log: tls refuse {host} {reason}")
    check(any(r.get("event_type") == "tls" and r.get("action") == "splice" for r in records),
          "log: tls splice")
    check(sum(1 for r in records if r.get("event_type") == "http" and
              r.get("tenant_profile") == "entra-v1") == 3 + RESUMED_REQUESTS,
          "log: an http event with entra-v1 for each request, resumed connections' included")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all proxy checks passed")


main()
