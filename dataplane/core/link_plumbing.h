#pragma once

// IPv6 link plumbing that crosses the bump as ARP does: neighbour discovery (RS, RA, NS, NA,
// redirect) and multicast listener discovery (MLD queries, v1/v2 reports, done: without them an
// MLD-snooping switch stops flooding the solicited-node groups that ND needs). Only as the RFCs
// send them: ND with hop limit 255 (RFC 4861 §6.1: a receiver discards anything else), MLD with
// hop limit 1 (RFC 2710 §3, RFC 3810 §5), so a routed packet dressed as either is not plumbing
// and meets the default deny.

#include "dataplane/packet/packet_view.h"

namespace lbg::dataplane {

// `v` is an ICMPv6 packet.
inline bool isIcmp6LinkPlumbing(const packet::PacketView& v) {
  const uint8_t t = v.icmpType;
  if (t >= 133 && t <= 137) return v.ttl == 255;
  if (t == 130 || t == 131 || t == 132 || t == 143) return v.ttl == 1;
  return false;
}

}  // namespace lbg::dataplane
