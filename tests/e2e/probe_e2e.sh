#!/usr/bin/env bash
# End to end: the certificate probe of TLS 1.3 destinations (dataplane/cert/prober.h,
# dataplane/core/pipeline_probe.cc). client namespace → lbg-gateway (af_packet inside and outside,
# a net_tap exception port, tproxy-rules.sh --segment for the probe's return path) → origins in a
# server namespace, all presenting themselves as allowed.example.jp to a real curl (TLS 1.3 unless
# said otherwise):
#   - a valid certificate (test root): the first connection waits for the probe, the second is a
#     cache hit; the probe leaves from the client's address and carries no client byte;
#   - a self-signed certificate and one naming another host, at other addresses, while the
#     client sends the allowed SNI and does not check (as malware would): refused, and the origin
#     never receives the client's request;
#   - a server that accepts and never answers: refused after the probe's deadline;
#   - TLS 1.2-only clients: judged from the probe's cache too, the valid flight passively checked;
#   - `lbgctl certs` lists each verdict (server, name, issuer, verdict, probe or passive), and
#     `lbgctl certs flush` makes the next connection be probed again;
#   - IPv6 (fd00:79::/64 beside the IPv4 net, tproxy-rules.sh --segment6): the probe leaves from
#     the client's IPv6 address, a valid destination passes (then from the cache), a self-signed
#     one is refused.
# Only namespaces this script creates are touched. Needs root and nft; skips (77) otherwise.
# Usage: probe_e2e.sh LBG_GATEWAY TPROXY_RULES WORKDIR LBGCTL
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1") RULES=$(realpath "$2") LBGCTL=$(realpath "$4")
WORK=$(realpath -m "$3")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null && command -v nft >/dev/null || { echo "SKIP: needs curl and nft"; exit 77; }

tag=$$
NC=lbgpc$tag NG=lbgpg$tag NS=lbgps$tag
TAP=lbgp$((tag % 100000))
NET=10.79.$((tag % 200))
CLIENT_IP=$NET.10 OK_IP=$NET.200 SELF_IP=$NET.201 SILENT_IP=$NET.202 WRONG_IP=$NET.203
CLIENT6=fd00:79::10 OK6=fd00:79::200 SELF6=fd00:79::201  # IPv6 (ULA) inside the namespaces
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 700 "$WORK"; cd "$WORK"
pass=0 fail=0
PIDS=()
cleanup() {
  [ -n "${GWPID:-}" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in "$NC" "$NG" "$NS"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

lbg_exception_namespaces "$NC" "$NG" "$NS" "$CLIENT_IP" "$OK_IP" "$SELF_IP" "$SILENT_IP" "$WRONG_IP"
lbg_exception_v6 "$NC" "$NS" "$CLIENT6" "$OK6" "$SELF6"

# --- PKI: a test root the gateway trusts; a good, a wrong-name and a self-signed certificate --
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
  -days 2 -subj "/CN=lbg test root" 2>/dev/null
leaf() {  # NAME SAN
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA root.pem -CAkey root.key -CAcreateserial -out "$1.pem" \
    -days 2 -extfile "$1.ext" 2>/dev/null
}
leaf good allowed.example.jp
leaf wrong other.example.jp
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out self.pem \
  -days 2 -subj "/CN=allowed.example.jp" -addext "subjectAltName=DNS:allowed.example.jp" 2>/dev/null

cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32, "$CLIENT6/128"]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: e2e-allowed
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/443]
EOF
cat > gateway.yaml <<EOF
eal: ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--log-level", "lib.eal:error", "--no-telemetry"]
ports:
  inside: "net_af_packet0,iface=gi"
  outside: "net_af_packet1,iface=go"
  exception: "net_tap0,iface=$TAP"
workers: 1
flows: 65536
trust_store: $WORK/root.pem
policy: $WORK/policy.yaml
log: {dir: $WORK/log, key: $WORK/log.key}
control: {socket: $WORK/control.sock, roles: $WORK/roles.yaml, store: $WORK/store}
EOF
printf 'users:\n  "0": admin\n' > roles.yaml

# One origin per address: TLS (any version the client offers) that records each request and
# each connection's peer, or a listener that accepts and never speaks.
cat > origin.py <<'EOF'
import http.server, json, socket, ssl, sys, time
ip, mode = sys.argv[1], sys.argv[2]
if mode == "silent":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 443)); s.listen(64); held = []
    while True:
        held.append(s.accept()[0])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        with open(f"seen-{ip}.jsonl", "a") as f:
            f.write(json.dumps({"peer": self.client_address[0]}) + "\n")
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    def get_request(self):
        c, a = super().get_request()
        with open(f"conns-{ip}.txt", "a") as f:
            f.write(a[0] + "\n")
        return c, a
srv = S((ip, 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{mode}.pem", f"{mode}.key")
# The handshake in each connection's thread: the probe and the client's held connection overlap.
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
srv.serve_forever()
EOF
for o in "$OK_IP good" "$SELF_IP self" "$SILENT_IP silent" "$WRONG_IP wrong" "$OK6 good" "$SELF6 self"; do
  set -- $o
  ip netns exec "$NS" /usr/bin/python3 origin.py "$1" "$2" & PIDS+=($!)
done

lbg_exception_gateway "$GW" "$NG" "$TAP" "$RULES" "$CLIENT_IP" "$CLIENT6"
for a in "$OK_IP" "$SELF_IP" "$SILENT_IP" "$WRONG_IP" "$OK6" "$SELF6"; do
  wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$a/443" || echo "origin $a not listening"
done
rm -f conns-*.txt  # the readiness checks above were plain TCP connections

curl_to() {  # ADDR [curl args] → prints "rc http_code seconds"
  local addr=$1; shift
  set +e
  local out
  out=$(ip netns exec "$NC" curl -sS --max-time 15 --tlsv1.3 --resolve "allowed.example.jp:443:$addr" \
    -o /dev/null -w '%{http_code} %{time_total}' "$@" https://allowed.example.jp/ 2>>curl.err)
  local rc=$?
  set -e
  echo "$rc $out"
}
count() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

[ -n "${PROBE_DEBUG:-}" ] && { ip netns exec "$NG" tcpdump -U -n -i "$TAP" -w tap.pcap 2>/dev/null & PIDS+=($!); ip netns exec "$NS" tcpdump -U -n -i s0 -w s0.pcap 2>/dev/null & PIDS+=($!); sleep 1; }
# --- 1. a destination that proves itself: the probe first, then the cache --------------------
read -r rc code secs < <(curl_to "$OK_IP" --cacert root.pem)
check "TLS 1.3 to a destination with a valid certificate (curl rc=$rc http=$code, ${secs}s with the probe)" test "$rc" = 0 -a "$code" = 200
check "the origin got two connections (the probe and the client), both from the client's address" \
  bash -c "[ \"\$(sort -u conns-$OK_IP.txt)\" = '$CLIENT_IP' ] && [ \$(wc -l < conns-$OK_IP.txt) = 2 ]"
check "the probe sent no request: the origin saw the client's only" test "$(count "seen-$OK_IP.jsonl")" = 1
read -r rc code secs < <(curl_to "$OK_IP" --cacert root.pem)
check "a second connection is judged from the cache (curl rc=$rc http=$code, ${secs}s)" test "$rc" = 0 -a "$code" = 200
check "no second probe: one more connection only" test "$(count "conns-$OK_IP.txt")" = 3

# --- 2. the allowed SNI sent to servers that cannot prove it ---------------------------------
read -r rc code secs < <(curl_to "$SELF_IP" -k)
check "self-signed destination refused (curl rc=$rc)" test "$rc" != 0
check "the self-signed origin never got the client's request" test "$(count "seen-$SELF_IP.jsonl")" = 0
read -r rc code secs < <(curl_to "$WRONG_IP" -k)
check "destination whose certificate names another host refused (curl rc=$rc)" test "$rc" != 0
check "the wrong-name origin never got the client's request" test "$(count "seen-$WRONG_IP.jsonl")" = 0
read -r rc code secs < <(curl_to "$SILENT_IP" -k)
check "a server that never answers the probe is refused (curl rc=$rc after ${secs}s)" test "$rc" != 0
check "... after the probe's deadline (3 s)" python3 -c "import sys; sys.exit(0 if float('$secs') >= 2.9 else 1)"

# --- 3. a client offering TLS 1.2 only: the probe's cached verdicts, then the passive check ---
read -r rc code secs < <(curl_to "$OK_IP" --cacert root.pem --tls-max 1.2 --tlsv1.2)
check "TLS 1.2 only to the valid destination (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
read -r rc code secs < <(curl_to "$SELF_IP" -k --tls-max 1.2 --tlsv1.2)
check "TLS 1.2 only to the self-signed one refused from the probe's cache (curl rc=$rc)" test "$rc" != 0

# --- 4. the ledger: `lbgctl certs`, and a flush that makes the next connection probe again ----
ctl() { "$LBGCTL" --socket control.sock --json "$@"; }
ctl certs --name allowed.example.jp > certs.json 2>>ctl.err || true
row() {  # ADDR CHECK → the JSON row of that server and kind, or nothing
  python3 -c "import json,sys; rows=json.load(open('certs.json'))['certs']
print(next((json.dumps(r) for r in rows if r['server']=='$1' and r['check']=='$2'), ''))"
}
has() {  # ADDR CHECK FIELD VALUE
  python3 -c "import json,sys; r=json.loads(sys.argv[1] or 'null'); sys.exit(0 if r and str(r['$3']).startswith('$4') else 1)" "$(row "$1" "$2")"
}
check "lbgctl certs: the valid destination verified by probe" has "$OK_IP" probe verdict verified
check "lbgctl certs: ... with its issuer (the test root)" has "$OK_IP" probe issuer "CN=lbg test root"
check "lbgctl certs: ... and the leaf's expiry" has "$OK_IP" probe not_after "$(date -u -d '+2 days' +%Y-%m-%d)"
check "lbgctl certs: the TLS 1.2 flight verified passively" has "$OK_IP" passive verdict verified
check "lbgctl certs: the self-signed destination cert-untrusted" has "$SELF_IP" probe verdict cert-untrusted
check "lbgctl certs: the wrong-name destination cert-name" has "$WRONG_IP" probe verdict cert-name
check "lbgctl certs: the silent server cert-probe-timeout" has "$SILENT_IP" probe verdict cert-probe-timeout
before=$(count "conns-$OK_IP.txt")
ctl certs flush --address "$OK_IP" > flush.json 2>>ctl.err || true
check "lbgctl certs flush --address: the valid destination's two verdicts forgotten ($(tr -d ' \n' < flush.json))" \
  python3 -c "import json; assert json.load(open('flush.json'))['flushed'] == 2"
read -r rc code secs < <(curl_to "$OK_IP" --cacert root.pem)
check "after the flush, the destination is reached again (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "... through a new probe: two more connections" test "$(count "conns-$OK_IP.txt")" = $((before + 2))
ctl certs --address "$OK_IP" > certs.json 2>>ctl.err || true
check "lbgctl certs: the new probe's verdict listed again" has "$OK_IP" probe verdict verified

# --- 5. IPv6: the probe from the client's IPv6 address through the exception port -----------
read -r rc code secs < <(curl_to "[$OK6]" -6 --cacert root.pem)
check "IPv6: TLS 1.3 to a destination with a valid certificate (curl rc=$rc http=$code, ${secs}s with the probe)" test "$rc" = 0 -a "$code" = 200
check "IPv6: the origin got two connections (the probe and the client), both from the client's address" \
  bash -c "[ \"\$(sort -u conns-$OK6.txt)\" = '$CLIENT6' ] && [ \$(wc -l < conns-$OK6.txt) = 2 ]"
check "IPv6: the probe sent no request" test "$(count "seen-$OK6.jsonl")" = 1
read -r rc code secs < <(curl_to "[$OK6]" -6 --cacert root.pem)
check "IPv6: a second connection is judged from the cache (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "IPv6: no second probe: one more connection only" test "$(count "conns-$OK6.txt")" = 3
read -r rc code secs < <(curl_to "[$SELF6]" -6 -k)
check "IPv6: self-signed destination refused (curl rc=$rc)" test "$rc" != 0
check "IPv6: the self-signed origin never got the client's request" test "$(count "seen-$SELF6.jsonl")" = 0
ctl certs --name allowed.example.jp > certs.json 2>>ctl.err || true
check "lbgctl certs: the IPv6 destination verified by probe" has "$OK6" probe verdict verified
check "lbgctl certs: the self-signed IPv6 destination cert-untrusted" has "$SELF6" probe verdict cert-untrusted

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
check "counters: seven probes asked (good, self-signed, wrong name, silent, good after the flush; IPv6 good, self-signed)" grep -Eq "cert_probe_requests[^0-9]+7\b" gateway.err
check "counters: four probe cache hits (TLS 1.3 again, TLS 1.2 twice; IPv6 again)" grep -Eq "cert_probe_cache_hits[^0-9]+4\b" gateway.err
check "counters: five flows refused by probe (four IPv4, one IPv6)" grep -Eq "cert_probe_refused[^0-9]+5\b" gateway.err
check "counters: the passive check verified the TLS 1.2 flight" grep -Eq "cert_verified[^0-9]+1\b" gateway.err
check "counters: seven probe connections carried (two IPv6)" grep -Eq "cert_probe_flows[^0-9]+7\b" gateway.err
check "counters: the worker applied the flush" grep -Eq "cert_cache_flushes[^0-9]+1\b" gateway.err
cat log/*.jsonl > events.json
check "log: the probe connections' own records (allow cert-probe)" grep -q '"action":"allow","reason":"cert-probe"' events.json
check "log: deny cert-untrusted:probe" grep -q '"action":"deny","reason":"cert-untrusted:probe"' events.json
check "log: deny cert-name:probe" grep -q '"action":"deny","reason":"cert-name:probe"' events.json
check "log: deny cert-probe-timeout:probe" grep -q '"action":"deny","reason":"cert-probe-timeout:probe"' events.json
check "log: deny cert-untrusted:probe-cache" grep -q '"action":"deny","reason":"cert-untrusted:probe-cache"' events.json
check "log: the IPv6 probe connection's own record, from the client's IPv6 address" \
  grep -q "\"src_ip\":\"$CLIENT6\".*\"action\":\"allow\",\"reason\":\"cert-probe\"" events.json

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
