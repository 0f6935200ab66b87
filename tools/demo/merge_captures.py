#!/usr/bin/python3
"""Concatenates captures into one, shifting each one's times after the previous (demo input)."""
import sys

from scapy.all import rdpcap, wrpcap

out, inputs = sys.argv[1], sys.argv[2:]
merged, offset = [], 0.0
for path in inputs:
    pkts = rdpcap(path)
    if not pkts:
        continue
    base = float(pkts[0].time)
    for p in pkts:
        p.time = float(p.time) - base + offset
        merged.append(p)
    offset = float(merged[-1].time) + 1.0
for p in merged:
    p.time += 1795000000
wrpcap(out, merged)
