#!/usr/bin/python3
"""nDPI oracle: every TLS-over-TCP flow for which nDPI's expected result
(../shared/corpus/ndpi/result/<capture>.out) lists a `Hostname/SNI` must be logged by
`lbg-gateway replay` with the same SNI.

The replay policy (written here) treats every address as inside and names no real service, so
every TLS flow reaches the ClientHello inspector and is logged with its SNI (and denied).
Usage: ndpi_sni.py GATEWAY CORPUS_DIR WORK_DIR
"""
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys

POLICY = """version: 1
segment:
  inside: ["0.0.0.0/1", "128.0.0.0/1", "2000::/3", "fc00::/7", "fe80::/10"]
defaults: {deny: drop, quic: block, ech: allow, sni_dns: "off"}
services:
  - name: inspect-everything
    kind: infrastructure
    fqdn: [never-matches.invalid]
    ports: [tcp/1-65535]
"""

FLOW_RE = re.compile(r"^\s*\d+\s+TCP\s+(\S+)\s+<->\s+(\S+)\s+\[proto: [^\]]*TLS[^\]]*\].*"
                     r"\[Hostname/SNI: ([^\]]+)\]")


def split_endpoint(ep):
    host, port = ep.rsplit(":", 1)
    return host.strip("[]"), int(port)


def is_ip_literal(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def expected_flows(out_file):
    flows = []
    for line in open(out_file, encoding="utf-8", errors="replace"):
        m = FLOW_RE.match(line)
        if m:
            a, b = split_endpoint(m.group(1)), split_endpoint(m.group(2))
            flows.append((a, b, m.group(3).strip()))
    return flows


def main():
    gateway, corpus, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    policy = os.path.join(work, "ndpi-policy.yaml")
    with open(policy, "w", encoding="utf-8") as f:
        f.write(POLICY)
    checked = mismatched = captures = 0
    for out_file in sorted(glob.glob(os.path.join(corpus, "ndpi", "result", "*.out"))):
        flows = expected_flows(out_file)
        if not flows:
            continue
        cap = os.path.join(corpus, "ndpi", "pcap", os.path.basename(out_file)[:-4])
        if not os.path.exists(cap):
            continue
        captures += 1
        log = os.path.join(work, os.path.basename(cap) + ".events.json")
        r = subprocess.run([gateway, "replay", "--policy", policy, "--in", cap, "--log", log,
                            "--ignore-checksums", "--midstream"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print(f"FAIL {os.path.basename(cap)}: replay failed: {r.stderr.strip()}")
            mismatched += len(flows)
            continue
        ours = {}
        for line in open(log, encoding="utf-8"):
            e = json.loads(line)
            if e.get("phase") != "verdict" or e.get("proto") != "TCP":
                continue
            key = frozenset([(e["src_ip"], e["src_port"]), (e["dest_ip"], e["dest_port"])])
            ours.setdefault(key, []).append((e.get("tls", {}).get("sni"), e["reason"]))
        for a, b, sni in flows:
            checked += 1
            got = ours.get(frozenset([a, b]), [])
            if is_ip_literal(sni):
                # RFC 6066 §3 forbids address literals in server_name; nDPI reports them, we deny
                # the hello as malformed (deliberate, documented divergence).
                ok = any(r == "ambiguous:tls-bad-server-name" for _, r in got)
            else:
                ok = any(g is not None and g.lower() == sni.lower() for g, _ in got)
            if not ok:
                mismatched += 1
                print(f"MISMATCH {os.path.basename(cap)} {a} <-> {b}: nDPI {sni!r}, lbg {got!r}")
    print(f"nDPI SNI oracle: {captures} captures, {checked} TLS flows, {mismatched} mismatches")
    print(f"{checked - mismatched} passed, {mismatched} failed")
    sys.exit(1 if mismatched or checked == 0 else 0)


if __name__ == "__main__":
    main()
