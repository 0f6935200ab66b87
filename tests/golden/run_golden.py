#!/usr/bin/python3
"""Golden replay cases: every capture in CAPTURES is replayed through `lbg-gateway replay` with
tests/golden/policy.yaml; the verdict events must equal cases/<name>/expected.txt (a reason ending
in '*' matches by prefix), listed counters must have the stated values, and the forwarded capture
must carry no client payload of a flow denied at its first verdict. A flow allowed first and denied
later (a later request on the connection) is checked by its bytes: `forbid TEXT` lines name bytes
that must appear nowhere in the forwarded capture (in one frame or across a flow's frames), `pass
TEXT` lines bytes that must reach the server (allowed traffic in the same capture). `alert SID
COUNT` lines give the IDS alerts (EVE `alert` events) by signature id: the alerts must be exactly
those (a case without any must raise none).

Usage: run_golden.py GATEWAY CAPTURES_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

from scapy.all import IP, TCP, UDP, IPv6, rdpcap

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt_addr(ip, port):
    return f"{ip}:{port}"


def event_line(e):
    parts = [e["proto"], fmt_addr(e["src_ip"], e["src_port"]), "->",
             fmt_addr(e["dest_ip"], e["dest_port"]), e["action"], e["reason"],
             "service=" + (e["policy"]["service"] or "-")]
    if "tls" in e:
        parts.append("sni=" + e["tls"]["sni"])
    if "http" in e:
        parts.append("host=" + e["http"]["hostname"])
    return " ".join(parts)


def matches(expected, actual):
    ef, af = expected.split(), actual.split()
    if len(ef) != len(af):
        return False
    for x, y in zip(ef, af):
        if x.endswith("*") and y.startswith(x[:-1]):
            continue
        if x != y:
            return False
    return True


def forwarded_client_payload(out_pcap, denied):
    """Payload bytes forwarded from the client of a denied flow towards its server."""
    leaked = []
    if not os.path.exists(out_pcap):
        return leaked
    for p in rdpcap(out_pcap):
        l3 = p.getlayer(IP) or p.getlayer(IPv6)
        l4 = p.getlayer(TCP) or p.getlayer(UDP)
        if l3 is None or l4 is None:
            continue
        key = (str(l3.src), int(l4.sport), str(l3.dst), int(l4.dport))
        if key in denied and len(bytes(l4.payload)) > 0:
            leaked.append(key)
    return leaked


def forwarded_streams(out_pcap):
    """Every forwarded frame's raw bytes, and each flow's client payload concatenated in order."""
    frames, streams = [], {}
    if not os.path.exists(out_pcap):
        return frames, streams
    for p in rdpcap(out_pcap):
        frames.append(bytes(p))
        l3 = p.getlayer(IP) or p.getlayer(IPv6)
        l4 = p.getlayer(TCP) or p.getlayer(UDP)
        if l3 is None or l4 is None:
            continue
        key = (str(l3.src), int(l4.sport), str(l3.dst), int(l4.dport))
        streams[key] = streams.get(key, b"") + bytes(l4.payload)
    return frames, streams


def forwarded_bytes_containing(out_pcap, needles):
    """Each byte string of `needles` found in a forwarded or generated frame."""
    found = []
    if not os.path.exists(out_pcap) or not needles:
        return found
    frames = [bytes(p) for p in rdpcap(out_pcap)]
    for n in needles:
        if any(n in f for f in frames):
            found.append(n.hex())
    return found


def read_expected(name):
    """Verdict lines, `counter NAME VALUE`, `replay-arg ARG` (extra replay arguments; `{captures}`
    stands for the captures' directory, where gen_captures.py also writes the test root) and
    `never-forwarded HEX` (bytes that no forwarded frame may contain), `forbid TEXT` (text that
    no forwarded frame or client stream may contain) and `pass TEXT` (text that must reach the
    server)."""
    lines, counters, args, never, forbid, must_pass, alerts = [], {}, [], [], [], [], {}
    for line in open(os.path.join(HERE, "cases", name, "expected.txt"), encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("counter "):
            _, k, v = line.split()
            counters[k] = int(v)
        elif line.startswith("alert "):
            _, sid, n = line.split()
            alerts[int(sid)] = int(n)
        elif line.startswith("replay-arg "):
            args.append(line.split(None, 1)[1])
        elif line.startswith("forbid ") or line.startswith("pass "):
            kind, text = line.split(" ", 1)
            (forbid if kind == "forbid" else must_pass).append(text.encode())
        elif line.startswith("never-forwarded "):
            never.append(bytes.fromhex(line.split(None, 1)[1]))
        else:
            lines.append(line)
    return lines, counters, args, never, forbid, must_pass, alerts


def run_case(gateway, caps, work, name):
    cap = os.path.join(caps, name + ".pcap")
    out = os.path.join(work, name + ".out.pcap")
    log = os.path.join(work, name + ".events.json")
    expected_lines, expected_counters, extra_args, never, forbid, must_pass, expected_alerts = \
        read_expected(name)
    extra_args = [a.replace("{captures}", caps) for a in extra_args]  # files gen_captures wrote
    r = subprocess.run([gateway, "replay", "--policy", os.path.join(HERE, "policy.yaml"),
                        "--in", cap, "--out", out, "--log", log] + extra_args,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return [f"replay failed ({r.returncode}): {r.stderr.strip()}"]
    counters = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) == 2:
            counters[f[0]] = int(f[1])
    events = [json.loads(l) for l in open(log, encoding="utf-8")]
    verdicts = [e for e in events if e.get("event_type") == "flow" and e.get("phase") == "verdict"]
    actual = sorted(event_line(e) for e in verdicts)
    errors = []
    unmatched = list(actual)
    for exp in expected_lines:
        hit = next((a for a in unmatched if matches(exp, a)), None)
        if hit is None:
            errors.append(f"missing verdict: {exp}")
        else:
            unmatched.remove(hit)
    errors += [f"unexpected verdict: {a}" for a in unmatched]
    alerts = {}
    for e in events:
        if e.get("event_type") == "alert":
            sid = e["alert"]["signature_id"]
            alerts[sid] = alerts.get(sid, 0) + 1
            if e.get("measure") != "AP-IDS" or not e["alert"].get("signature"):
                errors.append(f"alert {sid} lacks its measure or signature: {e}")
    if alerts != expected_alerts:
        errors.append(f"alerts by sid: expected {expected_alerts}, got {alerts}")
    for k, v in expected_counters.items():
        if counters.get(k, 0) != v:
            errors.append(f"counter {k}: expected {v}, got {counters.get(k, 0)}")
    first = {}
    for e in verdicts:  # log order: the first verdict of each flow comes first
        first.setdefault((e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"]), e["action"])
    denied = {k for k, a in first.items() if a == "deny"}
    leaks = forwarded_client_payload(out, denied)
    errors += [f"denied flow leaked payload: {k}" for k in leaks]
    errors += [f"forbidden bytes forwarded: {h}" for h in forwarded_bytes_containing(out, never)]
    frames, streams = forwarded_streams(out)
    for text in forbid:
        if any(text in f for f in frames) or any(text in s for s in streams.values()):
            errors.append(f"forbidden bytes forwarded: {text.decode()}")
    for text in must_pass:
        if not any(text in s for s in streams.values()):
            errors.append(f"allowed bytes not forwarded: {text.decode()}")
    return errors


def main():
    gateway, caps, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, "gen_captures.py"), caps], check=True)
    # Further arguments name the cases to run (all by default), for a quicker look at a few.
    names = sys.argv[4:] or sorted(os.listdir(os.path.join(HERE, "cases")))
    passed = failed = 0
    for name in names:
        errors = run_case(gateway, caps, work, name)
        if errors:
            failed += 1
            print(f"FAIL {name}")
            for e in errors:
                print(f"    {e}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
