#include "dataplane/ha/learn_table.h"

#include <cstring>

#include "dataplane/flow/flow_key.h"

namespace lbg::ha {

LearnTable::LearnTable(uint32_t capacity, uint64_t staleNs) : staleNs_(staleNs) {
  uint32_t n = kWays;
  while (n < capacity) n <<= 1;
  slots_.assign(n, Slot{});
  buckets_ = n / kWays;
}

bool LearnTable::same(const Slot& s, LearnSide side, const LearnHost& h) {
  return s.used && s.side == uint8_t(side) && std::memcmp(s.host.mac, h.mac, 6) == 0 &&
         std::memcmp(s.host.vlan, h.vlan, 3) == 0 && s.host.tpid == h.tpid;
}

uint32_t LearnTable::bucketOf(LearnSide side, const LearnHost& h) const {
  // Keyed (the flow table's per-process seed): which hosts share a bucket cannot be aimed at.
  uint64_t a = 0, b = 0;
  std::memcpy(&a, h.mac, 6);
  std::memcpy(&b, h.vlan, 3);
  b |= uint64_t(h.tpid) << 24 | uint64_t(side) << 32;
  const uint64_t s = flow::detail::kHashSeed;
  const uint64_t x = flow::detail::mum(a ^ s, b ^ 0xa0761d6478bd642full);
  return uint32_t((x ^ (x >> 32)) & (buckets_ - 1));
}

LearnNote LearnTable::note(LearnSide side, const LearnHost& h, uint64_t nowNs) {
  if (!learnableMac(h.mac)) return LearnNote::Ignored;
  Slot* bucket = &slots_[size_t(bucketOf(side, h)) * kWays];
  Slot* free = nullptr;
  Slot* oldest = nullptr;
  for (uint32_t w = 0; w < kWays; ++w) {
    Slot& s = bucket[w];
    if (same(s, side, h)) {
      s.seenNs = nowNs;
      return LearnNote::Refreshed;
    }
    if (!s.used) {
      if (free == nullptr) free = &s;
    } else if (oldest == nullptr || s.seenNs < oldest->seenNs) {
      oldest = &s;
    }
  }
  LearnNote result = LearnNote::Added;
  if (free == nullptr) {
    if (nowNs < oldest->seenNs + staleNs_) return LearnNote::Full;
    free = oldest;
    result = LearnNote::Replaced;
  } else {
    ++used_;
  }
  free->host = h;
  free->side = uint8_t(side);
  free->used = true;
  free->seenNs = nowNs;
  return result;
}

bool LearnTable::at(uint32_t i, LearnSide& side, LearnHost& h) const {
  const Slot& s = slots_[i];
  if (!s.used) return false;
  side = LearnSide(s.side);
  h = s.host;
  return true;
}

}  // namespace lbg::ha
