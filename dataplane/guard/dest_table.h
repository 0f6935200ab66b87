#pragma once

// Flood limits per destination (pipeline guard stage): every UDP packet, every ICMP packet and
// every IP fragment takes a token from its destination address's bucket of that kind, whichever
// side it comes from and whether or not its flow is allowed, so that a UDP, ICMP or fragment
// flood towards one host (inside or outside) is held to its rate while traffic to others is not
// touched. TCP is left to the new-flow limits and the stream normaliser.
//
// Open addressing with a bounded probe window, allocated once. A slot whose buckets are all full
// again holds no state and is reused; when a window has neither an empty nor such a slot the
// packet is refused (fail closed, TableFull): a flood towards many destinations at once keeps
// slots only as long as its buckets are in debt.

#include <cstdint>
#include <memory>

#include "dataplane/guard/token_bucket.h"
#include "policy/base/ip_addr.h"

namespace lbg::dataplane::guard {

enum class FloodKind : uint8_t { Udp, Icmp, Fragment };
inline constexpr int kFloodKinds = 3;

struct DestLimits {
  BucketParams perKind[kFloodKinds];  // indexed by FloodKind; unlimited by default
};

enum class FloodAdmit : uint8_t { Yes, Limited, TableFull };

class DestTable {
 public:
  static constexpr uint32_t kProbe = 16;

  // capacity is rounded up to a power of two (at least kProbe).
  DestTable(uint32_t capacity, const DestLimits& limits);

  void setLimits(const DestLimits& limits) { limits_ = limits; }
  const DestLimits& limits() const { return limits_; }

  // One packet of `kind` towards `dst` at `nowNs`.
  FloodAdmit take(const IpAddr& dst, FloodKind kind, uint64_t nowNs);

  uint32_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    IpAddr addr;
    uint64_t tat[kFloodKinds];
    bool used;
  };
  bool idle(const Slot& s, uint64_t nowNs) const {
    for (uint64_t t : s.tat)
      if (!bucketFull(t, nowNs)) return false;
    return true;
  }

  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
  DestLimits limits_;
};

}  // namespace lbg::dataplane::guard
