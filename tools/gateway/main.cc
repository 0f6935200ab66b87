// lbg-gateway: the appliance's dataplane process.
//   lbg-gateway run --config FILE
//   lbg-gateway replay --policy P --in CAPTURE [--out FORWARDED] [--log EVENTS]
//   lbg-gateway check --policy P
// Composes dataplane/ (pipeline, ports, replay) with the policy loader; exit codes: 0 ok,
// 1 runtime failure, 2 usage or configuration error.

#include <boost/program_options.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "dataplane/core/eal.h"
#include "dataplane/core/event_sink.h"
#include "dataplane/core/gateway_config.h"
#include "dataplane/core/replay.h"
#include "control/handlers/handlers.h"
#include "control/server.h"
#include "dataplane/core/counter_export.h"
#include "dataplane/core/runtime.h"
#include "dataplane/ids/policy_ids.h"
#include "dataplane/telemetry/log/log_writer.h"
#include "policy/parser.h"
#include "policy/snapshot.h"

namespace po = boost::program_options;
using namespace lbg;

namespace {

std::atomic<dataplane::GatewayRuntime*> gRuntime{nullptr};

void onSignal(int) {
  if (auto* rt = gRuntime.load()) rt->stop();
}

std::chrono::sys_days today() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

Result<std::shared_ptr<const policy::Snapshot>> loadPolicy(const std::string& path,
                                                          uint64_t version) {
  auto doc = policy::parsePolicyFile(path, today());
  if (!doc) return doc.error();
  return policy::Snapshot::create(std::move(doc.value()), version);
}

// Live events go into the hash-chained, signed log when a log directory is configured.
class ChainedLogSink : public dataplane::EventSink {
 public:
  explicit ChainedLogSink(telemetry::LogWriter& w) : w_(w) {}
  void write(std::string_view json) override { w_.append(json); }

 private:
  telemetry::LogWriter& w_;
};

void printNonZeroCounters(const dataplane::PipelineCounters& c, std::FILE* out) {
  c.forEach([&](const telemetry::CounterInfo& info, uint64_t v) {
    if (v != 0) {
      std::fprintf(out, "  %-24s %llu\n", std::string(info.name).c_str(),
                   static_cast<unsigned long long>(v));
    }
  });
}

// Parses a sub-command's options; false when --help was shown (the caller exits 0). Throws
// po::error on bad usage, which main() turns into exit code 2.
bool parseOptions(const po::options_description& opts, const std::vector<std::string>& args,
                  po::variables_map& vm) {
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << opts;
    return false;
  }
  po::notify(vm);
  return true;
}

int cmdCheck(const std::vector<std::string>& args) {
  po::options_description opts("lbg-gateway check");
  opts.add_options()("help,h", "show this help")("policy", po::value<std::string>()->required(),
                                                 "policy file to validate");
  po::variables_map vm;
  if (!parseOptions(opts, args, vm)) return 0;
  auto snap = loadPolicy(vm["policy"].as<std::string>(), 1);
  if (!snap) {
    std::fprintf(stderr, "%s\n", snap.error().toString().c_str());
    return 2;
  }
  std::printf("policy ok: %zu services\n", snap.value()->serviceCount());
  return 0;
}

int cmdReplay(const std::vector<std::string>& args) {
  po::options_description opts("lbg-gateway replay");
  opts.add_options()("help,h", "show this help")(
      "policy", po::value<std::string>()->required(), "policy file (YAML)")(
      "in", po::value<std::string>()->required(), "capture to replay (pcap or pcapng)")(
      "out", po::value<std::string>()->default_value(""),
      "pcap receiving every frame the gateway would forward or generate")(
      "log", po::value<std::string>()->default_value(""),
      "JSON-lines event log (default: none)")(
      "flows", po::value<uint32_t>()->default_value(1u << 18), "flow table capacity")(
      "ignore-checksums", po::bool_switch(),
      "trust TCP/UDP checksums as captured (captures taken on hosts with checksum offload)")(
      "midstream", po::bool_switch(),
      "inspect TCP flows whose capture starts after their SYN instead of denying them "
      "(captures cut from longer traces; never on a live gateway)")(
      "trust-store", po::value<std::string>()->default_value("/etc/ssl/certs/ca-certificates.crt"),
      "PEM bundle the passive certificate check trusts (tests: a generated test root); "
      "certificates are judged at the capture's time")(
      "no-cert-check", po::bool_switch(),
      "skip the passive certificate check of TLS <= 1.2 server flights")(
      "outside-mac", po::value<std::vector<std::string>>(),
      "frames from this source MAC entered on the outside port, all others on the inside port "
      "(repeatable; default: direction from segment.inside)");
  po::variables_map vm;
  if (!parseOptions(opts, args, vm)) return 0;
  auto snap = loadPolicy(vm["policy"].as<std::string>(), 1);
  if (!snap) {
    std::fprintf(stderr, "%s\n", snap.error().toString().c_str());
    return 2;
  }
  auto eal = dataplane::initEal(dataplane::offlineEalArgs());
  if (!eal) {
    std::fprintf(stderr, "%s\n", eal.error().toString().c_str());
    return 1;
  }
  std::FILE* logFile = nullptr;
  const std::string logPath = vm["log"].as<std::string>();
  if (!logPath.empty()) {
    logFile = std::fopen(logPath.c_str(), "w");
    if (logFile == nullptr) {
      std::perror(logPath.c_str());
      return 1;
    }
  }
  struct NullSink : dataplane::EventSink {
    void write(std::string_view) override {}
  } nullSink;
  dataplane::FileEventSink fileSink(logFile);
  dataplane::ReplayOptions o;
  o.capturePath = vm["in"].as<std::string>();
  o.outPath = vm["out"].as<std::string>();
  o.pipeline.flowCapacity = vm["flows"].as<uint32_t>();
  o.pipeline.verifyChecksums = !vm["ignore-checksums"].as<bool>();
  o.pipeline.allowMidstream = vm["midstream"].as<bool>();
  if (!vm["no-cert-check"].as<bool>()) o.trustStore = vm["trust-store"].as<std::string>();
  if (vm.count("outside-mac")) {
    for (const auto& text : vm["outside-mac"].as<std::vector<std::string>>()) {
      std::array<uint8_t, 6> mac{};
      unsigned b[6];
      char tail;
      if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                      &b[5], &tail) != 6) {
        std::fprintf(stderr, "--outside-mac: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)\n",
                     text.c_str());
        return 2;
      }
      for (int i = 0; i < 6; ++i) mac[size_t(i)] = uint8_t(b[i]);
      o.outsideMacs.push_back(mac);
    }
  }
  auto r = dataplane::runReplay(snap.value(), o,
                                logFile ? static_cast<dataplane::EventSink&>(fileSink) : nullSink);
  if (logFile) std::fclose(logFile);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().toString().c_str());
    return 1;
  }
  std::printf("%s\n", r.value().oneLine().c_str());
  printNonZeroCounters(r.value().counters, stdout);
  for (size_t i = 1; i < r.value().decodeDrops.size(); ++i) {
    if (r.value().decodeDrops[i] == 0) continue;
    std::printf("  decode_drop_%-12s %llu\n", packet::toString(static_cast<packet::DropReason>(i)),
                static_cast<unsigned long long>(r.value().decodeDrops[i]));
  }
  return 0;
}

int cmdRun(const std::vector<std::string>& args) {
  po::options_description opts("lbg-gateway run");
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>()->required(),
                                                 "gateway configuration (YAML)");
  po::variables_map vm;
  if (!parseOptions(opts, args, vm)) return 0;
  auto config = dataplane::loadGatewayConfig(vm["config"].as<std::string>());
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().toString().c_str());
    return 2;
  }
  const auto& c = config.value();
  auto snap = loadPolicy(c.policyPath, 1);
  if (!snap) {
    std::fprintf(stderr, "%s\n", snap.error().toString().c_str());
    return 2;
  }
  std::vector<std::string> eal = c.eal;
  bool hasLcores = false;
  for (const auto& a : eal) hasLcores |= a == "-l" || a == "-c" || a.rfind("--lcores", 0) == 0;
  if (!hasLcores) {
    eal.push_back("-l");
    eal.push_back("0-" + std::to_string(c.workers));
  }
  for (const auto& port : {c.insidePort, c.outsidePort, c.exceptionPort}) {
    if (port.empty()) continue;
    eal.push_back(dataplane::GatewayConfig::isVdev(port) ? "--vdev=" + port : "-a" + port);
  }
  auto ok = dataplane::initEal(eal);
  if (!ok) {
    std::fprintf(stderr, "%s\n", ok.error().toString().c_str());
    return 1;
  }
  std::FILE* logFile = stdout;
  std::unique_ptr<telemetry::LogWriter> chained;
  if (!c.logDir.empty()) {
    telemetry::LogConfig lc;
    lc.dir = c.logDir;
    lc.keyFile = c.logKey.empty() ? c.logDir + "/log.key" : c.logKey;
    lc.applianceId = c.applianceId;
    lc.segmentMaxBytes = c.logSegmentBytes;
    lc.segmentMaxSeconds = c.logSegmentSeconds;
    lc.retainMaxBytes = c.logRetainBytes;
    lc.retainMaxSeconds = c.logRetainSeconds;
    for (const auto& e : c.logSyslog) {
      telemetry::SyslogTarget t;
      t.transport = e.transport;
      t.host = e.host;
      t.port = e.port;
      t.caFile = e.caFile;
      t.serverName = e.serverName;
      t.certFile = e.certFile;
      t.keyFile = e.keyFile;
      t.facility = e.facility;
      lc.syslog.push_back(t);
    }
    auto w = telemetry::LogWriter::create(lc);
    if (!w) {
      std::fprintf(stderr, "log: %s\n", w.error().toString().c_str());
      return 1;
    }
    chained = std::move(w.value());
  } else if (!c.logFile.empty()) {
    logFile = std::fopen(c.logFile.c_str(), "a");
    if (logFile == nullptr) {
      std::perror(c.logFile.c_str());
      return 1;
    }
    setvbuf(logFile, nullptr, _IOLBF, 0);
  }
  dataplane::FileEventSink fileSink(logFile);
  std::unique_ptr<ChainedLogSink> chainedSink;
  if (chained) chainedSink = std::make_unique<ChainedLogSink>(*chained);
  dataplane::EventSink& sink =
      chainedSink ? static_cast<dataplane::EventSink&>(*chainedSink) : fileSink;
  auto rt = dataplane::GatewayRuntime::create(c, snap.value(), sink);
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().toString().c_str());
    return 1;
  }
  std::unique_ptr<control::ControlServer> server;
  if (!c.controlSocket.empty()) {
    control::ServerConfig sc;
    sc.socketPath = c.controlSocket;
    sc.socketGroup = c.controlGroup;
    sc.rolesFile = c.rolesFile;
    sc.storeDir = c.storeDir;
    sc.proxyStatsFile = c.proxyStatsFile;
    sc.bootstrapPolicyFile = c.policyPath;
    if (c.metricsListen) sc.metricsPort = c.metricsListen->port;
    if (c.haPolicy) {
      control::PolicySyncConfig ps;
      ps.self = c.applianceId;
      ps.local = c.haPolicy->local.addr;
      ps.localLen = c.haPolicy->local.len;
      ps.localText = c.haPolicy->local.text;
      ps.peer = c.haPolicy->peer.addr;
      ps.peerLen = c.haPolicy->peer.len;
      ps.peerText = c.haPolicy->peer.text;
      ps.key.assign(c.haSync->key.bytes.begin(), c.haSync->key.bytes.end());
      sc.policySync = std::move(ps);
    }
    auto srv = control::ControlServer::create(sc, *rt.value());
    if (!srv) {
      std::fprintf(stderr, "control: %s\n", srv.error().toString().c_str());
      return 1;
    }
    for (const auto& p : srv.value()->problems()) {
      std::fprintf(stderr, "control: %s\n", p.toString().c_str());
    }
    server = std::move(srv.value());
  }
  if (chained) {
    // The log's own losses are gateway counters: visible in `lbgctl stats`, Prometheus and the
    // exit report, so a full disk is never silent.
    rt.value()->setServiceCounters([w = chained.get()](std::vector<dataplane::ControlApi::Counter>& out) {
      dataplane::appendCounters(w->counters(), out);
      dataplane::appendCounters(w->gauges(), out);
    });
    // keepalived's health check: a box whose log loses records cannot enforce (no evidence).
    rt.value()->setLogHealthy([w = chained.get()] { return w->gauges().alarm == 0; });
  }
  if (c.haConfigured) {
    // One box of a pair: the role it starts in is the first HA record of its log.
    rt.value()->logEvent(control::handlers::haRecord(
        std::chrono::system_clock::now(), "lbg-gateway", "ha.start", "ok",
        {{"role", dataplane::toString(rt.value()->haRole())}}));
  }
  gRuntime.store(rt.value().get());
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  // A peer that resets a socket of ours (the certificate prober's servers, log receivers, control
  // clients) gets EPIPE, never a signal that stops the gateway.
  std::signal(SIGPIPE, SIG_IGN);
  std::fprintf(stderr, "lbg-gateway: running, policy version %llu (%zu services), %u worker(s)\n",
               static_cast<unsigned long long>(rt.value()->current()->version()),
               rt.value()->current()->serviceCount(), c.workers);
  uint64_t nextTick = 0;
  auto run = rt.value()->run([&](uint64_t nowNs) {
    if (server) server->poll(0);
    if (c.haConfigured) {
      // After a takeover: how many hosts the switches were told about (pipeline_learn.cc).
      if (const auto learn = rt.value()->takeLearnReport()) {
        rt.value()->logEvent(control::handlers::haRecord(
            std::chrono::system_clock::now(), "lbg-gateway", "ha.learn", "ok",
            {{"role", dataplane::toString(rt.value()->haRole())},
             {"hosts", learn->hosts},
             {"frames", learn->frames}}));
      }
    }
    if (chained && nowNs >= nextTick) {
      chained->tick(nowNs);
      nextTick = nowNs + 1'000'000'000ull;
    }
  });
  gRuntime.store(nullptr);
  if (chained) chained->close();  // before the counters: the last flush may still lose records
  std::fprintf(stderr, "lbg-gateway: stopped; counters:\n");
  rt.value()->printCounters(stderr);
  if (chained) {
    std::fprintf(stderr, "log: %llu records written, %llu lost\n",
                 static_cast<unsigned long long>(chained->written()),
                 static_cast<unsigned long long>(chained->lost()));
  }
  std::fflush(logFile);
  if (!run) {
    std::fprintf(stderr, "%s\n", run.error().toString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Every snapshot this process makes compiles its policy's `ids:` rules (policy/snapshot.h).
  lbg::ids::registerPolicyIds();
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: lbg-gateway run --config FILE\n"
                 "       lbg-gateway replay --policy P --in CAPTURE [--out FORWARDED] [--log EVENTS]\n"
                 "       lbg-gateway check --policy P\n");
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "run") return cmdRun(args);
    if (cmd == "replay") return cmdReplay(args);
    if (cmd == "check") return cmdCheck(args);
  } catch (const po::error& e) {
    std::fprintf(stderr, "lbg-gateway %s: %s\n", cmd.c_str(), e.what());
    return 2;
  }
  std::fprintf(stderr, "lbg-gateway: unknown command '%s'\n", cmd.c_str());
  return 2;
}
