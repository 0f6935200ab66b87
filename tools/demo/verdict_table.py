#!/usr/bin/python3
"""Prints the verdict events of an lbg event log as a table (demo output)."""
import collections
import json
import sys

rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("event_type") != "flow" or e.get("phase") != "verdict":
        continue
    name = e.get("tls", {}).get("sni") or e.get("http", {}).get("hostname") or ""
    rows.append((e["action"].upper(), e["proto"], f'{e["src_ip"]}:{e["src_port"]}',
                 f'{e["dest_ip"]}:{e["dest_port"]}', name, e["reason"],
                 e["policy"]["service"] or "-"))
head = ("判定 verdict", "proto", "client", "server", "name (SNI/Host)", "reason", "service")
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
fmt = "  ".join("{:<%d}" % w for w in widths)
print(fmt.format(*head))
print(fmt.format(*("-" * w for w in widths)))
for r in rows:
    print(fmt.format(*r))
count = collections.Counter(r[0] for r in rows)
print(f"\n{len(rows)} flows: {count.get('ALLOW', 0)} allowed (許可), {count.get('DENY', 0)} denied (拒否)")
