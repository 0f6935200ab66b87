#!/bin/sh
# The kernel half of lbg-proxy's transparent mode (dataplane/proxy/README.md, "Transparent mode"):
# TCP to the intercepted ports arriving on IFACE is handed to lbg-proxy's IP_TRANSPARENT listener
# (nftables `tproxy`), and packets of sockets the proxy opened transparently (its upstream legs,
# bound to the clients' addresses) are delivered locally rather than forwarded (`socket
# transparent`). Both are marked MARK and routed by table TABLE's `local` route. With no proxy
# listening (stopped, crashed), `tproxy` finds no socket and the next rule answers the client's
# SYN with a reset and counts it (`nft list table ip lbg_tproxy`): intercepted ports fail closed,
# they are never forwarded unintercepted.
#
# usage: tproxy-rules.sh up --iface IF --port PORT [--dports 443] [--mark 1] [--table 100]
#                          [--segment CIDR --return-mac MAC]
#        tproxy-rules.sh down [--mark 1] [--table 100]
#
# --segment/--return-mac (behind lbg-gateway's exception port): everything the proxy sends to or
# from the segment's addresses (the upstream legs it opens as the client, its replies to the
# clients) leaves through IF toward MAC (the gateway's tap port), through table TABLE+1, so that
# the gateway puts it on the right port. Forwarding stays off: a packet from IF that is neither
# redirected nor a proxy socket's is dropped, never routed around the gateway.
# Needs CAP_NET_ADMIN; affects only the network namespace it runs in.
set -eu
cmd=${1:-}
[ -n "$cmd" ] && shift
iface= port= dports=443 mark=1 table=100 segment= rmac=
while [ $# -gt 0 ]; do
  case $1 in
    --iface) iface=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dports) dports=$2; shift 2 ;;
    --mark) mark=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    --segment) segment=$2; shift 2 ;;
    --return-mac) rmac=$2; shift 2 ;;
    *) echo "tproxy-rules.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
rtable=$((table + 1))
nexthop=169.254.77.1  # a link-local next hop that only names the gateway's MAC on IF

case $cmd in
  up)
    [ -n "$iface" ] && [ -n "$port" ] || { echo "tproxy-rules.sh up: --iface and --port are required" >&2; exit 2; }
    nft -f - <<NFT
table ip lbg_tproxy {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    socket transparent 1 meta mark set $mark accept
    iifname "$iface" tcp dport { $dports } tproxy to :$port meta mark set $mark accept
    iifname "$iface" tcp dport { $dports } counter reject with tcp reset
  }
}
NFT
    ip link set lo up  # the local route below delivers through it
    ip rule add fwmark "$mark" lookup "$table" priority 1000
    ip route replace local 0.0.0.0/0 dev lo table "$table"
    sysctl -qw "net.ipv4.conf.$iface.rp_filter=0" net.ipv4.conf.all.rp_filter=0
    if [ -n "$segment" ]; then
      [ -n "$rmac" ] || { echo "tproxy-rules.sh up: --segment needs --return-mac" >&2; exit 2; }
      ip neigh replace "$nexthop" lladdr "$rmac" dev "$iface" nud permanent
      ip route replace default via "$nexthop" dev "$iface" onlink table "$rtable"
      ip rule add from "$segment" lookup "$rtable" priority 1001
      ip rule add to "$segment" lookup "$rtable" priority 1002
    fi
    ;;
  down)
    nft delete table ip lbg_tproxy 2>/dev/null || true
    while ip rule del fwmark "$mark" lookup "$table" 2>/dev/null; do :; done
    while ip rule del lookup "$rtable" 2>/dev/null; do :; done
    ip route flush table "$table" 2>/dev/null || true
    ip route flush table "$rtable" 2>/dev/null || true
    ;;
  *)
    sed -n '2,20p' "$0" >&2
    exit 2 ;;
esac
