#!/usr/bin/python3
"""Reload under load: 100 policy versions committed through lbgctl while frames flow through a
running lbg-gateway; zero frames lost, every flow judged by exactly one committed version and
judged the way that version says.

usage: reload_under_load_test.py LBG_GATEWAY LBGCTL WORKDIR [COMMITS]
Needs root (a namespace of its own); skips (77) otherwise.

Traffic: unique UDP flows of two frames each from the inside segment; even flows go to `main`
(198.51.100.10 udp/5000, allowed by every version), odd flows to `toggle` (203.0.113.10
udp/6000), which version k allows when its commit number is odd. The second frame of a flow
follows 200 frames (about 0.1 s) later, so flows straddle commits.
Proof:
  - the gateway received every frame sent (rx_packets == sent), and rx == forwarded + denied,
    where forwarded is counted both by tx_packets and by the frames in the outside port's pcap;
  - each flow that was received has a verdict event (none lost), its policy version is one that
    was committed, and its action is what that version's policy says for the flow; a second
    verdict comes only from defaults.reload: recheck, for a toggle flow whose second frame met a
    version without the toggle service (policy-changed:service-removed), and main flows (allowed
    by every version) are never re-judged;
  - every frame in the outside capture belongs to an allowed flow; a flow allowed throughout is
    forwarded whole, a re-judged one up to the reload (a flow is never mis-forwarded in a swap);
  - the verdicts span the versions (traffic flowed during the commits).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwlib  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

GW, LBGCTL, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
COMMITS = int(sys.argv[4]) if len(sys.argv) > 4 else 100
ADMIN = 61101
PPS = 2000
LAG = 200
MAIN = ("198.51.100.10", 5000)
TOGGLE = ("203.0.113.10", 6000)


def policy(k, toggle):
    text = """version: 1
segment:
  inside: [10.0.0.0/8]
defaults: {deny: drop, quic: block}
services:
  - name: main
    kind: lgwan-asp
    cidr: [198.51.100.0/24]
    ports: [udp/5000]
    description: "revision %d"
""" % k
    if toggle:
        text += """  - name: toggle
    kind: lgwan-asp
    cidr: [203.0.113.0/24]
    ports: [udp/6000]
"""
    return text


def flow_src(i):
    return "10.2.%d.%d" % ((i >> 8) & 255, i & 255), 10000 + (i >> 16)


def frames(nflows):
    out = []
    for i in range(nflows + LAG):
        if i < nflows:
            src, sport = flow_src(i)
            dst = MAIN if i % 2 == 0 else TOGGLE
            out.append(gwlib.udp_frame(src, sport, dst[0], dst[1], b"first"))
        j = i - LAG
        if j >= 0:
            src, sport = flow_src(j)
            dst = MAIN if j % 2 == 0 else TOGGLE
            out.append(gwlib.udp_frame(src, sport, dst[0], dst[1], b"second"))
    return out


check = gwlib.check


WORK = gwlib.fresh_dir(WORK)
ns = gwlib.Netns("r%d" % os.getpid())
gw = gwlib.Gateway(GW, LBGCTL, os.path.join(WORK, "gw"), policy(0, False), 'users:\n  "%d": admin\n' % ADMIN,
                   netns=ns, tag="reload")
sender = gwlib.Sender(ns, gw.work)
allows_toggle = {1: False}  # version → does it allow the toggle service
stop = os.path.join(gw.work, "stop")
try:
    gw.start()
    # Enough frames for a slow machine; the sender stops once the commits are done.
    sender.start(frames(PPS * 300 // 2), PPS, stop)
    gwlib.wait_for("traffic to flow", lambda: gw.counters(uid=ADMIN)["rx_packets"] > 2 * LAG)
    t0 = time.monotonic()
    for k in range(1, COMMITS + 1):
        p = os.path.join(gw.work, "v.yaml")
        with open(p, "w") as f:
            f.write(policy(k, k % 2 == 1))
        os.chmod(p, 0o644)
        rc, _, err = gw.ctl("policy", "load", p, uid=ADMIN)
        if rc != 0:
            check(False, "load %d: %s" % (k, err))
            break
        rc, out, err = gw.ctl("--json", "policy", "commit", "-m", "reload %d" % k, uid=ADMIN)
        if rc != 0:
            check(False, "commit %d: %s" % (k, err))
            break
        allows_toggle[json.loads(out)["version"]] = k % 2 == 1
    elapsed = time.monotonic() - t0
    # Let some traffic run on the last version, then stop the sender and let the gateway drain.
    time.sleep(0.5)
    open(stop, "w").close()
    sent = sender.wait()
    gwlib.wait_for("the gateway to receive every frame",
                   lambda: gw.counters(uid=ADMIN)["rx_packets"] >= sent, timeout=30)
    c = gw.counters(uid=ADMIN)
    st = gw.ctl_json("status", uid=ADMIN)
finally:
    gw.stop()
    ns.close()

print("%d commits in %.1f s, %d frames sent" % (COMMITS, elapsed, sent))
check(len(allows_toggle) == COMMITS + 1, "%d versions committed" % (len(allows_toggle) - 1))
check(st["dataplane_version"] == max(allows_toggle), "the last version runs: %s" % st)
check(c["rx_packets"] == sent, "rx_packets %d == frames sent %d" % (c["rx_packets"], sent))
out_frames = gwlib.read_pcap(gw.out_pcap)
check(c["tx_packets"] == len(out_frames), "tx_packets %d == frames captured outside %d" % (c["tx_packets"], len(out_frames)))
check(c["rx_packets"] == c["tx_packets"] + c["packets_denied"],
      "rx %d == forwarded %d + denied %d (zero lost)" % (c["rx_packets"], c["tx_packets"], c["packets_denied"]))
for k in ("tx_dropped", "events_lost", "flow_table_full", "decode_malformed", "l2_dropped", "hold_exhausted"):
    check(c[k] == 0, "%s == 0 (%d)" % (k, c[k]))

# Frames sent per flow, in the order the sender wrote them (it stops part-way through the list).
all_frames = frames(PPS * 300 // 2)[:sent]
sent_per_flow = {}
for fr in all_frames:
    src, sport, dst, dport = gwlib.parse_udp(fr)
    sent_per_flow[(src, sport)] = sent_per_flow.get((src, sport), 0) + 1
verdicts = {}
for v in gwlib.verdicts(gw.events()):
    verdicts.setdefault((v["src_ip"], v["src_port"]), []).append(v)
check(set(verdicts) == set(sent_per_flow), "every flow sent was judged: %d flows, %d judged" % (len(sent_per_flow), len(verdicts)))
wrong, unknown, rejudged = [], [], []
for key, vs in verdicts.items():
    v = vs[0]
    ver = v["policy"]["version"]
    if ver not in allows_toggle:
        unknown.append((key, ver))
        continue
    want = "allow" if v["dest_port"] == MAIN[1] or allows_toggle[ver] else "deny"
    if v["action"] != want:
        wrong.append((key, ver, v["action"]))
    if len(vs) == 1:
        continue
    # defaults.reload: recheck (the default): a toggle flow allowed under one version whose second
    # frame arrives under a version without the toggle service is ended there, once.
    r = vs[1]
    ok = (len(vs) == 2 and v["action"] == "allow" and v["dest_port"] == TOGGLE[1] and
          r["action"] == "deny" and r["reason"] == "policy-changed:service-removed" and
          r["policy"]["version"] in allows_toggle and not allows_toggle[r["policy"]["version"]] and
          r["policy"]["version"] > ver)
    if ok:
        rejudged.append(key)
    else:
        wrong.append((key, [(x["policy"]["version"], x["action"], x["reason"]) for x in vs]))
check(not unknown, "every verdict names a committed version (%d do not: %s)" % (len(unknown), unknown[:3]))
check(not wrong, "every verdict is what its version says (%d wrong: %s)" % (len(wrong), wrong[:3]))
check(len(rejudged) > 0, "toggle flows ended by a version without the service (%d)" % len(rejudged))
check(not any(verdicts[k][0]["dest_port"] == MAIN[1] and len(verdicts[k]) > 1 for k in verdicts),
      "main flows (allowed by every version) judged once across %d reloads" % COMMITS)
out_per_flow = {}
for fr in out_frames:
    src, sport, dst, dport = gwlib.parse_udp(fr)
    out_per_flow[(src, sport)] = out_per_flow.get((src, sport), 0) + 1
allowed = {k for k, vs in verdicts.items() if vs[0]["action"] == "allow"}
check(set(out_per_flow) == allowed, "frames outside are exactly the allowed flows' (%d flows)" % len(allowed))
# A flow allowed throughout is forwarded whole; one ended by a reload only up to that reload (its
# first frame).
half = [k for k in allowed
        if out_per_flow.get(k) != (1 if len(verdicts[k]) == 2 else sent_per_flow[k])]
check(not half, "allowed flows forwarded whole, re-judged ones up to the reload (%d not: %s)" % (len(half), half[:3]))
seen = {vs[0]["policy"]["version"] for vs in verdicts.values()}
check(len(seen) >= COMMITS * 3 // 4, "verdicts by %d of %d versions (traffic flowed through the commits)" % (len(seen), len(allows_toggle)))
toggled = {vs[0]["policy"]["version"] for vs in verdicts.values() if vs[0]["dest_port"] == TOGGLE[1] and vs[0]["action"] == "deny"}
check(len(toggled) >= COMMITS // 4, "toggle denied under %d versions" % len(toggled))
gwlib.finish()
