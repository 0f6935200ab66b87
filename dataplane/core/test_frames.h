#pragma once

// Test-only builders of wire frames: Ethernet + IPv4/IPv6 + TCP/UDP with correct checksums, TLS
// ClientHellos, DNS responses, IPv4 fragments. Used by the pipeline tests and the benchmark's
// traffic generator; never linked into the appliance.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/ip_addr.h"

namespace lbg::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put24(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 16));
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
inline void set16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

inline uint16_t checksum(const uint8_t* d, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(d[i]) << 8 | d[i + 1];
  if (n & 1) acc += uint32_t(d[n - 1]) << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc);
}

struct L4Spec {
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 6;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0x18;  // PSH|ACK
  std::vector<uint16_t> vlans;
  uint16_t ipId = 1;
};

// A complete Ethernet frame with the given L4 payload.
inline Bytes frame(const L4Spec& s, const Bytes& payload) {
  const bool v6 = !s.src.isV4();
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (uint16_t tci : s.vlans) {
    put16(f, 0x8100);
    put16(f, tci);
  }
  put16(f, v6 ? 0x86dd : 0x0800);
  const size_t ipOff = f.size();
  Bytes l4;
  if (s.proto == 6) {
    put16(l4, s.sport);
    put16(l4, s.dport);
    put32(l4, s.seq);
    put32(l4, s.ack);
    l4.push_back(5 << 4);
    l4.push_back(s.flags);
    put16(l4, 65535);
    put16(l4, 0);
    put16(l4, 0);
  } else {
    put16(l4, s.sport);
    put16(l4, s.dport);
    put16(l4, uint16_t(8 + payload.size()));
    put16(l4, 0);
  }
  l4.insert(l4.end(), payload.begin(), payload.end());
  uint32_t pseudo = 0;
  if (v6) {
    put32(f, 0x60000000);
    put16(f, uint16_t(l4.size()));
    f.push_back(s.proto);
    f.push_back(64);
    f.insert(f.end(), s.src.bytes.begin(), s.src.bytes.end());
    f.insert(f.end(), s.dst.bytes.begin(), s.dst.bytes.end());
    for (int i = 0; i < 32; i += 2) pseudo += uint32_t(f[ipOff + 8 + i]) << 8 | f[ipOff + 9 + i];
  } else {
    f.push_back(0x45);
    f.push_back(0);
    put16(f, uint16_t(20 + l4.size()));
    put16(f, s.ipId);
    put16(f, 0x4000);
    f.push_back(64);
    f.push_back(s.proto);
    put16(f, 0);
    f.insert(f.end(), s.src.bytes.begin() + 12, s.src.bytes.end());
    f.insert(f.end(), s.dst.bytes.begin() + 12, s.dst.bytes.end());
    set16(&f[ipOff + 10], checksum(&f[ipOff], 20));
    for (int i = 0; i < 8; i += 2) pseudo += uint32_t(f[ipOff + 12 + i]) << 8 | f[ipOff + 13 + i];
  }
  pseudo += s.proto;
  pseudo += uint32_t(l4.size());
  const size_t l4Off = f.size();
  f.insert(f.end(), l4.begin(), l4.end());
  const uint16_t ck = checksum(&f[l4Off], l4.size(), pseudo);
  set16(&f[l4Off + (s.proto == 6 ? 16 : 6)], ck);
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
  Bytes body;
  put16(body, 0x0303);
  for (int i = 0; i < 32; ++i) body.push_back(uint8_t(i * 7));
  body.push_back(32);
  for (int i = 0; i < 32; ++i) body.push_back(uint8_t(i));
  put16(body, 4);
  put16(body, 0x1301);
  put16(body, 0x1302);
  body.push_back(1);
  body.push_back(0);
  Bytes ext;
  auto addExt = [&](uint16_t type, const Bytes& data) {
    put16(ext, type);
    put16(ext, uint16_t(data.size()));
    ext.insert(ext.end(), data.begin(), data.end());
  };
  if (!h.names.empty()) {
    Bytes list;
    for (const auto& n : h.names) {
      list.push_back(0);
      put16(list, uint16_t(n.size()));
      list.insert(list.end(), n.begin(), n.end());
    }
    Bytes sni;
    put16(sni, uint16_t(list.size()));
    sni.insert(sni.end(), list.begin(), list.end());
    addExt(0, sni);
    if (h.twoSniExtensions) addExt(0, sni);
  }
  Bytes sv = {4, 0x03, 0x04, 0x03, 0x03};
  addExt(43, sv);
  if (!h.alpn.empty()) {
    Bytes list;
    for (const auto& a : h.alpn) {
      list.push_back(uint8_t(a.size()));
      list.insert(list.end(), a.begin(), a.end());
    }
    Bytes alpn;
    put16(alpn, uint16_t(list.size()));
    alpn.insert(alpn.end(), list.begin(), list.end());
    addExt(16, alpn);
  }
  if (h.ech) addExt(0xfe0d, Bytes(40, 0xab));
  if (h.padding) addExt(21, Bytes(h.padding, 0));
  put16(body, uint16_t(ext.size()));
  body.insert(body.end(), ext.begin(), ext.end());
  Bytes msg = {0x01};
  put24(msg, uint32_t(body.size()));
  msg.insert(msg.end(), body.begin(), body.end());
  return msg;
}

// Wraps a handshake message in TLS records of at most `recordSize` bytes each.
inline Bytes tlsRecords(const Bytes& msg, size_t recordSize = 16384) {
  Bytes out;
  for (size_t off = 0; off < msg.size(); off += recordSize) {
    const size_t n = std::min(recordSize, msg.size() - off);
    out.push_back(0x16);
    put16(out, 0x0301);
    put16(out, uint16_t(n));
    out.insert(out.end(), msg.begin() + off, msg.begin() + off + n);
  }
  return out;
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
