#!/usr/bin/env bash
# End to end, from the attacker's side, for the stream-integrity rules (issue 9), with real curl
# and the kernel's TCP stacks on both sides of lbg-gateway (two net_af_packet ports):
#   - a DNS answer forged from the inside port (matching an outstanding query's id and port) binds
#     nothing: the named service stays unreachable under `sni_dns: enforce`;
#   - the same answer from the resolver on the outside binds, and the service is reached (the
#     control that proves the first check could fail);
#   - on one HTTP/1.1 keep-alive connection, a second request naming a forbidden host is refused
#     and never reaches the server, while the first (allowed) one is answered.
# Traffic stays inside the namespaces this script creates. Needs root; skips (77) otherwise.
# Usage: stream_e2e.sh LBG_GATEWAY WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1")
WORK=$(realpath -m "$2")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

tag=$$
NC=lbtc$tag NS=lbts$tag
IN=lbti$tag OUT=lbto$tag
NET=10.79.$((tag % 200))
CLIENT_IP=$NET.10 SERVER_IP=$NET.200
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
pass=0 fail=0
trap lbg_bump_cleanup EXIT

lbg_test_pki allowed.example.jp allowed.example.jp
lbg_bump_topology "$NC" "$NS" "$IN" "$OUT" "$NET"

# The server namespace's address is also the resolver the policy trusts.
cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32]
defaults: {deny: reset, quic: block, sni_dns: enforce}
dns:
  resolvers: [$SERVER_IP/32]
services:
  - name: resolver
    kind: infrastructure
    cidr: [$SERVER_IP/32]
    ports: [udp/53]
  - name: e2e-allowed
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/443, tcp/80]
EOF
lbg_gateway_yaml "$IN" "$OUT" "$WORK"
cat >> gateway.yaml <<EOF
log: {dir: $WORK/log, key: $WORK/log.key}
EOF

ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/https_server.py" & SRVPIDS="$!"
ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/http_host_server.py" & SRVPIDS="$SRVPIDS $!"
"$GW" run --config gateway.yaml >gateway.out 2>gateway.err & GWPID=$!
wait_for 300 grep -q "lbg-gateway: running" gateway.err || { echo "gateway did not start:"; cat gateway.err; }
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/443" || echo "HTTPS server not listening"
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || echo "HTTP server not listening"

https_allowed() {  # → curl's exit code for https://allowed.example.jp/ at the server's address
  set +e
  ip netns exec "$NC" curl -sS --max-time 8 --cacert ca.pem --resolve "allowed.example.jp:443:$SERVER_IP" \
    -o /dev/null "https://allowed.example.jp/" 2>>curl.err
  local rc=$?
  set -e
  return $rc
}

# --- 1. forged answer from the inside port --------------------------------------------------------
# The client asks the resolver (nothing answers yet: no DNS server runs), then injects, on its own
# wire, the answer the resolver would give: same id, same ports, resolver's address as source.
# Reaching the gateway's inside port, it must bind nothing.
SERVER_MAC=$(ip netns exec "$NS" cat /sys/class/net/s0/address)
ip netns exec "$NC" /usr/bin/python3 - "$LBG_TEST_LIB" "$CLIENT_IP" "$SERVER_IP" "$SERVER_MAC" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import dns_wire
client_ip, server_ip, server_mac = sys.argv[2], sys.argv[3], sys.argv[4]
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q.bind((client_ip, 0))
port = q.getsockname()[1]
q.sendto(dns_wire.query(0x4c42, "allowed.example.jp"), (server_ip, 53))
time.sleep(0.3)
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind(("c0", 0))
own_mac = open("/sys/class/net/c0/address").read().strip()
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
frame = dns_wire.udp_frame(mac(server_mac), mac(own_mac), server_ip, client_ip, 53, port,
                           dns_wire.answer(0x4c42, "allowed.example.jp", server_ip))
for _ in range(3):
    raw.send(frame)
PY
sleep 0.5
if https_allowed; then forged_rc=0; else forged_rc=$?; fi
check "forged answer from the inside binds nothing: https refused (curl rc=$forged_rc)" test "$forged_rc" != 0

# --- 2. the real answer from the outside binds --------------------------------------------------
ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/dns_server.py" allowed.example.jp "$SERVER_IP" & SRVPIDS="$SRVPIDS $!"
sleep 0.5
ip netns exec "$NC" /usr/bin/python3 - "$LBG_TEST_LIB" "$SERVER_IP" <<'PY' > dns_answer.txt || true
import socket, sys
sys.path.insert(0, sys.argv[1])
import dns_wire
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for txid in (0x1001, 0x1002, 0x1003):  # the first may meet a server still starting
    s.sendto(dns_wire.query(txid, "allowed.example.jp"), (sys.argv[2], 53))
    try:
        data, _ = s.recvfrom(2048)
        print("answered", len(data))
        break
    except socket.timeout:
        continue
PY
check "the resolver's answer crosses the gateway" grep -q answered dns_answer.txt
if https_allowed; then real_rc=0; else real_rc=$?; fi
check "after the real answer the allowed name is reached (curl rc=$real_rc)" test "$real_rc" = 0

# --- 3. keep-alive: a second request naming a forbidden host --------------------------------------
# curl reuses the connection for the same URL host; the second transfer overrides the Host header.
set +e
ip netns exec "$NC" curl -sS --max-time 8 --resolve "allowed.example.jp:80:$SERVER_IP" \
  -o first.body "http://allowed.example.jp/first" \
  --next --max-time 8 -H "Host: forbidden.example.jp" -o second.body "http://allowed.example.jp/second" \
  -v 2>keepalive.err
ka_rc=$?
set -e
check "keep-alive: the first request is answered" grep -q "hello over http" first.body
check "keep-alive: the second request reused the connection" grep -qi "re-using existing connection" keepalive.err
check "keep-alive: the second request fails (curl rc=$ka_rc)" test "$ka_rc" != 0
check "keep-alive: the server saw the allowed request" grep -q "^allowed.example.jp /first" hosts_seen
check "keep-alive: the forbidden host never reached the server" bash -c "! grep -q forbidden hosts_seen"

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
# The forged answer belongs to the client's query flow but enters from the inside port: the ingress
# check drops it (wrong_port_dropped) before the DNS stage would (dns_inside_answer).
check "the inside answer was dropped and counted" grep -Eq "(wrong_port_dropped|dns_inside_answer)[^0-9]+[1-9]" gateway.err
cat log/*.jsonl > events.json
check "log: the second request denied as request-host" grep -q '"reason":"request-host"' events.json

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
