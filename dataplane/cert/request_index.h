#pragma once

#include <cstdint>
#include <memory>

namespace lbg::cert {

// Which verify request (RequestPool index) a flow holds, by flow id. The flow table entry has no
// room left for the index (four cache lines per flow), and only the few server packets of a flow
// under check look it up. Open addressing with linear probing over twice the pool's size, so it
// never fills; deletion shifts entries back (no tombstones). No allocation after construction.
class RequestIndex {
 public:
  explicit RequestIndex(uint32_t requests) {
    while (mask_ + 1 < 2ull * requests) mask_ = mask_ * 2 + 1;
    slots_.reset(new Slot[size_t(mask_) + 1]{});
  }

  // flowId != 0 (flow ids start at 1); at most `requests` flows are in at once.
  void insert(uint64_t flowId, int32_t request) {
    uint32_t i = home(flowId);
    while (slots_[i].flowId != 0) i = (i + 1) & mask_;
    slots_[i] = {flowId, request};
  }

  // The request of `flowId`, or -1.
  int32_t find(uint64_t flowId) const {
    for (uint32_t i = home(flowId); slots_[i].flowId != 0; i = (i + 1) & mask_) {
      if (slots_[i].flowId == flowId) return slots_[i].request;
    }
    return -1;
  }

  void erase(uint64_t flowId) {
    uint32_t i = home(flowId);
    while (slots_[i].flowId != flowId) {
      if (slots_[i].flowId == 0) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    for (uint32_t j = (i + 1) & mask_; slots_[j].flowId != 0; j = (j + 1) & mask_) {
      const uint32_t h = home(slots_[j].flowId);
      // Movable unless its home lies cyclically in (i, j].
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
  }

 private:
  struct Slot {
    uint64_t flowId;
    int32_t request;
  };
  uint32_t home(uint64_t flowId) const {
    return uint32_t((flowId * 0x9e3779b97f4a7c15ull) >> 32) & mask_;
  }

  uint32_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace lbg::cert
