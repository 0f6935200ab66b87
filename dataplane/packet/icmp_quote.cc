#include "dataplane/packet/icmp_quote.h"

#include <cstring>

#include "dataplane/packet/byte_order.h"

namespace lbg::packet {

namespace {

constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kDestOpts = 60;

bool isErrorType(const PacketView& v) {
  if (v.ipVersion == 4) return v.icmpType == 3 || v.icmpType == 11 || v.icmpType == 12;
  return v.icmpType >= 1 && v.icmpType <= 4;
}

bool quotedV4(const uint8_t* q, uint32_t n, IcmpQuote& out, uint32_t& l4) {
  if (n < 20 || (q[0] >> 4) != 4) return false;
  const uint32_t ihl = uint32_t(q[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > n) return false;
  if ((load16(q + 6) & 0x1fff) != 0) return false;  // a later fragment quotes no ports
  out.proto = q[9];
  out.src = IpAddr::fromV4(q + 12);
  out.dst = IpAddr::fromV4(q + 16);
  l4 = ihl;
  return true;
}

bool quotedV6(const uint8_t* q, uint32_t n, IcmpQuote& out, uint32_t& l4) {
  if (n < 40 || (q[0] >> 4) != 6) return false;
  std::memcpy(out.src.bytes.data(), q + 8, 16);
  std::memcpy(out.dst.bytes.data(), q + 24, 16);
  uint8_t next = q[6];
  uint32_t off = 40;
  for (int i = 0; i < kMaxIpv6ExtHeaders; ++i) {
    if (next == kHopByHop || next == kRouting || next == kDestOpts) {
      if (off + 8 > n) return false;
      const uint32_t len = (uint32_t(q[off + 1]) + 1) * 8;
      next = q[off];
      off += len;
    } else if (next == kFragment) {
      if (off + 8 > n) return false;
      if ((load16(q + off + 2) & 0xfff8) != 0) return false;  // not the first fragment
      next = q[off];
      off += 8;
    } else {
      break;
    }
  }
  out.proto = next;
  l4 = off;
  return true;
}

}  // namespace

bool parseIcmpErrorQuote(const PacketView& v, IcmpQuote& out) {
  if (v.ipVersion != 4 && v.ipVersion != 6) return false;
  if (v.ipProto != (v.ipVersion == 4 ? 1 : 58) || !v.l4HeaderComplete || v.isFragment) return false;
  if (!isErrorType(v)) return false;
  if (v.payloadOffset > v.frameLen || v.payloadLen > v.frameLen - v.payloadOffset) return false;
  const uint8_t* q = v.frame + v.payloadOffset;
  const uint32_t n = v.payloadLen;
  out = IcmpQuote{};
  uint32_t l4 = 0;
  const bool ok = v.ipVersion == 4 ? quotedV4(q, n, out, l4) : quotedV6(q, n, out, l4);
  if (!ok || (out.proto != kTcp && out.proto != kUdp)) return false;
  if (l4 + 4 > n) return false;  // the ports must be there
  out.srcPort = load16(q + l4);
  out.dstPort = load16(q + l4 + 2);
  if (out.srcPort == 0 || out.dstPort == 0) return false;
  // The error goes back to whoever sent the quoted packet; anything else is forged or reflected.
  return out.src == v.dst;
}

}  // namespace lbg::packet
