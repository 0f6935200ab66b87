"""Helpers shared by the lbg-icapd integration tests (python3 standard library only).

Everything runs on 127.0.0.1 in a private temporary directory; every process started here is
stopped again by the context managers, also when a test fails.
"""

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

ICAPD = os.environ.get("LBG_ICAPD", "")
CORPUS = os.environ.get("LBG_CORPUS", "/work/shared/corpus")
DOCM_WITH_VBA = os.path.join(CORPUS, "office", "oleform", "oleform-PR314.docm")
ENCRYPTED_DOCX = os.path.join(CORPUS, "office", "encrypted", "encrypted.docx")
DDE_DOCX = os.path.join(CORPUS, "office", "msodde", "dde-test.docx")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


def wait_for(pred, what, timeout=30.0):
    # Polls a condition; the limit only guards against a hung process, it measures nothing.
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def stop_process(proc, name):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail(name + " did not stop on SIGTERM")


@contextlib.contextmanager
def tempdir():
    d = tempfile.mkdtemp(prefix="lbg-icap-it-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def icapd(workdir, *extra):
    """Starts lbg-icapd on a free loopback port; yields (port, log_path, proc)."""
    if not ICAPD or not os.access(ICAPD, os.X_OK):
        fail("LBG_ICAPD does not name the lbg-icapd binary")
    ready = os.path.join(workdir, "icapd.port")
    log = os.path.join(workdir, "icapd.jsonl")
    stderr = open(os.path.join(workdir, "icapd.stderr"), "wb")
    proc = subprocess.Popen(
        [ICAPD, "--listen", "127.0.0.1:0", "--ready-file", ready, "--log", log,
         "--contact", "情報政策課 (内線 1234)", *extra],
        stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for(lambda: os.path.exists(ready) or proc.poll() is not None, "lbg-icapd to listen")
        if proc.poll() is not None:
            stderr.flush()
            fail("lbg-icapd exited: " + open(stderr.name, encoding="utf-8", errors="replace").read())
        with open(ready) as f:
            port = int(f.read().strip())
        yield port, log, proc
    finally:
        stop_process(proc, "lbg-icapd")
        stderr.close()
        sys.stderr.write(open(stderr.name, encoding="utf-8", errors="replace").read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IcapClient:
    """A minimal, strict ICAP client for the tests."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _take_until(self, sep):
        while sep not in self.buf:
            self._fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self):
        """Returns (status, icap_headers, http_head_bytes, body_or_None)."""
        head = self._take_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if status == 100:
            return status, headers, b"", None
        enc = [e.strip().split("=") for e in headers["encapsulated"].split(",")]
        http = self._take(int(enc[-1][1]))
        if enc[-1][0] == "null-body":
            return status, headers, http, None
        body = b""
        while True:
            size_line = self._take_until(b"\r\n").decode("latin-1")
            size = int(size_line.split(";")[0].strip(), 16)
            if size == 0:
                self._take_until(b"\r\n")
                break
            body += self._take(size)
            self._take(2)
        return status, headers, http, body


def chunk(data, last=True, ieof=False, size=4096):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    if last:
        out += b"0; ieof\r\n\r\n" if ieof else b"0\r\n\r\n"
    return out


def respmod(url_path, body_headers, extra_icap=b"", host=b"files.example.jp"):
    req = b"GET " + url_path + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    res = b"HTTP/1.1 200 OK\r\n" + body_headers + b"\r\n"
    head = (b"RESPMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n" + extra_icap +
            b"Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n" % (len(req), len(req) + len(res)))
    return head + req + res


def http_header(http_head, name):
    for line in http_head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == name.lower():
                return v.strip()
    return None


def http_status(http_head):
    return int(http_head.decode("latin-1").split(" ")[1])


def zip_names(data):
    try:
        return zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return None


def is_block_page(status, body):
    return status == 403 and body is not None and "ブロック".encode() in body and b"SHA-256" in body


def has_vba(names):
    return any("vba" in n.lower() for n in names)
