#!/usr/bin/python3
"""Interop of the log's syslog export with Debian's rsyslog (issue 4, "Export").

usage: rsyslog_interop_test.py LBG_AUDIT_SAMPLELOG WORKDIR

Starts a private rsyslogd (its own config, pid file, work dir and loopback ports; nothing of a
system rsyslog is touched) listening on UDP, TCP and TLS (gtls driver, a test CA made here), has
the real LogWriter export a generated log to all three, and checks that every record arrives once
per transport, intact: the JSON payload rsyslog extracted is byte-identical to the log line, parses,
has the log's field names, and the RFC 5424 header (app-name, hostname, msgid, severity) is as sent.
Exit 77 (skip) if rsyslogd or its gtls module is not installed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

SAMPLELOG = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
EVENTS = 400
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd):
    subprocess.run(cmd, check=True, cwd=WORK, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if not os.path.exists(RSYSLOGD) or not any(
        os.path.exists(os.path.join(d, "lmnsd_gtls.so"))
        for d in ("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/rsyslog")):
    print("SKIP: rsyslogd with the gtls driver (rsyslog, rsyslog-gnutls) not installed")
    sys.exit(77)

shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(os.path.join(WORK, "rs-work"))

# Test PKI: a CA and the receiver's certificate for "localhost".
run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
     "-days", "2", "-subj", "/CN=lbg rsyslog test CA"])
run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
     "-subj", "/CN=localhost"])
with open(os.path.join(WORK, "san.ext"), "w") as f:
    f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
run(["openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
     "-out", "srv.pem", "-days", "2", "-extfile", "san.ext"])

ports = {"udp": free_port(socket.SOCK_DGRAM), "tcp": free_port(socket.SOCK_STREAM),
         "tls": free_port(socket.SOCK_STREAM)}
W = WORK
conf = f"""
global(workDirectory="{W}/rs-work" maxMessageSize="64k"
       defaultNetstreamDriverCAFile="{W}/ca.pem"
       defaultNetstreamDriverCertFile="{W}/srv.pem"
       defaultNetstreamDriverKeyFile="{W}/srv.key")
module(load="imudp")
module(load="imtcp" maxSessions="16")
template(name="fields" type="list") {{
  property(name="pri") constant(value="|")
  property(name="hostname") constant(value="|")
  property(name="app-name") constant(value="|")
  property(name="msgid") constant(value="|")
  property(name="timereported" dateFormat="rfc3339") constant(value="|")
  property(name="msg") constant(value="\\n")
}}
ruleset(name="udp") {{ action(type="omfile" file="{W}/udp.log" template="fields") }}
ruleset(name="tcp") {{ action(type="omfile" file="{W}/tcp.log" template="fields") }}
ruleset(name="tls") {{ action(type="omfile" file="{W}/tls.log" template="fields") }}
input(type="imudp" address="127.0.0.1" port="{ports['udp']}" ruleset="udp" rcvbufSize="8m")
input(type="imtcp" address="127.0.0.1" port="{ports['tcp']}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="{ports['tls']}" ruleset="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
"""
conf_path = os.path.join(WORK, "rsyslog.conf")
with open(conf_path, "w") as f:
    f.write(conf)
chk = subprocess.run([RSYSLOGD, "-N1", "-f", conf_path], capture_output=True, text=True)
check(chk.returncode == 0, "rsyslog accepts the test configuration: " + chk.stderr.strip()[-300:])

rs = subprocess.Popen([RSYSLOGD, "-n", "-f", conf_path, "-i", os.path.join(WORK, "rsyslogd.pid")],
                      stdout=open(os.path.join(WORK, "rsyslogd.out"), "w"), stderr=subprocess.STDOUT)
try:
    # Readiness, bounded: both TCP listeners accept (UDP is bound in the same start-up).
    deadline = time.time() + 30
    ready = False
    while time.time() < deadline and not ready and rs.poll() is None:
        try:
            for p in (ports["tcp"], ports["tls"]):
                socket.create_connection(("127.0.0.1", p), timeout=1).close()
            ready = True
        except OSError:
            time.sleep(0.2)
    check(ready, "rsyslogd listens on its loopback ports")
    time.sleep(0.5)  # the probe connections above are closed sessions, nothing to wait for

    log_dir = os.path.join(WORK, "log")
    out = subprocess.run(
        [SAMPLELOG, log_dir, os.path.join(WORK, "log.key"), str(EVENTS), "2026-11-01T00:00:00+09:00", "3600",
         "65536", f"udp:127.0.0.1:{ports['udp']}", f"tcp:127.0.0.1:{ports['tcp']}",
         f"tls:127.0.0.1:{ports['tls']}:{WORK}/ca.pem:localhost"],
        capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "the writer logs and exports: " + out.stderr.strip()[-300:])

    lines = []
    for name in sorted(os.listdir(log_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(log_dir, name), encoding="utf-8") as f:
                lines += f.read().splitlines()
    check(len(lines) >= EVENTS, f"the log holds {len(lines)} records")

    def received(transport):
        path = os.path.join(WORK, transport + ".log")
        deadline = time.time() + 30
        got = []
        while time.time() < deadline:
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    got = f.read().splitlines()
                if len(got) >= len(lines):
                    break
            time.sleep(0.2)
        return got

    for transport in ("udp", "tcp", "tls"):
        got = received(transport)
        check(len(got) == len(lines), f"{transport}: {len(got)} of {len(lines)} records received")
        msgs, bad_header, bad_json, names_differ = [], 0, 0, 0
        for row in got:
            parts = row.split("|", 5)
            if len(parts) != 6:
                bad_header += 1
                continue
            pri, host, app, msgid, ts, msg = parts
            msgs.append(msg)
            try:
                rec = json.loads(msg)
            except ValueError:
                bad_json += 1
                continue
            sev = int(pri) % 8
            want_sev = 2 if rec.get("event_type") == "alarm" else 5 if rec.get("action") == "deny" else 6
            if (host != "lbg-sample-01" or app != "lbg-gateway" or msgid != rec.get("event_type")
                    or int(pri) // 8 != 16 or sev != want_sev):
                bad_header += 1
        check(bad_json == 0, f"{transport}: every payload parses as JSON ({bad_json} do not)")
        check(bad_header == 0, f"{transport}: RFC 5424 header as sent (facility local0, severity, "
                               f"hostname, app-name, msgid = event_type) ({bad_header} differ)")
        check(sorted(msgs) == sorted(lines), f"{transport}: payloads byte-identical to the log lines")
        for m, l in zip(sorted(msgs), sorted(lines)):
            try:
                if list(json.loads(m).keys()) != list(json.loads(l).keys()):
                    names_differ += 1
            except ValueError:
                names_differ += 1
        check(names_differ == 0, f"{transport}: same field names, same order ({names_differ} differ)")
finally:
    rs.send_signal(signal.SIGTERM)
    try:
        rs.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rs.kill()
    if failures:
        with open(os.path.join(WORK, "rsyslogd.out"), errors="replace") as f:
            print("rsyslogd output:\n" + f.read()[-2000:])

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
