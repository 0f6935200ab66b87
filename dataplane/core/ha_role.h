#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace lbg::dataplane {

// The role of one box of an active/standby pair (ARCHITECTURE.md "Redundancy"). Mastership is
// decided outside the gateway (keepalived, VRRP); the gateway only obeys: an active box forwards
// as a single gateway does, a standby forwards nothing in either direction (no loops while both
// boxes see the same segments, and never fail-open).
enum class HaRole : uint8_t { Active, Standby };

constexpr std::string_view toString(HaRole r) {
  return r == HaRole::Active ? "active" : "standby";
}
constexpr std::optional<HaRole> parseHaRole(std::string_view s) {
  if (s == toString(HaRole::Active)) return HaRole::Active;
  if (s == toString(HaRole::Standby)) return HaRole::Standby;
  return std::nullopt;
}

// The role as the workers see it. The service thread writes it; each worker reads it once per
// loop iteration (one acquire load, a plain load on x86; never per packet) and acknowledges what
// it read together with a heartbeat (two stores to its own cache line; no lock, no syscall).
// set() returns once every running worker has acknowledged the new role: after it, no worker
// forwards under the old one, which is what keepalived's notify script must be able to rely on
// before the peer starts forwarding.
class HaRoleSwitch {
 public:
  HaRoleSwitch(HaRole initial, uint32_t workers);

  // Worker `index`, at the top of its loop: the role for this iteration.
  HaRole workerRole(uint32_t index, uint64_t nowNs) {
    const auto r = role_.load(std::memory_order_acquire);
    Slot& s = slots_[index];
    s.seen.store(r, std::memory_order_release);
    s.beatNs.store(nowNs, std::memory_order_relaxed);
    return static_cast<HaRole>(r);
  }
  // Worker `index` has left its loop: it no longer forwards, and no longer acknowledges.
  void workerStopped(uint32_t index) { slots_[index].stopped.store(true, std::memory_order_release); }

  HaRole role() const { return static_cast<HaRole>(role_.load(std::memory_order_acquire)); }
  // Service thread: switches the role and waits up to `wait` for every running worker to
  // acknowledge it. False when one did not (a stuck worker: the gateway is unhealthy anyway).
  bool set(HaRole r, std::chrono::milliseconds wait);
  // The last heartbeat of worker `index` (0: it never ran an iteration).
  uint64_t lastBeatNs(uint32_t index) const {
    return slots_[index].beatNs.load(std::memory_order_relaxed);
  }
  bool stopped(uint32_t index) const { return slots_[index].stopped.load(std::memory_order_acquire); }
  uint32_t workers() const { return workers_; }

 private:
  struct alignas(64) Slot {
    std::atomic<uint8_t> seen{0};
    std::atomic<bool> stopped{false};
    std::atomic<uint64_t> beatNs{0};
  };
  std::atomic<uint8_t> role_;
  uint32_t workers_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace lbg::dataplane
