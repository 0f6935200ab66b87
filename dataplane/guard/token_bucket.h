#pragma once

#include <cstdint>

namespace lbg::dataplane::guard {

// A token bucket kept as one word: the generic cell rate algorithm's theoretical arrival time.
// A bucket of `burst` tokens refilled at `ratePerSec` admits an event at `now` when the time it
// would be "paid up" (tat) is no further ahead of now than burst-1 intervals. One compare and one
// add per event, no division, no syscall: time comes from the caller (the pipeline's now_).
struct BucketParams {
  uint64_t intervalNs = 0;   // 1e9 / rate; 0 = unlimited
  uint64_t toleranceNs = 0;  // (burst - 1) * intervalNs

  static BucketParams make(uint32_t ratePerSec, uint32_t burst) {
    BucketParams p;
    if (ratePerSec == 0) return p;  // unlimited
    p.intervalNs = 1'000'000'000ull / ratePerSec;
    if (p.intervalNs == 0) p.intervalNs = 1;
    p.toleranceNs = (burst > 0 ? burst - 1 : 0) * p.intervalNs;
    return p;
  }
  bool unlimited() const { return intervalNs == 0; }
};

// Takes one token if there is one. `tat` is the bucket's state (0 = full).
inline bool takeToken(uint64_t& tat, const BucketParams& p, uint64_t nowNs) {
  if (p.unlimited()) return true;
  const uint64_t start = tat > nowNs ? tat : nowNs;
  if (start - nowNs > p.toleranceNs) return false;
  tat = start + p.intervalNs;
  return true;
}

// True when the bucket is full again (its state can be forgotten).
inline bool bucketFull(uint64_t tat, uint64_t nowNs) {
  return tat <= nowNs;
}

}  // namespace lbg::dataplane::guard
