#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/api.h"
#include "control/dispatcher.h"
#include "dataplane/core/control_api.h"
#include "policy/base/result.h"

namespace lbg::control {

struct ServerConfig {
  std::string socketPath;
  std::string rolesFile;
  std::string storeDir;
  std::string bootstrapPolicyFile;  // see Dispatcher::Config
  size_t maxRequestBytes = kDefaultMaxRequestBytes;
  size_t maxClients = 32;
  uint32_t socketMode = 0660;  // who may connect at all; roles decide what they may do
  int socketGroup = -1;        // gid to give the socket (-1: leave as created)
  int idleTimeoutMs = 60000;   // a client that sends nothing for this long is dropped
  // Prometheus: -1 = off; 0 = any free port (tests); else that port, always on 127.0.0.1 only.
  int metricsPort = -1;
  std::string metricsFile;  // also (or instead) written for node_exporter's textfile collector
  int metricsFileIntervalMs = 15000;
  int ismapWarnDays = 30;
  std::string proxyStatsFile;  // lbg-proxy's counters (control/proxy_stats.h); empty = none
  std::optional<PolicySyncConfig> policySync;  // ha.policy (control/policy_sync/); none = off
  Dispatcher::Clock clock;
};

// The control server: a Unix stream socket speaking the api.h protocol, plus the optional
// Prometheus endpoint. Single-threaded and non-blocking: the gateway's service thread calls
// poll() in its loop; nothing here ever runs on a worker lcore.
//
// Callers are identified by SO_PEERCRED (the kernel's word, not the client's), mapped to roles
// by the roles file. A client may pass a file descriptor with a request (SCM_RIGHTS), which is
// how `lbgctl policy test --pcap` hands over a capture without the daemon opening client paths.
// Limits: request size, client count, idle time; a client that does not read its answers is not
// read from either (bounded buffers).
class ControlServer {
 public:
  static Result<std::unique_ptr<ControlServer>> create(ServerConfig config,
                                                       dataplane::ControlApi& api);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Waits up to timeoutMs for activity, then accepts, reads, dispatches and writes what it can.
  void poll(int timeoutMs);

  uint16_t metricsPort() const { return metricsPort_; }
  // Problems found at start (corrupt store entries, a running policy that no longer validates).
  const std::vector<Error>& problems() const { return dispatcher_->problems(); }

 private:
  struct Conn;
  explicit ControlServer(ServerConfig config);
  Result<Ok> listenUnix();
  Result<Ok> listenMetrics();
  void acceptOn(int listenFd, bool metrics);
  void readFrom(Conn& c);
  void writeTo(Conn& c);
  void serveLines(Conn& c);
  void serveMetrics(Conn& c);
  // Reads what `c` sent (when `readable`), answers complete requests, writes pending output.
  void serve(Conn& c, bool readable);
  void closeConn(size_t index);

  ServerConfig config_;
  std::unique_ptr<Dispatcher> dispatcher_;
  int unixFd_ = -1;
  int metricsFd_ = -1;
  uint16_t metricsPort_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::chrono::steady_clock::time_point nextMetricsFile_{};
};

}  // namespace lbg::control
