#pragma once

// Test-only frames for the pipeline tests and the benchmark's traffic generator: a whole Ethernet
// frame from an L4Spec (addresses as IpAddr), IPv4 fragments, ICMP errors, ClientHellos and DNS
// messages. Built from the one set of header builders, dataplane/packet/test_frame.h, and the
// ClientHello builder of dataplane/inspect/tls/hello_builder.h; never linked into the appliance.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/inspect/tls/hello_builder.h"
#include "dataplane/packet/test_frame.h"
#include "policy/base/ip_addr.h"

namespace lbg::testing {

using Bytes = std::vector<uint8_t>;
using packet::testing::put16;
using packet::testing::put32;

inline void set16(uint8_t* p, uint16_t v) { packet::store16(p, v); }

inline uint16_t checksum(const uint8_t* d, size_t n, uint32_t acc = 0) {
  return packet::foldChecksum(packet::sumWords(d, uint32_t(n), acc));
}

struct L4Spec {
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 6;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0x18;  // PSH|ACK
  std::vector<uint16_t> vlans;  // 802.1Q tags, outer first
  uint16_t ipId = 1;
};

// A complete Ethernet frame with the given L4 payload and correct checksums (IPv4 with DF).
inline Bytes frame(const L4Spec& s, const Bytes& payload) {
  namespace pt = packet::testing;
  Bytes l4;
  if (s.proto == 6) {
    pt::Tcp t;
    t.sport = s.sport;
    t.dport = s.dport;
    t.seq = s.seq;
    t.ack = s.ack;
    t.flags = s.flags;
    l4 = pt::tcp(t, payload);
  } else {
    l4 = pt::udp(s.sport, s.dport, payload);
  }
  const bool v6 = !s.src.isV4();
  Bytes f = pt::eth(v6 ? 0x86dd : 0x0800, s.vlans, std::vector<uint16_t>(s.vlans.size(), 0x8100));
  const size_t l3 = f.size();
  if (v6) {
    f = pt::cat(f, pt::ipv6(s.proto, l4, s.src.bytes.data(), s.dst.bytes.data()));
  } else {
    pt::V4 h;
    h.src = packet::load32(s.src.bytes.data() + 12);
    h.dst = packet::load32(s.dst.bytes.data() + 12);
    h.proto = s.proto;
    h.id = s.ipId;
    h.fragField = 0x4000;
    f = pt::cat(f, pt::ipv4(h, l4));
  }
  pt::fixL4Checksum(f, l3);
  return f;
}

// Splits an IPv4 frame (no VLAN) into fragments carrying at most `chunk` payload bytes (multiple
// of 8), in order.
inline std::vector<Bytes> fragmentV4(const Bytes& whole, size_t chunk) {
  std::vector<Bytes> out;
  const size_t ipOff = 14;
  const size_t ihl = (whole[ipOff] & 0x0f) * 4;
  const size_t dataOff = ipOff + ihl;
  const size_t dataLen = whole.size() - dataOff;
  for (size_t off = 0; off < dataLen; off += chunk) {
    const size_t n = std::min(chunk, dataLen - off);
    Bytes f(whole.begin(), whole.begin() + dataOff);
    f.insert(f.end(), whole.begin() + dataOff + off, whole.begin() + dataOff + off + n);
    set16(&f[ipOff + 2], uint16_t(ihl + n));
    const bool more = off + n < dataLen;
    set16(&f[ipOff + 6], uint16_t((more ? 0x2000 : 0) | (off / 8)));
    set16(&f[ipOff + 10], 0);
    set16(&f[ipOff + 10], checksum(&f[ipOff], ihl));
    out.push_back(std::move(f));
  }
  return out;
}

// An ICMP (IPv4) or ICMPv6 error from `from` to `to` quoting `quoted` (a frame from frame(), no
// VLAN): its IP header and the first 8 bytes after it, as routers send them. `rest` is the
// header's last word (the next-hop MTU of "fragmentation needed", the MTU of "packet too big").
inline Bytes icmpError(const Bytes& quoted, const IpAddr& from, const IpAddr& to, uint8_t type,
                       uint8_t code, uint32_t rest = 0) {
  const bool v6 = !from.isV4();
  const size_t ipOff = 14;
  const size_t ipHeader = v6 ? 40 : (quoted[ipOff] & 0x0f) * 4;
  const size_t take = std::min(quoted.size() - ipOff, ipHeader + 8);
  Bytes icmp = {type, code, 0, 0};
  put32(icmp, rest);
  icmp.insert(icmp.end(), quoted.begin() + ipOff, quoted.begin() + ipOff + take);
  Bytes f = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
  put16(f, v6 ? 0x86dd : 0x0800);
  uint32_t pseudo = 0;
  if (v6) {
    put32(f, 0x60000000);
    put16(f, uint16_t(icmp.size()));
    f.push_back(58);
    f.push_back(64);
    f.insert(f.end(), from.bytes.begin(), from.bytes.end());
    f.insert(f.end(), to.bytes.begin(), to.bytes.end());
    for (int i = 0; i < 32; i += 2) pseudo += uint32_t(f[ipOff + 8 + i]) << 8 | f[ipOff + 9 + i];
    pseudo += 58 + uint32_t(icmp.size());
  } else {
    f.push_back(0x45);
    f.push_back(0);
    put16(f, uint16_t(20 + icmp.size()));
    put16(f, 7);
    put16(f, 0);
    f.push_back(64);
    f.push_back(1);
    put16(f, 0);
    f.insert(f.end(), from.bytes.begin() + 12, from.bytes.end());
    f.insert(f.end(), to.bytes.begin() + 12, to.bytes.end());
    set16(&f[ipOff + 10], checksum(&f[ipOff], 20));
  }
  set16(&icmp[2], checksum(icmp.data(), icmp.size(), pseudo));
  f.insert(f.end(), icmp.begin(), icmp.end());
  return f;
}

struct HelloSpec {
  std::vector<std::string> names = {"example.com"};  // one server_name entry each
  bool twoSniExtensions = false;
  std::vector<std::string> alpn = {"h2", "http/1.1"};
  bool ech = false;
  size_t padding = 0;  // extra padding extension bytes (large hellos)
};

// A TLS 1.3-style ClientHello handshake message (without the record header).
inline Bytes clientHelloMessage(const HelloSpec& h) {
  namespace it = inspect::testing;
  it::HelloBuilder b;
  b.ciphers = {0x13, 0x01, 0x13, 0x02};
  if (!h.names.empty()) {
    std::vector<std::pair<uint8_t, std::string>> entries;
    for (const auto& n : h.names) entries.emplace_back(0, n);
    b.ext(0, it::serverNameBody(entries));
    if (h.twoSniExtensions) b.ext(0, it::serverNameBody(entries));
  }
  b.versions({0x0304, 0x0303});
  if (!h.alpn.empty()) b.alpn(h.alpn);
  if (h.ech) b.ext(0xfe0d, Bytes(40, 0xab));
  if (h.padding) b.ext(21, Bytes(h.padding, 0));
  return it::handshake(b.body());
}

// Wraps a handshake message in TLS records of at most `recordSize` bytes each.
inline Bytes tlsRecords(const Bytes& msg, size_t recordSize = 16384) {
  return inspect::testing::records(msg, recordSize);
}

inline Bytes clientHello(const HelloSpec& h, size_t recordSize = 16384) {
  return tlsRecords(clientHelloMessage(h), recordSize);
}

// A standard query (RD set) for `name`, class IN.
inline Bytes dnsQuery(const std::string& name, uint16_t qtype = 1, uint16_t id = 0x1234) {
  Bytes m;
  put16(m, id);
  put16(m, 0x0100);
  put16(m, 1);
  put16(m, 0);
  put16(m, 0);
  put16(m, 0);
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(uint8_t(dot - start));
    m.insert(m.end(), name.begin() + long(start), name.begin() + long(dot));
    start = dot + 1;
  }
  m.push_back(0);
  put16(m, qtype);
  put16(m, 1);
  return m;
}

// A DNS response for `name` with a CNAME chain ending in `addrs` (A or AAAA by family).
inline Bytes dnsResponse(const std::string& name, const std::vector<std::string>& cnames,
                         const std::vector<IpAddr>& addrs, uint32_t ttl = 300,
                         uint16_t id = 0x1234) {
  Bytes m;
  put16(m, id);
  put16(m, 0x8180);
  put16(m, 1);
  put16(m, uint16_t(cnames.size() + addrs.size()));
  put16(m, 0);
  put16(m, 0);
  auto putName = [&](const std::string& n) {
    size_t start = 0;
    while (start < n.size()) {
      size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      m.push_back(uint8_t(dot - start));
      m.insert(m.end(), n.begin() + start, n.begin() + dot);
      start = dot + 1;
    }
    m.push_back(0);
  };
  putName(name);
  put16(m, addrs.empty() || addrs[0].isV4() ? 1 : 28);
  put16(m, 1);
  std::string owner = name;
  for (const auto& c : cnames) {
    putName(owner);
    put16(m, 5);
    put16(m, 1);
    put32(m, ttl);
    Bytes rdata;
    std::swap(m, rdata);
    putName(c);
    std::swap(m, rdata);
    put16(m, uint16_t(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
    owner = c;
  }
  for (const auto& a : addrs) {
    putName(owner);
    put16(m, a.isV4() ? 1 : 28);
    put16(m, 1);
    put32(m, ttl);
    put16(m, a.isV4() ? 4 : 16);
    if (a.isV4()) {
      m.insert(m.end(), a.bytes.begin() + 12, a.bytes.end());
    } else {
      m.insert(m.end(), a.bytes.begin(), a.bytes.end());
    }
  }
  return m;
}

}  // namespace lbg::testing
