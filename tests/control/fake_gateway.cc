// A control server over the recording test double of ControlApi, for exercising the real lbgctl
// binary end to end without DPDK. Not installed; used by lbgctl_cli_test.py only.
//
//   fake_gateway DIR    (DIR holds roles.yaml and bootstrap.yaml; the socket is DIR/control.sock)
//   fake_gateway DIR --proxy-stats FILE   (also lbg-proxy's counters file, control.proxy_stats, and
//                        the Prometheus endpoint on a free loopback port, printed as "metrics PORT"
//                        before "ready"; used by tests/proxy/ops_test.py)
#include <csignal>
#include <cstdio>
#include <string>

#include "control/fake_control_api.h"
#include "control/server.h"

namespace {
volatile std::sig_atomic_t gStop = 0;
void onSignal(int) {
  gStop = 1;
}
}  // namespace

int main(int argc, char** argv) {
  const bool proxyStats = argc == 4 && std::string(argv[2]) == "--proxy-stats";
  if (argc != 2 && !proxyStats) {
    std::fprintf(stderr, "usage: fake_gateway DIR [--proxy-stats FILE]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  lbg::control::testing::FakeControlApi api;
  api.counters_ = {{"rx_packets", "packets received", 1234},
                   {"drop_malformed", "malformed packets dropped", 5}};
  api.flowRows = {
      R"({"proto":"TCP","src_ip":"10.0.0.5","src_port":50000,"dest_ip":"52.96.1.1","dest_port":443,)"
      R"("action":"allow","policy":{"service":"microsoft365"},"tls":{"sni":"outlook.office365.com"}})"};
  lbg::control::ServerConfig cfg;
  cfg.socketPath = dir + "/control.sock";
  cfg.rolesFile = dir + "/roles.yaml";
  cfg.storeDir = dir + "/store";
  cfg.bootstrapPolicyFile = dir + "/bootstrap.yaml";
  cfg.socketMode = 0666;
  cfg.metricsFile = dir + "/metrics.prom";
  if (proxyStats) {
    cfg.proxyStatsFile = argv[3];
    cfg.metricsPort = 0;
  }
  auto server = lbg::control::ControlServer::create(cfg, api);
  if (!server.ok()) {
    std::fprintf(stderr, "fake_gateway: %s\n", server.error().toString().c_str());
    return 1;
  }
  if (proxyStats) std::printf("metrics %u\n", unsigned((*server)->metricsPort()));
  std::printf("ready\n");
  std::fflush(stdout);
  while (!gStop) (*server)->poll(50);
  // The admin events, for the test to check.
  for (const auto& e : api.events) std::printf("%s\n", e.c_str());
  return 0;
}
