#!/usr/bin/env python3
"""lbg-proxy transparent mode in network namespaces: client ns -> router ns (nftables TPROXY from
tools/proxy/tproxy-rules.sh, lbg-proxy --transparent) -> origin ns.

Checks: curl (no proxy setting, trusting the appliance CA) reaches login.microsoftonline.com
through the interception; the origin sees exactly the configured tenant headers although the
client sent its own, and sees the client's own address and port (the upstream leg is bound to
them); a host allowed but not marked for interception is spliced (the client sees the origin's
own certificate, the origin the client's address); a name outside the policy, a ClientHello
without SNI and an allowed name toward an address it does not resolve to are refused with their
reason in the log; a PC resumes its TLS 1.3 session (on either of two workers) and a session of one
intercepted name offered under another name or toward a spliced host is not resumed; with the
proxy stopped the redirected port is refused with a reset (fail closed) although the router forwards everything else.
Needs root (namespaces, IP_TRANSPARENT) and nft; exits 77 (skipped) otherwise.
usage: transparent_test.py LBG_PROXY TPROXY_RULES WORKDIR
"""
import datetime
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY, RULES, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
TAG = f"lbgtp{os.getpid() % 100000}"
NS_C, NS_R, NS_O = TAG + "c", TAG + "r", TAG + "o"
CLIENT, ORIGIN = "10.77.1.2", "10.77.2.2"

# Runs in the client namespace: TLS 1.3 connections to the origin's address (redirected to the
# proxy) with the SNI given, each offering the session of the previous; prints one JSON list.
RESUME_PY = r'''
import json, socket, ssl, sys
appliance, root, dest = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=appliance)
ctx.load_verify_locations(root)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
def one(sni, session):
    try:
        t = ctx.wrap_socket(socket.create_connection((dest, 443), timeout=10), server_hostname=sni,
                            session=session)
    except (ssl.SSLError, OSError):
        return {"ok": False}, None
    issuer = dict(x[0] for x in t.getpeercert()["issuer"]).get("commonName", "")
    t.sendall(f"GET /resume HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        try:
            chunk = t.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        data += chunk
    out = {"ok": b"hello from the origin" in data, "reused": t.session_reused, "issuer": issuer}
    sess = t.session
    try:
        t.unwrap()
    except (ssl.SSLError, OSError, ValueError):
        pass
    t.close()
    return out, sess
results = []
r, sess = one("login.microsoftonline.com", None)
results.append(r)
for _ in range(4):
    r, nxt = one("login.microsoftonline.com", sess)
    results.append(r)
    sess = nxt or sess
results.append(one("login.microsoft.com", sess)[0])
results.append(one("splice.example.com", sess)[0])
print(json.dumps(results))
'''

ORIGIN_PY = r'''
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps({"host": self.headers.get("Host"), "path": self.path,
                                "peer": list(self.client_address),
                                "headers": list(self.headers.items())}) + "\n")
        body = b"hello from the origin\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = http.server.ThreadingHTTPServer(("0.0.0.0", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(sys.argv[4], "w").close()
srv.serve_forever()
'''


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


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def setup_net():
    for ns in (NS_C, NS_R, NS_O):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", TAG + "a", "netns", NS_C, "type", "veth", "peer", "name", TAG + "b", "netns", NS_R)
    sh("ip", "link", "add", TAG + "d", "netns", NS_R, "type", "veth", "peer", "name", TAG + "e", "netns", NS_O)
    for ns, ifc, addr in ((NS_C, TAG + "a", CLIENT), (NS_R, TAG + "b", "10.77.1.1"),
                          (NS_R, TAG + "d", "10.77.2.1"), (NS_O, TAG + "e", ORIGIN)):
        sh("ip", "addr", "add", addr + "/24", "dev", ifc, ns=ns)
        sh("ip", "link", "set", ifc, "up", ns=ns)
        sh("ethtool", "-K", ifc, "tx", "off", ns=ns, check=False)
    for ns in (NS_C, NS_R, NS_O):
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "route", "add", "default", "via", "10.77.1.1", ns=NS_C)
    sh("ip", "route", "add", "default", "via", "10.77.2.1", ns=NS_O)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=NS_R)


def teardown_net():
    for ns in (NS_C, NS_R, NS_O):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def wait_for(path, proc):
    for _ in range(1000):
        if os.path.exists(path) or proc.poll() is not None:
            return os.path.exists(path)
        time.sleep(0.02)
    return False


def main():
    if os.geteuid() != 0 or not shutil.which("nft"):
        print("skipped: needs root and nft")
        sys.exit(77)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK, mode=0o700)
    root = make_cert("Test Root", ca=True)
    appliance = make_cert("lbg appliance CA", ca=True)
    pem(f"{WORK}/root.pem", root[0])
    pem(f"{WORK}/appliance.pem", appliance[0])
    pem(f"{WORK}/appliance.key", appliance[1])
    crt, key = make_cert("login.microsoftonline.com", root, ["login.microsoftonline.com", "login.microsoft.com",
                                                             "splice.example.com"])
    pem(f"{WORK}/origin.crt", crt)
    pem(f"{WORK}/origin.key", key)
    with open(f"{WORK}/origin.py", "w") as f:
        f.write(ORIGIN_PY)
    with open(f"{WORK}/resume.py", "w") as f:
        f.write(RESUME_PY)
    with open(f"{WORK}/policy.yaml", "w") as f:
        f.write("""version: 1
segment: {inside: [10.77.1.0/24]}
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
  - name: spliced
    kind: lgwan-asp
    fqdn: [splice.example.com]
    ports: [tcp/443]
""")
    os.makedirs(f"{WORK}/log", mode=0o700)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    procs = []
    try:
        setup_net()
        r = sh(RULES, "up", "--iface", TAG + "b", "--port", "8443", ns=NS_R, check=False)
        check(r.returncode == 0, f"tproxy-rules.sh up ({r.stderr.strip()})")
        origin = subprocess.Popen(["ip", "netns", "exec", NS_O, sys.executable, f"{WORK}/origin.py",
                                   f"{WORK}/seen.jsonl", f"{WORK}/origin.crt", f"{WORK}/origin.key",
                                   f"{WORK}/origin.ready"])
        procs.append(origin)
        # The splice check resolves splice.example.com for real (lbg-proxy's resolver threads):
        # a DNS server of the test in the router namespace, named by a resolv.conf that only
        # lbg-proxy's mount namespace sees.
        with open(f"{WORK}/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\n")
        dns = subprocess.Popen(["ip", "netns", "exec", NS_R, sys.executable,
                                os.path.join(HERE, "..", "lib", "dns_server.py"), "splice.example.com", ORIGIN])
        procs.append(dns)
        proxy = subprocess.Popen(["ip", "netns", "exec", NS_R, "unshare", "-m", "sh", "-c",
                                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', f"{WORK}/resolv.conf",
                                  PROXY, "--listen", "127.0.0.1:0",
                                  "--transparent", "0.0.0.0:8443", "--port-file", f"{WORK}/port",
                                  "--policy", f"{WORK}/policy.yaml", "--ca-cert", f"{WORK}/appliance.pem",
                                  "--ca-key", f"{WORK}/appliance.key", "--trust-file", f"{WORK}/root.pem",
                                  "--log-dir", f"{WORK}/log", "--workers", "2"])
        procs.append(proxy)
        check(wait_for(f"{WORK}/origin.ready", origin) and wait_for(f"{WORK}/port", proxy),
              "origin and proxy started")

        def curl(host, cafile, *extra, addr=ORIGIN):
            return sh("curl", "-sS", "--resolve", f"{host}:443:{addr}", "--cacert", cafile,
                      "--max-time", "20", "-w", "\nLPORT=%{local_port}\n%{certs}", *extra,
                      f"https://{host}/x", ns=NS_C, check=False)

        # 1. Intercepted transparently: tenant headers replaced, the client's address kept.
        r = curl("login.microsoftonline.com", f"{WORK}/appliance.pem",
                 "-H", "restrict-access-to-tenants: evil.example", "-H", "RESTRICT-ACCESS-TO-TENANTS: x",
                 "-H", "Restrict-Access-Context: attacker")
        check(r.returncode == 0 and "hello from the origin" in r.stdout,
              f"intercepted GET through TPROXY ({r.returncode} {r.stderr.strip()})")
        check("lbg appliance CA" in r.stdout, "the client saw a leaf minted by the appliance CA")
        seen = [json.loads(l) for l in open(f"{WORK}/seen.jsonl")] if os.path.exists(f"{WORK}/seen.jsonl") else []
        m = re.search(r"LPORT=(\d+)", r.stdout)
        local_port = int(m.group(1)) if m else -1
        if seen:
            s = seen[0]
            t = [v for n, v in s["headers"] if n.lower() == "restrict-access-to-tenants"]
            c = [v for n, v in s["headers"] if n.lower() == "restrict-access-context"]
            check(t == ["contoso.onmicrosoft.com"] and c == ["dir-0001"],
                  f"origin sees exactly the configured tenant headers: {t} {c}")
            check(s["peer"] == [CLIENT, local_port],
                  f"origin sees the client's address and port {s['peer']} (client {CLIENT}:{local_port})")
        else:
            check(False, "the origin saw the intercepted request")

        # 2. Allowed, not intercepted: spliced from the client's address, origin's certificate.
        r = curl("splice.example.com", f"{WORK}/root.pem")
        check(r.returncode == 0 and "hello from the origin" in r.stdout and "Test Root" in r.stdout
              and "lbg appliance" not in r.stdout, f"splice.example.com spliced ({r.stderr.strip()})")
        seen = [json.loads(l) for l in open(f"{WORK}/seen.jsonl")]
        check(len(seen) == 2 and seen[1]["peer"][0] == CLIENT and
              not [1 for n, _ in seen[1]["headers"] if n.lower().startswith("restrict-access")],
              "the spliced request reached the origin from the client's address, untouched")

        # 3. Refused: a name outside the policy; a ClientHello without SNI.
        r = curl("denied.example.org", f"{WORK}/root.pem", "-k")
        check(r.returncode != 0, "a name outside the policy is refused")
        r = sh("curl", "-sS", "-k", "--max-time", "20", f"https://{ORIGIN}/x", ns=NS_C, check=False)
        check(r.returncode != 0, "a ClientHello without SNI is refused")
        # An allowed name toward an address it does not resolve to is not spliced there.
        r = curl("splice.example.com", f"{WORK}/root.pem", addr="10.77.2.3")
        check(r.returncode != 0, "a spliced name toward another address is refused")
        check(len([json.loads(l) for l in open(f"{WORK}/seen.jsonl")]) == 2,
              "no refused connection reached the origin")

        # 3b. Session resumption through TPROXY (the name is the peeked SNI): resumed with the
        # same name (two workers, tickets valid on both), a full handshake under another
        # intercepted name (its own leaf), spliced with the origin's certificate toward a spliced
        # host.
        r = sh(sys.executable, f"{WORK}/resume.py", f"{WORK}/appliance.pem", f"{WORK}/root.pem", ORIGIN,
               ns=NS_C, check=False)
        try:
            res = json.loads(r.stdout)
        except ValueError:
            res = [{"ok": False}] * 7
        check(res[0].get("ok") and not res[0].get("reused") and res[0].get("issuer") == "lbg appliance CA",
              f"a full intercepted handshake first {res[0]} {r.stderr.strip()}")
        check(all(x.get("ok") and x.get("reused") for x in res[1:5]), f"four resumptions in a row {res[1:5]}")
        check(res[5].get("ok") and not res[5].get("reused") and res[5].get("issuer") == "lbg appliance CA",
              f"the session offered for login.microsoft.com: a full handshake, its own leaf {res[5]}")
        check(res[6].get("ok") and not res[6].get("reused") and res[6].get("issuer") == "Test Root",
              f"the session offered toward a spliced host: spliced, the origin's certificate {res[6]}")
        base = len([json.loads(l) for l in open(f"{WORK}/seen.jsonl")])

        # 4. Proxy stopped: the redirected port fails closed (reset), although the router forwards.
        proxy.terminate()
        proxy.wait(timeout=20)
        r = curl("login.microsoftonline.com", f"{WORK}/root.pem")
        check(r.returncode == 7, f"with the proxy stopped the connection is refused ({r.returncode} {r.stderr.strip()})")
        r = curl("splice.example.com", f"{WORK}/root.pem")
        check(r.returncode == 7, "and so is an allowed host on the redirected port")
        check(len([json.loads(l) for l in open(f"{WORK}/seen.jsonl")]) == base,
              "nothing reached the origin unintercepted")
        r = sh("nft", "list", "table", "ip", "lbg_tproxy", ns=NS_R, check=False)
        m = re.search(r"counter packets (\d+)", r.stdout)
        check(m is not None and int(m.group(1)) >= 2, "the refusals are counted by the reject rule")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        teardown_net()

    records = []
    for seg in sorted(glob.glob(f"{WORK}/log/seg-*.jsonl*")) + sorted(glob.glob(f"{WORK}/log/seg-*.log")):
        with open(seg) as f:
            records += [json.loads(l) for l in f if l.strip()]
    tls = [r for r in records if r.get("event_type") == "tls"]
    check(any(r.get("action") == "intercept" and r.get("src_ip") == CLIENT and r.get("dest_ip") == ORIGIN
              and r.get("tls", {}).get("sni") == "login.microsoftonline.com" for r in tls),
          "log: tls intercept with the client and original destination addresses")
    check(any(r.get("action") == "splice" and r.get("dest_ip") == ORIGIN for r in tls), "log: tls splice")
    reasons = {(r.get("tls", {}).get("sni"), r.get("reason")) for r in tls if r.get("action") == "deny"}
    check(("denied.example.org", "no-match") in reasons, f"log: deny no-match {reasons}")
    check((None, "no-sni") in reasons, "log: deny no-sni")
    check(("splice.example.com", "sni-dns-mismatch") in reasons, "log: deny sni-dns-mismatch")
    check(sum(1 for r in records if r.get("event_type") == "http" and r.get("tenant_profile") == "entra-v1") == 7,
          "log: an http event with entra-v1 per intercepted request (1 + 6 of the resumption checks)")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all transparent proxy checks passed")


main()
