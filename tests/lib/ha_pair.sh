# An active/standby pair of lbg-gateway in network namespaces with keepalived (tools/ha/), shared
# by tests/ha/ha_e2e.sh and tools/bench/failover. Source it after bump.sh, from the work folder;
# needs root. Traffic stays inside the namespaces made here.
#
#   client c0 ─┐                 ┌─ gi [gateway a] go ─┐                 ┌─ s0 server (HTTP :80)
#              brc (client side) ┤        ha0 ═ ha0     ├ brs (server side)
#                                └─ gi [gateway b] go ─┘
#
# The bridges learn (default ageing, 300 s), as the switches of a site do: each learns the hosts
# of the far side on the active box's port, and after a takeover it is the new active's learning
# frames (tools/ha/README.md) that move them to its ports (ha_fdb_port). Set GW, LBGCTL, HA
# (tools/ha) and KEEPALIVED before ha_pair_up.

ha_pair_up() {  # TAG
  local tag=$1 n br x
  NC=lbghc$tag NS=lbghs$tag NB=lbghb$tag
  declare -gA NG=([a]=lbgha$tag [b]=lbghB$tag)
  NET=10.79.$((tag % 200))
  CLIENT_IP=$NET.10 SERVER_IP=$NET.200
  HANET=192.168.$((tag % 200))
  VRID=$((tag % 200 + 20))
  declare -gA HAIP=([a]=$HANET.1 [b]=$HANET.2) PEER=([a]=$HANET.2 [b]=$HANET.1)
  declare -gA PRIO=([a]=150 [b]=100) LCORES=([a]="0-1" [b]="1,0")
  declare -gA GWPID=() KAPID=()
  for n in "$NC" "$NS" "$NB" "${NG[a]}" "${NG[b]}"; do
    ip netns add "$n"; ip -n "$n" link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  for br in brc brs; do
    ip -n "$NB" link add "$br" type bridge stp_state 0
    ip -n "$NB" link set "$br" up
  done
  _ha_veth "$NC" c0 pc brc
  _ha_veth "$NS" s0 ps brs
  for x in a b; do
    _ha_veth "${NG[$x]}" gi "${x}i" brc
    _ha_veth "${NG[$x]}" go "${x}o" brs
  done
  ip -n "${NG[a]}" link add ha0 type veth peer name ha0 netns "${NG[b]}"
  for x in a b; do
    ip -n "${NG[$x]}" addr add "${HAIP[$x]}/24" dev ha0
    ip -n "${NG[$x]}" link set ha0 up
  done
  ip -n "$NC" addr add "$CLIENT_IP/24" dev c0
  ip -n "$NS" addr add "$SERVER_IP/24" dev s0
  cat > policy.yaml <<EOF
version: 1
segment:
  inside: [$CLIENT_IP/32]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: e2e-http
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/80]
EOF
  printf 'users:\n  "0": admin\n' > roles.yaml
  # The pair's flow-sync key (ha.sync.key_file), the same on both boxes, owner-only.
  ( umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > ha.key )
  ( exec ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/http_host_server.py" 2>server.err ) &
  HA_SRVPID=$!
}

_ha_veth() {  # NS IF BRIDGE_PORT BRIDGE
  ip -n "$1" link add "$2" type veth peer name "$3" netns "$NB"
  ip -n "$NB" link set "$3" master "$4" up
  ip netns exec "$NB" ethtool -K "$3" tx off >/dev/null
  ip -n "$1" link set "$2" up
  ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
}

# ha_test_begin LBG_GATEWAY LBGCTL TOOLS_HA_DIR WORKDIR: the HA tests' start: GW, LBGCTL, HA,
# WORK and KEEPALIVED set, a fresh WORK (0700) as the working directory; skips (77) without root,
# keepalived or curl.
ha_test_begin() {
  GW=$(realpath "$1") LBGCTL=$(realpath "$2") HA=$(realpath "$3")
  WORK=$(realpath -m "$4")
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
  KEEPALIVED=$(command -v keepalived || ls /usr/sbin/keepalived 2>/dev/null || true)
  [ -n "$KEEPALIVED" ] || { echo "SKIP: needs keepalived (pkg/deps/base.txt)"; exit 77; }
  command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }
  rm -rf "$WORK"; mkdir -p "$WORK"; chmod 700 "$WORK"; cd "$WORK"
}

# ha_gateway_start BOX: lbg-gateway of box a or b in its namespace, standby at start (the YAML's
# `ha:`), flow-state sync with the other box over the HA veth (`ha.sync`, UDP port 7400) and
# policy sync (`ha.policy`, TCP port 7401), sealed log and control socket in BOX/; returns once it
# answers on the socket.
ha_gateway_start() {
  local x=$1
  mkdir -p -m 700 "$x"
  cat > "$x/gateway.yaml" <<EOF
eal: ["--no-huge", "--no-pci", "--no-shconf", "--file-prefix", "lbgha$x$$", "-m", "512", "-l", "${LCORES[$x]}", "--log-level", "lib.eal:error", "--no-telemetry"]
ports:
  inside: "net_af_packet0,iface=gi"
  outside: "net_af_packet1,iface=go"
workers: 1
flows: 65536
policy: $PWD/policy.yaml
appliance_id: lbg-$x
log: {dir: $PWD/$x/log, key: $PWD/$x/log.key}
control: {socket: $PWD/$x/control.sock, roles: $PWD/roles.yaml, store: $PWD/$x/store}
ha:
  role_at_start: standby
  sync: {local: "${HAIP[$x]}:7400", peer: "${PEER[$x]}:7400", key_file: $PWD/ha.key}
  policy: {local: "${HAIP[$x]}:7401", peer: "${PEER[$x]}:7401"}
EOF
  ip netns exec "${NG[$x]}" "$GW" run --config "$x/gateway.yaml" >>"$x/gateway.out" 2>>"$x/gateway.err" &
  GWPID[$x]=$!
  wait_for 300 ha_ctl "$x" ha status || { echo "gateway $x did not start:"; tail -5 "$x/gateway.err"; }
}

# ha_keepalived_start BOX: keepalived in the box's namespace, configured from the template.
ha_keepalived_start() {
  local x=$1
  sed -e "s|@ROUTER_ID@|lbg-$x|" -e "s|@LBGCTL@|$LBGCTL|" -e "s|@SOCKET@|$PWD/$x/control.sock|g" \
      -e "s|@HEALTH_INTERVAL@|1|" -e "s|@HA_IF@|ha0|g" -e "s|@VRID@|$VRID|" \
      -e "s|@PRIORITY@|${PRIO[$x]}|" -e "s|@SELF@|${HAIP[$x]}|" -e "s|@PEER@|${PEER[$x]}|" \
      -e "s|@VIP@|$HANET.254/24|" -e "s|@FIFO@|$PWD/$x/notify.fifo|" -e "s|@ALIVE_FILE@|$PWD/$x/alive|g" \
      -e "s|@NOTIFY@|$HA/lbg-ha-notify --lbgctl $LBGCTL --watch ${HA_WATCH:-$(dirname "$GW")/lbg-ha-watch}|g" "$HA/keepalived.conf.in" > "$x/keepalived.conf"
  ip netns exec "${NG[$x]}" "$KEEPALIVED" --dont-fork --log-console --vrrp -f "$PWD/$x/keepalived.conf" \
    -p "$PWD/$x/keepalived.pid" -r "$PWD/$x/vrrp.pid" -c "$PWD/$x/checkers.pid" \
    >>"$x/keepalived.log" 2>&1 &
  KAPID[$x]=$!
}

ha_stop() {  # BOX [SIGNAL]: its keepalived, then its gateway
  local x=$1 sig=${2:-TERM}
  if [ -n "${KAPID[$x]:-}" ]; then kill "${KAPID[$x]}" 2>/dev/null; wait "${KAPID[$x]}" 2>/dev/null; KAPID[$x]=; fi
  if [ -n "${GWPID[$x]:-}" ]; then kill "-$sig" "${GWPID[$x]}" 2>/dev/null; wait "${GWPID[$x]}" 2>/dev/null; GWPID[$x]=; fi
  return 0
}

ha_pair_down() {
  ha_stop a; ha_stop b
  [ -n "${HA_SRVPID:-}" ] && kill "$HA_SRVPID" 2>/dev/null || true
  for n in "$NC" "$NS" "$NB" "${NG[a]}" "${NG[b]}"; do ip netns del "$n" 2>/dev/null || true; done
}

ha_ctl() { local x=$1; shift; "$LBGCTL" --socket "$PWD/$x/control.sock" "$@"; }
# ha_fdb_port BRIDGE MAC → the bridge port the MAC was learned on (none: nothing).
ha_fdb_port() {
  ip netns exec "$NB" bridge fdb show br "$1" | awk -v m="$2" '$1 == m && $2 == "dev" && !/permanent/ { print $3; exit }'
}
ha_mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }  # NS IF
ha_role() { ha_ctl "$1" --json ha status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])'; }
ha_counter() {  # BOX NAME
  ha_ctl "$1" --json stats | python3 -c 'import json,sys
for c in json.load(sys.stdin)["counters"]:
    if c["name"] == sys.argv[1]: print(c["value"])' "$2"
}
# ha_get HOST [MAX_SECONDS] → "rc http_code" of one new connection from the client.
ha_get() {
  local code rc
  code=$(ip netns exec "$NC" curl -sS --max-time "${2:-5}" -H "Host: $1" -o /dev/null -w '%{http_code}' \
    "http://$SERVER_IP/" 2>>curl.err) && rc=0 || rc=$?
  echo "$rc $code"
}
# ha_probe_start OUT STOPFILE [KEEP]: ha_probe.py in the client namespace (new connections every
# 20 ms, the time of each answered one to OUT; with KEEP, that many keep-alive connections too).
ha_probe_start() {
  ip netns exec "$NC" /usr/bin/python3 "$LBG_TEST_LIB/ha_probe.py" "$SERVER_IP" "$@" 2>>probe.err &
  HA_PROBEPID=$!
}
# ha_gap KILL_TIME OUT → ms from the last answered connection before KILL_TIME to the first after.
ha_gap() {
  python3 -c '
import sys
k = float(sys.argv[1]); t = [float(l) for l in open(sys.argv[2])]
before = [x for x in t if x <= k]; after = [x for x in t if x > k]
print("%d" % ((after[0] - before[-1]) * 1000) if before and after else "n/a")' "$1" "$2"
}
