#include "dataplane/guard/dest_table.h"

#include "dataplane/guard/addr_hash.h"

namespace lbg::dataplane::guard {

DestTable::DestTable(uint32_t capacity, const DestLimits& limits) : limits_(limits) {
  uint32_t c = kProbe;
  while (c < capacity && c < (1u << 30)) c <<= 1;
  slots_ = std::make_unique<Slot[]>(c);  // value-initialised: every slot unused
  mask_ = c - 1;
}

FloodAdmit DestTable::take(const IpAddr& dst, FloodKind kind, uint64_t nowNs) {
  const BucketParams& p = limits_.perKind[static_cast<int>(kind)];
  if (p.unlimited()) return FloodAdmit::Yes;  // no state for a kind without a limit
  const uint32_t h = hashAddr(dst);
  Slot* free = nullptr;
  Slot* found = nullptr;
  for (uint32_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(h + i) & mask_];
    if (!s.used) {
      if (free == nullptr) free = &s;
      break;  // a destination is never stored past an empty slot
    }
    if (s.addr.bytes == dst.bytes) {
      found = &s;
      break;
    }
    if (free == nullptr && idle(s, nowNs)) free = &s;
  }
  if (found == nullptr) {
    if (free == nullptr) return FloodAdmit::TableFull;
    *free = Slot{dst, {0, 0, 0}, true};
    found = free;
  }
  return takeToken(found->tat[static_cast<int>(kind)], p, nowNs) ? FloodAdmit::Yes
                                                                  : FloodAdmit::Limited;
}

}  // namespace lbg::dataplane::guard
