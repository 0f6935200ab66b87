#include "dataplane/inspect/dns/binding_table.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>

#include "dataplane/inspect/dns/mix.h"

namespace lbg::inspect {

namespace {
constexpr size_t kNameWords = (1 + DnsBindingTable::kMaxNameLength + 7) / 8;  // length byte + name

template <class T>
std::atomic_ref<T> at(T& v) {
  return std::atomic_ref<T>(v);
}
template <class T>
std::atomic_ref<T> at(const T& v) {
  return std::atomic_ref<T>(const_cast<T&>(v));  // loads only
}

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void addrWords(const IpAddr& a, uint64_t w[2]) {
  std::memcpy(&w[0], a.bytes.data(), 8);
  std::memcpy(&w[1], a.bytes.data() + 8, 8);
}
}  // namespace

// Plain words, only ever touched through std::atomic_ref. seq == 0: never used (ends a probe).
struct DnsBindingTable::Slot {
  uint32_t seq;
  uint32_t pad;
  uint64_t addr[2];
  uint64_t expires[kNamesPerAddress];           // 0: empty
  uint64_t name[kNamesPerAddress][kNameWords];  // byte 0: length, then the name
};

Result<std::unique_ptr<DnsBindingTable>> DnsBindingTable::create(uint32_t capacity) {
  if (capacity < kMinCapacity || capacity > kMaxCapacity) {
    return Error{"dns binding table capacity must be within " + std::to_string(kMinCapacity) +
                 ".." + std::to_string(kMaxCapacity) + ", got " + std::to_string(capacity)};
  }
  uint32_t n = kMinCapacity;
  while (n < capacity) n <<= 1;
  // calloc: large blocks come as fresh zero pages, so untouched slots cost no resident memory.
  auto* slots = static_cast<Slot*>(std::calloc(n, sizeof(Slot)));
  if (slots == nullptr) return Error{"dns binding table: out of memory"};
  std::random_device rd;
  const uint64_t seed = uint64_t(rd()) << 32 | rd();
  return std::unique_ptr<DnsBindingTable>(new DnsBindingTable(slots, n - 1, seed));
}

DnsBindingTable::DnsBindingTable(Slot* slots, uint32_t mask, uint64_t seed)
    : slots_(slots), mask_(mask), seed_(seed) {}

DnsBindingTable::~DnsBindingTable() {
  std::free(slots_);
}

uint32_t DnsBindingTable::slotOf(const IpAddr& addr) const {
  uint64_t w[2];
  addrWords(addr, w);
  return uint32_t(mix64(w[0] ^ seed_) ^ mix64(w[1] + seed_)) & mask_;
}

DnsBindingTable::Read DnsBindingTable::readName(uint32_t slot, const IpAddr& addr, uint32_t index,
                                                uint64_t nowNs, char* out, size_t& len) const {
  const Slot& s = slots_[slot];
  uint64_t want[2];
  addrWords(addr, want);
  for (uint32_t tries = 0; tries < kMaxReadRetries; ++tries) {
    const uint32_t s0 = at(s.seq).load(std::memory_order_acquire);
    if (s0 == 0) return Read::NeverUsed;
    if (s0 & 1) {
      cpuRelax();
      continue;
    }
    const bool same = at(s.addr[0]).load(std::memory_order_relaxed) == want[0] &&
                      at(s.addr[1]).load(std::memory_order_relaxed) == want[1];
    const uint64_t exp = same ? at(s.expires[index]).load(std::memory_order_relaxed) : 0;
    size_t n = 0;
    if (same && exp > nowNs) {
      uint64_t word = at(s.name[index][0]).load(std::memory_order_relaxed);
      n = word & 0xff;
      if (n > kMaxNameLength) n = kMaxNameLength;  // torn read; the sequence check rejects it
      for (size_t b = 1; b <= n; ++b) {
        if (b % 8 == 0) word = at(s.name[index][b / 8]).load(std::memory_order_relaxed);
        out[b - 1] = char(word >> (8 * (b % 8)));
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (at(s.seq).load(std::memory_order_relaxed) != s0) continue;
    if (!same) return Read::OtherAddress;
    if (exp <= nowNs || n == 0) return Read::NoName;
    len = n;
    return Read::Name;
  }
  counters_.read_retries.fetch_add(1, std::memory_order_relaxed);
  return Read::NoName;  // fail closed: an unreadable binding proves nothing
}

bool DnsBindingTable::readAny(uint32_t slot, uint32_t index, uint64_t nowNs, IpAddr& addr,
                              char* out, size_t& len, uint64_t& expires) const {
  const Slot& s = slots_[slot];
  for (uint32_t tries = 0; tries < kMaxReadRetries; ++tries) {
    const uint32_t s0 = at(s.seq).load(std::memory_order_acquire);
    if (s0 == 0) return false;
    if (s0 & 1) {
      cpuRelax();
      continue;
    }
    const uint64_t w0 = at(s.addr[0]).load(std::memory_order_relaxed);
    const uint64_t w1 = at(s.addr[1]).load(std::memory_order_relaxed);
    const uint64_t exp = at(s.expires[index]).load(std::memory_order_relaxed);
    size_t n = 0;
    if (exp > nowNs) {
      uint64_t word = at(s.name[index][0]).load(std::memory_order_relaxed);
      n = word & 0xff;
      if (n > kMaxNameLength) n = kMaxNameLength;  // torn read; the sequence check rejects it
      for (size_t b = 1; b <= n; ++b) {
        if (b % 8 == 0) word = at(s.name[index][b / 8]).load(std::memory_order_relaxed);
        out[b - 1] = char(word >> (8 * (b % 8)));
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (at(s.seq).load(std::memory_order_relaxed) != s0) continue;
    if (exp <= nowNs || n == 0) return false;
    std::memcpy(addr.bytes.data(), &w0, 8);
    std::memcpy(addr.bytes.data() + 8, &w1, 8);
    len = n;
    expires = exp;
    return true;
  }
  return false;  // kept busy by writers: the next sweep reads it
}

bool DnsBindingTable::bind(const IpAddr& addr, std::string_view name, uint64_t expiresNs,
                           uint64_t nowNs) {
  if (name.empty() || name.size() > kMaxNameLength || expiresNs == 0) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  uint64_t want[2];
  addrWords(addr, want);
  // Byte j of (length, name) goes to word j / 8, bits 8 * (j % 8): readName() unpacks the same.
  uint64_t packed[kNameWords] = {};
  packed[0] = name.size();
  for (size_t j = 1; j <= name.size(); ++j) {
    packed[j / 8] |= uint64_t(uint8_t(name[j - 1])) << (8 * (j % 8));
  }
  const size_t usedWords = (1 + name.size() + 7) / 8;
  const uint32_t home = slotOf(addr);

  // Choose the slot: the address's own, else the first never-used or fully expired one in the
  // window, else the one whose newest name expires first (evicted). Decided without the lock and
  // re-checked under it.
  for (int attempt = 0; attempt < 4; ++attempt) {
    uint32_t chosen = UINT32_MAX, victim = UINT32_MAX;
    bool own = false;
    uint64_t victimNewest = UINT64_MAX;
    for (uint32_t p = 0; p < kProbeWindow; ++p) {
      const uint32_t i = (home + p) & mask_;
      const Slot& s = slots_[i];
      if (at(s.seq).load(std::memory_order_acquire) == 0) {
        if (chosen == UINT32_MAX) chosen = i;
        break;
      }
      if (at(s.addr[0]).load(std::memory_order_relaxed) == want[0] &&
          at(s.addr[1]).load(std::memory_order_relaxed) == want[1]) {
        chosen = i;
        own = true;
        break;
      }
      uint64_t newest = 0;
      for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
        const uint64_t e = at(s.expires[k]).load(std::memory_order_relaxed);
        if (e > newest) newest = e;
      }
      if (newest <= nowNs && chosen == UINT32_MAX) chosen = i;  // expired: free for reuse
      if (newest < victimNewest) {
        victimNewest = newest;
        victim = i;
      }
    }
    const bool evicting = chosen == UINT32_MAX;
    if (evicting) chosen = victim;

    Slot& s = slots_[chosen];
    // Take the slot: CAS its sequence from even to odd.
    uint32_t seq = at(s.seq).load(std::memory_order_relaxed);
    uint32_t spins = 0;
    while ((seq & 1) || !at(s.seq).compare_exchange_weak(seq, seq + 1, std::memory_order_acquire,
                                                         std::memory_order_relaxed)) {
      if (++spins > kMaxLockSpins) {
        counters_.contended.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      cpuRelax();
      seq = at(s.seq).load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);

    const bool isOwn = seq != 0 && at(s.addr[0]).load(std::memory_order_relaxed) == want[0] &&
                       at(s.addr[1]).load(std::memory_order_relaxed) == want[1];
    if (own && !isOwn) {
      // Another writer moved the address away meanwhile: release and choose again.
      at(s.seq).store(seq + 2, std::memory_order_release);
      continue;
    }
    if (!isOwn && !evicting && seq != 0) {
      uint64_t newest = 0;
      for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
        const uint64_t e = at(s.expires[k]).load(std::memory_order_relaxed);
        if (e > newest) newest = e;
      }
      if (newest > nowNs) {
        // Another address took the free slot meanwhile: choose again.
        at(s.seq).store(seq + 2, std::memory_order_release);
        continue;
      }
    }
    int target = -1;
    if (isOwn) {
      // Same name: refresh. Else an empty or expired entry; else push out the oldest.
      uint64_t oldest = UINT64_MAX;
      int oldestAt = 0;
      for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
        const uint64_t e = at(s.expires[k]).load(std::memory_order_relaxed);
        const uint64_t first = at(s.name[k][0]).load(std::memory_order_relaxed);
        if (e != 0 && (first & 0xff) == name.size()) {
          bool equal = true;
          for (size_t w = 0; w < usedWords && equal; ++w) {
            equal = at(s.name[k][w]).load(std::memory_order_relaxed) == packed[w];
          }
          if (equal) {
            if (expiresNs > e) at(s.expires[k]).store(expiresNs, std::memory_order_relaxed);
            counters_.refreshed.fetch_add(1, std::memory_order_relaxed);
            counters_.binds.fetch_add(1, std::memory_order_relaxed);
            at(s.seq).store(seq + 2, std::memory_order_release);
            return true;
          }
        }
        if (target < 0 && e <= nowNs) target = int(k);
        if (e < oldest) {
          oldest = e;
          oldestAt = int(k);
        }
      }
      if (target < 0) {
        target = oldestAt;
        counters_.replaced.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      // A new address takes the slot: whatever it held goes.
      if (evicting) {
        uint64_t newest = 0;
        for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
          const uint64_t e = at(s.expires[k]).load(std::memory_order_relaxed);
          if (e > newest) newest = e;
        }
        if (newest > nowNs) counters_.evicted.fetch_add(1, std::memory_order_relaxed);
      }
      at(s.addr[0]).store(want[0], std::memory_order_relaxed);
      at(s.addr[1]).store(want[1], std::memory_order_relaxed);
      for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
        at(s.expires[k]).store(0, std::memory_order_relaxed);
      }
      target = 0;
    }
    for (size_t w = 0; w < kNameWords; ++w) {
      at(s.name[target][w]).store(w < usedWords ? packed[w] : 0, std::memory_order_relaxed);
    }
    at(s.expires[target]).store(expiresNs, std::memory_order_relaxed);
    counters_.binds.fetch_add(1, std::memory_order_relaxed);
    at(s.seq).store(seq + 2, std::memory_order_release);
    return true;
  }
  counters_.contended.fetch_add(1, std::memory_order_relaxed);
  return false;
}

size_t DnsBindingTable::liveAddresses(uint64_t nowNs) const {
  size_t live = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    const Slot& s = slots_[i];
    for (uint32_t k = 0; k < kNamesPerAddress; ++k) {
      if (at(s.expires[k]).load(std::memory_order_relaxed) > nowNs) {
        ++live;
        break;
      }
    }
  }
  return live;
}

}  // namespace lbg::inspect
