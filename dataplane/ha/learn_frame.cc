#include "dataplane/ha/learn_frame.h"

#include <cstring>

namespace lbg::ha {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

constexpr uint16_t kTpids[kLearnTpidMax + 1] = {0x8100, 0x88a8, 0x9100};

}  // namespace

size_t buildLearnFrame(const LearnHost& h, uint8_t* out) {
  std::memset(out, 0, kLearnFrameMax);
  std::memset(out, 0xff, 6);  // broadcast: every switch of the segment learns, every port hears
  std::memcpy(out + 6, h.mac, 6);
  size_t at = 12;
  const uint16_t outer = uint16_t(h.vlan[0] | (h.vlan[2] >> 4) << 8);
  const uint16_t inner = uint16_t(h.vlan[1] | (h.vlan[2] & 0x0f) << 8);
  if (outer != 0) {
    put16(out + at, inner != 0 && h.tpid <= kLearnTpidMax ? kTpids[h.tpid] : 0x8100);
    put16(out + at + 2, outer);  // priority 0, the VLAN id
    at += 4;
    if (inner != 0) {
      put16(out + at, 0x8100);
      put16(out + at + 2, inner);
      at += 4;
    }
  }
  put16(out + at, kEtherRarp);
  uint8_t* a = out + at + 2;
  put16(a, 1);           // hardware: Ethernet
  put16(a + 2, 0x0800);  // protocol: IPv4
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, 3);                // "request reverse" (RFC 903)
  std::memcpy(a + 8, h.mac, 6);   // sender hardware address; sender IP 0
  std::memcpy(a + 18, h.mac, 6);  // target hardware address; target IP 0
  const size_t len = at + 2 + 28;
  const size_t min = 60 + (at - 12);  // the tags do not count towards the minimum payload
  return len < min ? min : len;
}

}  // namespace lbg::ha
