#!/usr/bin/python3
"""Roles and approval against a running lbg-gateway (DPDK virtual ports in a test namespace).

usage: gateway_roles_test.py LBG_GATEWAY LBGCTL GEN_CAPTURES GOLDEN_POLICY WORKDIR
Needs root (a namespace, and other uids reached with setresuid); skips (77) otherwise.

1. Role matrix: admin, approver, operator, auditor and a user the roles file does not name run
   every lbgctl command; each is refused (exit 4, "forbidden") exactly where its role may not,
   and every refusal is an `admin` event in the log with uid, role, action and result "refused".
   The expected matrix is written here from the issue, not read from the code.
2. Approval: with `approval: required`, a commit that adds a service is pending and NOT enforced:
   the dataplane still runs the old version and real frames to that service are denied (verdict
   events carry the old version); its author cannot approve it even after being made an approver;
   a different approver's approval puts it in force (frames allowed, verdicts carry the new
   version); a rejected commit never reaches the dataplane.
3. `policy test --pcap` on golden captures lists exactly the flows whose verdict changes.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwlib  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

GW, LBGCTL, GEN, GOLDEN_POLICY, WORK = (os.path.abspath(a) for a in sys.argv[1:6])
ADMIN, APPROVER, OPERATOR, AUDITOR, UNKNOWN = 61001, 61002, 61003, 61004, 61009
ROLES = {ADMIN: "admin", APPROVER: "approver", OPERATOR: "operator", AUDITOR: "auditor"}
ROLES_YAML = "users:\n" + "".join('  "%d": %s\n' % (u, r) for u, r in ROLES.items())

POLICY = """version: 1
approval: required
segment:
  inside: [10.0.0.0/8]
defaults: {deny: drop, quic: block}
services:
  - name: main
    kind: lgwan-asp
    cidr: [198.51.100.0/24]
    ports: [udp/5000]
"""

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


M365 = infile("m365.json", json.dumps([
    {"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office365.com"], "ips": ["52.96.0.0/14"],
     "tcpPorts": "443", "category": "Optimize", "required": True}]))
ASP = infile("asp.csv", "name,fqdn,cidr,ports,description\njlis-portal,portal.lgwan.example,,tcp/443,J-LIS\n")
LOADED = infile("loaded.yaml", POLICY + """  - name: loaded
    kind: lgwan-asp
    cidr: [192.0.2.0/24]
    ports: [tcp/22]
""")
RULES = infile("matrix.rules", 'alert udp any any -> any any (msg:"matrix"; content:"m"; sid:9400001;)\n')
CAPTURE = os.path.join(IN, "capture.pcap")
subprocess.run(["/usr/bin/python3", GEN, IN], check=True, capture_output=True)
shutil.copy(os.path.join(IN, "allowed_sni.pcap"), CAPTURE)
for f in os.listdir(IN):
    os.chmod(os.path.join(IN, f), 0o644)
# Each uid writes its backups into a directory of its own.
for u in list(ROLES) + [UNKNOWN]:
    d = os.path.join(WORK, "home-%d" % u)
    os.makedirs(d)
    os.chown(d, u, u)

SHARED_BACKUP = os.path.join(IN, "shared-backup.json")

# (command words, roles allowed) — the table: admin edits and commits, approver approves,
# operator sees status/counters/flows, auditor reads history and takes backups; policy contents
# are for the roles that edit, approve or audit them.
A, P, O, U = "admin", "approver", "operator", "auditor"
MATRIX = [
    (["whoami"], {A, P, O, U}),
    (["status"], {A, P, O, U}),
    (["stats"], {A, O, U}),
    (["ids", "stats"], {A, O, U}),
    (["flows"], {A, O}),
    (["reload"], {A, O}),
    (["service", "list"], {A, P, U}),
    (["service", "show", "main"], {A, P, U}),
    (["service", "expiring", "--days", "30"], {A, P, O, U}),
    (["policy", "candidate"], {A, P, U}),
    (["policy", "diff"], {A, P, U}),
    (["policy", "validate"], {A, P, U}),
    (["policy", "test", "--pcap", CAPTURE], {A, P}),
    (["ids", "test", "--pcap", CAPTURE, "--candidate"], {A, P}),
    (["policy", "history"], {A, P, U}),
    (["policy", "show", "1"], {A, P, U}),
    (["backup", "{home}/backup.json"], {A, U}),
    # The appliance CA's certificate is public; only the admin makes or replaces it.
    (["ca", "show"], {A, P, O, U}),
    (["ca", "init", "--days", "30"], {A}),
    (["ca", "rotate", "--days", "30"], {A}),
    # Order matters for the admin: restore before the edits, discard before load, commit last.
    (["restore", SHARED_BACKUP], {A}),
    (["service", "add", "extra", "--kind", "lgwan-asp", "--cidr", "192.0.2.0/24", "--port", "tcp/8443"], {A}),
    (["service", "edit", "extra", "--add-port", "tcp/8444"], {A}),
    (["service", "remove", "extra"], {A}),
    (["service", "import-asp", ASP], {A}),
    (["service", "import-m365", M365, "--ismap-id", "C21-0008-2", "--ismap-expires", "2099-03-31"], {A}),
    (["ids", "load", RULES], {A}),
    (["policy", "discard"], {A}),
    (["policy", "load", LOADED], {A}),
    (["policy", "approve", "999"], {P}),
    (["policy", "reject", "999"], {P}),
    (["policy", "commit", "-m", "matrix"], {A}),
    (["policy", "rollback", "1"], {A}),
]

ns = gwlib.Netns(os.getpid())
gw = gwlib.Gateway(GW, LBGCTL, os.path.join(WORK, "gw"), POLICY, ROLES_YAML, netns=ns, tag="roles")
sender = gwlib.Sender(ns, gw.work)
try:
    gw.start()
    # A backup every uid can read, for the restore row (restoring it as admin changes nothing).
    taken = os.path.join(WORK, "home-%d" % AUDITOR, "shared.json")
    rc, _, err = gw.ctl("backup", taken, uid=AUDITOR)
    check(rc == 0, "auditor takes a backup: %s" % err)
    shutil.copy(taken, SHARED_BACKUP)
    os.chmod(SHARED_BACKUP, 0o644)
    # ---- 1. the matrix --------------------------------------------------------------------------
    refusals = []  # (uid, action) that must be logged as refused
    for uid, role in [(UNKNOWN, None), (OPERATOR, O), (AUDITOR, U), (APPROVER, P), (ADMIN, A)]:
        for words, allowed in MATRIX:
            args = [w.replace("{home}", os.path.join(WORK, "home-%d" % uid)) for w in words]
            rc, out, err = gw.ctl(*args, uid=uid)
            action = words[0] if words[0] not in ("service", "policy", "ca", "ids") else words[0] + "." + words[1]
            if role in allowed:
                check(rc != 4 and rc in (0, 6, 7, 10),
                      "%s may run %s (rc %d %s)" % (role, " ".join(words[:2]), rc, err.strip()))
            else:
                check(rc == 4 and "forbidden" in err,
                      "%s is refused %s (rc %d %s)" % (role or "unknown user", " ".join(words[:2]), rc,
                                                       err.strip()))
                refusals.append((uid, action))
    # The commit above (admin, "matrix") is pending: approval is required. Reject it to go on.
    hist = gw.ctl_json("policy", "history", uid=AUDITOR)
    pend = [v for v in hist["versions"] if v["state"] == "pending"]
    check(len(pend) == 1 and pend[0]["author"] == "uid %d" % ADMIN, "matrix commit is pending: %s" % pend)
    if pend:
        rc, _, err = gw.ctl("policy", "reject", pend[0]["version"], "--reason", "matrix", uid=APPROVER)
        check(rc == 0, "approver rejects it: %s" % err)
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == 1 and st["running_version"] == 1, "nothing of the matrix runs: %s" % st)

    # ---- 2. approval is enforced on the dataplane -------------------------------------------------
    def flows(base, n, dport, dst):
        return [gwlib.udp_frame("10.0.%d.%d" % (base, i % 250 + 1), 20000 + i, dst, dport) for i in range(n)]

    def judged(expect_dst, sport_lo, sport_hi):
        """Verdicts of the frames sent to `expect_dst` with source ports in [lo, hi)."""
        return [v for v in gwlib.verdicts(gw.events()) if v["dest_ip"] == expect_dst
                and sport_lo <= v["src_port"] < sport_hi]

    rc, _, err = gw.ctl("service", "add", "toggle", "--kind", "lgwan-asp", "--cidr", "203.0.113.0/24",
                        "--port", "udp/6000", uid=ADMIN)
    check(rc == 0, "admin adds a service: %s" % err)
    rc, out, err = gw.ctl("--json", "policy", "commit", "-m", "open toggle", uid=ADMIN)
    res = json.loads(out) if rc == 0 else {}
    check(rc == 0 and res.get("state") == "pending", "commit waits for approval: %s %s" % (out, err))
    v_new = res.get("version")
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == 1 and st["pending"] == 1, "pending commit not in the dataplane: %s" % st)
    before = gw.counters(uid=OPERATOR)
    sent = sender.send(flows(1, 20, 6000, "203.0.113.7") + flows(2, 20, 5000, "198.51.100.7"))
    gwlib.wait_for("verdicts before approval", lambda: len(judged("203.0.113.7", 20000, 20020)) == 20
                   and len(judged("198.51.100.7", 20000, 20020)) == 20)
    tv = judged("203.0.113.7", 20000, 20020)
    check(all(v["action"] != "allow" and v["policy"]["version"] == 1 for v in tv),
          "before approval the new service is denied by version 1: %s" % {(v["action"], v["policy"]["version"]) for v in tv})
    mv = judged("198.51.100.7", 20000, 20020)
    check(all(v["action"] == "allow" and v["policy"]["version"] == 1 for v in mv), "main service allowed meanwhile")
    # The live flows as the workers list them (a bounded slice per loop iteration): each once.
    listed = gw.ctl_json("flows", "--limit", "1000", "--filter", "dest_ip=198.51.100.7", uid=OPERATOR)["flows"]
    ports = sorted(f["src_port"] for f in listed)
    check(ports == list(range(20000, 20020)) and all(f["phase"] == "live" for f in listed),
          "flows lists the 20 live flows once each: %s" % ports)
    after = gw.counters(uid=OPERATOR)
    check(after["rx_packets"] - before["rx_packets"] == sent == 40, "gateway received all %d frames" % sent)
    check(after["tx_packets"] - before["tx_packets"] == 20, "only the 20 main frames crossed")

    # The author, even when the roles file later makes them an approver, cannot approve.
    with open(os.path.join(gw.work, "roles.yaml"), "w") as f:
        f.write(ROLES_YAML.replace('"%d": admin' % ADMIN, '"%d": approver' % ADMIN))
    rc, out, err = gw.ctl("reload", uid=OPERATOR)
    check(rc == 0, "roles reloaded: %s" % err)
    rc, out, err = gw.ctl("policy", "approve", v_new, uid=ADMIN)
    check(rc == 7 and "different user" in err, "author cannot approve own commit (rc %d %s)" % (rc, err.strip()))
    with open(os.path.join(gw.work, "roles.yaml"), "w") as f:
        f.write(ROLES_YAML)
    check(gw.ctl("reload", uid=OPERATOR)[0] == 0, "roles restored")
    rc, out, err = gw.ctl("policy", "approve", v_new, uid=ADMIN)
    check(rc == 4, "admin cannot approve (rc %d)" % rc)
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == 1, "still version 1 after refused approvals")

    rc, out, err = gw.ctl("--json", "policy", "approve", v_new, uid=APPROVER)
    check(rc == 0 and json.loads(out).get("approver") == "uid %d" % APPROVER, "approver approves: %s %s" % (out, err))
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == v_new and st["running_version"] == v_new and st["pending"] == 0,
          "approved version runs: %s" % st)
    sender.send(flows(3, 20, 6000, "203.0.113.8"))
    gwlib.wait_for("verdicts after approval", lambda: len(judged("203.0.113.8", 20000, 20020)) == 20)
    tv = judged("203.0.113.8", 20000, 20020)
    check(all(v["action"] == "allow" and v["policy"]["version"] == v_new
              and v["policy"]["service"] == "toggle" for v in tv), "after approval allowed by version %s" % v_new)
    meta = gw.ctl_json("policy", "show", v_new, uid=AUDITOR)["meta"]
    check(meta["author"] == "uid %d" % ADMIN and meta["approver"] == "uid %d" % APPROVER,
          "history records author and approver: %s" % meta)

    # A rejected commit never reaches the dataplane.
    gw.ctl("service", "remove", "toggle", uid=ADMIN)
    rc, out, _ = gw.ctl("--json", "policy", "commit", "-m", "close toggle", uid=ADMIN)
    v_rej = json.loads(out)["version"] if rc == 0 else None
    rc, _, err = gw.ctl("policy", "reject", v_rej, "--reason", "not now", uid=APPROVER)
    check(rc == 0, "rejected: %s" % err)
    sender.send(flows(4, 10, 6000, "203.0.113.9"))
    gwlib.wait_for("verdicts after reject", lambda: len(judged("203.0.113.9", 20000, 20010)) == 10)
    check(all(v["action"] == "allow" and v["policy"]["version"] == v_new for v in judged("203.0.113.9", 20000, 20010)),
          "rejected version never enforced")
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == v_new, "dataplane still on %s" % v_new)

    # ---- 3. policy test --pcap on golden captures --------------------------------------------------
    # Running: the golden policy. Candidate: without the *.sharepoint.com wildcard and without the
    # resolver service. The expected changes follow from tests/golden/cases/*/expected.txt.
    golden = open(GOLDEN_POLICY).read()
    golden = golden.replace("version: 1\n", "version: 1\napproval: none\n", 1)
    # Its ids: block names a rule file relative to the policy file: it goes beside the copy.
    rules = os.path.join("cases", "ids_inline", "ids.rules")
    os.makedirs(os.path.join(IN, os.path.dirname(rules)), mode=0o755, exist_ok=True)
    for d in (os.path.join(IN, "cases"), os.path.join(IN, "cases", "ids_inline")):
        os.chmod(d, 0o755)
    infile(rules, open(os.path.join(os.path.dirname(GOLDEN_POLICY), rules)).read())
    p = infile("golden.yaml", golden)
    rc, _, err = gw.ctl("policy", "load", p, uid=ADMIN)
    check(rc == 0, "golden policy loaded: %s" % err)
    rc, out, err = gw.ctl("--json", "policy", "commit", "-m", "golden", uid=ADMIN)
    v_golden = json.loads(out)["version"] if rc == 0 else None
    check(rc == 0 and gw.ctl("policy", "approve", v_golden, uid=APPROVER)[0] == 0, "golden policy runs")
    # `lbgctl ids stats` reads the running engine's per-rule counters through the live gateway.
    ids = gw.ctl_json("ids", "stats", "--limit", "5", uid=AUDITOR)
    check(ids.get("enabled") is True and ids.get("rules", 0) >= 3
          and ids.get("policy_version") == v_golden and len(ids.get("rules_by_cost", [])) <= 5,
          "ids stats of the running engine: %s" % ids)
    rc, out, _ = gw.ctl("ids", "stats", uid=OPERATOR)
    check(rc == 0 and "CHECKS" in out and "policy version %s" % v_golden in out,
          "ids stats table: %s" % out)
    cand = golden.replace(', "*.sharepoint.com"]', "]")
    cand = cand[:cand.index("  - name: resolver")]
    check(cand != golden and "sharepoint" not in cand, "candidate differs")
    rc, _, err = gw.ctl("policy", "load", infile("cand.yaml", cand), uid=ADMIN)
    check(rc == 0, "candidate loaded: %s" % err)
    expect = {
        "allowed_sni.pcap": {("TCP 10.1.0.10:40001 -> 52.96.10.10:443", "allow", "deny")},
        "forbidden_sni.pcap": set(),
        # Without the resolver the DNS answer is never read, so the SSH flow it bound changes too.
        "dns_binding.pcap": {("UDP 10.1.0.10:5353 -> 192.0.2.53:53", "allow", "deny"),
                             ("TCP 10.1.0.10:40010 -> 198.51.100.22:22", "allow", "deny")},
    }
    for cap, want in expect.items():
        rc, out, err = gw.ctl("--json", "policy", "test", "--pcap", os.path.join(IN, cap), uid=APPROVER)
        res = json.loads(out) if out.strip() else {}
        got = {(c["flow"], c["running"]["action"], c["candidate"]["action"]) for c in res.get("changed", [])}
        check(rc == (10 if want else 0) and got == want, "%s lists exactly %s (rc %d): %s %s" % (cap, want, rc, got, err))
    rc, out, _ = gw.ctl("policy", "test", "--pcap", os.path.join(IN, "allowed_sni.pcap"), uid=ADMIN)
    check(rc == 10 and "40001" in out and "40000" not in out, "human table names the changed flow only: %s" % out)
    st = gw.ctl_json("status", uid=OPERATOR)
    check(st["dataplane_version"] == v_golden, "policy test changes nothing in force")
finally:
    gw.stop()
    ns.close()

# ---- admin events: every refusal was logged ------------------------------------------------------
admin = [e["admin"] for e in gw.events() if e.get("event_type") == "admin"]
logged = {(a["uid"], a["action"]) for a in admin if a["result"] == "refused"}
missing = [r for r in refusals if r not in logged]
check(not missing, "every refusal is an admin event (%d refusals, missing %s)" % (len(refusals), missing[:5]))
unk = [a for a in admin if a["uid"] == UNKNOWN]
check(unk and all(a["role"] is None and a["result"] == "refused" for a in unk), "unknown user logged with no role")
check(any(a["uid"] == ADMIN and a["action"] == "policy.approve" and a["result"] == "failed"
          and "different user" in a["error"]["message"] for a in admin), "self-approval logged")
check(any(a["uid"] == APPROVER and a["action"] == "policy.approve" and a["result"] == "ok"
          and a.get("version") == v_new for a in admin), "approval logged with version")

gwlib.finish()
