#pragma once

#include <cstdint>
#include <vector>

#include "policy/base/ip_addr.h"
#include "policy/ids/rule.h"

namespace lbg::ids {

// Suricata's `threshold` and `detection_filter` (detect-engine-threshold.c) for one worker: per
// (rule, tracked address) a window start and a count, in a fixed open-addressing table made once
// (no allocation per packet). A window lasts `seconds` from its first match; then a match starts
// a new one. Per match the rule alerts when:
//   limit      the window's count is at most `count` (at most `count` alerts per window)
//   threshold  the count reaches `count` (then it restarts: every count-th match alerts)
//   both       the count equals `count` (once per window, at the count-th match)
//   detection_filter  the count exceeds `count` (every match past the first `count`)
// A table whose probe run has no free or expired entry cannot track: the match alerts and the
// result says so (counted by the caller: fail visible, not silent).
class ThresholdTable {
 public:
  static constexpr int kMaxProbe = 16;
  explicit ThresholdTable(uint32_t capacity = 0);

  enum class Outcome : uint8_t { Alert, Suppress, Full };
  // `key`: the rule's index and which of its two filters (0 threshold, 1 detection_filter);
  // `src`/`dst`: the packet's addresses.
  Outcome check(uint32_t key, const Threshold& t, const IpAddr& src, const IpAddr& dst,
                uint64_t nowNs);
  uint32_t capacity() const { return uint32_t(entries_.size()); }

 private:
  struct Entry {
    uint32_t key = 0;  // rule key + 1; 0: free
    uint32_t count = 0;
    uint64_t start = 0;    // window start, ns
    uint64_t expires = 0;  // start + seconds: afterwards the entry may be reused
    IpAddr a, b;
  };
  std::vector<Entry> entries_;
};

}  // namespace lbg::ids
