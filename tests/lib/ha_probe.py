"""Client of the HA pair tests (tests/lib/ha_pair.sh), run in the client namespace: one new allowed
HTTP connection every 20 ms, the time of each answered one appended to OUT, until STOPFILE exists.
With KEEP > 0 it first opens KEEP keep-alive connections (one request each), and when STOPFILE
appears sends one more request on each and writes "kept N of KEEP" to OUT.kept: the established
connections a takeover kept."""
import os
import socket
import sys
import time

ip, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
keep = int(sys.argv[4]) if len(sys.argv) > 4 else 0
REQUEST = b"GET /%s HTTP/1.1\r\nHost: allowed.example.jp\r\n%s\r\n"


def ask(s, path, close):
    s.sendall(REQUEST % (path.encode(), b"Connection: close\r\n" if close else b""))
    data = b""
    while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1].endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.startswith(b"HTTP/1.1 200")


held = []
for i in range(keep):
    try:
        s = socket.create_connection((ip, 80), timeout=2)
        s.settimeout(2)
        if ask(s, "held", False):
            held.append(s)
    except OSError:
        pass

with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        t = time.time()
        try:
            s = socket.create_connection((ip, 80), timeout=0.3)
            s.settimeout(0.3)
            if ask(s, "probe", True):
                f.write("%.3f\n" % t)
            s.close()
        except OSError:
            pass
        time.sleep(0.02)

if keep:
    kept = 0
    for s in held:
        try:
            s.settimeout(2)
            kept += ask(s, "again", False)
        except OSError:
            pass
    with open(out + ".kept", "w") as f:
        f.write("kept %d of %d\n" % (kept, keep))
