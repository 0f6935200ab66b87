#include "dataplane/guard/source_table.h"

#include <cstring>

#include "dataplane/guard/addr_hash.h"

namespace lbg::dataplane::guard {

SourceTable::SourceTable(uint32_t capacity, const SourceLimits& limits) : limits_(limits) {
  uint32_t c = kProbe;
  while (c < capacity && c < (1u << 30)) c <<= 1;
  slots_ = std::make_unique<Slot[]>(c);
  mask_ = c - 1;
}

const SourceTable::Slot* SourceTable::findSlot(const IpAddr& a) const {
  const uint32_t h = hashAddr(a);
  for (uint32_t i = 0; i < kProbe; ++i) {
    const Slot& s = slots_[(h + i) & mask_];
    if (!s.used) return nullptr;
    if (s.addr.bytes == a.bytes) return &s;
  }
  return nullptr;
}

Admit SourceTable::admit(const IpAddr& src, uint64_t nowNs) {
  const uint32_t h = hashAddr(src);
  Slot* free = nullptr;
  Slot* found = nullptr;
  for (uint32_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(h + i) & mask_];
    if (!s.used) {
      if (free == nullptr) free = &s;
      break;  // a source is never stored past an empty slot
    }
    if (s.addr.bytes == src.bytes) {
      found = &s;
      break;
    }
    if (free == nullptr && idle(s, nowNs)) free = &s;
  }
  if (found == nullptr) {
    if (free == nullptr) {
      ++counters_.tableFull;
      return Admit::TableFull;
    }
    free->addr = src;
    free->tat = 0;
    free->concurrent = 0;
    free->used = true;
    found = free;
  }
  if (limits_.maxConcurrent != 0 && found->concurrent >= limits_.maxConcurrent) {
    ++counters_.concurrentLimited;
    return Admit::TooManyFlows;
  }
  if (!takeToken(found->tat, limits_.newFlows, nowNs)) {
    ++counters_.rateLimited;
    return Admit::RateLimited;
  }
  ++found->concurrent;
  ++counters_.admitted;
  return Admit::Yes;
}

void SourceTable::release(const IpAddr& src) {
  Slot* s = const_cast<Slot*>(findSlot(src));
  if (s == nullptr || s->concurrent == 0) {
    ++counters_.releaseUnknown;
    return;
  }
  --s->concurrent;
}

uint32_t SourceTable::concurrent(const IpAddr& src) const {
  const Slot* s = findSlot(src);
  return s == nullptr ? 0 : s->concurrent;
}

uint32_t SourceTable::used(uint64_t nowNs) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i <= mask_; ++i) n += slots_[i].used && !idle(slots_[i], nowNs);
  return n;
}

}  // namespace lbg::dataplane::guard
