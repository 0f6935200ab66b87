#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/proxy/leaf_minter.h"
#include "dataplane/proxy/proxy_counters.h"

namespace lbg::proxy {

// All a worker (ProxyServer, one thread) shares with the supervisor (ProxyWorkers, the main
// thread): its log records and counters go out, a new leaf minter (CA reload) and the stop request
// come in. The log writer is one hash chain with one writer (dataplane/telemetry/log), so records
// travel to the supervisor instead of being written by each worker. The mutex is the worker's own
// and is taken once per loop iteration that logged something (the batch is moved, not copied),
// once per counter publication (every half second) and by the supervisor's drain (every 100 ms):
// never per byte or per handshake step, and never contended by another worker.
class WorkerLink {
 public:
  // Worker side.
  // Moves `records` (emptied) to the supervisor.
  void pushLogs(std::vector<std::string>& records);
  void publish(const ProxyCounters& counters);
  // The minter the supervisor posted since the last call, else nullptr (an atomic load when none).
  std::unique_ptr<LeafMinter> takeMinter();
  bool stopRequested() const { return stop_.load(std::memory_order_relaxed); }

  // Supervisor side.
  // Appends the records pushed since the last drain to `out`.
  void drainLogs(std::vector<std::string>& out);
  ProxyCounters counters() const;
  void postMinter(std::unique_ptr<LeafMinter> minter);
  void requestStop() { stop_.store(true, std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> logs_;
  ProxyCounters counters_;
  std::unique_ptr<LeafMinter> minter_;
  std::atomic<bool> minterPosted_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace lbg::proxy
