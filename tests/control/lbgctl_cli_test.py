#!/usr/bin/python3
"""End-to-end test of the lbgctl binary against a control server (fake dataplane).

usage: lbgctl_cli_test.py LBGCTL FAKE_GATEWAY COMPLETION_FILE
Runs as root (CI does); the approver is a second uid reached with setresuid in the child.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

LBGCTL, FAKE, COMPLETION = (os.path.abspath(a) for a in sys.argv[1:4])
APPROVER = 60001
POLICY = """version: 1
approval: none
segment:
  inside: [10.0.0.0/8]
defaults:
  deny: reset
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-03-31}
    fqdn: [outlook.office365.com]
    ports: [tcp/443]
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def as_uid(uid):
    def f():
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return f if uid else None


def ctl(*args, uid=0, sock=None):
    cmd = [LBGCTL, "--socket", sock or SOCK] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=as_uid(uid), cwd=WORK, timeout=60)
    return p.returncode, p.stdout, p.stderr


WORK = tempfile.mkdtemp(prefix="lbgctl-e2e-")
os.chmod(WORK, 0o755)
# The build tree may sit where the approver's uid cannot enter (a 0700 home folder): it runs a
# copy that it can reach.
os.makedirs(os.path.join(WORK, "bin"))
os.chmod(os.path.join(WORK, "bin"), 0o755)
LBGCTL = shutil.copy2(LBGCTL, os.path.join(WORK, "bin", "lbgctl"))
os.chmod(LBGCTL, 0o755)
SOCK = os.path.join(WORK, "control.sock")
with open(os.path.join(WORK, "roles.yaml"), "w") as f:
    f.write('users:\n  "0": admin\n  "%d": approver\n' % APPROVER)
with open(os.path.join(WORK, "bootstrap.yaml"), "w") as f:
    f.write(POLICY)
with open(os.path.join(WORK, "capture.txt"), "w") as f:
    f.write("10.0.0.5 50000 52.96.1.1 443 outlook.office365.com\n10.0.0.5 50002 10.20.3.4 443\n")

gw = subprocess.Popen([FAKE, WORK], stdout=subprocess.PIPE, text=True)
try:
    check(gw.stdout.readline().strip() == "ready", "fake gateway starts")

    rc, out, err = ctl("status")
    check(rc == 0 and "running_version: 1" in out, "status: %d %s %s" % (rc, out, err))
    rc, out, _ = ctl("--json", "service", "list")
    check(rc == 0 and json.loads(out)["services"][0]["name"] == "microsoft365", "service list --json")

    rc, out, err = ctl("service", "add", "jlis", "--kind", "lgwan-asp", "--cidr", "10.20.0.0/16", "--port", "tcp/443",
                       "--description", "J-LIS ポータル")
    check(rc == 0, "service add: %s" % err)
    rc, out, err = ctl("service", "add", "bad", "--kind", "lgwan-asp", "--cidr", "10.20.0.1/16", "--port", "tcp/443")
    check(rc == 5 and "candidate:" in err and "services[2]" in err, "invalid add → exit 5 with position: %s" % err)
    rc, out, _ = ctl("service", "list")
    check(rc == 0 and out.splitlines()[0].split()[:3] == ["NAME", "KIND", "PORTS"] and "jlis" in out, "table")

    rc, out, _ = ctl("policy", "diff")
    check(rc == 10 and "+ service jlis" in out, "policy diff → 10: %s" % out)
    rc, out, err = ctl("policy", "test", "--pcap", "capture.txt")
    check(rc == 10 and "1 would change" in out and "jlis" in out, "policy test: %d %s %s" % (rc, out, err))

    rc, _, err = ctl("policy", "commit")
    check(rc == 2 and "-m" in err, "commit without message → usage")
    rc, _, err = ctl("policy", "commit", "-m", "add J-LIS", "--days", "3")
    check(rc == 2 and "does not apply" in err, "foreign option → usage")
    rc, out, err = ctl("policy", "commit", "-m", "add J-LIS")
    check(rc == 0 and "version: 2" in out, "commit: %s %s" % (out, err))
    rc, out, _ = ctl("policy", "diff")
    check(rc == 0 and "no changes" in out, "diff after commit")

    rc, _, err = ctl("policy", "commit", "-m", "x", uid=APPROVER)
    check(rc == 4 and "forbidden" in err, "approver cannot commit: %s" % err)
    rc, _, err = ctl("policy", "approve", "99", uid=APPROVER)
    check(rc == 6, "approve unknown version → 6: %s" % err)
    rc, out, _ = ctl("policy", "history", uid=APPROVER)
    check(rc == 0 and "*2" in out and "add J-LIS" in out, "history marks running: %s" % out)

    rc, out, _ = ctl("stats")
    check(rc == 0 and "rx_packets" in out and "1234" in out, "stats")
    rc, out, _ = ctl("flows", "--filter", "policy.service=microsoft365")
    check(rc == 0 and "outlook.office365.com" in out, "flows")
    rc, out, _ = ctl("service", "expiring", "--days", "30")
    check(rc == 0, "nothing expiring")

    backup = os.path.join(WORK, "backup.json")
    rc, out, err = ctl("backup", backup)
    check(rc == 0 and os.stat(backup).st_mode & 0o777 == 0o600, "backup written 0600: %s" % err)
    rc, _, err = ctl("backup", backup)
    check(rc == 2 and "exists" in err, "backup refuses to overwrite")
    rc, out, err = ctl("service", "remove", "jlis")
    rc, out, err = ctl("policy", "commit", "-m", "remove")
    check(rc == 0, "second commit")
    with open(backup) as f:
        text = f.read()
    with open(os.path.join(WORK, "tampered.json"), "w") as f:
        f.write(text.replace("10.20.0.0/16", "10.20.0.0/15"))
    rc, _, err = ctl("restore", "tampered.json")
    check(rc == 5 and "hash mismatch" in err, "tampered restore refused: %s" % err)
    rc, out, err = ctl("restore", backup)
    check(rc == 0, "restore: %s" % err)
    rc, out, _ = ctl("--json", "status")
    check(rc == 0 and json.loads(out)["running_version"] == 2, "restored running version: %s" % out)

    # The appliance CA: made next to the store, exported as PEM and DER, refused twice, rotated.
    rc, out, err = ctl("ca", "show")
    check(rc == 6, "ca show before init → 6: %s" % err)
    rc, out, err = ctl("ca", "init", "--organization", "Example City", "--days", "30")
    check(rc == 0 and "Example City lbg appliance CA" in out, "ca init: %s %s" % (out, err))
    rc, out, err = ctl("ca", "init")
    check(rc == 7, "second ca init → 7: %s" % err)
    rc, out, _ = ctl("--json", "ca", "show")
    first = json.loads(out)["certificate"]["sha256"] if rc == 0 else ""
    rc, pem, _ = ctl("ca", "show", "--pem")
    check(rc == 0 and pem.startswith("-----BEGIN CERTIFICATE-----"), "ca show --pem: %s" % pem)
    der = os.path.join(WORK, "lbg-ca.cer")
    rc, out, err = ctl("ca", "show", "--der", der)
    with open(der, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest().upper()
    check(rc == 0 and ":".join(digest[i:i + 2] for i in range(0, 64, 2)) == first,
          "ca show --der writes the DER whose SHA-256 is the fingerprint: %s %s" % (out, err))
    rc, _, err = ctl("ca", "show", "--der", der)
    check(rc == 2 and "exists" in err, "ca show --der refuses to overwrite")
    rc, out, err = ctl("--json", "ca", "rotate")
    check(rc == 0 and json.loads(out)["previous"]["sha256"] == first, "ca rotate: %s %s" % (out, err))
    check(os.path.exists(os.path.join(WORK, "ca", "ca.prev.pem")), "ca.prev.pem kept")
    rc, _, err = ctl("ca", "rotate", uid=APPROVER)
    check(rc == 4, "approver may not rotate → 4: %s" % err)

    rc, _, _ = ctl("status", sock=os.path.join(WORK, "nope.sock"))
    check(rc == 3, "no server → 3")
    rc, _, _ = ctl("frobnicate")
    check(rc == 2, "unknown command → 2")
    rc, out, _ = ctl("--help")
    check(rc == 0 and "Exit codes" in out, "help")
finally:
    gw.terminate()
    events, _ = gw.communicate(timeout=30)

admin = [json.loads(l) for l in events.splitlines() if l.startswith("{")]
admin = [e for e in admin if e.get("event_type") == "admin"]
check(any(e["admin"]["action"] == "policy.commit" and e["admin"]["result"] == "refused"
          and e["admin"]["uid"] == APPROVER for e in admin), "refused commit logged with uid")
check(any(e["admin"]["action"] == "restore" and "sha256" in e["admin"]["args"]["content"] for e in admin),
      "restore logged with digest")
check(os.path.exists(os.path.join(WORK, "metrics.prom")), "metrics file written")

p = subprocess.run(["bash", "-n", COMPLETION], capture_output=True, text=True)
check(p.returncode == 0, "completion file parses: %s" % p.stderr)


def complete(*typed):
    """COMPREPLY of the completion function for `lbgctl TYPED...` (last word being completed),
    with bash-completion's helpers stubbed: _filedir reports the glob it was asked for."""
    script = r'''
_init_completion() { words=("${TESTWORDS[@]}"); cword=$((${#words[@]} - 1)); cur=${words[cword]}; prev=${words[cword-1]}; }
_filedir() { COMPREPLY=("FILES:${1-}"); }
complete() { :; }
source "$1"; shift
TESTWORDS=("$@")
_lbgctl
printf '%s\n' "${COMPREPLY[@]}"
'''
    p = subprocess.run(["bash", "-c", script, "bash", COMPLETION, LBGCTL, *typed], capture_output=True, text=True)
    return p.stdout.split()


# Candidates come from the command table through `lbgctl __complete`.
check({"service", "policy", "flows", "--json"} <= set(complete("")), "completion: commands")
check(complete("policy", "co") == ["commit"], "completion: verb %s" % complete("policy", "co"))
check("-m" in complete("policy", "commit", ""), "completion: option")
check("lgwan-asp" in complete("service", "add", "--kind", ""), "completion: option value")
check(complete("policy", "test", "--pcap", "") == ["FILES:@(pcap|pcapng|cap)"], "completion: capture file")
check(complete("service", "import-asp", "") == ["FILES:csv"], "completion: catalogue file")
check(complete("backup", "") == ["FILES:"], "completion: any file")

shutil.rmtree(WORK, ignore_errors=True)
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
