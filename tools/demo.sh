#!/usr/bin/env bash
# The demo: the sample municipal policy (tests/golden/policy.yaml) enforced on sample traffic —
# TLS to Microsoft 365 and to forbidden names, split and fragmented ClientHellos, DNS bindings,
# QUIC, HTTP, VLANs, IPv6, malformed frames — replayed through the same pipeline code that runs
# live, then a table of what was allowed and denied. With root, it also runs the live check in
# network namespaces (real curl through lbg-gateway on af_packet ports).
# Usage: tools/demo.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$build/demo
mkdir -p "$work"
/usr/bin/python3 tests/golden/gen_captures.py "$work/captures" >/dev/null
/usr/bin/python3 tools/demo/merge_captures.py "$work/sample.pcap" "$work"/captures/*.pcap
echo "== policy: tests/golden/policy.yaml"
"$build/tools/lbg-gateway" check --policy tests/golden/policy.yaml
echo "== replay: $work/sample.pcap"
"$build/tools/lbg-gateway" replay --policy tests/golden/policy.yaml --in "$work/sample.pcap" \
  --out "$work/forwarded.pcap" --log "$work/events.json"
echo
/usr/bin/python3 tools/demo/verdict_table.py "$work/events.json"
if [ "$(id -u)" -eq 0 ]; then
  echo
  echo "== live: client and server namespaces through lbg-gateway (net_af_packet)"
  tests/e2e/gateway_e2e.sh "$build/tools/lbg-gateway" "$work/live"
fi
