# Shared by the shell tests that run lbg-gateway as a bump in the wire between two namespaces
# (tests/e2e, tests/audit). Source it; needs root. Traffic stays inside the namespaces made here.
# Also beside it: https_server.py, the HTTPS server those tests run in the server namespace.
LBG_TEST_LIB=$(dirname "$(realpath "${BASH_SOURCE[0]}")")

# lbg_test_pki CN SAN_NAMES: a throw-away CA (ca.pem) and a server certificate (srv.pem, srv.key)
# for CN with the comma-separated DNS SANs, in the current folder.
lbg_test_pki() {
  local cn=$1 sans=$2 san="" n
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=lbg test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=$cn" 2>/dev/null
  IFS=, read -ra names <<< "$sans"
  for n in "${names[@]}"; do san+="${san:+,}DNS:$n"; done
  printf 'subjectAltName=%s\n' "$san" > san.ext
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile san.ext 2>/dev/null
}

# lbg_bump_topology CLIENT_NS SERVER_NS IN_IF OUT_IF NET: client namespace (NET.10 on c0) and
# server namespace (NET.200 on s0), joined to the host-side veth ends IN_IF and OUT_IF that the
# gateway's af_packet ports open. TX checksum offload is off on every veth (the gateway sees the
# checksums it must verify), and the host side has no IPv6 autoconfiguration chatter.
lbg_bump_topology() {
  local nc=$1 ns=$2 in=$3 out=$4 net=$5 i
  ip netns add "$nc"
  ip netns add "$ns"
  ip link add "$in" type veth peer name c0 netns "$nc"
  ip link add "$out" type veth peer name s0 netns "$ns"
  for ns_if in "$nc c0 $net.10" "$ns s0 $net.200"; do
    set -- $ns_if
    ip -n "$1" addr add "$3/24" dev "$2"
    ip -n "$1" link set "$2" up
    ip -n "$1" link set lo up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
  done
  for i in "$in" "$out"; do
    ip link set "$i" up
    ethtool -K "$i" tx off >/dev/null
    sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" || true
  done
}

# lbg_bump_cleanup: the EXIT trap of the bump-in-the-wire tests: stops the gateway (GWPID) and
# every process in SRVPIDS, deletes the namespaces NC and NS and the host veth ends IN and OUT.
lbg_bump_cleanup() {
  [ -n "${GWPID:-}" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null || true
  for p in ${SRVPIDS:-}; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NC" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$IN" 2>/dev/null || true
  ip link del "$OUT" 2>/dev/null || true
}

# check DESCRIPTION COMMAND...: runs the command, prints "ok"/"FAIL" and counts into the caller's
# `pass` and `fail` (the scripts end with "$pass passed, $fail failed").
check() {
  local d=$1; shift
  if "$@"; then echo "ok   $d"; pass=$((pass+1)); else echo "FAIL $d"; fail=$((fail+1)); fi
}

# wait_for TRIES COMMAND...: readiness with a bound (0.2 s per try); CI machines can be slow.
wait_for() {
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

# lbg_gateway_yaml IN_IF OUT_IF WORKDIR: writes the common part of gateway.yaml (EAL without
# hugepages or shared config, the two af_packet ports, one worker, WORKDIR/policy.yaml); the
# caller appends its own keys (log, metrics, appliance id).
lbg_gateway_yaml() {
  cat > gateway.yaml <<EOF
eal: ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--log-level", "lib.eal:error", "--no-telemetry"]
ports:
  inside: "net_af_packet0,iface=$1"
  outside: "net_af_packet1,iface=$2"
workers: 1
flows: 65536
policy: $3/policy.yaml
EOF
}

# lbg_exception_namespaces CLIENT_NS GATEWAY_NS SERVER_NS CLIENT_IP SERVER_IP...: the topology of
# the tests that run lbg-gateway with an exception port: the gateway in a namespace of its own
# (its net_tap appears there), its af_packet ports gi and go joined to c0 in the client namespace
# (CLIENT_IP/24) and s0 in the server namespace (every SERVER_IP/24). TX checksum offload off on
# every veth; no IPv6 chatter in the gateway namespace.
lbg_exception_namespaces() {
  local nc=$1 ng=$2 ns=$3 client=$4 n a p
  shift 4
  for n in "$nc" "$ng" "$ns"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  ip -n "$ng" link add gi type veth peer name c0 netns "$nc"
  ip -n "$ng" link add go type veth peer name s0 netns "$ns"
  ip -n "$nc" addr add "$client/24" dev c0
  for a in "$@"; do ip -n "$ns" addr add "$a/24" dev s0; done
  for p in "$nc c0" "$ns s0" "$ng gi" "$ng go"; do
    set -- $p
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
  done
  ip netns exec "$ng" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# lbg_exception_v6 CLIENT_NS SERVER_NS CLIENT6 SERVER6...: IPv6 beside the IPv4 addresses of
# lbg_exception_namespaces: CLIENT6/64 on c0, every SERVER6/64 on s0, without DAD (the gateway
# between them passes neighbour discovery; the gateway namespace itself stays without IPv6 but
# for the tap, which tproxy-rules.sh enables).
lbg_exception_v6() {
  local nc=$1 ns=$2 client=$3 a
  shift 3
  ip -n "$nc" -6 addr add "$client/64" dev c0 nodad
  for a in "$@"; do ip -n "$ns" -6 addr add "$a/64" dev s0 nodad; done
}

# lbg_exception_gateway LBG_GATEWAY GATEWAY_NS TAP RULES CLIENT_IP [CLIENT6]: starts lbg-gateway on
# ./gateway.yaml in the gateway namespace (GWPID, gateway.out, gateway.err), waits for its tap and
# installs tools/proxy/tproxy-rules.sh there with the return path for CLIENT_IP/32 (and
# CLIENT6/128 if given: what lbg-proxy's upstream legs and the certificate probe leave by), as
# one `check`.
lbg_exception_gateway() {
  local gw=$1 ng=$2 tap=$3 rules=$4 client=$5 client6=${6:-} mac
  ip netns exec "$ng" "$gw" run --config gateway.yaml >gateway.out 2>gateway.err & GWPID=$!
  wait_for 300 grep -q "lbg-gateway: running" gateway.err || { echo "gateway did not start:"; cat gateway.err; }
  wait_for 100 ip -n "$ng" link show "$tap" || echo "no tap interface"
  ip netns exec "$ng" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" || true
  mac=$(ip -n "$ng" -o link show "$tap" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  check "tproxy rules and the return path installed in the gateway namespace" \
    ip netns exec "$ng" "$rules" up --iface "$tap" --port 8443 --segment "$client/32" \
      ${client6:+--segment6 "$client6/128"} --return-mac "$mac"
}
