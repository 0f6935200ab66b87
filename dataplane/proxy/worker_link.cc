#include "dataplane/proxy/worker_link.h"

#include <iterator>

namespace lbg::proxy {

void WorkerLink::pushLogs(std::vector<std::string>& records) {
  if (records.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (logs_.empty()) {
    logs_.swap(records);
  } else {
    logs_.insert(logs_.end(), std::make_move_iterator(records.begin()),
                 std::make_move_iterator(records.end()));
  }
  records.clear();
}

void WorkerLink::publish(const ProxyCounters& counters) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_ = counters;
}

std::unique_ptr<LeafMinter> WorkerLink::takeMinter() {
  if (!minterPosted_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  minterPosted_.store(false, std::memory_order_relaxed);
  return std::move(minter_);
}

void WorkerLink::drainLogs(std::vector<std::string>& out) {
  std::vector<std::string> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(logs_);
  }
  out.insert(out.end(), std::make_move_iterator(taken.begin()), std::make_move_iterator(taken.end()));
}

ProxyCounters WorkerLink::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void WorkerLink::postMinter(std::unique_ptr<LeafMinter> minter) {
  std::lock_guard<std::mutex> lock(mu_);
  minter_ = std::move(minter);
  minterPosted_.store(true, std::memory_order_release);
}

}  // namespace lbg::proxy
