#pragma once

// `lbgctl certs flush`: the service thread asks every holder of a certificate-verdict cache (each
// worker's passive and probe caches, the prober's shared one on the verifier thread) to forget
// some keys, or everything, and waits until each has. Workers never block and never lock: each
// polls one generation number once per loop iteration (an acquire load) and, when it moved,
// erases the keys from its own caches and acknowledges on its own cache line.
//
// One request at a time: the keys are written before the generation is published and not
// touched again until every participant acknowledged it, so a participant reads them unraced. A
// request left unacknowledged (a stuck worker) blocks the next one rather than race with it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>

#include "dataplane/cert/verdict_cache.h"

namespace lbg::cert {

class CacheFlush {
 public:
  // More keys than this in one request: everything is forgotten (cheaper, and as correct).
  static constexpr size_t kMaxKeys = 256;

  explicit CacheFlush(uint32_t participants)
      : participants_(participants), slots_(new Slot[participants == 0 ? 1 : participants]) {}

  // Participant `i`, once per loop iteration: `apply(keys, all)` when a request is pending.
  template <class Apply>
  void poll(uint32_t i, Apply&& apply) {
    const uint64_t g = generation_.load(std::memory_order_acquire);
    Slot& s = slots_[i];
    if (s.done.load(std::memory_order_relaxed) == g) return;
    apply(std::span<const CacheKey>(keys_.get(), count_), all_);
    s.done.store(g, std::memory_order_release);
  }

  // Service thread: publishes the request and waits up to `wait` for every participant. False
  // when one did not acknowledge in time, or an earlier request is still unacknowledged (then
  // nothing was published).
  bool request(std::span<const CacheKey> keys, bool all, std::chrono::milliseconds wait) {
    const uint64_t g = generation_.load(std::memory_order_relaxed);
    if (!acknowledged(g)) return false;
    all_ = all || keys.size() > kMaxKeys;
    count_ = all_ ? 0 : keys.size();
    for (size_t k = 0; k < count_; ++k) keys_[k] = keys[k];
    generation_.store(g + 1, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!acknowledged(g + 1)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  uint32_t participants() const { return participants_; }

 private:
  bool acknowledged(uint64_t g) const {
    for (uint32_t i = 0; i < participants_; ++i) {
      if (slots_[i].done.load(std::memory_order_acquire) != g) return false;
    }
    return true;
  }

  struct alignas(64) Slot {
    std::atomic<uint64_t> done{0};
  };
  uint32_t participants_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> generation_{0};
  std::unique_ptr<CacheKey[]> keys_{new CacheKey[kMaxKeys]};
  size_t count_ = 0;
  bool all_ = false;
};

}  // namespace lbg::cert
