#pragma once

#include <cstdint>

namespace lbg::inspect {

// splitmix64's finaliser: spreads keys over the DNS tables' buckets (binding and query tables).
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace lbg::inspect
