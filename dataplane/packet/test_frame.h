#pragma once

// Test-only frame builders, the one set for every test and the benchmark (dataplane/core/test_frames.h
// builds whole frames from these): hand-built headers with correct lengths
// and checksums unless a test breaks them on purpose. Not linked into any product binary.

#include <cstdint>
#include <vector>

#include "dataplane/packet/byte_order.h"

namespace lbg::packet::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Ethernet header with optional VLAN tags (outer first); `tpids` gives each tag's TPID.
inline Bytes eth(uint16_t etherType, const std::vector<uint16_t>& tcis = {},
                 const std::vector<uint16_t>& tpids = {}) {
  Bytes b = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  for (size_t i = 0; i < tcis.size(); ++i) {
    put16(b, i < tpids.size() ? tpids[i] : (i == 0 && tcis.size() > 1 ? 0x88a8 : 0x8100));
    put16(b, tcis[i]);
  }
  put16(b, etherType);
  return b;
}

struct V4 {
  uint32_t src = 0x0a000001;  // 10.0.0.1
  uint32_t dst = 0xc0000201;  // 192.0.2.1
  uint8_t proto = 6;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  uint16_t fragField = 0;  // flags (DF 0x4000, MF 0x2000) | offset/8
  Bytes options;           // padded to 4 by the caller
};

inline Bytes ipv4(const V4& h, const Bytes& payload) {
  Bytes b;
  const size_t ihl = 20 + h.options.size();
  b.push_back(uint8_t(0x40 | (ihl / 4)));
  b.push_back(0);
  put16(b, uint16_t(ihl + payload.size()));
  put16(b, h.id);
  put16(b, h.fragField);
  b.push_back(h.ttl);
  b.push_back(h.proto);
  put16(b, 0);
  put32(b, h.src);
  put32(b, h.dst);
  b.insert(b.end(), h.options.begin(), h.options.end());
  store16(&b[10], foldChecksum(sumWords(b.data(), uint32_t(ihl), 0)));
  return cat(b, payload);
}

inline Bytes v6addr(uint8_t last) {
  Bytes a = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  return a;
}

// IPv6 header between two 16-byte addresses; `rest` is everything after it (extension headers
// and upper layer).
inline Bytes ipv6(uint8_t next, const Bytes& rest, const uint8_t* src, const uint8_t* dst,
                  uint8_t hopLimit = 64) {
  Bytes b = {0x60, 0, 0, 0};
  put16(b, uint16_t(rest.size()));
  b.push_back(next);
  b.push_back(hopLimit);
  b.insert(b.end(), src, src + 16);
  b.insert(b.end(), dst, dst + 16);
  return cat(b, rest);
}

// The same between 2001:db8::<srcLast> and 2001:db8::<dstLast>.
inline Bytes ipv6(uint8_t next, const Bytes& rest, uint8_t srcLast = 1, uint8_t dstLast = 2,
                  uint8_t hopLimit = 64) {
  return ipv6(next, rest, v6addr(srcLast).data(), v6addr(dstLast).data(), hopLimit);
}

// Generic extension header (hop-by-hop, destination options, routing): 8 bytes × (len+1).
inline Bytes extHeader(uint8_t next, uint8_t lenUnits = 0, uint8_t b2 = 0, uint8_t b3 = 0) {
  Bytes b(size_t(lenUnits + 1) * 8, 0);
  b[0] = next;
  b[1] = lenUnits;
  b[2] = b2;
  b[3] = b3;
  if (b2 == 0 && b3 == 0 && b.size() >= 8) {
    b[2] = 1;  // PadN option covering the rest, valid for HBH/DO
    b[3] = uint8_t(b.size() - 4);
  }
  return b;
}

inline Bytes fragHeader(uint8_t next, uint32_t offsetBytes, bool more, uint32_t id) {
  Bytes b = {next, 0};
  put16(b, uint16_t((offsetBytes / 8) << 3 | (more ? 1 : 0)));
  put32(b, id);
  return b;
}

struct Tcp {
  uint16_t sport = 40000, dport = 443;
  uint32_t seq = 1000, ack = 0;
  uint8_t flags = 0x02;
  uint16_t window = 65535;
  Bytes options;  // multiple of 4
};

inline Bytes tcp(const Tcp& t, const Bytes& payload) {
  Bytes b;
  put16(b, t.sport);
  put16(b, t.dport);
  put32(b, t.seq);
  put32(b, t.ack);
  b.push_back(uint8_t(((20 + t.options.size()) / 4) << 4));
  b.push_back(t.flags);
  put16(b, t.window);
  put16(b, 0);
  put16(b, 0);
  b.insert(b.end(), t.options.begin(), t.options.end());
  return cat(b, payload);
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, uint16_t(8 + payload.size()));
  put16(b, 0);
  return cat(b, payload);
}

inline Bytes icmp(uint8_t type, uint8_t code, const Bytes& payload) {
  Bytes b = {type, code, 0, 0, 0, 1, 0, 1};
  return cat(b, payload);
}

// Fills in the L4 checksum of an IPv4 or IPv6 TCP/UDP/ICMP frame built above (no VLAN unless
// `l3` says where IP starts; IPv6 without extension headers).
inline void fixL4Checksum(Bytes& f, size_t l3 = 14) {
  const bool v6 = (f[l3] >> 4) == 6;
  const size_t l4 = l3 + (v6 ? 40 : (f[l3] & 0x0f) * 4u);
  const uint8_t proto = v6 ? f[l3 + 6] : f[l3 + 9];
  const size_t ipEnd = v6 ? l3 + 40 + load16(&f[l3 + 4]) : l3 + load16(&f[l3 + 2]);
  const uint32_t len = uint32_t(ipEnd - l4);
  const size_t at = proto == 6 ? 16 : (proto == 17 ? 6 : 2);
  f[l4 + at] = f[l4 + at + 1] = 0;
  uint32_t acc = 0;
  if (proto != 1) {
    acc = v6 ? sumWords(&f[l3 + 8], 32, 0) : sumWords(&f[l3 + 12], 8, 0);
    acc += proto + len;
  }
  uint16_t c = foldChecksum(sumWords(&f[l4], len, acc));
  if (proto == 17 && c == 0) c = 0xffff;
  store16(&f[l4 + at], c);
}

}  // namespace lbg::packet::testing
