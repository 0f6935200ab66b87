#pragma once

#include <cstdint>
#include <memory>

struct rte_mbuf;

namespace lbg::dataplane {

// Client packets of a flow that has no verdict yet are held here (never forwarded) and released in
// arrival order once the verdict is known, or freed on deny. One pool per worker lcore, sized at
// start; a flow links its packets through slot indices, so holding costs no allocation.
class HoldPool {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit HoldPool(uint32_t slots) : slots_(new Slot[slots]), capacity_(slots) {
    for (uint32_t i = 0; i < slots; ++i) slots_[i].next = i + 1 < slots ? i + 1 : kNone;
    free_ = 0;
  }

  // Per-flow handle (lives in the flow entry).
  struct Queue {
    uint32_t head = kNone;
    uint32_t tail = kNone;
    uint16_t count = 0;
  };

  // False when the pool is exhausted (caller fails closed: denies the flow and counts it).
  bool push(Queue& q, rte_mbuf* m) {
    if (free_ == kNone) return false;
    const uint32_t idx = free_;
    free_ = slots_[idx].next;
    slots_[idx].mbuf = m;
    slots_[idx].next = kNone;
    if (q.tail == kNone) {
      q.head = idx;
    } else {
      slots_[q.tail].next = idx;
    }
    q.tail = idx;
    ++q.count;
    ++used_;
    return true;
  }

  // Calls f(mbuf) for each held packet in arrival order and empties the queue.
  template <class F>
  void drain(Queue& q, F&& f) {
    uint32_t idx = q.head;
    while (idx != kNone) {
      const uint32_t next = slots_[idx].next;
      f(slots_[idx].mbuf);
      slots_[idx].mbuf = nullptr;
      slots_[idx].next = free_;
      free_ = idx;
      --used_;
      idx = next;
    }
    q = Queue{};
  }

  // The most recently held packet, or nullptr.
  rte_mbuf* last(const Queue& q) const { return q.tail == kNone ? nullptr : slots_[q.tail].mbuf; }

  uint32_t used() const { return used_; }
  uint32_t capacity() const { return capacity_; }

 private:
  struct Slot {
    rte_mbuf* mbuf = nullptr;
    uint32_t next = kNone;
  };
  std::unique_ptr<Slot[]> slots_;
  uint32_t capacity_;
  uint32_t free_ = kNone;
  uint32_t used_ = 0;
};

}  // namespace lbg::dataplane
