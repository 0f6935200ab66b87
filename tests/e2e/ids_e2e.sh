#!/usr/bin/env bash
# End to end for the IDS/IPS (issue 12): a client and an HTTP server in their own namespaces,
# lbg-gateway between them on two net_af_packet ports with Suricata rules in ips mode, real curl:
#   - an upload whose body carries a rule's pattern (http.request_body) is stopped and the server
#     never receives the pattern, whether the body comes with its head, in 40 KB after it (in its
#     middle: stopped at that segment), or chunked; a clean upload arrives whole, long or chunked;
#   - a gzip-encoded download whose decoded body carries a rule's pattern (file.data) is stopped
#     before its last segment (curl --compressed fails and never writes the pattern); a clean
#     gzip download arrives intact, decoded;
#   - on a service allowed by address (no name judged: the IDS follows its HTTP itself), curl's
#     second request on a kept-alive connection, which a rule on http.uri matches, is stopped
#     and the server never receives it, while the first is answered;
#   - the sealed log holds the EVE alerts and the ids-drop verdicts.
# Traffic stays inside the namespaces this script creates. Needs root; skips (77) otherwise.
# Usage: ids_e2e.sh LBG_GATEWAY WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1")
WORK=$(realpath -m "$2")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

tag=$$
NC=lbgc$tag NS=lbgs$tag
IN=lbgi$tag OUT=lbgo$tag
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
pass=0 fail=0
trap lbg_bump_cleanup EXIT

lbg_bump_topology "$NC" "$NS" "$IN" "$OUT" "10.78.$((tag % 200))"
CLIENT_IP=10.78.$((tag % 200)).10
SERVER_IP=10.78.$((tag % 200)).200

cat > e2e.rules <<'EOF'
drop http any any -> any any (msg:"LBG E2E exfiltration upload"; flow:established,to_server; http.request_body; content:"LBG-E2E-SECRET"; classtype:policy-violation; sid:9100001; rev:1;)
drop http any any -> any any (msg:"LBG E2E compressed malware"; flow:established,to_client; file.data; content:"LBG-E2E-MALWARE"; classtype:trojan-activity; sid:9100002; rev:1;)
drop http any any -> any any (msg:"LBG E2E later request"; flow:established,to_server; http.uri; content:"/evil.php"; classtype:web-application-attack; sid:9100003; rev:1;)
EOF
cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: e2e-web
    kind: lgwan-asp
    fqdn: [web.example.jp]
    ports: [tcp/80]
  - name: e2e-partner
    kind: lgwan-asp
    cidr: [$SERVER_IP/32]
    ports: [tcp/8080]
ids:
  rules: [$WORK/e2e.rules]
  mode: ips
EOF
lbg_gateway_yaml "$IN" "$OUT" "$WORK"
cat >> gateway.yaml <<EOF
log: {dir: $WORK/log, key: $WORK/log.key}
EOF

# The server: POST stores what it received (even a cut body); GET /*.gz answers gzip-encoded
# text, the pattern (or a clean word) in its last bytes, the last 200 coded bytes sent apart.
cat > server.py <<'EOF'
import gzip, http.server, os, random, sys, time
random.seed(7)
TEXT = "".join(random.choice("0123456789abcdef") for _ in range(40000))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); got = b""
        try:
            if self.headers.get("Transfer-Encoding", "") == "chunked":
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0: self.rfile.readline(); break
                    piece = self.rfile.read(size); got += piece; self.rfile.readline()
                    if len(piece) < size: break
            while len(got) < n:
                chunk = self.rfile.read1(n - len(got))
                if not chunk: break
                got += chunk
        finally:
            with open("received-%d" % time.monotonic_ns(), "wb") as f: f.write(got)
        self.send_response(200); self.send_header("Content-Length", "6"); self.end_headers()
        self.wfile.write(b"stored")
    def do_GET(self):
        with open("gets.txt", "a") as f: f.write(self.path + "\n")
        tail = "LBG-E2E-MALWARE" if "malware" in self.path else "clean-ending..."
        body = gzip.compress((TEXT + tail).encode())
        self.send_response(200); self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body[:-200]); self.wfile.flush(); time.sleep(0.3)
        self.wfile.write(body[-200:])
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
EOF
ip netns exec "$NS" /usr/bin/python3 server.py 80 2>server.err & SRVPIDS=$!
ip netns exec "$NS" /usr/bin/python3 server.py 8080 2>server8080.err & SRVPIDS="$SRVPIDS $!"

"$GW" run --config gateway.yaml >gateway.out 2>gateway.err & GWPID=$!
wait_for 300 grep -q "lbg-gateway: running" gateway.err || { echo "gateway did not start:"; cat gateway.err; }
wait_for 100 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || echo "server not listening"
wait_for 100 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/8080" || echo "server not listening on 8080"

web() {  # curl arguments... → prints "rc http_code"
  set +e
  local code
  code=$(ip netns exec "$NC" curl -sS --max-time 10 --resolve "web.example.jp:80:$SERVER_IP" \
    -w '%{http_code}' "$@" 2>>curl.err)
  local rc=$?
  set -e
  echo "$rc ${code:-000}"
}

# --- uploads ------------------------------------------------------------------------------------
head -c 600 /dev/urandom | od -An -tx1 | tr -d ' \n' > clean.txt
{ head -c 300 clean.txt; printf 'LBG-E2E-SECRET'; head -c 300 clean.txt; } > secret.txt
read -r rc code < <(web -o up-clean.out --data-binary @clean.txt http://web.example.jp/up)
check "clean upload stored (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the server received the clean upload whole" bash -c "cat received-* | cmp -s - clean.txt"
rm -f received-*
read -r rc code < <(web -o up-secret.out --data-binary @secret.txt http://web.example.jp/up)
check "upload carrying the pattern is stopped (curl rc=$rc http=$code)" test "$rc" != 0
check "the server never received the pattern" bash -c "! cat received-* 2>/dev/null | grep -q LBG-E2E-SECRET"
# Longer bodies come after their head in many segments: gathered and scanned where they end,
# before the segment that ends them leaves (pipeline_http_request.cc).
rm -f received-*
for i in $(seq 34); do cat clean.txt; done > long-clean.txt
{ cat long-clean.txt; printf 'LBG-E2E-SECRET'; } > long-secret.txt
read -r rc code < <(web -o up-long-clean.out --data-binary @long-clean.txt http://web.example.jp/up)
check "clean 40 KB upload stored (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the server received it whole" bash -c "cat received-* | cmp -s - long-clean.txt"
rm -f received-*
read -r rc code < <(web -o up-long-secret.out --data-binary @long-secret.txt http://web.example.jp/up)
check "40 KB upload ending in the pattern is stopped (curl rc=$rc http=$code)" test "$rc" != 0
check "the server never received its pattern" bash -c "! cat received-* 2>/dev/null | grep -q LBG-E2E-SECRET"
rm -f received-*
# ips mode: a drop rule that the body so far already matches stops the upload at the segment
# that carries the pattern, long before the body ends.
{ head -c 20000 long-clean.txt; printf 'LBG-E2E-SECRET'; tail -c 20000 long-clean.txt; } > mid-secret.txt
read -r rc code < <(web -o up-mid-secret.out --data-binary @mid-secret.txt http://web.example.jp/up)
check "40 KB upload with the pattern in its middle is stopped (curl rc=$rc http=$code)" test "$rc" != 0
check "the server never received its pattern" bash -c "! cat received-* 2>/dev/null | grep -q LBG-E2E-SECRET"
check "nor the rest of the body after it" bash -c "[ \$(cat received-* 2>/dev/null | wc -c) -lt 20014 ]"
rm -f received-*
# Compressed uploads are decoded before their scan (as Suricata 7 does): gzip does not hide the
# pattern; a clean one arrives as sent.
gzip -c long-clean.txt > long-clean.gz
gzip -c long-secret.txt > long-secret.gz
read -r rc code < <(web -o up-gz-clean.out -H 'Content-Encoding: gzip' --data-binary @long-clean.gz http://web.example.jp/up)
check "clean gzip upload stored (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the server received it as sent" bash -c "cat received-* | cmp -s - long-clean.gz"
rm -f received-*
read -r rc code < <(web -o up-gz-secret.out -H 'Content-Encoding: gzip' --data-binary @long-secret.gz http://web.example.jp/up)
check "gzip upload whose decoded body carries the pattern is stopped (curl rc=$rc http=$code)" test "$rc" != 0
check "the server never received the whole of it" bash -c "! cat received-* 2>/dev/null | cmp -s - long-secret.gz"
rm -f received-*
read -r rc code < <(web -o up-chunked-clean.out -H 'Transfer-Encoding: chunked' --data-binary @long-clean.txt http://web.example.jp/up)
check "clean chunked upload stored (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the server received it whole" bash -c "cat received-* | cmp -s - long-clean.txt"
rm -f received-*
read -r rc code < <(web -o up-chunked-secret.out -H 'Transfer-Encoding: chunked' --data-binary @long-secret.txt http://web.example.jp/up)
check "chunked upload ending in the pattern is stopped (curl rc=$rc http=$code)" test "$rc" != 0
check "the server never received its pattern" bash -c "! cat received-* 2>/dev/null | grep -q LBG-E2E-SECRET"

# --- later requests on a connection allowed by address ---------------------------------------------
# curl fetches both URLs on one kept-alive connection; the second is stopped at its head (a retry
# on a fresh connection is stopped as a first request).
set +e
ip netns exec "$NC" curl -sS --max-time 10 -o ka-first.out -o ka-second.out \
  "http://$SERVER_IP:8080/index.html" "http://$SERVER_IP:8080/evil.php" 2>>curl.err
set -e
check "the first request on the connection is answered" test -s ka-first.out
check "the server received the first request" grep -qx /index.html gets.txt
check "the server never received the later request" bash -c "! grep -q evil gets.txt"
rm -f gets.txt

# --- compressed downloads -----------------------------------------------------------------------
read -r rc code < <(web --compressed -o dl-clean.out http://web.example.jp/clean.gz)
check "clean gzip download (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "decoded intact" bash -c "[ \$(wc -c < dl-clean.out) = 40015 ] && grep -q 'clean-ending...$' dl-clean.out"
read -r rc code < <(web --compressed -o dl-malware.out http://web.example.jp/malware.gz)
check "gzip download whose decoded body carries the pattern is stopped (curl rc=$rc)" test "$rc" != 0
check "the client never got the pattern" bash -c "! grep -q LBG-E2E-MALWARE dl-malware.out 2>/dev/null"

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
check "response body decoded by the gateway (counter)" grep -Eq "ids_response_decoded[^0-9]+[1-9]" gateway.err
check "long upload bodies scanned where they ended (counter)" grep -Eq "ids_http_request_bodies[^0-9]+[4-9]" gateway.err
check "an upload stopped before its end (counter)" grep -Eq "ids_request_body_early[^0-9]+[1-9]" gateway.err
check "upload bodies decoded by the gateway (counter)" grep -Eq "ids_request_decoded[^0-9]+[2-9]" gateway.err
cat log/*.jsonl > events.json
check "log: EVE alert for the upload rule" grep -q '"event_type":"alert".*"signature_id":9100001' events.json
check "log: EVE alert for the compressed download rule" grep -q '"event_type":"alert".*"signature_id":9100002' events.json
check "log: ids-drop verdicts" bash -c "grep -q 'ids-drop:sid-9100001' events.json && grep -q 'ids-drop:sid-9100002' events.json"
check "log: ids-drop verdict for the later request" grep -q 'ids-drop:sid-9100003' events.json

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
