"""lbg-proxy explicit mode with a slow DNS server: a CONNECT whose name takes long to resolve
must not stall the worker's other connections (the lookup runs off the event loop,
dataplane/proxy/async_resolver.h), lookups waiting at once are bounded (503 resolve-busy), and a
name that does not resolve is refused (502 resolve).

Runs in a network namespace of its own (root; skipped with 77 otherwise), in a mount namespace
where /etc/resolv.conf names a DNS server of this test on 127.0.0.1:53. That server answers
fast.example.jp at once, holds slow*.example.jp until the test releases them, and answers
NXDOMAIN for anything else. With a lookup inside the loop (the old code), the fast CONNECT is not
answered while the slow one waits, and the test fails.

Usage: resolver_test.py LBG_PROXY WORKDIR"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dns_wire  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import wait_port_file  # noqa: E402

PROXY, WORK = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])


def outer():
    if os.geteuid() != 0:
        print("SKIP: needs root (network and mount namespaces)")
        return 77
    ns = f"lbgres{os.getpid()}"
    subprocess.run(["rm", "-rf", WORK], check=True)
    os.makedirs(WORK, mode=0o700)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        def inns(*cmd):
            subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True)
        inns("ip", "link", "set", "lo", "up")
        # A non-loopback address: getaddrinfo's AI_ADDRCONFIG asks for IPv4 only where one exists.
        inns("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
        inns("ip", "addr", "add", "10.79.0.1/24", "dev", "d0")
        inns("ip", "link", "set", "d0", "up")
        return subprocess.run(["ip", "netns", "exec", ns, "unshare", "-m", sys.executable,
                               os.path.abspath(__file__), PROXY, WORK, "--inner"]).returncode
    finally:
        subprocess.run(["ip", "netns", "del", ns])


class DnsServer:
    """UDP on 127.0.0.1:53. Queries for slow*.example.jp wait until release()."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.lock = threading.Lock()
        self.held = []
        self.released = False
        self.slow_asked = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def reply(self, message, peer):
        txid, name = dns_wire.question_of(message)
        qt = dns_wire.qtype_of(message)
        known = name.lower() == "fast.example.jp" or name.lower().startswith("slow")
        if known and qt == 1:
            self.sock.sendto(dns_wire.answer(txid, name, "127.0.0.1"), peer)
        else:  # no AAAA record (NOERROR, empty), or NXDOMAIN for a name we do not know
            self.sock.sendto(dns_wire.empty_answer(txid, name, qt, nxdomain=not known), peer)

    def serve(self):
        while True:
            message, peer = self.sock.recvfrom(2048)
            q = dns_wire.question_of(message)
            if not q:
                continue
            with self.lock:
                if q[1].lower().startswith("slow") and not self.released:
                    self.held.append((message, peer))
                    self.slow_asked.set()
                    continue
            self.reply(message, peer)

    def release(self):
        with self.lock:
            self.released = True
            held, self.held = self.held, []
        for message, peer in held:
            self.reply(message, peer)


def origin():
    """A TCP listener the spliced tunnels connect to (it only accepts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    conns = []
    threading.Thread(target=lambda: [conns.append(s.accept()) for _ in iter(int, 1)],
                     daemon=True).start()
    return s.getsockname()[1]


def connect(port, host, origin_port):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(f"CONNECT {host}:{origin_port} HTTP/1.1\r\nHost: {host}:{origin_port}\r\n\r\n".encode())
    return c


def status(c, timeout=15):
    """The status line and the X-Lbg-Reason of the proxy's answer ('' when none came)."""
    c.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return ""
    text = data.decode(errors="replace")
    reason = [l.split(":", 1)[1].strip() for l in text.split("\r\n") if l.lower().startswith("x-lbg-reason:")]
    return text.split("\r\n", 1)[0] + (f" [{reason[0]}]" if reason else "")


def inner():
    with open(f"{WORK}/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "--bind", f"{WORK}/resolv.conf", "/etc/resolv.conf"], check=True)
    dns = DnsServer()
    origin_port = origin()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", f"{WORK}/ca.key", "-out", f"{WORK}/ca.pem", "-days", "2",
                    "-subj", "/CN=lbg appliance CA"], check=True, capture_output=True)
    with open(f"{WORK}/policy.yaml", "w") as f:
        f.write(f"""version: 1
segment: {{inside: [127.0.0.0/8]}}
defaults: {{deny: reset}}
services:
  - name: files
    kind: lgwan-asp
    fqdn: [fast.example.jp, slow1.example.jp, slow2.example.jp, slow3.example.jp, missing.example.jp]
    ports: [tcp/{origin_port}]
""")
    proxy = subprocess.Popen([PROXY, "--listen", "127.0.0.1:0", "--port-file", f"{WORK}/port",
                              "--policy", f"{WORK}/policy.yaml", "--ca-cert", f"{WORK}/ca.pem",
                              "--ca-key", f"{WORK}/ca.key", "--workers", "1",
                              "--resolver-threads", "2", "--resolver-queue", "2",
                              "--stats-file", f"{WORK}/counters.json"])
    failures, checked = [], []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        checked.append(what)
        if not ok:
            failures.append(what)

    try:
        port = wait_port_file(f"{WORK}/port", proxy, "lbg-proxy", tries=500)

        # 1. A name the DNS server holds: its CONNECT waits in the resolver, not in the loop.
        slow1 = connect(port, "slow1.example.jp", origin_port)
        check(dns.slow_asked.wait(15), "the slow name was asked of the DNS server")
        fast = connect(port, "fast.example.jp", origin_port)
        st = status(fast)
        check(st.startswith("HTTP/1.1 200"), f"a fast name is answered while a slow one waits ({st!r})")

        # 2. The queue is bounded (--resolver-queue 2): slow1 and slow2 wait, the next is refused.
        slow2 = connect(port, "slow2.example.jp", origin_port)
        time.sleep(0.2)  # lets the loop hand slow2 to the resolver before the next arrives
        busy = connect(port, "slow3.example.jp", origin_port)
        st = status(busy)
        check(st.startswith("HTTP/1.1 503") and "resolve-busy" in st,
              f"a lookup over the queue's bound is refused ({st!r})")

        # 3. Released: both waiting CONNECTs go through.
        dns.release()
        for name, c in (("slow1", slow1), ("slow2", slow2)):
            st = status(c)
            check(st.startswith("HTTP/1.1 200"), f"{name} connects once its name resolves ({st!r})")

        # 4. A name that does not resolve: 502, never a hang.
        st = status(connect(port, "missing.example.jp", origin_port))
        check(st.startswith("HTTP/1.1 502") and "resolve" in st, f"NXDOMAIN refused ({st!r})")

        counters = {}
        for _ in range(50):  # the worker publishes every half second
            try:
                counters = {c["name"]: c["value"] for c in json.load(open(f"{WORK}/counters.json"))["counters"]}
            except (OSError, ValueError, KeyError):
                counters = {}
            if counters.get("proxy_resolve_failed", 0) >= 1 and counters.get("proxy_resolve_busy", 0) >= 1:
                break
            time.sleep(0.1)
        check(counters.get("proxy_resolve_busy") == 1 and counters.get("proxy_resolve_failed") == 1 and
              counters.get("proxy_spliced") == 3,
              f"counted: {({k: v for k, v in counters.items() if 'resolve' in k or 'splice' in k})}")
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    print(f"{len(checked) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or len(checked) < 7 else 0


if __name__ == "__main__":
    sys.exit(inner() if "--inner" in sys.argv else outer())
