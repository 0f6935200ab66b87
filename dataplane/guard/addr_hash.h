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

}  // namespace lbg::dataplane::guard
