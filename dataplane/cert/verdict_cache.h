#pragma once

// A worker's bounded cache of certificate verdicts, keyed by the SHA-256 of (certificate list,
// SNI, the service's pins) (cache_key.h): a later flow presenting the same chain for the same
// name is judged on the worker without asking the verifier. Fixed size, set-associative
// (kWays entries per set); a full set replaces its entry closest to expiry. Worker-only: no locks.
// Hot path: no allocation after construction.

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dataplane/cert/chain_check.h"

namespace lbg::cert {

using CacheKey = std::array<uint8_t, 32>;

class VerdictCache {
 public:
  static constexpr uint32_t kWays = 4;

  // `entries` is rounded up to a power of two, at least kWays.
  explicit VerdictCache(uint32_t entries) {
    uint32_t n = kWays;
    while (n < entries && n < (1u << 30)) n <<= 1;
    capacity_ = n;
    slots_.reset(new Slot[n]);
  }

  // True and `out` set on a live entry; an expired one is dropped and reported as a miss.
  bool find(const CacheKey& key, uint64_t nowNs, Refusal& out) {
    Slot* set = setOf(key);
    for (uint32_t i = 0; i < kWays; ++i) {
      Slot& s = set[i];
      if (s.expiresNs == 0 || s.key != key) continue;
      if (s.expiresNs <= nowNs) {
        s.expiresNs = 0;
        --size_;
        return false;
      }
      out = s.verdict;
      return true;
    }
    return false;
  }

  // Stores (or refreshes) a verdict; true when a live entry of another key had to be displaced.
  bool insert(const CacheKey& key, Refusal verdict, uint64_t expiresNs, uint64_t nowNs) {
    Slot* set = setOf(key);
    Slot* victim = nullptr;
    for (uint32_t i = 0; i < kWays; ++i) {
      Slot& s = set[i];
      if (s.expiresNs != 0 && s.key == key) {
        s.verdict = verdict;
        s.expiresNs = expiresNs;
        return false;
      }
      if (s.expiresNs != 0 && s.expiresNs <= nowNs) {  // expired: free for reuse
        s.expiresNs = 0;
        --size_;
      }
      if (s.expiresNs == 0) {
        if (victim == nullptr || victim->expiresNs != 0) victim = &s;
      } else if (victim == nullptr || (victim->expiresNs != 0 && s.expiresNs < victim->expiresNs)) {
        victim = &s;
      }
    }
    const bool displaced = victim->expiresNs != 0;
    if (!displaced) ++size_;
    victim->key = key;
    victim->verdict = verdict;
    victim->expiresNs = expiresNs == 0 ? 1 : expiresNs;
    return displaced;
  }

  // Forgets `key` (`lbgctl certs flush`): its next flow is checked again. True if it was there.
  bool erase(const CacheKey& key) {
    Slot* set = setOf(key);
    for (uint32_t i = 0; i < kWays; ++i) {
      if (set[i].expiresNs != 0 && set[i].key == key) {
        set[i].expiresNs = 0;
        --size_;
        return true;
      }
    }
    return false;
  }
  void clear() {
    for (uint32_t i = 0; i < capacity_; ++i) slots_[i].expiresNs = 0;
    size_ = 0;
  }

  // Calls f(const CacheKey&, Refusal, uint64_t expiresNs) for each entry live at `nowNs` in
  // slots [cursor, cursor + budget); returns the next cursor, 0 after the last slot (the HA sync
  // re-sends the verdicts to a standby that started after them, a slice per loop iteration).
  template <class F>
  uint32_t walk(uint32_t cursor, uint32_t budget, uint64_t nowNs, F&& f) const {
    uint32_t i = cursor;
    for (; i < capacity_ && i - cursor < budget; ++i) {
      const Slot& s = slots_[i];
      if (s.expiresNs > nowNs) f(s.key, s.verdict, s.expiresNs);
    }
    return i >= capacity_ ? 0 : i;
  }

  uint32_t capacity() const { return capacity_; }
  uint32_t size() const { return size_; }

 private:
  struct Slot {
    CacheKey key{};
    uint64_t expiresNs = 0;  // 0: empty
    Refusal verdict = Refusal::None;
  };
  Slot* setOf(const CacheKey& key) {
    uint32_t h;
    std::memcpy(&h, key.data(), sizeof(h));  // a SHA-256: any 32 bits are uniform
    return &slots_[(h & (capacity_ / kWays - 1)) * kWays];
  }

  std::unique_ptr<Slot[]> slots_;
  uint32_t capacity_ = 0;
  uint32_t size_ = 0;
};

}  // namespace lbg::cert
