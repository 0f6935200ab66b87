#!/usr/bin/python3
"""IDS rule management against a running lbg-gateway: `lbgctl ids load` and `ids test --pcap`.

usage: ids_rules_test.py LBG_GATEWAY LBGCTL GEN_CAPTURES GOLDEN_POLICY WORKDIR
Needs root (a namespace, and other uids reached with setresuid); skips (77) otherwise.

1. A rule file whose rules all fail, an empty one, or one lbgctl cannot read leaves the candidate
   unchanged (exit 5, 5, 2); an approver may not stage rules (exit 4).
2. `ids load` of a file with three supported rules and one unsupported: loaded 3, rejected 1 with
   its line and keyword; `policy diff` shows the rule change (sids added); `ids test --pcap
   --candidate` on the golden ids_inline capture lists the expected sids, before any commit.
3. Commit: the running engine alerts on real frames (the golden dns_binding capture's query, sent
   through the gateway) with the staged rule's sid; `ids test --pcap` (running) lists the sids.
4. The source file is edited after the commit: nothing committed changes — `policy diff` is
   empty, the version names the store's copy, and after a restart of the gateway the engine still
   runs the committed rules (the edited rule's sid does not alert, the committed one does).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwlib  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

GW, LBGCTL, GEN, GOLDEN_POLICY, WORK = (os.path.abspath(a) for a in sys.argv[1:6])
ADMIN, APPROVER = 61201, 61202
ROLES_YAML = 'users:\n  "%d": admin\n  "%d": approver\n' % (ADMIN, APPROVER)
check = gwlib.check

WORK = gwlib.fresh_dir(WORK)
IN = os.path.join(WORK, "in")
os.makedirs(IN)
os.chmod(IN, 0o755)


def infile(name, text):
    p = os.path.join(IN, name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, 0o644)
    return p


subprocess.run(["/usr/bin/python3", GEN, IN], check=True, capture_output=True)
for f in os.listdir(IN):
    os.chmod(os.path.join(IN, f), 0o644)
IDS_PCAP = os.path.join(IN, "ids_inline.pcap")
DNS_PCAP = os.path.join(IN, "dns_binding.pcap")

# The golden policy without its own ids: block (the rules come from `ids load`).
golden = open(GOLDEN_POLICY).read()
POLICY = golden[:golden.index("\n# IDS/IPS")] + "\n"
check("ids:" not in POLICY, "start policy has no ids block")

RULES = (
    "# rules staged by `lbgctl ids load`\n"
    'alert http any any -> any any (msg:"LBG IDSLOAD uri"; flow:to_server; http.uri; '
    'content:"/ids-alert-test"; startswith; sid:9300001; rev:1;)\n'
    'drop http any any -> any any (msg:"LBG IDSLOAD evil upload"; flow:established,to_server; '
    'content:"IDS-EVIL-PAYLOAD"; sid:9300002; rev:2;)\n'
    'alert udp $HOME_NET any -> any 53 (msg:"LBG IDSLOAD dns partner"; content:"partner"; '
    "sid:9300003; rev:1;)\n"
    'alert tcp any any -> any any (msg:"LBG IDSLOAD unsupported"; content:"x"; stream_size:server,>,5; '
    "sid:9300004;)\n")
EDITED = RULES.replace('content:"partner"; sid:9300003', 'content:"partner"; sid:9300099')
SOURCE = infile("local.rules", RULES)
BAD = infile("bad.rules", 'alert tcp any any -> any any (msg:"a"; content:"x"; stream_size:server,>,5; sid:1;)\n'
             'alert tcp any any -> any any (msg:"b"; nosuchkeyword; sid:2;)\n')
EMPTY = infile("empty.rules", "# nothing\n\n")


def dns_query_frames():
    """The client's DNS queries of the golden dns_binding capture (raw Ethernet frames)."""
    from scapy.all import IP, UDP, rdpcap
    return [bytes(p) for p in rdpcap(DNS_PCAP)
            if IP in p and UDP in p and p[IP].dst == "192.0.2.53" and p[UDP].dport == 53]


def alerts(gw, sid):
    return [e for e in gw.events()
            if e.get("event_type") == "alert" and e["alert"]["signature_id"] == sid]


def send_and_wait_alert(gw, sender, sid, what):
    before = len(alerts(gw, sid))
    frames = dns_query_frames()
    check(len(frames) >= 1, "capture holds the DNS query")
    sender.send(frames, pps=100)
    try:
        gwlib.wait_for(what, lambda: len(alerts(gw, sid)) > before, timeout=20)
        return True
    except TimeoutError:
        return False


ns = gwlib.Netns(os.getpid())
gw = gwlib.Gateway(GW, LBGCTL, os.path.join(WORK, "gw"), POLICY, ROLES_YAML, netns=ns, tag="ids")
sender = gwlib.Sender(ns, gw.work)
try:
    gw.start()
    # ---- 1. bad input leaves the candidate unchanged ------------------------------------------
    before = gw.ctl_json("policy", "candidate", uid=ADMIN)["yaml"]
    rc, _, err = gw.ctl("ids", "load", SOURCE, BAD, uid=ADMIN)
    check(rc == 5 and "bad.rules" in err and "stream_size" in err,
          "a file whose rules all fail is refused with file, line, keyword (rc %d): %s" % (rc, err))
    rc, _, err = gw.ctl("ids", "load", EMPTY, uid=ADMIN)
    check(rc == 5, "an empty rule file is refused (rc %d): %s" % (rc, err))
    rc, _, err = gw.ctl("ids", "load", os.path.join(IN, "missing.rules"), uid=ADMIN)
    check(rc == 2, "an unreadable file never reaches the daemon (rc %d): %s" % (rc, err))
    rc, _, _ = gw.ctl("ids", "load", SOURCE, uid=APPROVER)
    check(rc == 4, "an approver may not stage rules (rc %d)" % rc)
    check(gw.ctl_json("policy", "candidate", uid=ADMIN)["yaml"] == before, "candidate unchanged")

    # ---- 2. load, diff, test the candidate ------------------------------------------------------
    rc, out, err = gw.ctl("ids", "load", SOURCE, uid=ADMIN)
    check(rc == 0 and "3 rules loaded, 1 rejected" in out and "stream_size" in out,
          "ids load reports loaded and rejected rules (rc %d): %s %s" % (rc, out, err))
    cand = gw.ctl_json("policy", "candidate", uid=ADMIN)["yaml"]
    check(os.path.join(gw.store, "rules") in cand and SOURCE not in cand,
          "the candidate names the store's copy, not the source file")
    rc, out, _ = gw.ctl("policy", "diff", uid=APPROVER)
    check(rc == 10 and "+ sids 3: 9300001 9300002 9300003" in out and "+ file local.rules" in out,
          "policy diff shows the rule change (rc %d): %s" % (rc, out))
    rc, out, err = gw.ctl("--json", "ids", "test", "--pcap", IDS_PCAP, "--candidate", uid=APPROVER)
    res = json.loads(out) if out.strip() else {}
    sids = {r["sid"]: r for r in res.get("rows", [])}
    check(rc == 10 and res.get("policy") == "candidate" and 9300001 in sids and 9300002 in sids
          and 9300003 not in sids,
          "ids test --candidate lists the expected sids (rc %d): %s %s" % (rc, sids, err))
    if 9300002 in sids:
        r = sids[9300002]
        check(r["rev"] == 2 and r["action"] == "blocked" and r["msg"] == "LBG IDSLOAD evil upload"
              and r["flow"].startswith("TCP 10.1.0.10:") and r["count"] >= 1,
              "alert row: sid, rev, msg, action, flow, count: %s" % r)
    rc, out, _ = gw.ctl("ids", "test", "--pcap", IDS_PCAP, uid=APPROVER)
    check(rc == 0 and "no ids: block" in out,
          "ids test of the running policy without ids: says so (rc %d): %s" % (rc, out))

    # ---- 3. commit: the running engine alerts ---------------------------------------------------
    rc, out, err = gw.ctl("--json", "policy", "commit", "-m", "ids rules", uid=ADMIN)
    version = json.loads(out)["version"] if rc == 0 else None
    check(rc == 0, "commit (rc %d): %s" % (rc, err))
    ids = gw.ctl_json("ids", uid=ADMIN)
    check(ids.get("enabled") is True and ids.get("loaded") == 3 and ids.get("rejected") == 1
          and ids.get("policy_version") == version, "the running engine has the rules: %s" % ids)
    check(send_and_wait_alert(gw, sender, 9300003, "an alert of sid 9300003"),
          "the running engine alerts on the capture's frames with the staged sid")
    rc, out, _ = gw.ctl("ids", "test", "--pcap", IDS_PCAP, uid=ADMIN)
    check(rc == 10 and "9300001" in out and "9300002" in out and ("version %s" % version) in out,
          "ids test (running) lists the sids: %s" % out)
    rc, out, _ = gw.ctl("--json", "ids", "test", "--pcap", IDS_PCAP, uid=ADMIN)
    running = json.loads(out) if out.strip() else {"rows": []}
    # The same rules judged as candidate before the commit and as running after it: same rows.
    rows = lambda res: sorted((r["sid"], r["rev"], r["action"], r["flow"], r["count"]) for r in res["rows"])
    check(rows(running) == rows(res), "the candidate's test foretold the running one: %s vs %s"
          % (rows(running), rows(res)))

    # ---- 4. the source file changes after the commit --------------------------------------------
    with open(SOURCE, "w") as f:
        f.write(EDITED)
    rc, out, _ = gw.ctl("policy", "diff", uid=APPROVER)
    check(rc == 0, "editing the source changes nothing staged or committed (rc %d): %s" % (rc, out))
    shown = gw.ctl_json("policy", "show", version, uid=APPROVER)["yaml"]
    stored = [f for f in os.listdir(os.path.join(gw.store, "rules")) if f.endswith("-local.rules")]
    check(len(stored) == 1 and stored[0] in shown
          and open(os.path.join(gw.store, "rules", stored[0])).read() == RULES,
          "the version names the pinned copy, which still holds the loaded text")
    gw.stop()
    gw.start()
    ids = gw.ctl_json("ids", uid=ADMIN)
    check(ids.get("policy_version") == version and ids.get("loaded") == 3,
          "after a restart the committed version runs: %s" % ids)
    check(send_and_wait_alert(gw, sender, 9300003, "sid 9300003 after the restart")
          and not alerts(gw, 9300099),
          "after the restart the committed rule alerts, the edited one does not")
finally:
    gw.stop()
    ns.close()

gwlib.finish()
