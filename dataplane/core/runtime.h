#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/core/control_api.h"
#include "dataplane/core/event_sink.h"
#include "dataplane/core/flow_steer.h"
#include "dataplane/core/gateway_config.h"
#include "dataplane/core/ha_role.h"
#include "dataplane/core/mbuf_pool.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/port_counters.h"
#include "dataplane/core/snapshot_slot.h"
#include "dataplane/flow/flow_dump.h"
#include "dataplane/inspect/dns/binding_table.h"

struct rte_mempool;
struct rte_mbuf;
struct rte_ring;

namespace lbg::dataplane {

// The live gateway: two DPDK ports (inside, outside), one pipeline per worker lcore polling queue
// i of both ports, and the service thread on the main lcore (event log, control, housekeeping).
// The EAL must be initialised (with the ports' vdev/allow arguments) before create().
class GatewayRuntime : public ControlApi {
 public:
  static Result<std::unique_ptr<GatewayRuntime>> create(const GatewayConfig& config,
                                                        std::shared_ptr<const policy::Snapshot> policy,
                                                        EventSink& log);
  ~GatewayRuntime() override;

  // Launches the workers and runs the service loop on the calling (main) lcore until stop().
  // `serviceTick` runs about every millisecond on the service thread (control server poll, log
  // writer tick); it must not block for long.
  Result<Ok> run(const std::function<void(uint64_t nowNs)>& serviceTick);
  void stop() { stop_.store(true, std::memory_order_relaxed); }

  // Counters of all workers summed, as "name value" lines (exit report).
  void printCounters(std::FILE* out) const;

  // Counters kept outside the workers (the enforcement log writer's lost records, ...), appended
  // to counters(); called on the service thread, like everything the source reads.
  void setServiceCounters(std::function<void(std::vector<Counter>&)> source) {
    serviceCounters_ = std::move(source);
  }

  // ControlApi
  Result<Ok> publish(std::shared_ptr<const policy::Snapshot> snapshot) override;
  std::shared_ptr<const policy::Snapshot> current() const override { return slot_.current(); }
  std::vector<Counter> counters() const override;
  std::vector<std::string> flows(size_t limit) const override;
  std::vector<CertRow> certs(const CertSelector& selector, size_t limit) const override;
  Result<size_t> flushCerts(const CertSelector& selector) override;
  ids::RuleCostReport idsRuleCosts(size_t limit) const override;
  Result<std::vector<std::string>> replayVerdicts(std::shared_ptr<const policy::Snapshot> snapshot,
                                                  const std::string& capturePath) override;
  Result<std::vector<std::string>> replayAlerts(std::shared_ptr<const policy::Snapshot> snapshot,
                                                const std::string& capturePath,
                                                size_t maxEvents) override;
  void logEvent(const std::string& jsonObject) override { log_.write(jsonObject); }
  HaRole haRole() const override { return ha_.role(); }
  bool haConfigured() const override { return config_.haConfigured; }
  Result<Ok> setHaRole(HaRole role) override;
  std::vector<std::string> healthProblems() const override;
  HaSyncInfo haSync() const override;

  // Whether the enforcement log can take records (its writer not in alarm); set by main when the
  // log is the sealed one. Called on the service thread by healthProblems().
  void setLogHealthy(std::function<bool()> healthy) { logHealthy_ = std::move(healthy); }

  uint64_t nowNs() const;

  // After a takeover, once every worker sent its learning frames (Pipeline::serviceLearn): the
  // hosts announced and the frames sent, summed over the workers; once per takeover (the service
  // thread logs it as one `ha.learn` record). Service thread only.
  struct LearnReport {
    uint64_t hosts = 0, frames = 0;
  };
  std::optional<LearnReport> takeLearnReport();

 private:
  GatewayRuntime(const GatewayConfig& config, std::shared_ptr<const policy::Snapshot> policy,
                 EventSink& log);
  // Sets up one port with a queue per worker; `rss` says whether the port spreads flows itself.
  Result<Ok> setupPort(uint16_t port, const char* role, bool& rss);
  // runtime_steer.cc: with several workers, which frames a worker hands to the flow's owner.
  Result<Ok> setupSteering(const bool rss[3]);
  uint16_t steerAway(uint32_t index, rte_mbuf** burst, uint16_t got, PortCounters& counters);
  void processSteered(uint32_t index, Pipeline& p, uint64_t now, TxSink& tx, bool standby,
                      PortCounters& counters);
  static int workerMain(void* arg);
  void workerLoop(uint32_t index);
  void drainAllEvents();

  // Flow listings are copied by each worker a few slots per loop iteration (the tables are
  // lcore-private) into memory reserved by the service thread: a listing never stalls a worker,
  // however large its table (flow/flow_dump.h).
  using FlowDump = flow::FlowDump<Pipeline::Table>;
  static constexpr uint32_t kFlowDumpSlotsPerIteration = 1024;
  mutable std::vector<std::unique_ptr<FlowDump>> dumps_;

  GatewayConfig config_;
  EventSink& log_;
  SnapshotSlot slot_;
  std::unique_ptr<inspect::DnsBindingTable> dns_;
  std::unique_ptr<PacketPool> packetPool_;  // outlives the ports' queues and the pipelines
  rte_mempool* pool_ = nullptr;
  uint16_t ports_[3] = {0, 0, 0};  // indexed by PortRole
  int portCount_ = 2;               // 3 with the exception port
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  // Several workers: the owner of each flow as the ports spread them (flow_steer.h), the ports
  // whose frames are steered in software (the exception port; ports without RSS), and each
  // worker's ring of frames handed to it (multi-producer, its own single consumer).
  std::unique_ptr<FlowSteering> steering_;
  bool steerRx_[3] = {false, false, false};
  std::vector<rte_ring*> steerRings_;
  // After pipelines_, so destroyed first: its thread stops before the request pools it may still
  // be answering (in the pipelines) go away. The pipelines no longer use it by then.
  std::unique_ptr<cert::Verifier> verifier_;
  // One per worker, written by its PortTxSink only (own allocation: no false sharing).
  std::vector<std::unique_ptr<PortCounters>> portCounters_;
  HaRoleSwitch ha_;
  std::unique_ptr<ha::FlowSync> sync_;  // null without ha.sync
  uint32_t learnReported_ = 0;  // takeovers reported by takeLearnReport()
  std::function<bool()> logHealthy_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> workersRunning_{0};
  uint64_t tscHz_ = 0;
  uint64_t tscBase_ = 0;
  uint64_t realtimeBaseNs_ = 0;
  std::string scratch_;
  std::function<void(std::vector<Counter>&)> serviceCounters_;
};

}  // namespace lbg::dataplane
