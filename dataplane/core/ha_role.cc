#include "dataplane/core/ha_role.h"

#include <thread>

namespace lbg::dataplane {

HaRoleSwitch::HaRoleSwitch(HaRole initial, uint32_t workers)
    : role_(static_cast<uint8_t>(initial)), workers_(workers), slots_(new Slot[workers]) {
  // Until a worker runs its first iteration it forwards nothing, so it has "seen" the start role.
  for (uint32_t i = 0; i < workers; ++i) slots_[i].seen.store(static_cast<uint8_t>(initial));
}

bool HaRoleSwitch::set(HaRole r, std::chrono::milliseconds wait) {
  const auto want = static_cast<uint8_t>(r);
  role_.store(want, std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    bool all = true;
    for (uint32_t i = 0; i < workers_; ++i) {
      all &= slots_[i].stopped.load(std::memory_order_acquire) ||
             slots_[i].seen.load(std::memory_order_acquire) == want;
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace lbg::dataplane
