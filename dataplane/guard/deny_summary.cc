#include "dataplane/guard/deny_summary.h"

#include "dataplane/guard/addr_hash.h"

namespace lbg::dataplane::guard {

DenySummary::DenySummary(uint32_t slots, uint64_t intervalNs)
    : intervalNs_(intervalNs == 0 ? 1 : intervalNs) {
  uint32_t c = kProbe;
  while (c < slots && c < (1u << 24)) c <<= 1;
  rows_ = std::make_unique<DenyRow[]>(c);  // value-initialised: every row unused
  mask_ = c - 1;
}

bool DenySummary::add(const IpAddr& src, uint8_t reason, const IpAddr& dst, uint16_t dstPort,
                      uint8_t proto, uint32_t bytes, uint64_t nowNs) {
  const uint32_t h = hashAddr(src) ^ (uint32_t(reason) * 0x9e3779b1u);
  for (uint32_t i = 0; i < kProbe; ++i) {
    DenyRow& r = rows_[(h + i) & mask_];
    if (r.used) {
      if (r.reason != reason || r.src.bytes != src.bytes) continue;
      ++r.packets;
      r.bytes += bytes;
      r.lastNs = nowNs;
      return true;
    }
    // Rows are only emptied all at once (flush), so the first empty row ends the search.
    if (used_ == 0) windowStartNs_ = nowNs;
    r = DenyRow{src, dst, 1, bytes, nowNs, nowNs, reason, proto, dstPort, true};
    ++used_;
    return true;
  }
  return false;
}

}  // namespace lbg::dataplane::guard
