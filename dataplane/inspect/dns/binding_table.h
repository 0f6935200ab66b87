#pragma once

// FQDN ↔ address bindings learnt from DNS answers, shared by every worker lcore: an answer seen on
// one lcore binds an address that a flow on another lcore connects to.
//
// Fixed capacity, open addressing by address over a window of kProbeWindow slots (keyed hash, so
// an outsider who picks the addresses cannot aim them all at one window). Each slot holds one
// address and up to kNamesPerAddress names (CDN addresses serve many), each with its own expiry.
// Concurrency: every slot is a seqlock. Writers take the slot by CAS on its sequence (odd = held),
// readers copy a name and retry if the sequence moved, so a reader never sees a torn name and never
// blocks a writer. All shared words are accessed through std::atomic_ref (no data race in the C++
// memory model). A writer that cannot take a slot in a bounded spin drops the binding (counted);
// a reader that keeps losing races sees no name (counted): both only ever deny more.
//
// Full window → the slot whose newest name expires first is evicted (counted). Expiry: the caller
// passes absolute times (it clamps the TTL, see PipelineConfig::dnsTtl*); names at or past their
// expiry are invisible to anyName() and reused first.
//
// Memory: capacity × sizeof(Slot) (~1.1 KiB), zero pages from calloc, so only slots in use
// become resident. Measured (65536 slots, 30000 addresses, loaded host): anyName() ~1 µs on a hit,
// ~0.5 µs on a miss; cache misses dominate.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/telemetry/counters.h"
#include "policy/base/ip_addr.h"
#include "policy/base/result.h"

namespace lbg::inspect {

// Exported as dns_binding_<name>.
#define LBG_DNS_BINDING_COUNTERS(X)                                                         \
  X(binds, "DNS bindings written (new or refreshed)")                                       \
  X(refreshed, "DNS bindings whose expiry a new answer extended")                           \
  X(replaced, "DNS bindings pushed out by a fifth name for their address")                  \
  X(evicted, "live addresses pushed out of a full DNS binding window")                      \
  X(rejected, "DNS names not bound (empty or over-long)")                                   \
  X(contended, "DNS bindings not written: the writer gave up waiting for the slot")         \
  X(read_retries, "DNS binding lookups that gave up after too many concurrent writes")

LBG_DECLARE_SHARED_COUNTERS(DnsBindingCounters, "dns_binding_", LBG_DNS_BINDING_COUNTERS);

class DnsBindingTable {
 public:
  static constexpr uint32_t kNamesPerAddress = 4;
  static constexpr uint32_t kProbeWindow = 16;
  static constexpr size_t kMaxNameLength = 253;
  static constexpr uint32_t kMinCapacity = kProbeWindow;
  static constexpr uint32_t kMaxCapacity = 1u << 22;

  // One table for all workers: its counters are the relaxed atomics it always had.
  using Counters = DnsBindingCounters;

  // capacity: number of address slots, rounded up to a power of two, within
  // [kMinCapacity, kMaxCapacity].
  static Result<std::unique_ptr<DnsBindingTable>> create(uint32_t capacity);
  ~DnsBindingTable();
  DnsBindingTable(const DnsBindingTable&) = delete;
  DnsBindingTable& operator=(const DnsBindingTable&) = delete;

  // Binds `normalisedName` (lowercase, no trailing dot: DnsBinding::name) to `addr` until
  // `expiresNs`. A name already bound keeps the later of both expiries. Pass `nowNs` so that
  // expired entries are reused silently instead of being counted as evictions. False when it was
  // not written (rejected, or the slot stayed contended: both counted).
  bool bind(const IpAddr& addr, std::string_view normalisedName, uint64_t expiresNs,
            uint64_t nowNs = 0);

  // Calls f(std::string_view name) for each name bound to `addr` and not expired at `nowNs`; stops
  // when f returns true and returns whether it did. The view is a private copy, valid during the
  // call only. Wait-free for writers, bounded retries for the reader.
  template <class F>
  bool anyName(const IpAddr& addr, uint64_t nowNs, F&& f) const {
    const uint32_t home = slotOf(addr);
    char buf[kMaxNameLength];
    for (uint32_t p = 0; p < kProbeWindow; ++p) {
      const uint32_t slot = (home + p) & mask_;
      for (uint32_t i = 0; i < kNamesPerAddress; ++i) {
        size_t len = 0;
        const Read r = readName(slot, addr, i, nowNs, buf, len);
        if (r == Read::NeverUsed) return false;
        if (r == Read::OtherAddress) break;
        if (r == Read::Name && f(std::string_view(buf, len))) return true;
      }
    }
    return false;
  }

  // Calls f(const IpAddr&, std::string_view name, uint64_t expiresNs) for each name live at
  // `nowNs` in slots [cursor, cursor + budget) and returns the next cursor, 0 after the last slot
  // (a sweep in slices: the HA sync re-sends the bindings to a standby that started after them).
  // A slot whose writer keeps racing the read is skipped this time; never blocks a writer.
  template <class F>
  uint32_t walk(uint32_t cursor, uint32_t budget, uint64_t nowNs, F&& f) const {
    char buf[kMaxNameLength];
    uint32_t slot = cursor;
    for (; slot <= mask_ && slot - cursor < budget; ++slot) {
      for (uint32_t i = 0; i < kNamesPerAddress; ++i) {
        IpAddr addr;
        size_t len = 0;
        uint64_t expires = 0;
        if (readAny(slot, i, nowNs, addr, buf, len, expires)) f(addr, std::string_view(buf, len), expires);
      }
    }
    return slot > mask_ ? 0 : slot;
  }

  uint32_t capacity() const { return mask_ + 1; }
  const Counters& counters() const { return counters_; }
  // Addresses with at least one live name (walks the whole table: stats and tests only).
  size_t liveAddresses(uint64_t nowNs) const;

 private:
  struct Slot;
  enum class Read : uint8_t { NeverUsed, OtherAddress, NoName, Name };
  static constexpr uint32_t kMaxReadRetries = 64;
  static constexpr uint32_t kMaxLockSpins = 4096;

  DnsBindingTable(Slot* slots, uint32_t mask, uint64_t seed);
  uint32_t slotOf(const IpAddr& addr) const;
  Read readName(uint32_t slot, const IpAddr& addr, uint32_t index, uint64_t nowNs, char* out,
                size_t& len) const;
  // Name `index` of `slot` whatever its address, if live at `nowNs`: false otherwise.
  bool readAny(uint32_t slot, uint32_t index, uint64_t nowNs, IpAddr& addr, char* out, size_t& len,
               uint64_t& expires) const;

  Slot* slots_;
  uint32_t mask_;
  uint64_t seed_;
  mutable Counters counters_;
};

}  // namespace lbg::inspect
