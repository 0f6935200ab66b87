#!/usr/bin/env bash
# DNS bindings survive a takeover (issue 14): the pair of tests/lib/ha_pair.sh with
# `sni_dns: enforce` and the server's address as the policy's resolver (tests/lib/dns_server.py).
#   - before any DNS answer a connection naming allowed.example.jp is refused (unresolved);
#   - the client resolves the name through a (active): the binding allows it there, and reaches
#     b's table through the flow-state sync (ha_sync_dns_installed);
#   - after SIGKILL of a's gateway and b made active, the same name at the same address passes
#     through b, which has seen no DNS answer itself (dns_answers 0); an address no answer bound
#     (the server's second one) is still refused, and so is a forbidden name;
#   - lbg-audit over both boxes' logs verifies each chain on its own (a tampered one is named
#     with its box while the other verifies) and merges their records by time.
# Roles are set by hand (`lbgctl ha active`), and the bridges do not keep what they learn
# (ageing 0: they flood), so that nothing but the bindings decides: keepalived and the switches'
# relearning are ha_e2e.sh's. Short by design (CI time).
# Only namespaces this script creates are touched. Needs root; skips (77) otherwise.
# Usage: ha_dns_e2e.sh LBG_GATEWAY LBGCTL TOOLS_HA_DIR WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
source "$LBG_TEST_LIB/ha_pair.sh"
ha_test_begin "$@"
pass=0 fail=0
DNSPID=
cleanup() {
  [ -n "$DNSPID" ] && kill "$DNSPID" 2>/dev/null || true
  ha_pair_down
}
trap cleanup EXIT
ha_pair_up $(( $$ + 2 ))
SERVER_IP2=$NET.201
ip -n "$NS" addr add "$SERVER_IP2/24" dev s0
for br in brc brs; do ip -n "$NB" link set "$br" type bridge ageing_time 0; done
cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32]
defaults: {deny: reset, quic: block, ech: block, sni_dns: enforce}
services:
  - name: e2e-http
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/80]
  - name: resolver
    kind: infrastructure
    cidr: [$SERVER_IP/32]
    ports: [udp/53]
EOF
ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/dns_server.py" allowed.example.jp "$SERVER_IP" 2>dns.err &
DNSPID=$!
ha_gateway_start a
ha_gateway_start b
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || echo "server not listening"
seen() { [ -f hosts_seen ] && wc -l < hosts_seen || echo 0; }
# get HOST ADDRESS → "rc http_code" of one new connection from the client.
get() {
  local code rc
  code=$(ip netns exec "$NC" curl -sS --max-time 3 -H "Host: $1" -o /dev/null -w '%{http_code}' \
    "http://$2/" 2>>curl.err) && rc=0 || rc=$?
  echo "$rc $code"
}

ha_ctl a ha active >/dev/null
check "a active, b standby" test "$(ha_role a) $(ha_role b)" = "active standby"
read -r rc code < <(get allowed.example.jp "$SERVER_IP")
check "before any DNS answer the name is refused at its address (curl rc=$rc)" test "$rc" != 0
check "nothing reached the server" test "$(seen)" = 0

# The client resolves through a: the resolver's answer binds the name there.
ip netns exec "$NC" /usr/bin/python3 - "$LBG_TEST_LIB" "$SERVER_IP" <<'PY' > dns_answer.txt || true
import socket, sys
sys.path.insert(0, sys.argv[1])
import dns_wire
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for txid in (0x2001, 0x2002, 0x2003):  # the first may meet a server still starting
    s.sendto(dns_wire.query(txid, "allowed.example.jp"), (sys.argv[2], 53))
    try:
        data, _ = s.recvfrom(2048)
        print("answered", len(data))
        break
    except socket.timeout:
        continue
PY
check "the resolver's answer crossed a" grep -q answered dns_answer.txt
check "a bound it (dns_answers)" test "$(ha_counter a dns_answers)" -ge 1
read -r rc code < <(get allowed.example.jp "$SERVER_IP")
check "the resolved name passes through a (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
wait_for 50 test "$(ha_counter b ha_sync_dns_installed)" -ge 1 || true
check "a sent the binding (ha_sync_dns_queued $(ha_counter a ha_sync_dns_queued))" \
  test "$(ha_counter a ha_sync_dns_queued)" -ge 1
check "b bound it (ha_sync_dns_installed $(ha_counter b ha_sync_dns_installed))" \
  test "$(ha_counter b ha_sync_dns_installed)" -ge 1
check "b's link refused nothing" \
  test "$(ha_counter b ha_sync_auth_failed) $(ha_counter b ha_sync_malformed) $(ha_counter b ha_sync_dns_refused)" = "0 0 0"

# --- takeover: no new DNS answer --------------------------------------------------------------
kill -KILL "${GWPID[a]}"; wait "${GWPID[a]}" 2>/dev/null || true; GWPID[a]=
ha_ctl b ha active >/dev/null
check "b active" test "$(ha_role b)" = active
n=$(seen)
read -r rc code < <(get allowed.example.jp "$SERVER_IP")
check "after the takeover the name passes through b without a new answer (curl rc=$rc http=$code)" \
  test "$rc" = 0 -a "$code" = 200
check "b saw no DNS answer itself (dns_answers 0)" test "$(ha_counter b dns_answers)" = 0
check "b judged and allowed it" test "$(ha_counter b flows_allowed)" -ge 1
read -r rc code < <(get allowed.example.jp "$SERVER_IP2")
check "the name at an address no answer bound is refused by b (curl rc=$rc)" test "$rc" != 0
read -r rc code < <(get denied.example.jp "$SERVER_IP")
check "a forbidden name is refused by b (curl rc=$rc)" test "$rc" != 0
check "only the allowed connection reached the server" test "$(seen)" = $((n + 1))

# --- lbg-audit over both boxes' logs: each chain verified on its own, records merged by time ---
ha_stop b  # b's open segment sealed; a's (killed) stays open, chained but unsigned
AUDIT=$(dirname "$GW")/audit/lbg-audit
pair=(--dir a/log --pubkey a/log.key.pub --dir b/log --pubkey b/log.key.pub)
set +e; "$AUDIT" "${pair[@]}" verify > audit.txt; arc=$?; set -e
check "lbg-audit verifies both chains (exit $arc, $(grep -c ': OK$' audit.txt) boxes OK)" \
  test "$arc" = 0 -a "$(grep -c ': OK$' audit.txt)" = 2
"$AUDIT" "${pair[@]}" query --type admin > admin.jsonl
check "the query merges both boxes' records by time" python3 -c 'import json, sys
ts = [json.loads(l)["timestamp"] for l in open("admin.jsonl")]
roles = sum(1 for l in open("admin.jsonl") if json.loads(l)["admin"]["action"] == "ha.role")
sys.exit(0 if ts == sorted(ts) and roles >= 2 else 1)'
cp -r b/log b/log.orig
seg=$(ls b/log/seg-*.jsonl | head -1)
sed -i '0,/"allow"/s//"ALLOW"/' "$seg"
set +e; "$AUDIT" "${pair[@]}" verify > audit-broken.txt; arc=$?; set -e
check "a tampered b: exit 1, a's chain OK and b's BROKEN" \
  bash -c "test $arc = 1 && grep -q '(a/log): OK' audit-broken.txt && grep -q 'lbg-b (b/log): BROKEN' audit-broken.txt"
rm -rf b/log; mv b/log.orig b/log

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
