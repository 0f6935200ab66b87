#!/usr/bin/env bash
# End to end: a client and a server in their own network namespaces, joined through lbg-gateway
# running on two net_af_packet ports (a transparent bump in the wire), a local HTTPS server with a
# test CA, and real curl:
#   - an allowed name succeeds;
#   - a forbidden name fails fast with a reset (not a timeout);
#   - QUIC (UDP/443) never reaches the server;
#   - SIGTERM stops the gateway cleanly with its counters, and the log holds the verdicts.
# Traffic stays inside the namespaces this script creates. Needs root; skips (77) otherwise.
#   - the enforcement log is hash-chained and sealed, and lbg-audit verifies it.
# Usage: gateway_e2e.sh LBG_GATEWAY WORKDIR [LBG_AUDIT]
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1")
WORK=$(realpath -m "$2")  # absolute: the script cd-s into it, the config names files in it
AUDIT=${3:+$(realpath "$3")}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

tag=$$
NC=lbgc$tag NS=lbgs$tag
IN=lbgi$tag OUT=lbgo$tag
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
pass=0 fail=0
trap lbg_bump_cleanup EXIT

# --- test PKI: a CA and one server certificate for both names; the topology -------------------
lbg_test_pki allowed.example.jp allowed.example.jp,forbidden.example.jp
lbg_bump_topology "$NC" "$NS" "$IN" "$OUT" "10.77.$((tag % 200))"
CLIENT_IP=10.77.$((tag % 200)).10
SERVER_IP=10.77.$((tag % 200)).200

cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: e2e-allowed
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/443]
EOF
lbg_gateway_yaml "$IN" "$OUT" "$WORK"
cat >> gateway.yaml <<EOF
log: {dir: $WORK/log, key: $WORK/log.key}
EOF

# --- servers ----------------------------------------------------------------------------------
cat > udp_sink.py <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 443))
with open("udp_received", "w") as f:
    while True:
        data, _ = s.recvfrom(2048); f.write(f"{len(data)}\n"); f.flush()
EOF
ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/https_server.py" & SRVPIDS=$!
ip netns exec "$NS" /usr/bin/python3 udp_sink.py & SRVPIDS="$SRVPIDS $!"

"$GW" run --config gateway.yaml >gateway.out 2>gateway.err & GWPID=$!
wait_for 300 grep -q "lbg-gateway: running" gateway.err || { echo "gateway did not start:"; cat gateway.err; }
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/443" || echo "HTTPS server not listening"
# (ICMP echo itself is denied by the policy; curl's own ARP request crosses the gateway at L2.)

# --- checks -----------------------------------------------------------------------------------
curl_to() {  # name → prints "rc http_code", stderr to curl-<name>.err
  set +e
  local code
  code=$(ip netns exec "$NC" curl -sS --max-time 10 --cacert ca.pem \
    --resolve "$1:443:$SERVER_IP" -o "body-$1" -w '%{http_code}' "https://$1/" 2>"curl-$1.err")
  local rc=$?
  set -e
  echo "$rc $code"
}
read -r rc code < <(curl_to allowed.example.jp)
check "allowed name succeeds (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "allowed body arrived intact" grep -q "hello from the server" body-allowed.example.jp

read -r rc code < <(curl_to forbidden.example.jp)
# A reset gives "Connection reset by peer" (rc 35/56); a silent drop would give a timeout (rc 28).
check "forbidden name fails (curl rc=$rc)" test "$rc" != 0
check "forbidden name fails fast by reset, not timeout" bash -c "[ $rc != 28 ] && grep -qi 'reset' curl-forbidden.example.jp.err"

ip netns exec "$NC" /usr/bin/python3 - "$SERVER_IP" <<'EOF'
import socket, sys
# A QUIC v1 Initial-shaped datagram (long header, fixed bit, version 1), padded like a real one.
pkt = bytes([0xc3, 0, 0, 0, 1, 8]) + bytes(8) + bytes([0, 0, 0x44, 0x9c]) + bytes(1180)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(pkt, (sys.argv[1], 443))
EOF
sleep 1
check "QUIC (UDP/443) never reaches the server" bash -c "[ ! -s udp_received ]"

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
check "final counters printed" grep -q "flows_denied" gateway.err
cat log/*.jsonl > events.json
if [ -n "$AUDIT" ]; then
  check "lbg-audit verifies the sealed, hash-chained log" "$AUDIT" --dir log --pubkey log.key.pub verify
fi
check "log: allow verdict for allowed.example.jp" grep -q '"action":"allow","reason":"sni".*"sni":"allowed.example.jp"' events.json
check "log: deny verdict for forbidden.example.jp" grep -q '"action":"deny","reason":"no-match".*"sni":"forbidden.example.jp"' events.json
check "log: QUIC denied" grep -q '"reason":"quic' events.json

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
