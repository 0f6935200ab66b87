#include <cstring>

#include "dataplane/packet/byte_order.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::packet {

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-802.1ad QinQ, still emitted by some switches

constexpr uint8_t kProtoHopByHop = 0, kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17,
                  kProtoRouting = 43, kProtoFragment = 44, kProtoEsp = 50, kProtoAh = 51,
                  kProtoIcmp6 = 58, kProtoNoNext = 59, kProtoDestOpts = 60, kProtoMobility = 135,
                  kProtoHip = 139, kProtoShim6 = 140, kProtoExp1 = 253, kProtoExp2 = 254;

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

DecodeStatus malformed(PacketView& v, DropReason r) {
  v.dropReason = r;
  return DecodeStatus::Malformed;
}

// IPv4 options: bounded walk over [p, p+len). Source routing (LSRR 131, SSRR 137) lets the sender
// pick the path past the filter, so those packets are dropped like any firewall does.
DropReason checkIpv4Options(const uint8_t* p, uint32_t len) {
  uint32_t i = 0;
  while (i < len) {
    const uint8_t type = p[i];
    if (type == 0) break;  // end of option list
    if (type == 1) {       // no-operation
      ++i;
      continue;
    }
    if (i + 1 >= len) return DropReason::BadIpv4Option;
    const uint8_t olen = p[i + 1];
    if (olen < 2 || olen > len - i) return DropReason::BadIpv4Option;
    if (type == 131 || type == 137) return DropReason::Ipv4SourceRoute;
    i += olen;
  }
  return DropReason::None;
}

// Parses the L4 header at `off` with `avail` bytes of IP payload. For a first fragment (`partial`)
// a short header is not an error: the fields that are present are filled, l4HeaderComplete says
// whether the whole header is there, and the reassembler decides.
DecodeStatus decodeL4(PacketView& v, uint32_t off, uint32_t avail, bool partial) {
  const uint8_t* p = v.frame + off;
  v.l4Offset = uint16_t(off);
  v.payloadOffset = off;
  v.payloadLen = avail;
  switch (v.ipProto) {
    case kProtoTcp: {
      if (avail >= 4) {
        v.srcPort = load16(p);
        v.dstPort = load16(p + 2);
      }
      if (avail < 20) {
        if (partial) return DecodeStatus::Fragment;
        return malformed(v, DropReason::Truncated);
      }
      v.seq = load32(p + 4);
      v.ack = load32(p + 8);
      v.tcpFlags = p[13];
      v.window = load16(p + 14);
      const uint32_t hlen = uint32_t(p[12] >> 4) * 4;
      if (hlen < 20) return malformed(v, DropReason::BadTcpHeaderLength);
      if (hlen > avail) {
        if (partial) return DecodeStatus::Fragment;
        return malformed(v, DropReason::BadTcpHeaderLength);
      }
      const uint8_t f = v.tcpFlags;
      if ((f & (kTcpSyn | kTcpFin)) == (kTcpSyn | kTcpFin) ||
          (f & (kTcpSyn | kTcpRst)) == (kTcpSyn | kTcpRst) ||
          (f & (kTcpSyn | kTcpAck | kTcpRst)) == 0) {
        return malformed(v, DropReason::BadTcpFlags);
      }
      if (v.srcPort == 0 || v.dstPort == 0) return malformed(v, DropReason::BadPort);
      v.l4HeaderComplete = true;
      v.payloadOffset = off + hlen;
      v.payloadLen = avail - hlen;
      break;
    }
    case kProtoUdp: {
      if (avail >= 4) {
        v.srcPort = load16(p);
        v.dstPort = load16(p + 2);
      }
      if (avail < 8) {
        if (partial) return DecodeStatus::Fragment;
        return malformed(v, DropReason::Truncated);
      }
      const uint32_t ulen = load16(p + 4);
      if (ulen < 8) return malformed(v, DropReason::BadUdpLength);
      // In a first fragment the UDP length covers the whole datagram; checked after reassembly.
      if (!partial && ulen > avail) return malformed(v, DropReason::BadUdpLength);
      if (v.dstPort == 0) return malformed(v, DropReason::BadPort);
      v.l4HeaderComplete = true;
      v.payloadOffset = off + 8;
      // Bytes after the UDP length are not payload: taking the smaller length is what the end host
      // does, so the inspector and the host see the same datagram.
      v.payloadLen = (partial ? avail : ulen) - 8;
      break;
    }
    case kProtoIcmp:
    case kProtoIcmp6: {
      if ((v.ipProto == kProtoIcmp) != (v.ipVersion == 4)) break;  // the other family's ICMP
      if (avail >= 2) {
        v.icmpType = p[0];
        v.icmpCode = p[1];
      }
      if (avail < 8) {
        if (partial) return DecodeStatus::Fragment;
        return malformed(v, DropReason::Truncated);
      }
      v.l4HeaderComplete = true;
      v.payloadOffset = off + 8;
      v.payloadLen = avail - 8;
      break;
    }
    default:
      v.l4HeaderComplete = true;  // no header of ours to parse
      break;
  }
  return partial ? DecodeStatus::Fragment : DecodeStatus::Ok;
}

DecodeStatus decodeIpv4(PacketView& v, uint32_t off, bool verifyChecksum) {
  const uint32_t avail = v.frameLen - off;
  if (avail < 20) return malformed(v, DropReason::Truncated);
  const uint8_t* ip = v.frame + off;
  if ((ip[0] >> 4) != 4) return malformed(v, DropReason::BadIpVersion);
  const uint32_t ihl = uint32_t(ip[0] & 0x0f) * 4;
  if (ihl < 20) return malformed(v, DropReason::BadIpv4HeaderLength);
  if (ihl > avail) return malformed(v, DropReason::Truncated);
  const uint32_t total = load16(ip + 2);
  if (total < ihl) return malformed(v, DropReason::BadIpv4TotalLength);
  if (total > avail) return malformed(v, DropReason::BadIpv4TotalLength);
  // The header checksum is verified: a packet the next hop discards must not reach an inspector
  // either (insertion evasion), and 20 bytes cost a few cycles.
  if (verifyChecksum && foldChecksum(sumWords(ip, ihl, 0)) != 0) {
    return malformed(v, DropReason::BadIpv4Checksum);
  }
  if (ihl > 20) {
    const DropReason r = checkIpv4Options(ip + 20, ihl - 20);
    if (r != DropReason::None) return malformed(v, r);
  }
  v.ipVersion = 4;
  v.ttl = ip[8];
  v.ipProto = ip[9];
  v.src = IpAddr::fromV4(ip + 12);
  v.dst = IpAddr::fromV4(ip + 16);

  const uint16_t fragField = load16(ip + 6);
  const bool mf = (fragField & 0x2000) != 0;
  const uint32_t fragOff = uint32_t(fragField & 0x1fff) * 8;
  const uint32_t dataLen = total - ihl;
  if (mf || fragOff != 0) {
    v.isFragment = true;
    v.moreFragments = mf;
    v.fragId = load16(ip + 4);
    v.fragOffset = fragOff;
    // Non-last fragments carry a multiple of 8 bytes; nothing may extend past 65535.
    if (dataLen == 0 || (mf && (dataLen & 7) != 0) || fragOff + dataLen + ihl > 65535) {
      return malformed(v, DropReason::BadFragment);
    }
    if (fragOff != 0) {
      v.l4Offset = uint16_t(off + ihl);
      v.payloadOffset = off + ihl;
      v.payloadLen = dataLen;
      return DecodeStatus::Fragment;
    }
    const DecodeStatus s = decodeL4(v, off + ihl, dataLen, true);
    // Whatever the L4 parse found, the fragment's data is the whole IP payload.
    v.payloadOffset = off + ihl;
    v.payloadLen = dataLen;
    return s;
  }
  return decodeL4(v, off + ihl, dataLen, false);
}

DecodeStatus decodeIpv6(PacketView& v, uint32_t off) {
  const uint32_t avail = v.frameLen - off;
  if (avail < 40) return malformed(v, DropReason::Truncated);
  const uint8_t* ip = v.frame + off;
  if ((ip[0] >> 4) != 6) return malformed(v, DropReason::BadIpVersion);
  const uint32_t plen = load16(ip + 4);
  // Payload length 0 means a jumbogram (RFC 2675); never on Ethernet, so never legitimate here.
  if (plen == 0 || plen > avail - 40) return malformed(v, DropReason::BadIpv6PayloadLength);
  v.ipVersion = 6;
  v.ttl = ip[7];
  v.src = IpAddr::fromV6(ip + 8);
  v.dst = IpAddr::fromV6(ip + 24);

  const uint32_t end = off + 40 + plen;  // exclusive, within the frame
  uint8_t next = ip[6];
  uint32_t nextOffset = off + 6;  // where the byte naming `next` sits
  uint32_t cur = off + 40;
  uint8_t count = 0;
  bool inFirstFragment = false;
  for (;;) {
    switch (next) {
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDestOpts:
      case kProtoFragment:
      case kProtoAh:
      case kProtoMobility:
      case kProtoHip:
      case kProtoShim6:
      case kProtoExp1:
      case kProtoExp2:
        break;
      case kProtoEsp:
      case kProtoNoNext:
        // Nothing we can parse follows: no L4 header, no ports.
        v.ipProto = next;
        v.l4Offset = uint16_t(cur);
        v.payloadOffset = inFirstFragment ? v.fragHeaderOffset + 8u : cur;
        v.payloadLen = end - v.payloadOffset;
        v.l4HeaderComplete = true;
        return inFirstFragment ? DecodeStatus::Fragment : DecodeStatus::Ok;
      default:
        v.ipProto = next;
        if (inFirstFragment) {
          const DecodeStatus s = decodeL4(v, cur, end - cur, true);
          v.payloadOffset = v.fragHeaderOffset + 8u;
          v.payloadLen = end - v.payloadOffset;
          return s;
        }
        return decodeL4(v, cur, end - cur, false);
    }
    // An extension header.
    if (++count > kMaxIpv6ExtHeaders) return malformed(v, DropReason::TooManyIpv6ExtHeaders);
    // Hop-by-hop options must come first (RFC 8200 4.1); elsewhere stacks disagree on them.
    if (next == kProtoHopByHop && count != 1) return malformed(v, DropReason::BadIpv6ExtHeader);
    if (end - cur < 8) {
      // RFC 7112: the first fragment carries the whole header chain.
      return malformed(v, inFirstFragment ? DropReason::BadFragment : DropReason::BadIpv6ExtHeader);
    }
    const uint8_t* h = v.frame + cur;
    if (next == kProtoFragment) {
      if (inFirstFragment || v.isFragment) return malformed(v, DropReason::BadFragment);
      const uint16_t offField = load16(h + 2);
      const uint32_t fragOff = uint32_t(offField >> 3) * 8;
      const bool more = (offField & 1) != 0;
      const uint32_t dataLen = end - (cur + 8);
      if (fragOff == 0 && !more) {
        // Atomic fragment (RFC 6946): processed as an unfragmented packet.
        nextOffset = cur;
        next = h[0];
        cur += 8;
        continue;
      }
      v.isFragment = true;
      v.moreFragments = more;
      v.fragId = load32(h + 4);
      v.fragOffset = fragOff;
      v.fragHeaderOffset = uint16_t(cur);
      v.fragPrevNextOffset = uint16_t(nextOffset);
      v.fragNextHeader = h[0];
      const uint32_t unfragmentable = cur - (off + 40);
      if (dataLen == 0 || (more && (dataLen & 7) != 0) ||
          unfragmentable + fragOff + dataLen > 65535) {
        return malformed(v, DropReason::BadFragment);
      }
      if (fragOff != 0) {
        v.ipProto = h[0];
        v.l4Offset = uint16_t(cur + 8);
        v.payloadOffset = cur + 8;
        v.payloadLen = dataLen;
        return DecodeStatus::Fragment;
      }
      inFirstFragment = true;
      nextOffset = cur;
      next = h[0];
      cur += 8;
      continue;
    }
    uint32_t hlen;
    if (next == kProtoAh) {
      hlen = (uint32_t(h[1]) + 2) * 4;
    } else {
      hlen = (uint32_t(h[1]) + 1) * 8;
    }
    if (hlen > end - cur) {
      return malformed(v, inFirstFragment ? DropReason::BadFragment : DropReason::BadIpv6ExtHeader);
    }
    if (next == kProtoRouting) {
      // A routing header with segments left sends the packet on to an address the policy never
      // saw; type 0 is deprecated outright (RFC 5095).
      if (h[2] == 0 || h[3] != 0) return malformed(v, DropReason::Ipv6RoutingHeader);
    }
    nextOffset = cur;
    next = h[0];
    cur += hlen;
  }
}

}  // namespace

DecodeStatus decode(const uint8_t* frame, uint32_t len, PacketView& out,
                    const DecodeOptions& options) {
  std::memset(static_cast<void*>(&out), 0, sizeof(out));
  out.frame = frame;
  out.frameLen = len;
  if (frame == nullptr || len < 14) return malformed(out, DropReason::Truncated);
  uint32_t off = 12;
  uint16_t type = load16(frame + off);
  off += 2;
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    if (out.vlanCount == kMaxVlans) return malformed(out, DropReason::TooManyVlans);
    if (len - off < 4) return malformed(out, DropReason::Truncated);
    out.vlanTci[out.vlanCount++] = load16(frame + off);
    type = load16(frame + off + 2);
    off += 4;
  }
  out.etherType = type;
  out.l3Offset = uint16_t(off);
  if (type == kEtherIpv4) return decodeIpv4(out, off, options.verifyIpv4Checksum);
  if (type == kEtherIpv6) return decodeIpv6(out, off);
  // Every other ethertype, and 802.3 length fields (< 0x0600, LLC/SNAP), is layer 2 for us: the
  // caller decides (it forwards ARP and drops the rest, since PPPoE, MPLS or SNAP could carry IP
  // past the filter).
  return DecodeStatus::L2Only;
}

bool l4ChecksumValid(const PacketView& v) {
  if (v.isFragment || !v.l4HeaderComplete) return false;
  if (v.ipProto != kProtoTcp && v.ipProto != kProtoUdp && v.ipProto != kProtoIcmp &&
      v.ipProto != kProtoIcmp6) {
    return true;  // nothing we know how to check
  }
  if (v.ipProto == kProtoIcmp && v.ipVersion != 4) return true;
  if (v.ipProto == kProtoIcmp6 && v.ipVersion != 6) return true;
  const uint8_t* l4 = v.frame + v.l4Offset;
  const uint32_t l4Len = v.payloadOffset + v.payloadLen - v.l4Offset;
  if (v.ipProto == kProtoUdp && load16(l4 + 6) == 0) return v.ipVersion == 4;
  uint32_t acc = 0;
  if (v.ipProto != kProtoIcmp) {  // ICMPv4 has no pseudo-header
    if (v.ipVersion == 4) {
      acc = sumWords(v.frame + v.l3Offset + 12, 8, acc);
    } else {
      acc = sumWords(v.frame + v.l3Offset + 8, 32, acc);
    }
    acc += v.ipProto;
    acc += l4Len & 0xffff;
    acc += l4Len >> 16;
  }
  return foldChecksum(sumWords(l4, l4Len, acc)) == 0;
}

const char* toString(DropReason r) {
  switch (r) {
    case DropReason::None:
      return "none";
    case DropReason::Truncated:
      return "truncated";
    case DropReason::TooManyVlans:
      return "too-many-vlans";
    case DropReason::BadIpVersion:
      return "bad-ip-version";
    case DropReason::BadIpv4HeaderLength:
      return "bad-ipv4-header-length";
    case DropReason::BadIpv4TotalLength:
      return "bad-ipv4-total-length";
    case DropReason::BadIpv4Checksum:
      return "bad-ipv4-checksum";
    case DropReason::BadIpv4Option:
      return "bad-ipv4-option";
    case DropReason::Ipv4SourceRoute:
      return "ipv4-source-route";
    case DropReason::BadIpv6PayloadLength:
      return "bad-ipv6-payload-length";
    case DropReason::TooManyIpv6ExtHeaders:
      return "too-many-ipv6-ext-headers";
    case DropReason::BadIpv6ExtHeader:
      return "bad-ipv6-ext-header";
    case DropReason::Ipv6RoutingHeader:
      return "ipv6-routing-header";
    case DropReason::BadFragment:
      return "bad-fragment";
    case DropReason::BadTcpHeaderLength:
      return "bad-tcp-header-length";
    case DropReason::BadTcpFlags:
      return "bad-tcp-flags";
    case DropReason::BadPort:
      return "bad-port";
    case DropReason::BadUdpLength:
      return "bad-udp-length";
  }
  return "unknown";
}

const char* helpText(DropReason r) {
  switch (r) {
    case DropReason::None:
      return "not dropped";
#define LBG_DECODE_DROP_HELP(name, help) \
  case DropReason::name:                 \
    return help;
      LBG_DECODE_DROP_REASONS(LBG_DECODE_DROP_HELP)
#undef LBG_DECODE_DROP_HELP
  }
  return "unknown";
}

}  // namespace lbg::packet
