#pragma once

// One worker's table of the hosts it announces after a takeover (learn_frame.h): MAC, VLANs and
// side of the hosts at both ends of the allowed flows it knows (its own flows, and on a standby
// the flows its peer synced). Filled once per flow (its first sync, or a synced record's install),
// never per packet; read when the box becomes active.
//
// Bounded: `capacity` hosts (4,096 per worker by default) in buckets of 8 ways under a keyed
// hash; a host already there is refreshed, not added twice. A new host whose bucket is full takes
// the place of the bucket's oldest one when that was not seen for `staleNs` (a table never
// fills up for good with hosts long gone), else it is refused and counted (the switches then learn
// that host from its own traffic). Single-threaded (its worker's), no allocation after create.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/ha/learn_frame.h"

namespace lbg::ha {

enum class LearnNote : uint8_t {
  Added,      // a new host
  Refreshed,  // known already (same MAC, VLANs and side)
  Replaced,   // a new host in place of a stale one
  Full,       // refused: its bucket holds 8 hosts seen within staleNs
  Ignored,    // not a unicast MAC
};

class LearnTable {
 public:
  static constexpr uint32_t kWays = 8;
  // `capacity` is rounded up to a power of two, at least kWays.
  explicit LearnTable(uint32_t capacity = 4096, uint64_t staleNs = 3600'000'000'000ull);

  LearnNote note(LearnSide side, const LearnHost& h, uint64_t nowNs);

  uint32_t size() const { return used_; }
  uint32_t capacity() const { return uint32_t(slots_.size()); }
  // Slot `i` (< capacity()): false when empty.
  bool at(uint32_t i, LearnSide& side, LearnHost& h) const;

 private:
  struct Slot {
    LearnHost host;
    uint8_t side;  // LearnSide
    bool used;
    uint64_t seenNs;
  };
  static bool same(const Slot& s, LearnSide side, const LearnHost& h);
  uint32_t bucketOf(LearnSide side, const LearnHost& h) const;

  std::vector<Slot> slots_;
  uint32_t buckets_;
  uint32_t used_ = 0;
  uint64_t staleNs_;
};

}  // namespace lbg::ha
