#pragma once

#include <cstdint>
#include <cstring>

#include "policy/base/ip_addr.h"

namespace lbg::dataplane::guard {

// splitmix64 over the two halves of an address: sources of one subnet differ only in the last
// bytes, and every guard table keyed by address needs them spread.
inline uint32_t hashAddr(const IpAddr& a) {
  uint64_t lo, hi;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  uint64_t z = lo ^ (hi * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>(z ^ (z >> 31));
}

// The probe of the guard's address tables (bounded linear probing, no tombstones): the slot of
// `key` within `probe` slots of its home, else null with `free` set to the first empty slot or,
// before it, the first slot whose entry `idle` says may be reused (null when none: table full).
// An address is never stored past an empty slot.
template <class Slot, class Idle>
Slot* probeAddr(Slot* slots, uint32_t mask, uint32_t probe, const IpAddr& key, Idle idle,
                Slot*& free) {
  const uint32_t h = hashAddr(key);
  free = nullptr;
  for (uint32_t i = 0; i < probe; ++i) {
    Slot& s = slots[(h + i) & mask];
    if (!s.used) {
      if (free == nullptr) free = &s;
      return nullptr;
    }
    if (s.addr.bytes == key.bytes) return &s;
    if (free == nullptr && idle(s)) free = &s;
  }
  return nullptr;
}

}  // namespace lbg::dataplane::guard
