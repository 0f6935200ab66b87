#pragma once

// The per-lcore flow table: bucketised open addressing with two candidate buckets per key
// ("two-choice" hashing), 8 slots per bucket. A bucket's 8 signatures (the key hashes) sit in one
// 32-byte array, so a lookup compares at most 16 integers and touches at most two full keys.
//
// Bounded by construction: all memory is reserved at create(); insert() never allocates.
//
// Embryonic partition (table-exhaustion protection): every new entry starts embryonic (TCP
// without a completed handshake, UDP never answered: what a flood creates) and is kept on a list
// in insertion order until settle() says it grew up. At most `embryonicMax` entries are embryonic:
// inserting one more first evicts the oldest embryonic entry. When both candidate buckets are
// full, one entry moves to its other bucket if it can (one cuckoo step); otherwise the victim is
// an entry past its idle timeout, else the least recently seen embryonic one of the 16
// candidates. A grown-up (established, answered) entry is never evicted for a new one: when all
// 16 candidates are grown up and live, insert() refuses (nullptr, counted `refused`).
// Denied flows get no preference: an evicted denial would let its connection be judged afresh.
// The caller learns of an eviction through onEvict() before the slot is reused; it is counted.
//
// Not thread-safe: one table per worker lcore.

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/flow_meta.h"
#include "dataplane/flow/flow_table_counters.h"
#include "dataplane/flow/huge_array.h"
#include "dataplane/flow/prefetch.h"
#include "dataplane/flow/tcp_normalizer.h"
#include "dataplane/flow/tcp_tracker.h"
#include "policy/base/result.h"

namespace lbg::flow {

template <class Payload>
class FlowTable {
  static_assert(std::is_trivially_copyable_v<Payload>, "Payload is zeroed and copied as bytes");

 public:
  static constexpr uint32_t kWays = 8;
  static constexpr uint32_t kMaxCapacity = 1u << 28;

  // Cache-line aligned, so that the hot fields (key, hash and FlowMeta: the first kHotBytes) are
  // exactly two lines; the owner's Payload (inspection state, ids) follows.
  struct alignas(64) Entry {
    FlowKey key;
    uint32_t hash;
    StreamGuard guard;  // the stream normaliser's ring (tcp_normalizer.h), in the hole before meta
    FlowMeta meta;
    Payload user;
  };
  static constexpr size_t kHotBytes = 128;
  static_assert(offsetof(Entry, user) <= kHotBytes, "the per-packet fields fit two cache lines");

  // Declared once in flow_table_counters.h; per table (per lcore), plain words.
  FlowTableCounters counters;

  // `capacity` is rounded up to a power of two (at least 16). `embryonicMax`: how many entries
  // may be embryonic at once (0: the whole table).
  static Result<std::unique_ptr<FlowTable>> create(uint32_t capacity,
                                                   const Timeouts& timeouts = {},
                                                   uint32_t embryonicMax = 0) {
    if (capacity == 0 || capacity > kMaxCapacity) {
      return Error{"flow table: capacity must be 1.." + std::to_string(kMaxCapacity)};
    }
    uint32_t slots = 2 * kWays;
    while (slots < capacity) slots <<= 1;
    try {
      return std::unique_ptr<FlowTable>(
          new FlowTable(slots, timeouts, embryonicMax == 0 || embryonicMax > slots ? slots
                                                                                   : embryonicMax));
    } catch (const std::bad_alloc&) {
      return Error{"flow table: cannot reserve memory for " + std::to_string(slots) + " flows"};
    }
  }

  // Burst pipelining (DPDK style): prefetch() the two candidate signature buckets of every packet
  // of a burst first, then prefetchEntry() the hot lines of the slot whose signature matches, then
  // find(): by the time a packet is processed its entry is in cache instead of costing two misses
  // in a row.
  void prefetch(uint32_t hash) const {
    flow::prefetch(&sigs_[primary(hash)]);
    flow::prefetch(&sigs_[secondary(hash)]);
  }
  void prefetchEntry(uint32_t hash) const {
    const uint32_t sig = signature(hash);
    const uint32_t b[2] = {primary(hash), secondary(hash)};
    for (uint32_t bi : b) {
      if (const uint32_t m = matches(sigs_[bi], sig); m != 0) {
        const char* p =
            reinterpret_cast<const char*>(&entries_[bi * kWays + uint32_t(__builtin_ctz(m))]);
        for (size_t off = 0; off < kHotBytes; off += 64) flow::prefetch(p + off);
        return;
      }
    }
  }

  Entry* find(const FlowKey& key, uint32_t hash) {
    const uint32_t sig = signature(hash);
    const uint32_t b[2] = {primary(hash), secondary(hash)};
    for (uint32_t bi : b) {
      for (uint32_t m = matches(sigs_[bi], sig); m != 0; m &= m - 1) {
        Entry& e = entries_[bi * kWays + uint32_t(__builtin_ctz(m))];
        if (e.key == key) return &e;
      }
    }
    return nullptr;
  }

  // Inserts a zero-initialised, embryonic entry for `key` (which the caller checked is absent)
  // with lastSeenNs set to nowNs. `onEvict(Entry&)` runs first when a slot had to be taken from
  // another flow (the oldest embryonic one when the partition is full, or a candidate). May move
  // one other entry to its alternative bucket: pointers to entries other than the returned one
  // are invalid after insert(). Returns nullptr when the only candidates are grown-up live flows.
  template <class F>
  Entry* insert(const FlowKey& key, uint32_t hash, uint64_t nowNs, F&& onEvict) {
    if (embryonic_ >= embryonicMax_) {
      // The partition is full: the oldest embryonic entry goes, whatever bucket it is in.
      const uint32_t oldest = embHead_;
      onEvict(entries_[oldest]);
      ++counters.embryonic_evicted;
      release(oldest);
    }
    const uint32_t b[2] = {primary(hash), secondary(hash)};
    // The emptier bucket of the two keeps both from filling early.
    uint32_t freeSlot = UINT32_MAX;
    uint32_t freeCount[2] = {0, 0};
    uint32_t firstFree[2] = {UINT32_MAX, UINT32_MAX};
    for (int k = 0; k < 2; ++k) {
      for (uint32_t i = 0; i < kWays; ++i) {
        if (sigs_[b[k]].s[i] == 0) {
          if (firstFree[k] == UINT32_MAX) firstFree[k] = b[k] * kWays + i;
          ++freeCount[k];
        }
      }
    }
    if (freeCount[0] + freeCount[1] > 0) {
      freeSlot = freeCount[1] > freeCount[0] ? firstFree[1] : firstFree[0];
    } else if ((freeSlot = relocateOne(b)) != UINT32_MAX) {
      ++counters.relocated;
    } else if ((freeSlot = chooseVictim(b, nowNs)) != UINT32_MAX) {
      onEvict(entries_[freeSlot]);
      ++counters.evicted;
      release(freeSlot);
    } else {
      ++counters.refused;
      return nullptr;
    }
    Entry& e = entries_[freeSlot];
    std::memset(static_cast<void*>(&e), 0, sizeof(Entry));
    e.key = key;
    e.hash = hash;
    e.meta.lastSeenNs = nowNs;
    e.meta.embryonic = true;
    linkTail(freeSlot);
    sigs_[freeSlot / kWays].s[freeSlot % kWays] = signature(hash);
    ++size_;
    ++counters.inserted;
    return &e;
  }

  // The flow grew up (handshake completed and answered, or a UDP answer): it leaves the embryonic
  // partition and is no longer evicted for new flows. One bit test for an entry that already left.
  void settle(Entry& e) {
    if (!e.meta.embryonic) return;
    e.meta.embryonic = false;
    unlink(uint32_t(&e - entries_.data()));
  }
  // settle() once the entry's state says it grew up: TCP Established (or closing after it) and
  // answered, UDP answered.
  void noteProgress(Entry& e) {
    if (e.meta.embryonic && grownUp(e)) settle(e);
  }
  static bool grownUp(const Entry& e) {
    if (e.meta.pkts[1] == 0) return false;
    if (e.key.proto != 6) return true;
    return e.meta.tcpState == TcpState::Established || e.meta.tcpState == TcpState::FinWait ||
           e.meta.tcpState == TcpState::Closing;
  }

  void erase(Entry* e) {
    const uint32_t idx = uint32_t(e - entries_.data());
    if (sigs_[idx / kWays].s[idx % kWays] == 0) return;  // erasing twice must not corrupt size()
    release(idx);
    ++counters.erased;
  }

  // Ages out idle entries incrementally: looks at `budget` slots from a moving cursor, so a full
  // sweep of the table takes capacity/budget calls and no call costs more than `budget` checks.
  template <class F>
  void expire(uint64_t nowNs, uint32_t budget, F&& onExpire) {
    for (uint32_t n = 0; n < budget && n < capacity_; ++n) {
      const uint32_t idx = cursor_;
      cursor_ = (cursor_ + 1) & (capacity_ - 1);
      uint32_t& s = sigs_[idx / kWays].s[idx % kWays];
      if (s == 0) continue;
      Entry& e = entries_[idx];
      if (!idle(e, nowNs)) continue;
      onExpire(e);
      release(idx);
      ++counters.expired;
    }
  }

  template <class F>
  void forEach(F&& f) const {
    for (uint32_t idx = 0; idx < capacity_; ++idx) {
      if (sigs_[idx / kWays].s[idx % kWays] != 0) f(static_cast<const Entry&>(entries_[idx]));
    }
  }

  // Bounded walk for listings: looks at up to `budget` slots from `from` (a slot index), calls
  // f(entry) for each live one until f returns false, and returns the slot to resume from
  // (capacity() when the walk is complete). Entries may move or go between calls, so a walk
  // spread over several calls is best effort: an entry moved by insert() may be seen twice or
  // not at all.
  template <class F>
  uint32_t walk(uint32_t from, uint32_t budget, F&& f) const {
    uint32_t idx = from;
    for (uint32_t n = 0; n < budget && idx < capacity_; ++n, ++idx) {
      if (sigs_[idx / kWays].s[idx % kWays] == 0) continue;
      if (!f(static_cast<const Entry&>(entries_[idx]))) return idx + 1;
    }
    return idx;
  }

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t embryonic() const { return embryonic_; }
  uint32_t embryonicMax() const { return embryonicMax_; }
  const Timeouts& timeouts() const { return timeouts_; }

 private:
  struct alignas(32) Signatures {
    uint32_t s[kWays];  // 0 = free slot
  };

  // The embryonic list's links, beside the entries (not in them: the entry's four lines are
  // full), indexed by slot. Only the links of embryonic entries are meaningful.
  struct Link {
    uint32_t prev, next;
  };
  static constexpr uint32_t kNil = UINT32_MAX;

  FlowTable(uint32_t slots, const Timeouts& timeouts, uint32_t embryonicMax)
      : capacity_(slots),
        bucketMask_(slots / kWays - 1),
        embryonicMax_(embryonicMax),
        timeouts_(timeouts),
        sigs_(slots / kWays),
        entries_(slots),
        links_(slots) {}

  // Frees a live slot: its signature, its place on the embryonic list, the size.
  void release(uint32_t idx) {
    if (entries_[idx].meta.embryonic) {
      entries_[idx].meta.embryonic = false;
      unlink(idx);
    }
    sigs_[idx / kWays].s[idx % kWays] = 0;
    --size_;
  }
  void linkTail(uint32_t idx) {
    links_[idx] = Link{embTail_, kNil};
    if (embTail_ != kNil) {
      links_[embTail_].next = idx;
    } else {
      embHead_ = idx;
    }
    embTail_ = idx;
    ++embryonic_;
  }
  void unlink(uint32_t idx) {
    const Link l = links_[idx];
    if (l.prev != kNil) {
      links_[l.prev].next = l.next;
    } else {
      embHead_ = l.next;
    }
    if (l.next != kNil) {
      links_[l.next].prev = l.prev;
    } else {
      embTail_ = l.prev;
    }
    --embryonic_;
  }
  // An embryonic entry moved from slot `from` to `to`: its neighbours point at the new slot.
  void moveLink(uint32_t from, uint32_t to) {
    const Link l = links_[from];
    links_[to] = l;
    if (l.prev != kNil) {
      links_[l.prev].next = to;
    } else {
      embHead_ = to;
    }
    if (l.next != kNil) {
      links_[l.next].prev = to;
    } else {
      embTail_ = to;
    }
  }

  static uint32_t signature(uint32_t hash) { return hash | 1; }  // never 0

  // Bit i set when slot i of the bucket holds `sig`: the eight compares at once, so that a lookup
  // does not mispredict a loop exit at a random slot (the same slots, in the same order, as
  // comparing one by one).
  static uint32_t matches(const Signatures& b, uint32_t sig) {
#if defined(__SSE2__)
    const __m128i want = _mm_set1_epi32(int(sig));
    const __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.s)), want);
    const __m128i hi =
        _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.s + 4)), want);
    return uint32_t(_mm_movemask_ps(_mm_castsi128_ps(lo))) |
           uint32_t(_mm_movemask_ps(_mm_castsi128_ps(hi))) << 4;
#else
    uint32_t m = 0;
    for (uint32_t i = 0; i < kWays; ++i) m |= uint32_t(b.s[i] == sig) << i;
    return m;
#endif
  }
  uint32_t primary(uint32_t hash) const { return hash & bucketMask_; }
  uint32_t secondary(uint32_t hash) const {
    // Derived from the high bits so that keys sharing a primary bucket spread out.
    const uint32_t alt = ((hash >> 16) ^ (hash * 0x9e3779b1u)) & bucketMask_;
    return alt == primary(hash) ? alt ^ 1 : alt;
  }

  uint32_t freeIn(uint32_t bucket) const {
    for (uint32_t i = 0; i < kWays; ++i) {
      if (sigs_[bucket].s[i] == 0) return bucket * kWays + i;
    }
    return UINT32_MAX;
  }

  // One cuckoo step: moves an entry of a full candidate bucket to its own other bucket when that
  // has room, and returns the slot it left. Greedy two-choice alone overflows buckets from about
  // 80 % load; with this step the table fills to well over 90 % before anything is evicted.
  uint32_t relocateOne(const uint32_t b[2]) {
    for (int k = 0; k < 2; ++k) {
      for (uint32_t i = 0; i < kWays; ++i) {
        const uint32_t from = b[k] * kWays + i;
        const uint32_t h = entries_[from].hash;
        const uint32_t other = primary(h) == b[k] ? secondary(h) : primary(h);
        const uint32_t to = freeIn(other);
        if (to == UINT32_MAX) continue;
        std::memcpy(static_cast<void*>(&entries_[to]), &entries_[from], sizeof(Entry));
        if (entries_[to].meta.embryonic) moveLink(from, to);
        sigs_[other].s[to % kWays] = sigs_[b[k]].s[i];
        sigs_[b[k]].s[i] = 0;
        return from;
      }
    }
    return UINT32_MAX;
  }

  bool idle(const Entry& e, uint64_t nowNs) const {
    return nowNs >= e.meta.lastSeenNs &&
           nowNs - e.meta.lastSeenNs >= timeoutFor(e.meta, e.key.proto, timeouts_);
  }

  // Idle first, then the least recently seen embryonic entry; UINT32_MAX when every candidate
  // is a live grown-up flow (never evicted for a new one).
  uint32_t chooseVictim(const uint32_t b[2], uint64_t nowNs) const {
    uint32_t best = UINT32_MAX;
    int bestClass = 2;
    uint64_t bestSeen = UINT64_MAX;
    for (int k = 0; k < 2; ++k) {
      for (uint32_t i = 0; i < kWays; ++i) {
        const uint32_t idx = b[k] * kWays + i;
        const Entry& e = entries_[idx];
        const int cls = idle(e, nowNs) ? 0 : (e.meta.embryonic ? 1 : 2);
        if (cls == 2) continue;
        if (cls < bestClass || (cls == bestClass && e.meta.lastSeenNs < bestSeen)) {
          best = idx;
          bestClass = cls;
          bestSeen = e.meta.lastSeenNs;
        }
      }
    }
    return best;
  }

  uint32_t capacity_;
  uint32_t bucketMask_;
  uint32_t embryonicMax_;
  uint32_t size_ = 0;
  uint32_t cursor_ = 0;
  uint32_t embryonic_ = 0;
  uint32_t embHead_ = kNil, embTail_ = kNil;  // oldest and newest embryonic entry
  Timeouts timeouts_;
  HugeArray<Signatures> sigs_;
  HugeArray<Entry> entries_;
  HugeArray<Link> links_;
};

}  // namespace lbg::flow
