#!/usr/bin/python3
"""Reload benchmark: commit-to-enforced latency of policy commits with 10,000 services while
frames flow through a running lbg-gateway, and the frames lost meanwhile.

usage: reload-bench [--gateway PATH] [--lbgctl PATH] [--services N] [--commits N] [--pps N]
                    [--work DIR]
Needs root (a network namespace of its own; the traffic never leaves it).

Each commit: the candidate is loaded with `lbgctl policy load` (not timed: that is the
administrator's editing step, validated then), then the commit request is sent on the control
socket. Latency = from the moment the request is written to the socket until every worker has
taken the new snapshot; the gateway stamps that moment (`enforced_at`, CLOCK_REALTIME, taken when
publish() returns, which waits for each worker's acknowledgement of the snapshot version), so the
figure does not include the answer's way back nor lbgctl's start-up. Every fifth commit goes through
`lbgctl policy commit` instead, whose round trip as a whole is printed too (it adds process start and the store's activation record).
Lost = frames sent - frames received, plus received - forwarded - denied (the gateway's
counters), plus frames the TX queue refused.
Last line: `reload: commit-to-enforced p50 <A> ms, p99 <B> ms, lost <N> packets`.
"""
import argparse
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, "@TESTS_CONTROL@")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "control"))
import gwlib  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--gateway", default=os.path.join(here, "..", "..", "lbg-gateway"))
ap.add_argument("--lbgctl", default=os.path.join(here, "..", "..", "..", "control", "lbgctl"))
ap.add_argument("--services", type=int, default=10000)
ap.add_argument("--commits", type=int, default=50)
ap.add_argument("--pps", type=int, default=2000)
ap.add_argument("--work", default="/tmp/lbg-reload-bench")
ap.add_argument("--settle", type=float, default=0.5, help="seconds between load and commit")
a = ap.parse_args()
if os.geteuid() != 0:
    sys.exit("reload-bench: needs root (network namespace)")

MAIN = ("100.64.0.10", 10000)     # service svc-00000: allowed by every version
TOGGLE = ("203.0.113.10", 6000)   # service toggle: in every other version


def policy(k):
    lines = ["version: 1", "segment:", "  inside: [10.0.0.0/8]", "defaults: {deny: drop, quic: block}",
             "services:"]
    for i in range(a.services):
        lines += ["  - name: svc-%05d" % i, "    kind: lgwan-asp",
                  "    fqdn: [host%d.example%d.jp]" % (i, i % 100),
                  "    cidr: [100.%d.%d.0/24]" % (64 + i // 256 % 64, i % 256),
                  "    ports: [tcp/443, udp/%d]" % (10000 + i % 50000)]
        if i == 0:
            lines.append('    description: "revision %d"' % k)
    if k % 2 == 1:
        lines += ["  - name: toggle", "    kind: lgwan-asp", "    cidr: [203.0.113.0/24]", "    ports: [udp/6000]"]
    return "\n".join(lines) + "\n"


def frames(nflows):
    out = []
    for i in range(nflows):
        src = "10.2.%d.%d" % ((i >> 8) & 255, i & 255)
        dst = MAIN if i % 2 == 0 else TOGGLE
        out.append(gwlib.udp_frame(src, 10000 + (i >> 16), dst[0], dst[1]))
    return out


def call(sock_path, cmd, args):
    """One request on the control socket; returns (answer, time the request was written)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    line = (json.dumps({"v": 1, "cmd": cmd, "args": args}) + "\n").encode()
    t_sent = time.time_ns()
    s.sendall(line)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf), t_sent


def rfc3339_ns(t):
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1_000_000_000 + d.microsecond * 1000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


shutil.rmtree(a.work, ignore_errors=True)
os.makedirs(a.work)
os.chmod(a.work, 0o755)
ns = gwlib.Netns("b%d" % os.getpid())
gw = gwlib.Gateway(os.path.abspath(a.gateway), os.path.abspath(a.lbgctl), os.path.join(a.work, "gw"), policy(0),
                   'users:\n  "0": admin\n', netns=ns, tag="bench")
sender = gwlib.Sender(ns, gw.work)
stop = os.path.join(gw.work, "stop")
latencies, roundtrips, waits = [], [], []
try:
    t = time.monotonic()
    gw.start(timeout=120)
    print("gateway up with %d services in %.1f s" % (a.services, time.monotonic() - t), flush=True)
    sender.start(frames(a.pps * 900), a.pps, stop)
    gwlib.wait_for("traffic to flow", lambda: gw.counters()["rx_packets"] > 100)
    p = os.path.join(gw.work, "v.yaml")
    for k in range(1, a.commits + 1):
        with open(p, "w") as f:
            f.write(policy(k))
        rc, _, err = gw.ctl("policy", "load", p)
        if rc != 0:
            sys.exit("load %d: %s" % (k, err))
        # Loading is the administrator's editing step: it parses 10,000 services (about a second
        # on the service thread, while verdict events queue up). The commit is a separate action;
        # let the service thread catch up with the event log first.
        time.sleep(a.settle)
        t0 = time.monotonic()
        if k % 5 == 0:  # every fifth through lbgctl, for its round trip as a whole
            rc, out, err = gw.ctl("--json", "policy", "commit", "-m", "bench %d" % k)
            if rc != 0:
                sys.exit("commit %d: %s" % (k, err))
            roundtrips.append((time.monotonic() - t0) * 1000)
            continue
        ans, t_sent = call(gw.sock, "policy.commit", {"message": "bench %d" % k})
        if not ans.get("ok"):
            sys.exit("commit %d: %s" % (k, ans))
        latencies.append((rfc3339_ns(ans["result"]["enforced_at"]) - t_sent) / 1e6)
        waits.append((rfc3339_ns(ans["result"]["received_at"]) - t_sent) / 1e6)
    open(stop, "w").close()
    sent = sender.wait()
    gwlib.wait_for("the gateway to receive every frame", lambda: gw.counters()["rx_packets"] >= sent, timeout=30)
    c = gw.counters()
finally:
    gw.stop()
    ns.close()

lost = (sent - c["rx_packets"]) + (c["rx_packets"] - c["tx_packets"] - c["packets_denied"]) + c["tx_dropped"]
print("%d commits (%d timed on the socket, %d through lbgctl), %d frames sent, %d forwarded, %d denied, "
      "%d log events lost" % (a.commits, len(latencies), len(roundtrips), sent, c["tx_packets"],
                              c["packets_denied"], c["events_lost"]))
if roundtrips:
    print("lbgctl policy commit round trip: p50 %.1f ms, p99 %.1f ms" % (pct(roundtrips, 50), pct(roundtrips, 99)))
print("of which waiting for the service thread to read the request: p50 %.1f ms, p99 %.1f ms"
      % (pct(waits, 50), pct(waits, 99)))
print("commit-to-enforced, sorted (ms): " + " ".join("%.1f" % x for x in sorted(latencies)))
print("reload: commit-to-enforced p50 %.1f ms, p99 %.1f ms, lost %d packets"
      % (pct(latencies, 50), pct(latencies, 99), lost))
