#include "dataplane/core/runtime.h"
#include "dataplane/telemetry/log/vocabulary.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include "dataplane/core/replay.h"
#include "dataplane/ids/engine.h"
#include "dataplane/telemetry/event_json.h"

namespace lbg::dataplane {

namespace {

uint64_t realtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Per-worker TX staging: frames are batched per port and sent after each burst (or when full).
class PortTxSink : public TxSink {
 public:
  PortTxSink(const uint16_t* ports, uint16_t queue, PortCounters& counters)
      : ports_(ports), queue_(queue), counters_(counters) {}
  void send(PortRole out, rte_mbuf* m) override {
    auto& b = batch_[static_cast<int>(out)];
    b.mbufs[b.n++] = m;
    if (b.n == kBatch) flush(out);
  }
  // While standby, whatever the pipeline would send (released holds, resets, housekeeping) is
  // dropped and counted instead: the standby forwards nothing.
  void setStandby(bool standby) { standby_ = standby; }
  void flushAll() {
    flush(PortRole::Inside);
    flush(PortRole::Outside);
    flush(PortRole::Exception);  // nothing is sent there without the exception port
  }

 private:
  static constexpr uint16_t kBatch = 64;
  void flush(PortRole out) {
    auto& b = batch_[static_cast<int>(out)];
    if (b.n == 0) return;
    if (standby_) {
      counters_.ha_standby_dropped += b.n;
      rte_pktmbuf_free_bulk(b.mbufs, b.n);
      b.n = 0;
      return;
    }
    const uint16_t sent = rte_eth_tx_burst(ports_[static_cast<int>(out)], queue_, b.mbufs, b.n);
    if (sent < b.n) {
      counters_.tx_dropped += b.n - sent;
      for (uint16_t i = sent; i < b.n; ++i) rte_pktmbuf_free(b.mbufs[i]);
    }
    b.n = 0;
  }
  struct Batch {
    rte_mbuf* mbufs[kBatch];
    uint16_t n = 0;
  } batch_[3];
  const uint16_t* ports_;
  uint16_t queue_;
  PortCounters& counters_;
  bool standby_ = false;
};

struct WorkerArg {
  GatewayRuntime* runtime;
  uint32_t index;
};

}  // namespace

GatewayRuntime::GatewayRuntime(const GatewayConfig& config,
                               std::shared_ptr<const policy::Snapshot> policy, EventSink& log)
    : config_(config),
      log_(log),
      slot_(std::move(policy)),
      ha_(config.haStartStandby ? HaRole::Standby : HaRole::Active, config.workers) {}

GatewayRuntime::~GatewayRuntime() {
  for (int r = 0; r < portCount_; ++r) {
    rte_eth_dev_stop(ports_[r]);
    rte_eth_dev_close(ports_[r]);
  }
  for (rte_ring* ring : steerRings_) rte_ring_free(ring);
}

uint64_t GatewayRuntime::nowNs() const {
  const uint64_t cycles = rte_get_tsc_cycles() - tscBase_;
  return realtimeBaseNs_ + static_cast<uint64_t>(static_cast<__uint128_t>(cycles) * 1000000000ull /
                                                 tscHz_);
}

Result<std::unique_ptr<GatewayRuntime>> GatewayRuntime::create(
    const GatewayConfig& config, std::shared_ptr<const policy::Snapshot> policy, EventSink& log) {
  std::unique_ptr<GatewayRuntime> rt(new GatewayRuntime(config, std::move(policy), log));
  rt->tscHz_ = rte_get_tsc_hz();
  rt->tscBase_ = rte_get_tsc_cycles();
  rt->realtimeBaseNs_ = realtimeNs();

  const uint32_t workerLcores = rte_lcore_count() - 1;
  if (workerLcores < config.workers) {
    return Error{"configuration asks for " + std::to_string(config.workers) +
                 " workers but EAL has only " + std::to_string(workerLcores) +
                 " worker lcores (give -l with one more core than workers)"};
  }
  const std::string names[3] = {GatewayConfig::deviceName(config.insidePort),
                                GatewayConfig::deviceName(config.outsidePort),
                                GatewayConfig::deviceName(config.exceptionPort)};
  static const char* const kRoles[3] = {"inside", "outside", "exception"};
  rt->portCount_ = config.exceptionPort.empty() ? 2 : 3;
  for (int r = 0; r < rt->portCount_; ++r) {
    if (rte_eth_dev_get_port_by_name(names[r].c_str(), &rt->ports_[r]) != 0) {
      return Error{std::string(kRoles[r]) + " port '" + names[r] +
                   "' not found (check the vdev string or PCI address)"};
    }
  }
  const uint32_t perWorker = config.pipeline.holdSlots + 2 * config.rxBurst + 256;
  const uint32_t mbufs = config.workers * perWorker +
                         uint32_t(rt->portCount_) * config.workers * (config.rxDescriptors + config.txDescriptors) +
                         4096;
  auto pool = PacketPool::create("gw_pool", mbufs, 256, RTE_MBUF_DEFAULT_BUF_SIZE,
                                 static_cast<int>(rte_socket_id()));
  if (!pool) return pool.error();
  rt->packetPool_ = std::move(pool.value());
  rt->pool_ = rt->packetPool_->get();
  bool rss[3] = {false, false, false};
  for (int r = 0; r < rt->portCount_; ++r) {
    auto ok = rt->setupPort(rt->ports_[r], kRoles[r], rss[r]);
    if (!ok) return ok.error();
  }
  auto steer = rt->setupSteering(rss);
  if (!steer) return steer.error();
  PipelineConfig pipelineConfig = config.pipeline;
  if (rt->portCount_ == 3) {
    // Frames handed to the kernel must be addressed to the tap (net_tap gives the kernel's
    // interface the port's MAC), else the kernel drops them as meant for another host.
    rte_ether_addr mac{};
    rte_eth_macaddr_get(rt->ports_[2], &mac);
    pipelineConfig.exceptionPort = true;
    std::memcpy(pipelineConfig.exceptionMac.data(), mac.addr_bytes, 6);
  }
  auto dns = inspect::DnsBindingTable::create(1u << 16);
  if (!dns) return dns.error();
  rt->dns_ = std::move(dns.value());
  rt->slot_.setWorkerCount(config.workers);
  // The trust store is loaded once, here: an unreadable one stops the start (fail closed).
  // The probe of TLS 1.3 destinations leaves through the exception port: without it, off.
  cert::ProbeConfig probe = config.certProbe;
  probe.enabled = config.certProbeEnabled && rt->portCount_ == 3;
  pipelineConfig.probePositiveTtlNs = uint64_t(probe.positiveTtlSec) * 1000000000ull;
  pipelineConfig.probeNegativeTtlNs = uint64_t(probe.negativeTtlSec) * 1000000000ull;
  if (rt->steering_) {
    // The probe's connection must belong to the worker that asked (flow_steer.h): it picks its
    // source port by the same function the ports spread flows with.
    const FlowSteering* steering = rt->steering_.get();
    probe.workerOf = [steering](const IpAddr& client, uint16_t clientPort, const IpAddr& server,
                                uint16_t serverPort) -> uint32_t {
      return steering->queueOfTuple(client, clientPort, server, serverPort, 6);
    };
  }
  auto verifier =
      cert::Verifier::create(config.trustStore, config.workers, config.certRequests, probe);
  if (!verifier) return verifier.error();
  rt->verifier_ = std::move(verifier.value());
  pipelineConfig.certVerifier = rt->verifier_.get();
  if (config.haSync) {
    auto sync = ha::FlowSync::create(config.haSync->local, config.haSync->peer, config.haSync->key,
                                     config.workers);
    if (!sync) return sync.error();
    rt->sync_ = std::move(sync.value());
  }
  for (uint32_t i = 0; i < config.workers; ++i) {
    auto p = Pipeline::create(pipelineConfig, i, rt->slot_, *rt->dns_, rt->pool_);
    if (!p) return p.error();
    if (rt->sync_) {
      p.value()->attachSync(&rt->sync_->outbound(i), &rt->sync_->inbound(i));
      p.value()->attachCacheSync(rt->sync_->cacheRings(i));
    }
    rt->pipelines_.push_back(std::move(p.value()));
    rt->dumps_.push_back(std::make_unique<FlowDump>());
    rt->portCounters_.push_back(std::make_unique<PortCounters>());
  }
  return rt;
}

Result<Ok> GatewayRuntime::setupPort(uint16_t port, const char* role, bool& rss) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port, &info) != 0) return Error{std::string(role) + ": no device info"};
  const uint16_t queues = static_cast<uint16_t>(config_.workers);
  if (info.max_rx_queues < queues || info.max_tx_queues < queues) {
    return Error{std::string(role) + " port supports " + std::to_string(info.max_rx_queues) +
                 " queues, " + std::to_string(queues) + " workers need one each"};
  }
  rte_eth_conf conf{};
  uint8_t key[40];  // the configure call takes a mutable key
  rss = false;
  if (queues > 1) {
    const uint64_t hf = info.flow_type_rss_offloads &
                        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    // The exception port never: the kernel picks its queue (flow_steer.h, runtime_steer.cc).
    if (hf != 0 && std::strcmp(role, "exception") != 0) {
      std::memcpy(key, kSymmetricRssKey, sizeof(key));
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = key;
      conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(key);
      conf.rx_adv_conf.rss_conf.rss_hf = hf;
      rss = true;
    }
    // Without RSS (virtual devices) the frames are steered in software (runtime_steer.cc).
  }
  int rc = rte_eth_dev_configure(port, queues, queues, &conf);
  if (rc != 0) return Error{std::string(role) + ": configure failed: " + rte_strerror(-rc)};
  uint16_t rxd = config_.rxDescriptors, txd = config_.txDescriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < queues; ++q) {
    rc = rte_eth_rx_queue_setup(port, q, rxd, socket < 0 ? SOCKET_ID_ANY : socket, nullptr, pool_);
    if (rc != 0) return Error{std::string(role) + ": rx queue setup failed: " + rte_strerror(-rc)};
    rc = rte_eth_tx_queue_setup(port, q, txd, socket < 0 ? SOCKET_ID_ANY : socket, nullptr);
    if (rc != 0) return Error{std::string(role) + ": tx queue setup failed: " + rte_strerror(-rc)};
  }
  // A bump in the wire forwards every frame of the link, whatever its destination MAC.
  rte_eth_promiscuous_enable(port);
  rc = rte_eth_dev_start(port);
  if (rc != 0) return Error{std::string(role) + ": start failed: " + rte_strerror(-rc)};
  return Ok{};
}

int GatewayRuntime::workerMain(void* arg) {
  auto* w = static_cast<WorkerArg*>(arg);
  w->runtime->workerLoop(w->index);
  return 0;
}

void GatewayRuntime::workerLoop(uint32_t index) {
  Pipeline& p = *pipelines_[index];
  PortTxSink tx(ports_, static_cast<uint16_t>(index), *portCounters_[index]);
  rte_mbuf* burst[256];
  const uint16_t n = config_.rxBurst;
  const Ingress ingress[3] = {Ingress::InsidePort, Ingress::OutsidePort, Ingress::ExceptionPort};
  PortCounters& counters = *portCounters_[index];
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t now = nowNs();
    // The HA role, once per iteration (ha_role.h): a standby drains its queues and drops.
    const bool standby = ha_.workerRole(index, now) == HaRole::Standby;
    tx.setStandby(standby);
    for (int r = 0; r < portCount_; ++r) {
      uint16_t got = rte_eth_rx_burst(ports_[r], static_cast<uint16_t>(index), burst, n);
      if (got == 0) continue;
      if (standby) {
        counters.ha_standby_dropped += got;
        rte_pktmbuf_free_bulk(burst, got);
        continue;
      }
      if (steerRx_[r]) got = steerAway(index, burst, got, counters);  // others' flows handed over
      if (r == 2) counters.exception_rx += got;
      if (got != 0) p.processBurst(burst, got, ingress[r], now, tx);
    }
    if (!steerRings_.empty()) processSteered(index, p, now, tx, standby, counters);
    p.serviceCert(now, tx, false);  // the certificate verifier's answers
    p.serviceLearn(now, standby, tx);  // after a takeover: the switches learn (pipeline_learn.cc)
    tx.flushAll();
    p.housekeeping(now);
    p.serviceSync(now, standby);  // HA flow sync: install the peer's records, re-send ours
    dumps_[index]->step(p.flowTable(), kFlowDumpSlotsPerIteration);
  }
  slot_.goIdle(index);
  ha_.workerStopped(index);
  workersRunning_.fetch_sub(1);
}

void GatewayRuntime::drainAllEvents() {
  for (auto& p : pipelines_) drainEvents(*p, log_, scratch_);
}

Result<Ok> GatewayRuntime::run(const std::function<void(uint64_t)>& serviceTick) {
  std::vector<WorkerArg> args(config_.workers);
  uint32_t i = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (i == config_.workers) break;
    args[i] = WorkerArg{this, i};
    workersRunning_.fetch_add(1);
    if (rte_eal_remote_launch(&GatewayRuntime::workerMain, &args[i], lcore) != 0) {
      stop();
      rte_eal_mp_wait_lcore();
      return Error{"cannot launch worker on lcore " + std::to_string(lcore)};
    }
    ++i;
  }
  if (sync_) {
    sync_->start([this] { return ha_.role() == HaRole::Standby; }, [] { return realtimeNs(); });
  }
  while (!stop_.load(std::memory_order_relaxed)) {
    drainAllEvents();
    if (serviceTick) serviceTick(nowNs());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rte_eal_mp_wait_lcore();
  if (sync_) {
    // A box that stops (maintenance, upgrade) must not tell its peer to forget the flows it is
    // about to take over: the flows ended below are not sent.
    sync_->stop();
    for (auto& p : pipelines_) {
      p->attachSync(nullptr, nullptr);
      p->attachCacheSync({});
    }
  }
  // Workers are stopped: their tables may now be touched from here.
  for (auto& p : pipelines_) p->drainAll(nowNs());
  drainAllEvents();
  return Ok{};
}

Result<Ok> GatewayRuntime::publish(std::shared_ptr<const policy::Snapshot> snapshot) {
  if (!slot_.publish(std::move(snapshot), std::chrono::milliseconds(2000))) {
    return Error{"workers did not acknowledge the new policy within 2 s"};
  }
  return Ok{};
}

std::vector<ControlApi::Counter> GatewayRuntime::counters() const {
  // Read while workers write (see Pipeline::workerCounters()).
  WorkerCounters sum;
  for (size_t w = 0; w < pipelines_.size(); ++w) {
    WorkerCounters c = pipelines_[w]->workerCounters();
    c.port = *portCounters_[w];
    sum.add(c);
  }
  HaGauges ha;
  ha.ha_standby = ha_.role() == HaRole::Standby ? 1 : 0;
  std::vector<Counter> out = exportCounters(sum, dns_->counters().snapshot(), ha,
                                            sync_ ? sync_->counters() : ha::SyncLinkCounters::Plain{});
  if (serviceCounters_) serviceCounters_(out);
  return out;
}

void GatewayRuntime::printCounters(std::FILE* out) const {
  for (const auto& c : counters()) std::fprintf(out, "%-44s %14llu\n", c.name.c_str(),
                                                static_cast<unsigned long long>(c.value));
  if (portCounters_.size() < 2) return;
  // With several workers, each worker's loop counters too (how the steering spread the work).
  for (size_t w = 0; w < portCounters_.size(); ++w) {
    std::vector<Counter> rows;
    appendCounters(*portCounters_[w], rows);
    for (const auto& c : rows) {
      const std::string name = "worker" + std::to_string(w) + "." + c.name;
      std::fprintf(out, "%-44s %14llu\n", name.c_str(), static_cast<unsigned long long>(c.value));
    }
  }
}

ids::RuleCostReport GatewayRuntime::idsRuleCosts(size_t limit) const {
  // The engine's counters are relaxed atomics the workers add to: readable from here.
  const auto snap = slot_.current();
  if (!snap || snap->idsEngine() == nullptr) return {};
  ids::RuleCostReport r = snap->idsEngine()->ruleCosts(limit);
  r.policyVersion = snap->version();
  return r;
}

std::vector<std::string> GatewayRuntime::flows(size_t limit) const {
  std::vector<std::string> out;
  const auto snap = slot_.current();
  for (size_t w = 0; w < dumps_.size() && out.size() < limit; ++w) {
    FlowDump& d = *dumps_[w];
    if (!d.request(limit - out.size())) return out;  // an earlier listing is still unfinished
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!d.done()) {
      if (std::chrono::steady_clock::now() > deadline || stop_.load()) {
        return out;  // a worker that does not answer (stopping) lists nothing
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    d.dropDuplicates();
    for (size_t i = 0; i < d.count(); ++i) {
      const Pipeline::Entry& e = d.rows()[i];
      telemetry::Event ev;
      Pipeline::describeFlow(e, snap.get(), ev);
      ev.kind = telemetry::EventKind::FlowEnd;
      ev.timestampNs = e.meta.lastSeenNs;
      std::string json;
      telemetry::appendEventJson(ev, json);
      // A listing row, not a log record: say so, and say whether the verdict is still pending.
      const std::string phase = e.meta.verdict == Verdict::Pending ? "\"phase\":\"pending\""
                                                                   : "\"phase\":\"live\"";
      const auto at = json.find("\"phase\":\"end\"");
      if (at != std::string::npos) json.replace(at, 13, phase);
      out.push_back(std::move(json));
    }
    d.reset();
  }
  return out;
}

ControlApi::HaSyncInfo GatewayRuntime::haSync() const {
  if (!sync_) return {};
  return {sync_->localText(), sync_->peerText()};
}

std::optional<GatewayRuntime::LearnReport> GatewayRuntime::takeLearnReport() {
  // One report per takeover, once every worker finished its rounds (each worker sees every role
  // change, so each finishes one announcement per takeover).
  LearnReport r;
  uint32_t done = UINT32_MAX;
  for (const auto& p : pipelines_) {
    const auto w = p->learnReport();
    done = std::min(done, w.done);
    r.hosts += w.hosts;
    r.frames += w.frames;
  }
  if (pipelines_.empty() || done == learnReported_ || done == 0) return std::nullopt;
  learnReported_ = done;
  return r;
}

Result<Ok> GatewayRuntime::setHaRole(HaRole role) {
  if (!ha_.set(role, std::chrono::milliseconds(2000))) {
    return Error{"the role is " + std::string(toString(role)) +
                 " but a worker did not acknowledge it within 2 s"};
  }
  return Ok{};
}

std::vector<std::string> GatewayRuntime::healthProblems() const {
  // A worker polls without pause, so a heartbeat older than this is a stuck or dead loop. Not
  // shorter: keepalived polls once a second anyway, and a core preempted for a few hundred ms (a
  // shared VM) must not cost the pair a takeover.
  constexpr uint64_t kStaleNs = 1'000'000'000ull;
  std::vector<std::string> out;
  const uint64_t now = nowNs();
  for (uint32_t i = 0; i < ha_.workers(); ++i) {
    const uint64_t beat = ha_.lastBeatNs(i);
    if (ha_.stopped(i) || beat == 0) {
      out.push_back("worker " + std::to_string(i) + " is not running");
    } else if (now > beat && now - beat > kStaleNs) {
      out.push_back("worker " + std::to_string(i) + " made no progress for " +
                    std::to_string((now - beat) / 1000000) + " ms");
    }
  }
  static const char* const kRoles[3] = {"inside", "outside", "exception"};
  for (int r = 0; r < 2; ++r) {  // the exception port is the proxy's, not the enforcement path
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(ports_[r], &link) != 0 || link.link_status != RTE_ETH_LINK_UP) {
      out.push_back(std::string(kRoles[r]) + " port link is down");
    }
  }
  if (!slot_.current()) out.push_back("no policy loaded");
  if (logHealthy_ && !logHealthy_()) out.push_back("the enforcement log writer is in alarm");
  return out;
}

namespace {

// Replays a capture offline with the gateway's pipeline configuration and keeps the events whose
// JSON contains `marker`, at most `maxEvents`.
Result<std::vector<std::string>> replayCollect(std::shared_ptr<const policy::Snapshot> snapshot,
                                               const std::string& capturePath,
                                               const PipelineConfig& pipeline,
                                               std::string_view marker, size_t maxEvents) {
  struct Collect : EventSink {
    std::string_view marker;
    size_t max = 0;
    std::vector<std::string> lines;
    void write(std::string_view json) override {
      if (lines.size() < max && json.find(marker) != std::string_view::npos)
        lines.emplace_back(json);
    }
  } collect;
  collect.marker = marker;
  collect.max = maxEvents;
  ReplayOptions o;
  o.capturePath = capturePath;
  o.pipeline = pipeline;
  o.pipeline.flowCapacity = 1u << 16;
  auto r = runReplay(std::move(snapshot), o, collect);
  if (!r) return r.error();
  return std::move(collect.lines);
}

}  // namespace

Result<std::vector<std::string>> GatewayRuntime::replayVerdicts(
    std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath) {
  return replayCollect(std::move(snapshot), capturePath, config_.pipeline, "\"phase\":\"verdict\"",
                       SIZE_MAX);
}

Result<std::vector<std::string>> GatewayRuntime::replayAlerts(
    std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath,
    size_t maxEvents) {
  const std::string marker = "\"event_type\":\"" +
                             std::string(telemetry::toString(telemetry::LogEventType::Alert)) + "\"";
  return replayCollect(std::move(snapshot), capturePath, config_.pipeline, marker, maxEvents);
}

}  // namespace lbg::dataplane
