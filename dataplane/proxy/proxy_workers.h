#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/worker_link.h"
#include "dataplane/telemetry/log/log_writer.h"
#include "policy/base/result.h"

namespace lbg::proxy {

// lbg-proxy's process: N workers (ProxyServer, one epoll loop each) on threads, and on the main
// thread the supervisor that owns what has one writer: the enforcement log (one hash chain), the
// counters file (the workers' counters summed), the appliance CA (read once per reload, a new
// minter posted to each worker) and the stop.
//
// Threads rather than forked processes: the log chain, the counters file and the CA reload stay
// in one process with one owner each, as with one worker, and nothing of the I/O path is shared:
// each worker has its own listeners (SO_REUSEPORT on the same ports), SSL_CTXs (algorithms fetched
// per context, OpenSSL 3.0's lock contention between threads sharing one SSL_CTX avoided), leaf
// minter, upstream sessions and ticket ring (the same keys from one seed, client_sessions.h). What
// threads still share is OpenSSL's process-wide algorithm store (read-locked lookups); a worker
// touches nothing of another and the supervisor only through WorkerLink.
class ProxyWorkers {
 public:
  // Validates the policy once, loads the CA once, opens every worker's listeners (the first one
  // picks the port when the configuration says 0, the others bind the same). `config.workers`
  // 0 means defaultWorkerCount().
  static Result<std::unique_ptr<ProxyWorkers>> create(const ProxyConfig& config);
  ~ProxyWorkers();

  uint16_t port() const { return workers_.front()->port(); }
  uint16_t transparentPort() const { return workers_.front()->transparentPort(); }
  size_t size() const { return workers_.size(); }
  // Starts the workers' threads and supervises them on the calling thread until stop(); returns
  // once every worker has finished, the log is closed and the last counters written.
  void run();
  // Async-signal-safe.
  void stop() { stop_ = 1; }
  void requestCaReload() { reloadRequested_ = 1; }
  // The counters of every worker (as last published) and the supervisor's own.
  ProxyCounters counters() const;

 private:
  ProxyWorkers() = default;
  void drainLogs();
  // Writes the counters file if they changed since the last write (or `force`).
  void writeStats(bool force);
  // Reads the CA files again (always when `force`, else only if they changed since the last
  // attempt). A pair that loads and matches gives every worker a new minter, so new connections
  // get leaves of the new CA; anything else keeps the CA in use, counted once and written to
  // stderr with why.
  void reloadCa(const char* why, bool force);

  ProxyConfig config_;
  // Before the workers: their client contexts use it until they are gone.
  std::unique_ptr<SessionIdStore> sessionIds_;
  std::vector<std::unique_ptr<WorkerLink>> links_;
  std::vector<std::unique_ptr<ProxyServer>> workers_;
  std::unique_ptr<telemetry::LogWriter> log_;
  std::vector<std::string> logBatch_;
  X509Ptr caInUse_;
  std::string caIdentity_;  // caFilesIdentity() at the last load or attempt
  ProxyCounters own_;       // the supervisor's: ca_reloads, ca_reload_failed
  ProxyCounters written_;   // what the counters file holds
  volatile std::sig_atomic_t stop_ = 0;
  volatile std::sig_atomic_t reloadRequested_ = 0;
};

// The CPUs this process may run on (sched_getaffinity: systemd's CPUAffinity=, taskset), at least 1.
int defaultWorkerCount();

}  // namespace lbg::proxy
