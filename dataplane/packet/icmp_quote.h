#pragma once

// The packet an ICMP error quotes (RFC 792; RFC 4443 §2.4(c)): the invoking packet's IP header and
// at least the first 8 bytes of its transport header. The pipeline uses it to let through the
// errors that belong to an allowed flow — "fragmentation needed" and "packet too big" above all,
// without which Path MTU Discovery breaks and connections over a smaller-MTU path hang — and to
// drop every other ICMP error (they are a scanning and spoofing channel).

#include <cstdint>

#include "dataplane/packet/packet_view.h"

namespace lbg::packet {

struct IcmpQuote {
  IpAddr src, dst;  // of the quoted (invoking) packet
  uint16_t srcPort, dstPort;
  uint8_t proto;  // 6 or 17
};

// True when `v` (a decoded ICMPv4 or ICMPv6 packet) is an error message — ICMPv4 destination
// unreachable, time exceeded, parameter problem; ICMPv6 destination unreachable, packet too big,
// time exceeded, parameter problem — quoting a TCP or UDP packet of the same IP version that was
// sent by the error's own destination, from its first (or only) fragment. Redirects, source
// quench and informational messages are not errors here. Never reads outside the frame.
bool parseIcmpErrorQuote(const PacketView& v, IcmpQuote& out);

}  // namespace lbg::packet
