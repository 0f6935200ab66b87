#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace lbg::telemetry {

// Single-producer single-consumer ring of trivially copyable records: a worker lcore produces,
// the service thread consumes. Capacity is fixed at creation; a full ring makes tryPush() return
// false so that the worker counts the record as lost instead of blocking (ARCHITECTURE: workers
// never block on logging).
template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit SpscRing(uint32_t capacityPow2)
      : mask_(capacityPow2 - 1), slots_(new T[capacityPow2]) {}

  bool tryPush(const T& v) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tailCache_ > mask_) {
      tailCache_ = tail_.load(std::memory_order_acquire);
      if (head - tailCache_ > mask_) return false;
    }
    slots_[head & mask_] = v;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Reserves the next slot for in-place construction; commit() publishes it. Avoids copying
  // large records twice on the producer side.
  T* reserve() {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tailCache_ > mask_) {
      tailCache_ = tail_.load(std::memory_order_acquire);
      if (head - tailCache_ > mask_) return nullptr;
    }
    return &slots_[head & mask_];
  }
  void commit() { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  bool tryPop(T& out) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return false;
    out = slots_[tail & mask_];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  uint32_t capacity() const { return mask_ + 1; }

 private:
  const uint64_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tailCache_ = 0;  // producer's view of tail_
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace lbg::telemetry
