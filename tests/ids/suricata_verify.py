#!/usr/bin/python3
"""suricata-verify oracle: the cases of ../shared/corpus/suricata-verify/ whose rules all load in
lbg and whose expected output can be stated as alert counts per signature id are replayed through
`lbg-gateway replay` with the case's rules; the alerts (sid, count) must equal Suricata's.

Selection (each excluded case is counted under one reason, printed at the end):
  - the capture: test.yaml `pcap`, else the case's only (or `input.pcap`) capture;
  - the rules: every rule of test.rules loads (`lbg-ids-check`: parser and engine), at least one;
    rules naming $HOME_NET/$EXTERNAL_NET are kept only when the capture's clients are all in
    Suricata's default HOME_NET (the RFC 1918 ranges) and its servers all outside it (and the case
    does not set HOME_NET): `segment.inside` is then exactly those ranges, so both mean the same;
  - the buffers: a rule inspecting a sticky buffer the pipeline does not fill yet (bodies,
    responses, certificates: dataplane/ids/README.md) is left out;
  - the checks: each `filter` check whose match is `event_type: alert` and optionally
    `alert.signature_id`, with a `count`, is one expectation (a count per sid; without a sid, the
    total, or the sid of the only rule); other checks (http, flow, stats events, shell,
    file-compare) are ignored, but a case needs at least one alert check and no alert check on
    other fields (`src_port`, `alert.action`, ...), which a count per sid cannot express;
  - the capture: its TCP clients must not also be TCP servers (a gateway has an inside and an
    outside port; loopback captures have one address for both ends), seen at the first replay.

Replay (two passes per case): the first with a policy that denies every flow after inspecting it
reads the names the gateway sees (TLS SNI, HTTP Host) and the clients; the second allows the
capture's traffic the way a gateway would (a service per seen name, so that the HTTP and TLS
inspectors run and feed the sticky buffers; by address for flows without a name) with the case's
rules in `ids` mode (`ips` with Suricata's --simulate-ips), and its EVE alerts are counted.

A case that disagrees fails the test unless it is in allow_list.txt with its reason. The test
also fails if fewer than MIN_CASES cases were compared or MIN_AGREE agree, or if an allow-listed
case agrees (stale entry) or is not selected any more.

Usage: suricata_verify.py GATEWAY IDS_CHECK CORPUS_DIR WORK_DIR [CASE...]
"""
import collections
import glob
import ipaddress
import json
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# Fewer compared cases than this means the selection or the replay broke: fail.
MIN_CASES = 32
# ... and fewer agreeing (not allow-listed) than this.
MIN_AGREE = 27
# Every address (IPv4 is held as ::ffff:0:0/96, so no IPv6 prefix may cover it).
EVERYWHERE = ["0.0.0.0/1", "128.0.0.0/1", "2000::/3", "fc00::/7", "fe80::/10"]

REJECT_RE = re.compile(r"^(.*?):(\d+):(\d+): ([^:]+): (.*)$")
RULE_RE = re.compile(r"^\s*(alert|drop|reject|rejectsrc|rejectdst|rejectboth|pass)\s")
SID_RE = re.compile(r"[;(\s]sid\s*:\s*(\d+)\s*;")
# Sticky buffers the loader reads but the pipeline does not fill yet (dataplane/ids/README.md,
# "Known limits of the wiring": tls.sni, the request head's http.* buffers and dns.query are fed;
# tls.cert_* and tls.certs only where the certificate check runs, which these replays turn off; http.request_body
# is fed for every request of a connection allowed by Host, pipeline_http_request.cc).
UNFED_RE = re.compile(r"[;(\s](tls[._]cert_subject|tls[._]cert_issuer|tls[._]certs)\s*;")
# The response buffers are fed for HTTP/1.x responses only (pipeline_http_response.cc): file.data
# of another protocol (SMTP, SMB, HTTP/2, ...) or of a request (an upload: to_server) is not, so
# only `http` rules not bound to_server are kept (an `ip`/`tcp` file_data rule may be meant for
# any protocol's files; bug-2576-04's, the two such cases, are GRE captures lbg does not decode).
RESPONSE_RE = re.compile(r"[;(\s](http\.stat_code|http\.response_body|file[._]data)\s*;")
RESPONSE_FED_RE = re.compile(r"^\s*\w+\s+(http|http1)\s")
TO_SERVER_RE = re.compile(r"[;(\s]flow\s*:[^;]*(to_server|from_client)")


def unfed_buffer(line):
    m = UNFED_RE.search(line)
    if m:
        return m.group(1)
    m = RESPONSE_RE.search(line)
    if m and (not RESPONSE_FED_RE.search(line) or TO_SERVER_RE.search(line)):
        return m.group(1) + " (not an HTTP response)"
    return None


def read_allow_list():
    allowed = {}
    for line in open(os.path.join(HERE, "allow_list.txt"), encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        allowed[name] = reason.strip()
    return allowed


def case_capture(case_dir, spec):
    if spec.get("pcap") is False:
        return None
    if isinstance(spec.get("pcap"), str):
        p = os.path.join(case_dir, spec["pcap"])
        return p if os.path.exists(p) else None
    if os.path.exists(os.path.join(case_dir, "input.pcap")):
        return os.path.join(case_dir, "input.pcap")
    caps = glob.glob(os.path.join(case_dir, "*.pcap"))
    return caps[0] if len(caps) == 1 else None


def rule_lines(rules_file):
    out = []
    for line in open(rules_file, encoding="utf-8", errors="replace"):
        if RULE_RE.match(line):
            out.append(line)
    return out


def load_rejections(ids_check, rules_file):
    """Keywords of the rules lbg's loader or engine rejects (empty: everything loads)."""
    r = subprocess.run([ids_check, "--show", "all", rules_file], capture_output=True, text=True,
                       timeout=120)
    keywords = []
    for line in r.stdout.splitlines():
        m = REJECT_RE.match(line)
        if m:
            keywords.append(m.group(4))
    if r.returncode != 0 and not keywords:
        keywords.append("load error")
    return keywords


def version_ok(requires):
    """A check's own `requires`: kept when it asks only for a minimum version (the corpus' expected
    output is that of current Suricata)."""
    return not requires or set(requires) <= {"min-version"}


def alert_expectation(spec, sids):
    """{sid: count} and the total (or None) the checks state, or (None, reason) when they cannot
    be stated as counts per sid."""
    per_sid, total, alert_checks = {}, None, 0
    for c in spec.get("checks") or []:
        f = c.get("filter") if isinstance(c, dict) else None
        if not f or (f.get("match") or {}).get("event_type") != "alert":
            continue
        if not version_ok(f.get("requires")):
            continue
        m = f["match"]
        if set(m) - {"event_type", "alert.signature_id"} or "count" not in f:
            return None, "alert check on other fields"
        alert_checks += 1
        n = int(f["count"])
        if "alert.signature_id" in m:
            sid = int(m["alert.signature_id"])
            if per_sid.get(sid, n) != n:
                return None, "contradictory checks"
            per_sid[sid] = n
        else:
            total = n
    if alert_checks == 0:
        return None, "no alert check (http/flow/stats/file checks only)"
    if total is not None and len(sids) == 1:
        sid = sids[0]
        if per_sid.get(sid, total) != total:
            return None, "contradictory checks"
        per_sid[sid] = total
        total = None
    return (per_sid, total), None


def write_policy(path, inside, names, unnamed, rules, mode):
    lines = ["version: 1", "segment:", "  inside: [" + ", ".join(f'"{p}"' for p in inside) + "]",
             "defaults:", "  deny: drop", "  quic: block", "  ech: allow", '  sni_dns: "off"',
             "  guard: {new_flows_per_sec: 0, max_flows_per_source: 0}",
             "services:"]
    if names:
        lines += ["  - name: by-name", "    kind: infrastructure",
                  "    fqdn: [" + ", ".join(f'"{n}"' for n in sorted(names)) + "]",
                  "    ports: [tcp/1-65535]"]
    else:
        lines += ["  - name: inspect-everything", "    kind: infrastructure",
                  "    fqdn: [never-matches.invalid]", "    ports: [tcp/1-65535]"]
    if unnamed:
        lines += ["  - name: by-address", "    kind: infrastructure",
                  "    cidr: [" + ", ".join(f'"{p}"' for p in sorted(unnamed)) + "]",
                  "    ports: [tcp/1-65535, udp/1-65535]"]
    lines += ["  - name: datagrams", "    kind: infrastructure",
              "    cidr: [" + ", ".join(f'"{p}"' for p in EVERYWHERE) + "]",
              "    ports: [udp/1-65535]"]
    # Every DNS question may leave: the cases' captures ask about names of their own, and the
    # oracle is about the IDS, not the allow-list.
    lines += ["dns:", "  queries: any"]
    if rules:
        lines += ["ids:", f'  rules: ["{rules}"]', f"  mode: {mode}", "  on_fault: pass"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def host_prefix(addr):
    a = ipaddress.ip_address(addr)
    return f"{a}/{32 if a.version == 4 else 128}"


def replay(gateway, policy, cap, log):
    # --midstream: many captures start after the handshake; Suricata inspects their packets
    # (stream.midstream only decides whether it also reassembles them), lbg would deny them.
    # --ignore-checksums: most captures come from hosts with checksum offload (Suricata -k none).
    args = [gateway, "replay", "--policy", policy, "--in", cap, "--log", log,
            "--ignore-checksums", "--no-cert-check", "--midstream"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return [json.loads(l) for l in open(log, encoding="utf-8")], None


def valid_name(n):
    if not n or len(n) > 253 or n.endswith("."):
        return False
    try:
        ipaddress.ip_address(n)
        return False
    except ValueError:
        pass
    return re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", n) is not None and \
        not re.fullmatch(r"[0-9]+", n.rsplit(".", 1)[-1])


# Suricata's default HOME_NET (suricata.yaml).
SURICATA_HOME_NET = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def in_home_net(addr):
    a = ipaddress.ip_address(addr)
    return any(a in ipaddress.ip_network(n) for n in SURICATA_HOME_NET) if a.version == 4 else False


def run_case(gateway, work, name, cap, rules, mode, home_net=False):
    """The alerts {sid: count} of the case's second replay, or (None, error)."""
    cdir = os.path.join(work, name)
    os.makedirs(cdir, exist_ok=True)
    # Pass 1: everything inside, every flow inspected and denied: names and clients.
    p1 = os.path.join(cdir, "inspect.yaml")
    write_policy(p1, EVERYWHERE, [], [], None, mode)
    events, err = replay(gateway, p1, cap, os.path.join(cdir, "inspect.json"))
    if events is None:
        return None, f"replay failed: {err}"
    # Clients are the TCP flows' initiators, then the other initiators that serve no TCP flow (an
    # address both client and server keeps the client's side: one port per address).
    tcp_clients, other_clients, named_dest, names, dests = set(), set(), set(), set(), set()
    for e in events:
        if e.get("event_type") != "flow" or e.get("phase") != "verdict":
            continue
        if e.get("proto") != "TCP":
            other_clients.add(e["src_ip"])
            continue
        tcp_clients.add(e["src_ip"])
        n = (e.get("tls") or {}).get("sni") or (e.get("http") or {}).get("hostname")
        if n and valid_name(n.split(":")[0]):
            names.add(n.split(":")[0].lower())
            named_dest.add(e["dest_ip"])
        dests.add(e["dest_ip"])
    if tcp_clients & dests:
        # One port per address: a capture whose clients also serve TCP (loopback captures:
        # 127.0.0.1 to 127.0.0.1) cannot be split into an inside and an outside side.
        return None, "EXCLUDE"
    clients = tcp_clients | (other_clients - dests)
    servers = dests - tcp_clients
    inside = sorted(host_prefix(c) for c in clients) or ["10.255.255.255/32"]
    if home_net:
        # The rules name $HOME_NET: it must be Suricata's, and split the capture as ours does.
        if not all(in_home_net(c) for c in clients) or any(in_home_net(d) for d in servers):
            return None, "EXCLUDE-HOME-NET"
        inside = SURICATA_HOME_NET
    unnamed = {host_prefix(d) for d in servers - named_dest}
    # Pass 2: the capture's traffic allowed, the case's rules.
    p2 = os.path.join(cdir, "policy.yaml")
    write_policy(p2, inside, names, unnamed, rules, mode)
    events, err = replay(gateway, p2, cap, os.path.join(cdir, "events.json"))
    if events is None:
        return None, f"replay failed: {err}"
    alerts, verdicts = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("event_type") == "alert":
            alerts[int(e["alert"]["signature_id"])] += 1
        elif e.get("event_type") == "flow" and e.get("phase") == "verdict":
            verdicts[f"{e['action']} {e['reason']} app={e.get('app_proto')}"] += 1
    # What the gateway did to the flows, for the reader of a disagreement.
    seen = "; ".join(f"{n}x {v}" for v, n in sorted(verdicts.items())) or "no flow"
    return dict(alerts), seen


def agrees(expectation, alerts):
    per_sid, total = expectation
    if any(alerts.get(s, 0) != n for s, n in per_sid.items()):
        return False
    return total is None or sum(alerts.values()) == total


def main():
    gateway, ids_check, corpus, work = sys.argv[1:5]
    only = set(sys.argv[5:])
    os.makedirs(work, exist_ok=True)
    allowed = read_allow_list()
    base = os.path.join(corpus, "suricata-verify")
    excluded = collections.Counter()
    used, failures, allowed_seen = [], [], set()
    for case_dir in sorted(glob.glob(os.path.join(base, "*", "test.yaml"))):
        case_dir = os.path.dirname(case_dir)
        name = os.path.basename(case_dir)
        if only and name not in only:
            continue
        spec = yaml.safe_load(open(os.path.join(case_dir, "test.yaml"), encoding="utf-8")) or {}
        rules = os.path.join(case_dir, "test.rules")
        cap = case_capture(case_dir, spec)
        if cap is None:
            excluded["no single capture"] += 1
            continue
        if not os.path.exists(rules) or not rule_lines(rules):
            excluded["no rules"] += 1
            continue
        rejected = load_rejections(ids_check, rules)
        if rejected:
            excluded[f"unsupported: {collections.Counter(rejected).most_common(1)[0][0]}"] += 1
            continue
        lines = rule_lines(rules)
        home_net = any("$HOME_NET" in l or "$EXTERNAL_NET" in l for l in lines)
        config = os.path.join(case_dir, "suricata.yaml")
        if home_net and os.path.exists(config) and "HOME_NET" in open(config, encoding="utf-8",
                                                                      errors="replace").read():
            excluded["rules use $HOME_NET and the case sets its own"] += 1
            continue
        unfed = [u for u in (unfed_buffer(l) for l in lines) if u]
        if unfed:
            excluded[f"buffer not fed by the pipeline: {unfed[0]}"] += 1
            continue
        sids = [int(m.group(1)) for m in (SID_RE.search(l) for l in lines) if m]
        expectation, why = alert_expectation(spec, sids)
        if expectation is None:
            excluded[why] += 1
            continue
        args = " ".join(spec.get("args") or [])
        mode = "ips" if "--simulate-ips" in args else "ids"
        alerts, err = run_case(gateway, work, name, cap, rules, mode, home_net)
        if alerts is None and err == "EXCLUDE-HOME-NET":
            excluded["rules use $HOME_NET; the capture does not split along Suricata's"] += 1
            continue
        if alerts is None and err == "EXCLUDE":
            excluded["an address is both TCP client and server (no inside/outside split)"] += 1
            continue
        seen = err if alerts is not None else None
        err = None if alerts is not None else err
        used.append(name)
        per_sid, total = expectation
        want = ", ".join(f"{s}:{n}" for s, n in sorted(per_sid.items()))
        if total is not None:
            want += f" total:{total}"
        got = "error" if alerts is None else \
            ", ".join(f"{s}:{n}" for s, n in sorted(alerts.items())) or "none"
        ok = alerts is not None and agrees(expectation, alerts)
        if ok and name in allowed:
            failures.append(name)
            print(f"STALE {name}: agrees now, remove it from allow_list.txt")
        elif ok:
            print(f"ok      {name}: {want}")
        elif name in allowed:
            allowed_seen.add(name)
            print(f"allowed {name}: expected {want}; lbg {got}{' (' + err + ')' if err else ''}"
                  f" — {allowed[name]}")
        else:
            failures.append(name)
            print(f"FAIL    {name}: expected {want}; lbg {got}{' (' + err + ')' if err else ''}")
            print(f"          flows: {seen}")
    if not only:
        for name in sorted(set(allowed) - set(used)):
            failures.append(name)
            print(f"STALE {name}: in allow_list.txt but not selected")
    print("excluded cases by reason:")
    for why, n in sorted(excluded.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {n:4d}  {why}")
    agreed = len(used) - len(allowed_seen) - len(failures)
    print(f"suricata-verify oracle: {len(used)} cases compared, {agreed} agree, "
          f"{len(allowed_seen)} allow-listed, {len(failures)} failed, "
          f"{sum(excluded.values())} excluded")
    if not only and (len(used) < MIN_CASES or agreed < MIN_AGREE):
        print(f"FAIL: fewer than {MIN_CASES} cases compared or {MIN_AGREE} agreeing")
        sys.exit(1)
    sys.exit(1 if failures or not used else 0)


if __name__ == "__main__":
    main()
