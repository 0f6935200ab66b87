#!/usr/bin/python3
"""Crash safety of the policy store in a running lbg-gateway.

usage: crash_safety_test.py LBG_GATEWAY LBGCTL WORKDIR [ROUNDS]
Needs root (a namespace of its own); skips (77) otherwise.

Each round: commits run back to back through lbgctl and the gateway is killed with SIGKILL at a
random moment (so, most of the time, in the middle of a commit: validation, store writes, publish
or activation); then it is started again on the same store and:
  - the store is consistent: history readable, no problems, every version's text hashes to its
    recorded SHA-256 (through `policy show` and on disk), nothing left `staged` or `pending`;
  - the version in force is the last acknowledged commit or the one in flight, never older;
    the dataplane runs exactly that version (status in_sync);
  - it is not a mix: version k opens two things at once (udp/5000+k to 198.51.100.0/24 and
    udp/6000 to one address of its own), and real frames show both belong to the same k;
  - commits work again (the next round).
Finally the newest version's file is corrupted on disk: at start the gateway reports it clearly
(file named, on stderr, in `status`/`history` problems and as an admin event) and keeps the last
good version in force, as the frames show.
"""
import hashlib
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwlib  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

GW, LBGCTL, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 6
ADMIN = 61201
rng = random.Random(int(os.environ.get("LBG_TEST_SEED", str(os.getpid()))))


def host(k):
    return "203.0.%d.%d" % (113 + k // 250, k % 250 + 1)


def policy(k):
    return """version: 1
segment:
  inside: [10.0.0.0/8]
defaults: {deny: drop, quic: block}
services:
  - name: ports
    kind: lgwan-asp
    cidr: [198.51.100.0/24]
    ports: [udp/%d]
    description: "commit %d"
  - name: host
    kind: lgwan-asp
    cidr: [%s/32]
    ports: [udp/6000]
""" % (5000 + k, k, host(k))


check = gwlib.check


WORK = gwlib.fresh_dir(WORK)
ns = gwlib.Netns("c%d" % os.getpid())
gw = gwlib.Gateway(GW, LBGCTL, os.path.join(WORK, "gw"), policy(0), 'users:\n  "%d": admin\n' % ADMIN,
                   netns=ns, tag="crash")
sender = gwlib.Sender(ns, gw.work)
probe_port = [30000]


def k_of(version):
    """The commit number k a version was made from (its `ports` description)."""
    yaml = gw.ctl_json("policy", "show", version, uid=ADMIN)["yaml"]
    at = yaml.index("commit ")
    return int(yaml[at + 7:].split('"')[0])


def probe(ks):
    """Sends one flow per candidate k on both dimensions; returns the ks allowed on each."""
    frames, keys = [], {}
    for k in ks:
        for dim, (dst, dport) in (("port", ("198.51.100.9", 5000 + k)), ("host", (host(k), 6000))):
            probe_port[0] += 1
            frames.append(gwlib.udp_frame("10.3.0.1", probe_port[0], dst, dport))
            keys[probe_port[0]] = (dim, k)
    sender.send(frames)

    def all_judged():
        return sum(1 for v in gwlib.verdicts(gw.events()) if v["src_port"] in keys) == len(keys)
    gwlib.wait_for("probe verdicts", all_judged)
    got = {"port": set(), "host": set()}
    for v in gwlib.verdicts(gw.events()):
        if v["src_port"] in keys and v["action"] == "allow":
            dim, k = keys[v["src_port"]]
            got[dim].add(k)
    return got


def verify_store(label):
    hist = gw.ctl_json("policy", "history", uid=ADMIN)
    check(hist["problems"] == [], "%s: store has no problems: %s" % (label, hist["problems"]))
    bad = []
    for m in hist["versions"]:
        shown = gw.ctl_json("policy", "show", m["version"], uid=ADMIN)
        if hashlib.sha256(shown["yaml"].encode()).hexdigest() != m["sha256"]:
            bad.append(m["version"])
    check(not bad, "%s: every version hashes to its record (%d versions, bad %s)" % (label, len(hist["versions"]), bad))
    states = {m["state"] for m in hist["versions"]}
    check(not states & {"staged", "pending"}, "%s: nothing left half-done: %s" % (label, states))
    # The same on disk, independently of the daemon.
    vdir = os.path.join(gw.store, "current", "versions")
    disk_bad = []
    for name in os.listdir(vdir):
        if name.endswith(".json"):
            meta = json.load(open(os.path.join(vdir, name)))
            text = open(os.path.join(vdir, name[:-5] + ".yaml"), "rb").read()
            if hashlib.sha256(text).hexdigest() != meta["sha256"]:
                disk_bad.append(name)
    check(not disk_bad, "%s: files on disk match their hashes %s" % (label, disk_bad))
    return hist


next_k = 1
acked_k = 0
try:
    gw.start()
    for rnd in range(1, ROUNDS + 1):
        in_flight = [None]
        stop = threading.Event()

        def committer():
            global next_k, acked_k
            p = os.path.join(gw.work, "v.yaml")
            while not stop.is_set():
                k = next_k
                with open(p, "w") as f:
                    f.write(policy(k))
                os.chmod(p, 0o644)
                if gw.ctl("policy", "load", p, uid=ADMIN)[0] != 0:
                    return
                in_flight[0] = k
                next_k = k + 1
                rc, _, _ = gw.ctl("policy", "commit", "-m", "crash %d" % k, uid=ADMIN)
                if rc != 0:
                    return
                acked_k = k

        t = threading.Thread(target=committer)
        t.start()
        time.sleep(rng.uniform(0.3, 2.5))
        gw.kill9()
        stop.set()
        t.join()
        print("round %d: killed with commit %s in flight, %d acknowledged" % (rnd, in_flight[0], acked_k))
        gw.start()
        label = "round %d" % rnd
        hist = verify_store(label)
        st = gw.ctl_json("status", uid=ADMIN)
        check(st["in_sync"] and st["dataplane_version"] == hist["running"],
              "%s: dataplane runs the store's version: %s" % (label, st))
        k = k_of(hist["running"])
        check(k in (acked_k, in_flight[0]), "%s: in force commit %d, acknowledged %d, in flight %s"
              % (label, k, acked_k, in_flight[0]))
        got = probe([k - 1, k, k + 1])
        check(got["port"] == {k} and got["host"] == {k}, "%s: frames show one version, commit %d: %s" % (label, k, got))
        acked_k = k  # what runs now is the baseline of the next round

    # ---- a corrupted store file --------------------------------------------------------------
    hist = gw.ctl_json("policy", "history", uid=ADMIN)
    newest = hist["running"]
    good = [m["version"] for m in hist["versions"] if m["state"] == "active" and m["version"] != newest]
    previous = max(good)
    k_prev = k_of(previous)
    gw.stop()
    path = os.path.join(gw.store, "current", "versions", "%06d.yaml" % newest)
    data = bytearray(open(path, "rb").read())
    at = data.index(b"commit ")
    data[at] = ord("C")  # one flipped letter, still valid YAML: only the hash can tell
    open(path, "wb").write(bytes(data))
    gw.start()
    err = gw.stderr().split("lbg-gateway: running")[-2]
    check("%06d" % newest in err or "version %d" % newest in err,
          "corruption reported at start naming the version: %s" % err.strip().splitlines()[-1:])
    st = gw.ctl_json("status", uid=ADMIN)
    check(st["problems"] and st["dataplane_version"] == previous and st["running_version"] == previous,
          "last good version %d in force: %s" % (previous, st))
    check(gw.ctl_json("policy", "history", uid=ADMIN)["problems"], "history lists the problem")
    got = probe([k_prev - 1, k_prev, k_prev + 1])
    check(got["port"] == {k_prev} and got["host"] == {k_prev}, "frames judged by version %d: %s" % (previous, got))
    rc, _, err2 = gw.ctl("policy", "show", newest, uid=ADMIN)
    check(rc != 0, "the corrupt version is never served (rc %d %s)" % (rc, err2.strip()))
finally:
    gw.stop()
    ns.close()

problems = [e for e in gw.events() if e.get("event_type") == "admin" and e["admin"]["action"] == "store.open"]
check(any("%06d.yaml: hash mismatch" % newest in json.dumps(e) for e in problems),
      "admin event for the corrupt store entry: %s" % problems[-2:])
gwlib.finish()
