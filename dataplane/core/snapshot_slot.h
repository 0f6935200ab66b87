#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "policy/snapshot.h"

namespace lbg::dataplane {

// RCU-style publication of the immutable policy snapshot.
// Workers read the current pointer once per burst (acquire) and report the version they run with
// (quiescent-state report). A burst is judged by exactly one snapshot; a publisher swaps the pointer,
// then waits until every active worker has reported the new version before the old snapshot may be
// freed — so no worker ever reads freed memory and no packet sees a mix.
class SnapshotSlot {
 public:
  static constexpr uint32_t kMaxWorkers = 64;

  explicit SnapshotSlot(std::shared_ptr<const policy::Snapshot> initial) {
    owned_.push_back(initial);
    current_.store(initial.get(), std::memory_order_release);
    for (auto& w : workers_) w.seen.store(kIdle, std::memory_order_relaxed);
  }

  // ---- worker side (hot path: two atomic operations per burst) ----
  const policy::Snapshot* enter(uint32_t worker) {
    const policy::Snapshot* s = current_.load(std::memory_order_acquire);
    workers_[worker].seen.store(s->version(), std::memory_order_release);
    return s;
  }
  // A worker that stops polling (shutdown) must say so, or publishers would wait for it.
  void goIdle(uint32_t worker) { workers_[worker].seen.store(kIdle, std::memory_order_release); }

  // ---- service-thread side ----
  // Publishes `next` and returns once every active worker runs it (or `timeout` passes: false).
  bool publish(std::shared_ptr<const policy::Snapshot> next, std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(publishMutex_);
    owned_.push_back(next);
    current_.store(next.get(), std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const uint64_t v = next->version();
    for (;;) {
      bool all = true;
      for (uint32_t i = 0; i < workerCount_; ++i) {
        const uint64_t seen = workers_[i].seen.load(std::memory_order_acquire);
        if (seen != kIdle && seen != v) all = false;
      }
      if (all) break;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    // Grace period over: nobody can still hold an older pointer.
    while (owned_.size() > 1) owned_.erase(owned_.begin());
    return true;
  }

  std::shared_ptr<const policy::Snapshot> current() const {
    std::lock_guard<std::mutex> lock(publishMutex_);
    return owned_.back();
  }

  void setWorkerCount(uint32_t n) { workerCount_ = n; }

 private:
  static constexpr uint64_t kIdle = UINT64_MAX;
  struct alignas(64) WorkerSeen {
    std::atomic<uint64_t> seen;
  };
  std::atomic<const policy::Snapshot*> current_{nullptr};
  WorkerSeen workers_[kMaxWorkers];
  uint32_t workerCount_ = 0;
  mutable std::mutex publishMutex_;
  std::vector<std::shared_ptr<const policy::Snapshot>> owned_;
};

}  // namespace lbg::dataplane
