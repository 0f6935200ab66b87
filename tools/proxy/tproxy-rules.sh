#!/bin/sh
# The kernel half of lbg-proxy's transparent mode (dataplane/proxy/README.md, "Transparent mode"):
# TCP to the intercepted ports arriving on IFACE is handed to lbg-proxy's IP_TRANSPARENT listener
# (nftables `tproxy`), and packets of sockets the proxy opened transparently (its upstream legs,
# bound to the clients' addresses) are delivered locally rather than forwarded (`socket
# transparent`). Both are marked MARK and routed by table TABLE's `local` route. With no proxy
# listening (stopped, crashed), `tproxy` finds no socket and the next rule answers the client's
# SYN with a reset and counts it (`nft list table ip lbg_tproxy`, `nft list table ip6
# lbg_tproxy`): intercepted ports fail closed, they are never forwarded unintercepted.
# IPv6 gets the same (table ip6 lbg_tproxy, `ip -6 rule`/`ip -6 route`) whenever the kernel has
# IPv6: lbg-proxy listens on [::]:PORT too (--transparent [::]:PORT). IPv6 is enabled on IF (and
# lo) without addresses, router solicitations or DAD: the kernel sends nothing of its own there
# that would need an answer.
#
# usage: tproxy-rules.sh up --iface IF --port PORT [--dports 443] [--mark 1] [--table 100]
#                          [--segment CIDR] [--segment6 CIDR6] [--return-mac MAC]
#        tproxy-rules.sh down [--iface IF] [--mark 1] [--table 100]
#
# --segment/--return-mac (behind lbg-gateway's exception port): everything the proxy sends to or
# from the segment's addresses (the upstream legs it opens as the client, its replies to the
# clients) leaves through IF toward MAC (the gateway's tap port), through table TABLE+1, so that
# the gateway puts it on the right port. Forwarding stays off: a packet from IF that is neither
# redirected nor a proxy socket's is dropped, never routed around the gateway. --segment6 does
# the same for an IPv6 segment, through a link-local next hop pinned to MAC: the kernel never
# asks the gateway for a neighbour (it answers none).
# Needs CAP_NET_ADMIN; affects only the network namespace it runs in.
set -eu
cmd=${1:-}
[ -n "$cmd" ] && shift
iface= port= dports=443 mark=1 table=100 segment= segment6= rmac=
while [ $# -gt 0 ]; do
  case $1 in
    --iface) iface=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dports) dports=$2; shift 2 ;;
    --mark) mark=$2; shift 2 ;;
    --table) table=$2; shift 2 ;;
    --segment) segment=$2; shift 2 ;;
    --segment6) segment6=$2; shift 2 ;;
    --return-mac) rmac=$2; shift 2 ;;
    *) echo "tproxy-rules.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
rtable=$((table + 1))
nexthop=169.254.77.1  # a link-local next hop that only names the gateway's MAC on IF
nexthop6=fe80::4c:6267:1  # the same for IPv6
have6=; [ -d /proc/sys/net/ipv6 ] && have6=1

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
    if [ -n "$have6" ]; then
      nft -f - <<NFT
table ip6 lbg_tproxy {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    socket transparent 1 meta mark set $mark accept
    iifname "$iface" tcp dport { $dports } tproxy to :$port meta mark set $mark accept
    iifname "$iface" tcp dport { $dports } counter reject with tcp reset
  }
}
NFT
      # No address, router solicitation or DAD of the kernel's own on IF: set before enabling.
      sysctl -qw "net.ipv6.conf.$iface.addr_gen_mode=1" "net.ipv6.conf.$iface.accept_ra=0" \
        "net.ipv6.conf.$iface.autoconf=0" "net.ipv6.conf.$iface.router_solicitations=0" \
        "net.ipv6.conf.$iface.dad_transmits=0"
      sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=0" net.ipv6.conf.lo.disable_ipv6=0
      ip -6 rule add fwmark "$mark" lookup "$table" priority 1000
      ip -6 route replace local ::/0 dev lo table "$table"
    fi
    if [ -n "$segment6" ]; then
      [ -n "$have6" ] || { echo "tproxy-rules.sh up: --segment6 needs a kernel with IPv6" >&2; exit 2; }
      [ -n "$rmac" ] || { echo "tproxy-rules.sh up: --segment6 needs --return-mac" >&2; exit 2; }
      ip -6 neigh replace "$nexthop6" lladdr "$rmac" dev "$iface" nud permanent
      ip -6 route replace default via "$nexthop6" dev "$iface" table "$rtable"
      ip -6 rule add from "$segment6" lookup "$rtable" priority 1001
      ip -6 rule add to "$segment6" lookup "$rtable" priority 1002
    fi
    ;;
  down)
    nft delete table ip lbg_tproxy 2>/dev/null || true
    while ip rule del fwmark "$mark" lookup "$table" 2>/dev/null; do :; done
    while ip rule del lookup "$rtable" 2>/dev/null; do :; done
    ip route flush table "$table" 2>/dev/null || true
    ip route flush table "$rtable" 2>/dev/null || true
    if [ -n "$have6" ]; then
      nft delete table ip6 lbg_tproxy 2>/dev/null || true
      while ip -6 rule del fwmark "$mark" lookup "$table" 2>/dev/null; do :; done
      while ip -6 rule del lookup "$rtable" 2>/dev/null; do :; done
      ip -6 route flush table "$table" 2>/dev/null || true
      ip -6 route flush table "$rtable" 2>/dev/null || true
    fi
    if [ -n "$iface" ]; then  # the pinned next hops
      ip neigh del "$nexthop" dev "$iface" 2>/dev/null || true
      [ -z "$have6" ] || ip -6 neigh del "$nexthop6" dev "$iface" 2>/dev/null || true
    fi
    ;;
  *)
    sed -n '2,28p' "$0" >&2
    exit 2 ;;
esac
