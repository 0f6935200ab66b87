#include "dataplane/inspect/test_pcap.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>

namespace lbg::inspect::testing {
namespace {

struct Segment {
  uint32_t seq;
  bool syn;
  std::vector<uint8_t> data;
};

uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Returns the offset of the IP header, or -1.
long ipOffset(int linkType, const uint8_t* p, size_t n) {
  size_t off = 0;
  uint16_t etherType = 0;
  switch (linkType) {
    case DLT_EN10MB:
      if (n < 14) return -1;
      etherType = be16(p + 12);
      off = 14;
      while ((etherType == 0x8100 || etherType == 0x88a8) && n >= off + 4) {
        etherType = be16(p + off + 2);
        off += 4;
      }
      return etherType == 0x0800 || etherType == 0x86dd ? long(off) : -1;
    case DLT_LINUX_SLL:
      if (n < 16) return -1;
      etherType = be16(p + 14);
      return etherType == 0x0800 || etherType == 0x86dd ? 16 : -1;
    case DLT_RAW:
    case 228:  // DLT_IPV4
    case 229:  // DLT_IPV6
      return 0;
    case DLT_NULL:
      return n >= 4 ? 4 : -1;
    default:
      return -1;
  }
}

}  // namespace

std::string forEachIpPacket(const std::string& path,
                            const std::function<void(const uint8_t*, size_t, uint64_t)>& f) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(path.c_str(), err);
  if (pc == nullptr) return err;
  const int link = pcap_datalink(pc);
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(pc, &hdr, &data) == 1) {
    const long ipo = ipOffset(link, data, hdr->caplen);
    if (ipo < 0 || size_t(ipo) >= hdr->caplen) continue;
    const uint64_t ms = uint64_t(hdr->ts.tv_sec) * 1000 + uint64_t(hdr->ts.tv_usec) / 1000;
    f(data + ipo, hdr->caplen - size_t(ipo), ms);
  }
  pcap_close(pc);
  return {};
}

Capture readCapture(const std::string& path) {
  Capture cap;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(path.c_str(), err);
  if (pc == nullptr) {
    cap.error = err;
    return cap;
  }
  const int link = pcap_datalink(pc);
  std::map<Direction, std::vector<Segment>> segs;
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(pc, &hdr, &data) == 1) {
    const long ipo = ipOffset(link, data, hdr->caplen);
    if (ipo < 0) continue;
    const uint8_t* ip = data + ipo;
    size_t n = hdr->caplen - size_t(ipo);
    if (n < 20) continue;
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    uint8_t proto;
    size_t l4;
    size_t ipEnd;
    if ((ip[0] >> 4) == 4) {
      const size_t ihl = size_t(ip[0] & 0x0f) * 4;
      if (ihl < 20 || n < ihl) continue;
      if ((be16(ip + 6) & 0x3fff) != 0) continue;  // fragments: not handled here
      inet_ntop(AF_INET, ip + 12, src, sizeof(src));
      inet_ntop(AF_INET, ip + 16, dst, sizeof(dst));
      proto = ip[9];
      l4 = ihl;
      ipEnd = std::min<size_t>(n, be16(ip + 2));
    } else if ((ip[0] >> 4) == 6) {
      if (n < 40) continue;
      inet_ntop(AF_INET6, ip + 8, src, sizeof(src));
      inet_ntop(AF_INET6, ip + 24, dst, sizeof(dst));
      proto = ip[6];
      l4 = 40;
      ipEnd = std::min<size_t>(n, 40 + size_t(be16(ip + 4)));
    } else {
      continue;
    }
    if (ipEnd < l4) continue;
    const uint8_t* t = ip + l4;
    const size_t tn = ipEnd - l4;
    if (proto == 6 && tn >= 20) {
      const size_t doff = size_t(t[12] >> 4) * 4;
      if (doff < 20 || doff > tn) continue;
      Direction d{{src, be16(t)}, {dst, be16(t + 2)}};
      segs[d].push_back(
          Segment{be32(t + 4), (t[13] & 0x02) != 0, std::vector<uint8_t>(t + doff, t + tn)});
    } else if (proto == 17 && tn >= 8) {
      Direction d{{src, be16(t)}, {dst, be16(t + 2)}};
      cap.udpPayloads[d].emplace_back(t + 8, t + tn);
    }
  }
  pcap_close(pc);

  for (auto& [dir, list] : segs) {
    // Stream start: after the SYN if seen, else the lowest sequence number with data.
    bool haveBase = false;
    uint32_t base = 0;
    for (const auto& s : list) {
      if (s.syn) {
        base = s.seq + 1;
        haveBase = true;
        break;
      }
    }
    if (!haveBase) {
      for (const auto& s : list) {
        if (s.data.empty()) continue;
        if (!haveBase || int32_t(s.seq - base) < 0) base = s.seq;
        haveBase = true;
      }
    }
    std::vector<uint8_t> stream;
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& s : list) {
        if (s.data.empty()) continue;
        const int64_t rel = int32_t(s.seq - base);
        if (rel < 0 || rel > int64_t(stream.size())) continue;
        const size_t skip = stream.size() - size_t(rel);
        if (skip >= s.data.size()) continue;
        stream.insert(stream.end(), s.data.begin() + long(skip), s.data.end());
        grew = true;
      }
    }
    if (!stream.empty()) cap.tcpStreams[dir] = std::move(stream);
  }
  return cap;
}

}  // namespace lbg::inspect::testing
