#!/usr/bin/env python3
"""lbg-proxy's operations with real processes: counters in `lbgctl stats` and Prometheus, and the
appliance CA reloaded without a restart.

A control server (tests/control/fake_gateway, the real control server over a recording dataplane)
reads the counters file a real lbg-proxy writes (--stats-file, control.proxy_stats); the CA is the
one `lbgctl ca init|rotate` makes, which lbg-proxy reloads on SIGHUP or when the files change; a
CA that fails to load (key and certificate do not match) is refused and the working one kept.
lbg-proxy runs two workers: the counters are their sum, the reload reaches both.
usage: ops_test.py LBG_PROXY LBGCTL FAKE_GATEWAY WORKDIR
"""
import datetime
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
import http.server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PROXY, LBGCTL, FAKE, WORK = (os.path.abspath(a) for a in sys.argv[1:5])
WORKERS = 2  # worker threads of the proxy under test (--workers): the CA reload reaches each
AFTER = 8    # connections after the rotation, each must verify with the new CA only
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
POLICY = """version: 1
approval: none
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
      headers: {Restrict-Access-To-Tenants: "contoso.onmicrosoft.com", Restrict-Access-Context: "dir-0001"}
"""
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def wait_for(cond, what, seconds=30):
    """Polls cond() until true; a bounded wait for another process, never a timing assumption."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    check(False, "waited for " + what)
    return False


def pem(path, obj):
    with open(path, "wb") as f:
        if isinstance(obj, x509.Certificate):
            f.write(obj.public_bytes(serialization.Encoding.PEM))
        else:
            f.write(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return path


def make_cert(cn, issuer=None, sans=(), ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name)
         .issuer_name(issuer[0].subject if issuer else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256()), key


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        out = b"origin ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def origin(cert, key):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem(f"{WORK}/origin.crt", cert), pem(f"{WORK}/origin.key", key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def ctl(*args):
    p = subprocess.run([LBGCTL, "--socket", f"{WORK}/control.sock"] + list(args),
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def proxy_stats():
    rc, out, _ = ctl("--json", "stats")
    if rc != 0:
        return {}
    return {c["name"]: c["value"] for c in json.loads(out)["counters"] if c.get("section") == "proxy"}


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK, mode=0o700)
    with open(f"{WORK}/roles.yaml", "w") as f:
        f.write('users:\n  "%d": admin\n' % os.getuid())
    with open(f"{WORK}/bootstrap.yaml", "w") as f:
        f.write(POLICY)
    with open(f"{WORK}/policy.yaml", "w") as f:
        f.write(POLICY)
    root = make_cert("Test Root", ca=True)
    pem(f"{WORK}/root.pem", root[0])
    port = origin(*make_cert("login.microsoftonline.com", root, ["login.microsoftonline.com"]))
    counters = f"{WORK}/proxy-counters.json"

    gw = subprocess.Popen([FAKE, WORK, "--proxy-stats", counters], stdout=subprocess.PIPE, text=True)
    proxy = None
    proxy_err = []
    try:
        metrics_line = gw.stdout.readline().split()
        check(gw.stdout.readline().strip() == "ready" and metrics_line[0] == "metrics",
              "control server starts")
        metrics_url = f"http://127.0.0.1:{metrics_line[1]}/metrics"

        def metrics():
            return urllib.request.urlopen(metrics_url, timeout=10).read().decode()

        # Before lbg-proxy ever ran: the section holds proxy_running 0 and no invented counters.
        check(proxy_stats() == {"proxy_running": 0}, f"no proxy yet: {proxy_stats()}")
        check("\nlbg_proxy_running 0\n" in metrics(), "Prometheus: lbg_proxy_running 0")

        rc, out, err = ctl("ca", "init", "--organization", "First City")
        check(rc == 0, f"ca init: {err}")
        ca_dir = f"{WORK}/ca"
        shutil.copy(f"{ca_dir}/ca.pem", f"{WORK}/first.pem")

        args = [PROXY, "--listen", "127.0.0.1:0", "--port-file", f"{WORK}/port", "--policy",
                f"{WORK}/policy.yaml", "--ca-cert", f"{ca_dir}/ca.pem", "--ca-key",
                f"{ca_dir}/ca.key", "--trust-file", f"{WORK}/root.pem", "--stats-file", counters,
                "--ca-check-interval", "1", "--workers", str(WORKERS),
                "--connect-to", f"login.microsoftonline.com=127.0.0.1:{port}"]
        proxy = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: proxy_err.extend(proxy.stderr), daemon=True).start()
        wait_for(lambda: os.path.exists(f"{WORK}/port") or proxy.poll() is not None, "lbg-proxy port")
        pport = int(open(f"{WORK}/port").read())

        def curl(cafile):
            return subprocess.run(["curl", "-sS", "--proxy", f"http://127.0.0.1:{pport}", "--cacert",
                                   cafile, "--max-time", "20",
                                   "https://login.microsoftonline.com/"],
                                  capture_output=True, text=True)

        r = curl(f"{WORK}/first.pem")
        check(r.returncode == 0 and "origin ok" in r.stdout, f"intercepted with the first CA ({r.stderr.strip()})")

        # 1. The counters reach lbgctl stats (section proxy) and Prometheus.
        wait_for(lambda: proxy_stats().get("proxy_intercepted") == 1, "proxy_intercepted 1 in lbgctl stats")
        s = proxy_stats()
        check(s.get("proxy_accepted") == 1 and s.get("proxy_requests") == 1 and
              s.get("proxy_tenant_applied") == 1 and s.get("proxy_running") == 1,
              f"lbgctl stats --json: proxy counters {s}")
        rc, out, _ = ctl("stats")
        check(rc == 0 and "[proxy] TLS中継 / lbg-proxy" in out and "proxy_intercepted" in out,
              "lbgctl stats: the proxy section under its heading")
        m = metrics()
        for line in ("lbg_proxy_intercepted_total 1", "lbg_proxy_requests_total 1",
                     "lbg_proxy_running 1", "# TYPE lbg_proxy_accepted_total counter"):
            check(f"\n{line}\n" in m, f"Prometheus: {line}")

        # 2. A CA that fails to load is refused and the working one kept: the key replaced (in the
        # generation the ca.key link leads to) by one that is not the certificate's. The
        # proxy notices the changed file by itself (--ca-check-interval).
        # Replaced in one rename, so the proxy never reads a half-written key.
        target = os.path.realpath(f"{ca_dir}/ca.key")
        with open(target + ".new", "wb") as f:
            f.write(ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        os.replace(target + ".new", target)
        wait_for(lambda: proxy_stats().get("proxy_ca_reload_failed", 0) >= 1,
                 "proxy_ca_reload_failed after a key that does not match")
        check(any("appliance CA not reloaded" in l and "do not match" in l and "First City" in l
                  for l in proxy_err), f"the refusal says why and which CA stays: {proxy_err}")
        r = curl(f"{WORK}/first.pem")
        check(r.returncode == 0 and "origin ok" in r.stdout,
              f"still intercepting with the first CA after the failed reload ({r.stderr.strip()})")
        check(proxy.poll() is None, "lbg-proxy still runs")

        # 3. `lbgctl ca rotate`, then SIGHUP: new connections get leaves of the new CA, which the
        # first CA no longer vouches for; no restart.
        rc, out, err = ctl("ca", "rotate", "--organization", "Second City")
        check(rc == 0, f"ca rotate: {err}")
        shutil.copy(f"{ca_dir}/ca.pem", f"{WORK}/second.pem")
        proxy.send_signal(signal.SIGHUP)
        wait_for(lambda: proxy_stats().get("proxy_ca_reloads", 0) >= 1, "proxy_ca_reloads after rotate")
        check(any("appliance CA reloaded" in l and "Second City" in l for l in proxy_err),
              f"the reload is logged with the new CA: {proxy_err}")
        # Every worker mints with the new CA: each connection lands on one of them (SO_REUSEPORT),
        # so a worker left with the first CA fails one of these with probability 1 - 2^-AFTER.
        for _ in range(AFTER):
            r = curl(f"{WORK}/second.pem")
            check(r.returncode == 0 and "origin ok" in r.stdout,
                  f"intercepted with a leaf of the rotated CA ({r.stderr.strip()})")
        r = curl(f"{WORK}/first.pem")
        check(r.returncode != 0, "the first CA does not vouch for the new leaves")
        # The file is rewritten within half a second of a change: wait for the refused handshake.
        wait_for(lambda: proxy_stats().get("proxy_client_handshake_failed") == 1,
                 "the refused handshake counted")
        # Workers publish their counters every half second and the supervisor writes the file
        # as often: wait until every connection above is counted before reading the totals.
        wait_for(lambda: proxy_stats().get("proxy_intercepted") == 2 + AFTER,
                 "every intercepted connection counted")
        s = proxy_stats()
        # Each worker mints its own leaves (its own cache): one per CA per worker that served.
        check(s.get("proxy_ca_reloads") == 1 and 2 <= s.get("proxy_leaves_minted") <= 2 * WORKERS and
              s.get("proxy_intercepted") == 2 + AFTER, f"one reload, one leaf per CA and worker: {s}")
        check(proxy.poll() is None, "the same lbg-proxy process throughout")
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait(timeout=20)
        # After lbg-proxy exits: its last counters stay, proxy_running drops to 0.
        if gw.poll() is None:
            s = proxy_stats()
            check(s.get("proxy_running") == 0 and s.get("proxy_intercepted", 0) >= 1,
                  f"lbg-proxy stopped: last counters kept, running 0: {s}")
        gw.terminate()
        gw.communicate(timeout=30)
    if failures:
        print("lbg-proxy stderr:\n" + "".join(proxy_err))
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all proxy operations checks passed")


main()
