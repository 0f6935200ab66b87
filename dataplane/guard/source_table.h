#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/guard/token_bucket.h"
#include "policy/base/ip_addr.h"

namespace lbg::dataplane::guard {

struct SourceLimits {
  BucketParams newFlows;       // new flows per second and burst, per inside source
  uint32_t maxConcurrent = 0;  // flows counted against one source at once; 0 = unlimited
};

enum class Admit : uint8_t { Yes, RateLimited, TooManyFlows, TableFull };

struct SourceTableCounters {
  uint64_t admitted = 0;
  uint64_t rateLimited = 0;
  uint64_t concurrentLimited = 0;
  uint64_t tableFull = 0;       // a new source found no slot: refused (fail closed)
  uint64_t releaseUnknown = 0;  // a release for a source not in the table (must stay 0)
};

// Per-worker table of inside sources: open addressing with a bounded probe window, allocated once
// at creation. A slot whose source has no counted flow and a full bucket carries no state and is
// reused; when the window has neither an empty nor such a slot the new source is refused.
class SourceTable {
 public:
  static constexpr uint32_t kProbe = 16;

  // capacity is rounded up to a power of two (at least kProbe).
  SourceTable(uint32_t capacity, const SourceLimits& limits);

  void setLimits(const SourceLimits& limits) { limits_ = limits; }
  const SourceLimits& limits() const { return limits_; }

  // A new flow from `src` at `nowNs`: takes a token and counts one concurrent flow when admitted.
  Admit admit(const IpAddr& src, uint64_t nowNs);
  // A flow admitted by admit() ended.
  void release(const IpAddr& src);

  uint32_t capacity() const { return mask_ + 1; }
  uint32_t used(uint64_t nowNs) const;  // slots holding state (O(capacity): stats only)
  uint32_t concurrent(const IpAddr& src) const;
  const SourceTableCounters& counters() const { return counters_; }

 private:
  struct Slot {
    IpAddr addr;
    uint64_t tat = 0;
    uint32_t concurrent = 0;
    bool used = false;
  };
  bool idle(const Slot& s, uint64_t nowNs) const {
    return s.concurrent == 0 && bucketFull(s.tat, nowNs);
  }
  const Slot* findSlot(const IpAddr& a) const;

  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
  SourceLimits limits_;
  SourceTableCounters counters_;
};

}  // namespace lbg::dataplane::guard
