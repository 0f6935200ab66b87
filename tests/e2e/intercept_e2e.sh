#!/usr/bin/env bash
# End to end through the exception path: client namespace → lbg-gateway (af_packet inside and
# outside, a net_tap exception port) in a gateway namespace → the kernel's TPROXY
# (tools/proxy/tproxy-rules.sh) → lbg-proxy --transparent in the same namespace → back out through
# the tap and the outside port → an origin named login.microsoftonline.com (test root) in a server
# namespace. Real curl trusting the appliance CA:
#   - the origin sees exactly one of each configured tenant header although the client sent its
#     own, and sees the client's own address;
#   - a non-intercepted allowed host works on the fast path with the origin's own certificate;
#   - lbg-proxy stopped: the intercepted flow is refused (reset, counted, logged
#     intercept-unavailable), never passed unintercepted; the other host still works.
#   - the same over IPv6 (fd00:78::/64 beside the IPv4 net): curl -6 intercepted, the origin sees
#     the tenant headers replaced and the client's IPv6 address; with lbg-proxy stopped, refused.
# Only namespaces this script creates are touched. Needs root and nft; skips (77) otherwise.
# With WORKERS > 1 (several gateway workers): also many intercepted connections, all of which must
# succeed, and every worker must have handled exception-port frames (core/runtime_steer.cc).
# Usage: intercept_e2e.sh LBG_GATEWAY LBG_PROXY TPROXY_RULES WORKDIR [WORKERS]
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1") PROXY=$(realpath "$2") RULES=$(realpath "$3")
WORK=$(realpath -m "$4")
WORKERS=${5:-1}
# EAL wants one lcore more than workers (the service thread's): on a 2-CPU machine, float them.
LCORES=""; [ "$WORKERS" -gt 1 ] && LCORES=", \"--lcores\", \"(0-$WORKERS)@(0-1)\""
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null && command -v nft >/dev/null || { echo "SKIP: needs curl and nft"; exit 77; }

tag=$$
NC=lbgxc$tag NG=lbgxg$tag NS=lbgxs$tag
TAP=lbgx$((tag % 100000))
NET=10.78.$((tag % 200))
CLIENT_IP=$NET.10 SERVER_IP=$NET.200 SERVER2_IP=$NET.201
BAD_IPS=("$NET.202" "$NET.203" "$NET.204" "$NET.205")  # untrusted root, wrong name, expired, pinned
CLIENT6=fd00:78::10 SERVER6=fd00:78::200  # IPv6 (ULA) inside the namespaces made here
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 700 "$WORK"; cd "$WORK"
pass=0 fail=0
cleanup() {
  [ -n "${PXPID:-}" ] && kill "$PXPID" 2>/dev/null || true
  [ -n "${GWPID:-}" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null || true
  [ -n "${SRVPID:-}" ] && kill "$SRVPID" 2>/dev/null || true
  [ -n "${SRV6PID:-}" ] && kill "$SRV6PID" 2>/dev/null || true
  for n in "$NC" "$NG" "$NS"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

# --- namespaces: client c0 — gi | gateway | go — s0 server (two addresses) --------------------
lbg_exception_namespaces "$NC" "$NG" "$NS" "$CLIENT_IP" "$SERVER_IP" "$SERVER2_IP" "${BAD_IPS[@]}"
lbg_exception_v6 "$NC" "$NS" "$CLIENT6" "$SERVER6"

# --- PKI: a test root for the origin, the appliance CA for lbg-proxy --------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
  -days 2 -subj "/CN=lbg test root" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout appliance.key \
  -out appliance.pem -days 2 -subj "/CN=lbg appliance CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
  -subj "/CN=login.microsoftonline.com" 2>/dev/null
printf 'subjectAltName=DNS:login.microsoftonline.com,DNS:allowed.example.jp,DNS:*.probe.example.jp\n' > san.ext
openssl x509 -req -in srv.csr -CA root.pem -CAkey root.key -CAcreateserial -out srv.pem -days 2 \
  -extfile san.ext 2>/dev/null

# Origins whose certificates lbg-proxy must refuse (section 2d), served by origin.py by SNI:
# another root, another name, expired, and a valid one for a service whose pin does not match.
python3 - "$(dirname "$(realpath "$0")")/../proxy" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pki import DAY, NOW, make_cert, pem
root = (x509.load_pem_x509_certificate(open("root.pem", "rb").read()),
        serialization.load_pem_private_key(open("root.key", "rb").read(), None))
other = make_cert("another root", ca=True)
for name, issuer, sans, extra in (
        ("untrusted", other, ["untrusted.example.jp"], {}),
        ("wrongname", root, ["elsewhere.example.jp"], {}),
        ("expired", root, ["expired.example.jp"], {"not_before": NOW - 10 * DAY, "not_after": NOW - DAY}),
        ("pinned", root, ["pinned.example.jp"], {})):
    cert, key = make_cert(f"{name}.example.jp", issuer, sans, **extra)
    pem(f"{name}.pem", cert)
    pem(f"{name}.key", key)
PY

cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32, "$CLIENT6/128"]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: entra
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-03-31}
    fqdn: [login.microsoftonline.com, login.microsoft.com, login.windows.net]
    cidr: [$SERVER_IP/32, "$SERVER6/128"]
    ports: [tcp/443]
    intercept: true
    tenant:
      profile: entra-v1
      headers: {Restrict-Access-To-Tenants: "contoso.onmicrosoft.com", Restrict-Access-Context: "dir-0001"}
  - name: e2e-allowed
    kind: lgwan-asp
    fqdn: [allowed.example.jp, "*.probe.example.jp"]  # one name per probe (section 2c)
    ports: [tcp/443]
  - name: e2e-badcerts  # section 2d: intercepted, their upstream certificates refused
    kind: lgwan-asp
    fqdn: [untrusted.example.jp, wrongname.example.jp, expired.example.jp]
    cidr: [${BAD_IPS[0]}/32, ${BAD_IPS[1]}/32, ${BAD_IPS[2]}/32]
    ports: [tcp/443]
    intercept: true
  - name: e2e-pinned
    kind: lgwan-asp
    fqdn: [pinned.example.jp]
    cidr: [${BAD_IPS[3]}/32]
    ports: [tcp/443]
    intercept: true
    pins: ["sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
EOF
cat > gateway.yaml <<EOF
eal: ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--log-level", "lib.eal:error", "--no-telemetry"$LCORES]
ports:
  inside: "net_af_packet0,iface=gi,qpairs=$WORKERS"
  outside: "net_af_packet1,iface=go,qpairs=$WORKERS"
  exception: "net_tap0,iface=$TAP"
workers: $WORKERS
flows: 65536
trust_store: $WORK/root.pem  # the origins' test root: the certificate probe checks against it
policy: $WORK/policy.yaml
log: {dir: $WORK/log, key: $WORK/log.key}
EOF

cat > origin.py <<'EOF'
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self, posted=None):
        with open("seen.jsonl", "a") as f:
            f.write(json.dumps({"host": self.headers.get("Host"), "peer": self.client_address[0],
                                "port": self.client_address[1], "path": self.path, "posted": posted,
                                "headers": list(self.headers.items())}) + "\n")
        body = b"hello from the origin\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):  # a chunked upload: its length and digest as the origin decoded it
        import hashlib
        data = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(size) if size else b""
                self.rfile.readline()
                if size == 0:
                    break
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET(posted=[len(data), hashlib.sha256(data).hexdigest()])
srv = http.server.ThreadingHTTPServer(("0.0.0.0", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("srv.pem", "srv.key")
by_name = {}
for n in ("untrusted", "wrongname", "expired", "pinned"):
    by_name[n + ".example.jp"] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    by_name[n + ".example.jp"].load_cert_chain(n + ".pem", n + ".key")
def by_sni(sock, name, _):
    if name in by_name:
        sock.context = by_name[name]
ctx.sni_callback = by_sni
# The handshake in the connection's thread, as real servers do: the gateway may hold one
# connection's ClientHello while its certificate probe connects to this server.
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
srv.serve_forever()
EOF
ip netns exec "$NS" /usr/bin/python3 origin.py & SRVPID=$!
# The IPv6 origin: origin.py's handler on [SERVER6]:443, its requests in seen6.jsonl.
cat > origin6.py <<'EOF'
import socket, ssl, sys, http.server
exec(open("origin.py").read().split("srv = http.server")[0].replace("seen.jsonl", "seen6.jsonl"))
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
srv = S((sys.argv[1], 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("srv.pem", "srv.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
srv.serve_forever()
EOF
ip netns exec "$NS" /usr/bin/python3 origin6.py "$SERVER6" & SRV6PID=$!

lbg_exception_gateway "$GW" "$NG" "$TAP" "$RULES" "$CLIENT_IP" "$CLIENT6"
mkdir -p -m 700 proxylog
ip netns exec "$NG" "$PROXY" --listen 127.0.0.1:0 --transparent 0.0.0.0:8443 --transparent "[::]:8443" --port-file proxy.port \
  --policy policy.yaml --ca-cert appliance.pem --ca-key appliance.key --trust-file root.pem \
  --log-dir proxylog --connect-to "allowed.example.jp=$SERVER2_IP:443" 2>proxy.err & PXPID=$!
wait_for 300 test -s proxy.port || { echo "proxy did not start:"; cat proxy.err; }
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/443" || echo "origin not listening"
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$SERVER6/443" || echo "IPv6 origin not listening"

curl_to() {  # NAME ADDR CAFILE [curl args] → prints "rc http_code"
  local name=$1 addr=$2 ca=$3; shift 3
  set +e
  local code
  code=$(ip netns exec "$NC" curl -sS --max-time 15 --cacert "$ca" --resolve "$name:443:$addr" \
    -o "body-$name" -w '%{http_code}' "$@" "https://$name/" 2>"curl-$name.err")
  local rc=$?
  set -e
  echo "$rc $code"
}
seen() { [ -f seen.jsonl ] && wc -l < seen.jsonl || echo 0; }

# --- 1. intercepted through the exception path ----------------------------------------------
read -r rc code < <(curl_to login.microsoftonline.com "$SERVER_IP" appliance.pem \
  -H "restrict-access-to-tenants: evil.example" -H "RESTRICT-ACCESS-TO-TENANTS: x" \
  -H "Restrict-Access-Context: attacker")
check "intercepted GET trusted through the appliance CA (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the origin saw the request once" test "$(seen)" = 1
check "the origin sees exactly the configured tenant headers" python3 -c '
import json, sys
s = json.loads(open("seen.jsonl").readline())
t = [v for n, v in s["headers"] if n.lower() == "restrict-access-to-tenants"]
c = [v for n, v in s["headers"] if n.lower() == "restrict-access-context"]
sys.exit(0 if t == ["contoso.onmicrosoft.com"] and c == ["dir-0001"] else 1)'
check "the origin sees the client's own address" grep -q "\"peer\": \"$CLIENT_IP\"" seen.jsonl

# --- 2. not intercepted: the fast path, the origin's own certificate ------------------------
read -r rc code < <(curl_to allowed.example.jp "$SERVER2_IP" root.pem)
check "allowed host on the fast path (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the origin saw it without tenant headers" bash -c "[ \"\$(wc -l < seen.jsonl)\" = 2 ] && ! tail -1 seen.jsonl | grep -qi restrict-access"

# --- 2b. IPv6: intercepted through the exception path like IPv4 ------------------------------
seen6() { [ -f seen6.jsonl ] && wc -l < seen6.jsonl || echo 0; }
read -r rc code < <(curl_to login.microsoftonline.com "[$SERVER6]" appliance.pem -6 \
  -H "restrict-access-to-tenants: evil.example" -H "Restrict-Access-Context: attacker")
check "IPv6: intercepted GET trusted through the appliance CA (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "IPv6: the origin saw the request once" test "$(seen6)" = 1
check "IPv6: the origin sees exactly the configured tenant headers" python3 -c '
import json, sys
s = json.loads(open("seen6.jsonl").readline())
t = [v for n, v in s["headers"] if n.lower() == "restrict-access-to-tenants"]
c = [v for n, v in s["headers"] if n.lower() == "restrict-access-context"]
sys.exit(0 if t == ["contoso.onmicrosoft.com"] and c == ["dir-0001"] else 1)'
check "IPv6: the origin sees the client's own IPv6 address" grep -q "\"peer\": \"$CLIENT6\"" seen6.jsonl
check "IPv6: the kernel resolved no neighbour on the tap, only the pinned next hop was used" bash -c \
  "n=\$(ip -n '$NG' -6 neigh show dev '$TAP'); [ -n \"\$n\" ] && ! grep -qv PERMANENT <<< \"\$n\""

# --- 2c. several workers: many connections (new source ports), each flow on its owning worker -
if [ "$WORKERS" -gt 1 ]; then
  ok=0
  for i in $(seq 1 24); do
    read -r rc code < <(curl_to login.microsoftonline.com "$SERVER_IP" appliance.pem)
    [ "$rc" = 0 ] && [ "$code" = 200 ] && ok=$((ok+1))
  done
  check "24 intercepted connections through $WORKERS workers all succeed ($ok)" test "$ok" = 24
  ok=0  # a name each: each its own certificate probe, admitted by the worker that asked
  for i in $(seq 1 16); do
    read -r rc code < <(curl_to "n$i.probe.example.jp" "$SERVER2_IP" root.pem)
    [ "$rc" = 0 ] && [ "$code" = 200 ] && ok=$((ok+1))
  done
  check "16 probed connections through $WORKERS workers all succeed ($ok)" test "$ok" = 16
fi
# --- 2d. through the gateway: the upstream validated, keep-alive and chunked bodies intact --
for bad in "untrusted ${BAD_IPS[0]}" "wrongname ${BAD_IPS[1]}" "expired ${BAD_IPS[2]}" "pinned ${BAD_IPS[3]}"; do
  set -- $bad
  before=$(seen)
  read -r rc code < <(curl_to "$1.example.jp" "$2" appliance.pem)
  check "$1.example.jp: upstream certificate refused, the client's connection too (curl rc=$rc)" test "$rc" != 0
  check "$1.example.jp: nothing reached the origin" test "$(seen)" = "$before"
done
before=$(seen)
set +e
ip netns exec "$NC" curl -sS --max-time 15 --cacert appliance.pem \
  --resolve "login.microsoftonline.com:443:$SERVER_IP" -w '%{http_code} %{num_connects}\n' \
  -o /dev/null -o /dev/null https://login.microsoftonline.com/first \
  https://login.microsoftonline.com/second >keepalive.out 2>keepalive.err
set -e
check "keep-alive: two requests on one client connection, both 200 ($(tr '\n' ' ' < keepalive.out))" \
  bash -c '[ "$(grep -c "^200 " keepalive.out)" = 2 ] && sed -n 2p keepalive.out | grep -qx "200 0"'
check "keep-alive: both reached the origin on one upstream connection, tenant headers on each" python3 -c '
import json, sys
r = [json.loads(l) for l in open("seen.jsonl")][int(sys.argv[1]):]
ok = [x for x in r if x["path"] in ("/first", "/second")]
t = [[v for n, v in x["headers"] if n.lower() == "restrict-access-to-tenants"] for x in ok]
sys.exit(0 if len(ok) == 2 and ok[0]["port"] == ok[1]["port"] and t == [["contoso.onmicrosoft.com"]] * 2 else 1)' "$before"
head -c 70000 /dev/urandom | od -An -tx1 | tr -d ' \n' > upload.txt
before=$(seen)
read -r rc code < <(curl_to login.microsoftonline.com "$SERVER_IP" appliance.pem \
  -H "Transfer-Encoding: chunked" -H "Expect: 100-continue" --data-binary @upload.txt)
check "chunked upload through the interception (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the origin decoded the chunked body whole and intact" python3 -c '
import hashlib, json, sys
r = [json.loads(l) for l in open("seen.jsonl")][int(sys.argv[1]):]
data = open("upload.txt", "rb").read()
sys.exit(0 if len(r) == 1 and r[0]["posted"] == [len(data), hashlib.sha256(data).hexdigest()] else 1)' "$before"
seen_before=$(seen)

# --- 3. proxy down: refused, never passed unintercepted -------------------------------------
kill "$PXPID"; wait "$PXPID" 2>/dev/null || true; PXPID=
read -r rc code < <(curl_to login.microsoftonline.com "$SERVER_IP" root.pem)
check "with lbg-proxy stopped the intercepted flow is refused (curl rc=$rc)" test "$rc" = 7
check "nothing reached the origin unintercepted" test "$(seen)" = "$seen_before"
read -r rc code < <(curl_to allowed.example.jp "$SERVER2_IP" root.pem)
check "the fast-path host still works (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
# --- 3b. IPv6, proxy down: refused too ------------------------------------------------------
read -r rc code < <(curl_to login.microsoftonline.com "[$SERVER6]" root.pem -6)
check "IPv6: with lbg-proxy stopped the intercepted flow is refused (curl rc=$rc)" test "$rc" = 7
check "IPv6: nothing reached the origin unintercepted" test "$(seen6)" = 1
check "IPv6: the kernel's rule reset the SYN and counted it" bash -c \
  "ip netns exec '$NG' nft list table ip6 lbg_tproxy | grep -Eq 'counter packets [1-9]'"

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
check "counters: two refused intercepted flows (IPv4, IPv6)" grep -Eq "intercept_refused[^0-9]+2\b" gateway.err
if [ "$WORKERS" -gt 1 ]; then  # the exit report's per-worker rows: no worker did it all alone
  for w in $(seq 0 $((WORKERS - 1))); do
    check "worker $w handled exception-port frames" grep -Eq "^worker$w\.exception_rx +[1-9]" gateway.err
  done
  check "no frame lost between workers" grep -Eq "^steer_dropped +0\b" gateway.err
  check "every probe connection admitted (17)" grep -Eq "^cert_probe_flows +17\b" gateway.err
fi
cat log/*.jsonl > events.json
check "log: verdict allow/intercept for the entra flow" grep -q '"action":"allow","reason":"intercept"' events.json
check "log: deny intercept-unavailable:proxy" grep -q '"action":"deny","reason":"intercept-unavailable:proxy"' events.json
check "log: verdict allow/sni for allowed.example.jp" grep -q '"action":"allow","reason":"sni".*"sni":"allowed.example.jp"' events.json
cat proxylog/seg-*.jsonl > proxy-events.json 2>/dev/null || true
check "log: verdict allow/intercept for the IPv6 flow" grep -q "\"src_ip\":\"$CLIENT6\".*\"action\":\"allow\",\"reason\":\"intercept\"" events.json
check "log: IPv6 deny intercept-unavailable:proxy" grep -q "\"src_ip\":\"$CLIENT6\".*\"action\":\"deny\",\"reason\":\"intercept-unavailable:proxy\"" events.json
check "proxy log: tls intercept from the client's address" grep -q "\"src_ip\":\"$CLIENT_IP\".*\"action\":\"intercept\"\\|\"action\":\"intercept\".*\"src_ip\":\"$CLIENT_IP\"" proxy-events.json

for reason in cert-untrusted cert-name cert-expired pin-mismatch; do
  check "proxy log: the refusal's reason $reason" grep -q "\"reason\":\"$reason\"" proxy-events.json
done
check "proxy log: tls intercept from the client's IPv6 address" grep -q "\"src_ip\":\"$CLIENT6\".*\"action\":\"intercept\"\|\"action\":\"intercept\".*\"src_ip\":\"$CLIENT6\"" proxy-events.json

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
