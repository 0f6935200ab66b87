#!/usr/bin/env python3
"""lbg-proxy's ICAP RESPMOD and PAC file on loopback: real curl --proxy -> lbg-proxy -> a python
TLS origin, with the real lbg-icapd sanitizing the responses of a `sanitize: true` service.

Checks: an executable download is replaced by lbg-icapd's block page (plain and chunked), a clean
text arrives intact, on the same keep-alive connection as the blocked one; the origin is asked
for identity bodies; a body over --icap-max-body is refused; lbg-icapd stopped -> refused (502),
never the original; an ICAP server answering garbage, one that closes mid-answer and a silent one
(--icap-timeout) -> 502; while one response waits for ICAP, other connections keep flowing; the
PAC file with its content type, names and no DIRECT fallback; counters and log records.
usage: sanitize_test.py LBG_PROXY LBG_ICAPD WORKDIR
"""
import glob
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pki import make_cert, pem  # noqa: E402  (the test PKI of intercept_test.py)
from procs import wait_port_file  # noqa: E402

PROXY, ICAPD, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
CLEAN = b"Meeting notes: budget review on Tuesday.\n" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"PE-payload-bytes " * 64
CSV = b'name,amount\r\nalice,100\r\nbob,=HYPERLINK("http://evil.example/","x")\r\n'
BIG = b"x" * 200_000
MEDIUM = b"Minutes of the committee.\n" * 120  # 3,120 bytes: over a 3,000-byte held budget
SEEN = []  # (client port, path, accept-encoding, range)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        SEEN.append((self.client_address[1], self.path, self.headers.get_all("Accept-Encoding"),
                     self.headers.get_all("Range")))
        ctype = "application/octet-stream"
        if self.path.startswith("/notes.txt"):
            body, ctype = CLEAN, "text/plain"
        elif self.path.startswith("/tool"):
            body = EXE
        elif self.path == "/report.csv":
            body, ctype = CSV, "text/csv"
        elif self.path == "/medium.txt":
            body, ctype = MEDIUM, "text/plain"
        else:
            body = BIG
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if self.path.startswith("/tool"):
            self.send_header("Content-Disposition", 'attachment; filename="tool.exe"')
        if self.path == "/report.csv":
            self.send_header("Content-Disposition", 'attachment; filename="report.csv"')
        if self.path == "/tool-chunked.exe":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 100):
                part = body[i:i + 100]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the proxy refuses a body over its limit and closes
            self.close_connection = True


def origin(cert, key):
    import ssl
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem(f"{WORK}/files.crt", cert), pem(f"{WORK}/files.key", key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


class FakeIcap:
    """An ICAP server that misbehaves: 'garbage' answers nonsense, 'hold' waits until released
    and then closes mid-answer, 'silent' never answers."""

    def __init__(self, mode):
        self.mode = mode
        self.received = threading.Event()
        self.release = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            chunk = c.recv(65536)
            if not chunk:
                return
            data += chunk
        self.received.set()
        if self.mode == "garbage":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            c.close()
        elif self.mode == "hold":
            self.release.wait()
            c.sendall(b"ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n5\r\nhel")
            c.close()
        # silent: keep the connection open, say nothing


def start_proxy(name, icap, extra=()):
    work = f"{WORK}/{name}"
    os.makedirs(f"{work}/log", mode=0o700)
    args = [PROXY, "--listen", "127.0.0.1:0", "--port-file", f"{work}/port", "--policy",
            f"{WORK}/policy.yaml", "--ca-cert", f"{WORK}/appliance.pem", "--ca-key",
            f"{WORK}/appliance.key", "--trust-file", f"{WORK}/root.pem", "--log-dir", f"{work}/log",
            "--stats-file", f"{work}/counters.json", "--icap", icap, "--icap-max-body", "100000",
            *extra]
    for host in ("files.example.jp", "login.microsoftonline.com"):
        args += ["--connect-to", f"{host}=127.0.0.1:{ORIGIN_PORT}"]
    proc = subprocess.Popen(args)
    return proc, wait_port_file(f"{work}/port", proc, "lbg-proxy")


def records(name):
    out = []
    for seg in (sorted(glob.glob(f"{WORK}/{name}/log/seg-*.jsonl*")) +
                sorted(glob.glob(f"{WORK}/{name}/log/seg-*.log"))):
        with open(seg) as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


def counters(name):
    with open(f"{WORK}/{name}/counters.json") as f:
        doc = json.load(f)
    flat = {}

    def walk(x):
        if isinstance(x, dict):
            if "name" in x and "value" in x:
                flat[x["name"]] = x["value"]
            for k, v in x.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    flat.setdefault(k, v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return flat


ORIGIN_PORT = 0


def main():
    global ORIGIN_PORT
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK, mode=0o700)
    root = make_cert("Test Root", ca=True)
    appliance = make_cert("lbg appliance CA", ca=True)
    pem(f"{WORK}/root.pem", root[0])
    pem(f"{WORK}/appliance.pem", appliance[0])
    pem(f"{WORK}/appliance.key", appliance[1])
    ORIGIN_PORT = origin(*make_cert("files.example.jp", root,
                                    ["files.example.jp", "login.microsoftonline.com"]))
    with open(f"{WORK}/policy.yaml", "w") as f:
        f.write("""version: 1
segment: {inside: [127.0.0.0/8]}
defaults: {deny: reset}
services:
  - name: files
    kind: lgwan-asp
    fqdn: [files.example.jp, "*.files.example.jp"]
    ports: [tcp/443]
    intercept: true
    sanitize: true
  - name: login
    kind: lgwan-asp
    fqdn: [login.microsoftonline.com]
    ports: [tcp/443]
    intercept: true
""")
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    procs = []
    icapd = subprocess.Popen([ICAPD, "--listen", "127.0.0.1:0", "--ready-file", f"{WORK}/icapd.port",
                              "--log", f"{WORK}/icapd.jsonl", "--workers", "2"],
                             stdout=subprocess.DEVNULL)
    procs.append(icapd)
    try:
        icap_port = wait_port_file(f"{WORK}/icapd.port", icapd, "lbg-icapd")
        proxy, port = start_proxy("real", f"icap://127.0.0.1:{icap_port}/sanitize")
        procs.append(proxy)
        curl = ["curl", "-sS", "--proxy", f"http://127.0.0.1:{port}", "--cacert",
                f"{WORK}/appliance.pem", "--max-time", "30"]

        def get(*urls, extra=()):
            r = subprocess.run(curl + list(extra) + ["-D", "-", *urls], capture_output=True)
            return r.returncode, r.stdout

        # 1. Clean text, executable, clean text again: one keep-alive connection.
        del SEEN[:]
        rc, out = get("https://files.example.jp/notes.txt", "https://files.example.jp/tool.exe",
                      "https://files.example.jp/notes.txt?again", extra=["--compressed"])
        check(rc == 0, f"three downloads through the proxy ({rc})")
        check(out.count(CLEAN) == 2, "the clean text arrives intact, twice")
        check(EXE[:40] not in out and b"PE-payload-bytes" not in out,
              "the executable's bytes never reach the client")
        check(b"HTTP/1.1 403" in out and "ファイルのダウンロードをブロックしました".encode() in out and
              b"X-LBG-Sanitizer: blocked" in out, "the executable is replaced by lbg-icapd's block page")
        check(len(SEEN) == 3 and len({s[0] for s in SEEN}) == 1,
              f"one upstream connection for the three ({[s[0] for s in SEEN]})")
        check(all(s[2] == ["identity"] for s in SEEN),
              f"the origin is asked for identity bodies although curl asked for gzip ({[s[2] for s in SEEN]})")

        # 1b. A CSV with a formula cell arrives rebuilt (the cell neutralised), framed anew.
        rc, out = get("https://files.example.jp/report.csv")
        body = out.rsplit(b"\r\n\r\n", 1)[-1]
        m = re.search(rb"Content-Length: (\d+)", out)
        check(rc == 0 and b"HTTP/1.1 200" in out and b"X-LBG-Sanitizer: sanitized" in out and
              b"'=HYPERLINK" in body and b",=HYPERLINK" not in body and m and int(m.group(1)) == len(body),
              f"a CSV with a formula arrives sanitized ({out[:400]!r})")

        # 2. A chunked response is decoded for lbg-icapd and blocked the same way.
        rc, out = get("https://files.example.jp/tool-chunked.exe")
        check(rc == 0 and b"HTTP/1.1 403" in out and b"PE-payload-bytes" not in out,
              "a chunked executable is replaced by the block page")

        # 3. Over --icap-max-body: refused by the proxy, nothing of it delivered.
        rc, out = get("https://files.example.jp/big.bin")
        check(b"HTTP/1.1 403" in out and b"X-Lbg-Reason: too-large" in out and BIG[:1000] not in out,
              "a body over --icap-max-body is refused")

        # 4. Responses of a service without sanitize: pass as they are (and no identity asked).
        del SEEN[:]
        rc, out = get("https://login.microsoftonline.com/tool.exe", extra=["--compressed"])
        check(rc == 0 and EXE in out, "a service without sanitize: relays its bodies untouched")
        check(SEEN and SEEN[0][2] != ["identity"], "Accept-Encoding left alone there")

        # 4b. A range of a sanitized file cannot be sanitized: the proxy asks the origin for the
        # whole file (Range and If-Range removed) and the client gets it whole, sanitized; a
        # service without sanitize: keeps the client's Range.
        del SEEN[:]
        rc, out = get("https://files.example.jp/notes.txt", extra=["-r", "0-9"])
        check(rc == 0 and b"HTTP/1.1 200" in out and CLEAN in out and SEEN and SEEN[-1][3] is None,
              f"Range removed toward a sanitized service, the whole file delivered ({SEEN[-1:]})")
        del SEEN[:]
        rc, out = get("https://login.microsoftonline.com/notes.txt", extra=["-r", "0-9"])
        check(SEEN and SEEN[-1][3] == ["bytes=0-9"], f"Range kept elsewhere ({SEEN[-1:]})")

        # 5. The PAC file.
        r = subprocess.run(["curl", "-sS", "-D", f"{WORK}/pac.head", "--max-time", "10",
                            f"http://127.0.0.1:{port}/proxy.pac"], capture_output=True, text=True)
        head = open(f"{WORK}/pac.head").read()
        pac = r.stdout
        check(r.returncode == 0 and head.startswith("HTTP/1.1 200") and
              "Content-Type: application/x-ns-proxy-autoconfig" in head, "PAC served with its content type")
        check("function FindProxyForURL(url, host)" in pac and f'"PROXY 127.0.0.1:{port}"' in pac and
              '"files.example.jp": 1' in pac and '".files.example.jp"' in pac and
              '"login.microsoftonline.com": 1' in pac and "; DIRECT" not in pac,
              "PAC names the services and this listener, with no DIRECT fallback")
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{content_type}",
                            f"http://127.0.0.1:{port}/wpad.dat"], capture_output=True, text=True)
        check(r.stdout == "200 application/x-ns-proxy-autoconfig", f"wpad.dat served too ({r.stdout})")
        node = shutil.which("node") or shutil.which("nodejs")
        if node:
            js = pac + """
function isPlainHostName(h) { return h.indexOf(".") < 0; }
function dnsDomainIs(h, d) { return h.length >= d.length && h.substring(h.length - d.length) == d; }
var cases = [["https://files.example.jp/a", "files.example.jp"], ["https://a.files.example.jp/", "A.files.example.jp"],
             ["http://files.example.jp/", "files.example.jp"], ["https://evil-files.example.jp/", "evil-files.example.jp"],
             ["https://intranet/", "intranet"], ["https://www.example.org/", "www.example.org"]];
console.log(cases.map(function (c) { return FindProxyForURL(c[0], c[1]); }).join("|"));
"""
            r = subprocess.run([node, "-e", js], capture_output=True, text=True)
            p = f"PROXY 127.0.0.1:{port}"
            check(r.stdout.strip() == "|".join([p, p, "DIRECT", "DIRECT", "DIRECT", "DIRECT"]),
                  f"PAC evaluated: services by proxy, the rest DIRECT ({r.stdout.strip()} {r.stderr.strip()})")
        else:
            print("skip PAC evaluation (no node)")

        # 5b. The worker's bounds (one worker, so both are its own): a response whose held bytes
        # would pass --icap-held-budget is refused 503 before it is read, a smaller one passes;
        # a connection over --max-connections is reset at accept, and admitted again once the
        # one holding the place goes.
        lproxy, lport = start_proxy("limits", f"icap://127.0.0.1:{icap_port}/sanitize",
                                  ["--workers", "1", "--icap-held-budget", "3000",
                                   "--max-connections", "1"])
        procs.append(lproxy)

        def lget(url):
            r = subprocess.run(["curl", "-sS", "--proxy", f"http://127.0.0.1:{lport}", "--cacert",
                                f"{WORK}/appliance.pem", "--max-time", "30", "-D", "-", url],
                               capture_output=True)
            return r.returncode, r.stdout

        rc, out = lget("https://files.example.jp/notes.txt")
        check(rc == 0 and b"HTTP/1.1 200" in out and CLEAN in out, f"a small file fits the held budget ({rc})")
        rc, out = lget("https://files.example.jp/medium.txt")
        check(b"HTTP/1.1 503" in out and b"X-Lbg-Reason: sanitize-busy" in out and MEDIUM[:100] not in out,
              f"a file over the held budget is refused ({out[:60]!r})")
        def accepted():
            time.sleep(0.6)  # the worker publishes its counters every half second
            return counters("limits").get("proxy_accepted", 0)

        before = accepted()
        holder = socket.create_connection(("127.0.0.1", lport))
        holder.sendall(b"CONNECT files.example.jp:443 HTTP/1.1\r\n")  # an unfinished head holds the place
        for _ in range(50):
            if accepted() > before:
                break
        rc, out = lget("https://files.example.jp/notes.txt")
        check(rc != 0 and CLEAN not in out, f"a connection over --max-connections is reset (curl {rc})")
        holder.close()
        for _ in range(50):  # until the worker has seen the holder go
            rc, out = lget("https://files.example.jp/notes.txt")
            if rc == 0:
                break
            time.sleep(0.2)
        check(rc == 0 and CLEAN in out, f"admitted again once the place is free (curl {rc})")
        for _ in range(50):  # the worker publishes every half second
            c = counters("limits")
            if c.get("proxy_conn_limit_refused", 0) >= 1:
                break
            time.sleep(0.1)
        check(c.get("proxy_sanitize_busy") == 1 and c.get("proxy_conn_limit_refused", 0) >= 1,
              f"counted ({c.get('proxy_sanitize_busy')} busy, {c.get('proxy_conn_limit_refused')} reset)")
        lproxy.terminate()
        lproxy.wait(timeout=20)
        check(any(r.get("reason") == "sanitize-busy" for r in records("limits")), "log: sanitize-busy")

        # 6. lbg-icapd stopped: refused, never the original.
        icapd.terminate()
        icapd.wait(timeout=20)
        rc, out = get("https://files.example.jp/notes.txt")
        check(b"HTTP/1.1 502" in out and b"X-Lbg-Reason: icap-unavailable" in out and CLEAN not in out,
              "lbg-icapd down: 502, the file is not delivered")
        time.sleep(0.6)  # the counters file is rewritten every half second while counters change
        proxy.terminate()
        proxy.wait(timeout=20)
        c = counters("real")
        # Seven sent to ICAP (the last one found lbg-icapd down); the big one never was.
        check(c.get("proxy_sanitize_requests") == 7 and c.get("proxy_sanitize_replaced") == 1 and c.get("proxy_sanitize_blocked") == 2 and
              c.get("proxy_sanitize_too_large") == 1 and c.get("proxy_sanitize_failed") == 1 and
              c.get("proxy_pac_served") == 2 and
              c.get("proxy_sanitize_unchanged") == 3,
              "counters: " + json.dumps({k: v for k, v in c.items() if "sanitize" in k or "pac" in k}))
        reasons = [r.get("reason") for r in records("real")
                   if r.get("event_type") == "http" and r.get("action") == "deny"]
        check(reasons.count("sanitize-blocked") == 2 and "too-large" in reasons and
              "icap-unavailable" in reasons, f"log: http deny records ({reasons})")

        # 7. A misbehaving ICAP server; meanwhile other connections keep flowing.
        fake = FakeIcap("garbage")
        proxy, port = start_proxy("fake", f"icap://127.0.0.1:{fake.port}/sanitize")
        procs.append(proxy)
        curl = ["curl", "-sS", "--proxy", f"http://127.0.0.1:{port}", "--cacert",
                f"{WORK}/appliance.pem", "--max-time", "30"]
        rc, out = get("https://files.example.jp/notes.txt")
        check(b"HTTP/1.1 502" in out and b"X-Lbg-Reason: icap-invalid" in out and CLEAN not in out,
              "an ICAP answer that is not ICAP: 502")
        fake.mode = "hold"
        held = subprocess.Popen(curl + ["-D", "-", "https://files.example.jp/notes.txt"],
                                stdout=subprocess.PIPE)
        check(fake.received.wait(30), "the held response reached the ICAP server")
        rc, out = get("https://login.microsoftonline.com/notes.txt")
        check(rc == 0 and CLEAN in out and held.poll() is None,
              "another connection is served while a response waits for ICAP")
        fake.release.set()
        out = held.communicate(timeout=30)[0]
        check(b"HTTP/1.1 502" in out and b"icap-invalid" in out and CLEAN not in out,
              "an ICAP answer cut short: 502")
        proxy.terminate()
        proxy.wait(timeout=20)

        silent = FakeIcap("silent")
        proxy, port = start_proxy("silent", f"icap://127.0.0.1:{silent.port}/sanitize",
                                  ["--icap-timeout", "1"])
        procs.append(proxy)
        curl = ["curl", "-sS", "--proxy", f"http://127.0.0.1:{port}", "--cacert",
                f"{WORK}/appliance.pem", "--max-time", "30"]
        rc, out = get("https://files.example.jp/notes.txt")
        check(b"HTTP/1.1 502" in out and b"X-Lbg-Reason: icap-timeout" in out and CLEAN not in out,
              "a silent ICAP server: 502 after --icap-timeout")
        proxy.terminate()
        proxy.wait(timeout=20)
        check(any(r.get("reason") == "icap-timeout" for r in records("silent")), "log: icap-timeout")

        # 8. A policy that sanitizes without an ICAP service is refused at start.
        r = subprocess.run([PROXY, "--listen", "127.0.0.1:0", "--policy", f"{WORK}/policy.yaml",
                            "--ca-cert", f"{WORK}/appliance.pem", "--ca-key", f"{WORK}/appliance.key"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "no --icap" in r.stderr, f"sanitize without --icap refused ({r.stderr.strip()})")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all sanitize checks passed")


main()
