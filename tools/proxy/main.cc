// lbg-proxy: TLS interception of the tenant-restriction login hosts (explicit mode, CONNECT;
// transparent mode behind the gateway's exception path).
// See dataplane/proxy/README.md.
#include <openssl/ssl.h>
#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "dataplane/proxy/proxy_workers.h"

namespace {
lbg::proxy::ProxyWorkers* gServer = nullptr;
void onSignal(int) {
  if (gServer) gServer->stop();
}
void onHangup(int) {
  if (gServer) gServer->requestCaReload();
}
}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  lbg::proxy::ProxyConfig cfg;
  std::string listen = "127.0.0.1:3128";
  std::string portFile;
  std::vector<std::string> transparent;
  std::vector<std::string> connectTo;
  po::options_description opts("lbg-proxy options");
  opts.add_options()("help", "this text")(
      "listen", po::value(&listen)->default_value(listen), "IPv4:port or [IPv6]:port of the explicit listener (port 0: any; [::] takes IPv4 clients too)")(
      "transparent", po::value(&transparent)->composing(),
      "IPv4:port or [IPv6]:port of a transparent (TPROXY, IP_TRANSPARENT) listener, at most one "
      "per family and both on one port; see tools/proxy/tproxy-rules.sh")(
      "policy", po::value(&cfg.policyFile)->required(), "policy YAML")(
      "ca-cert", po::value(&cfg.caCertFile)->required(), "appliance CA certificate (PEM; lbgctl ca init makes /var/lib/lbg/ca/ca.pem)")(
      "ca-key", po::value(&cfg.caKeyFile)->required(), "appliance CA private key (PEM; /var/lib/lbg/ca/ca.key, group lbg-proxy)")(
      "ca-check-interval", po::value(&cfg.caCheckIntervalSec)->default_value(cfg.caCheckIntervalSec),
      "seconds between checks whether the CA files changed, then reloaded (0: only on SIGHUP, "
      "sent once the PCs trust a rotated CA)")(
      "trust-file", po::value(&cfg.trustFile), "upstream trust store PEM (default /etc/ssl/certs)")(
      "connect-to", po::value(&connectTo)->composing(), "tests: host=ip:port instead of DNS")(
      "log-dir", po::value(&cfg.log.dir), "enforcement log directory (dataplane/telemetry/log)")(
      "log-key", po::value(&cfg.log.keyFile), "Ed25519 key sealing the log")(
      "appliance-id", po::value(&cfg.log.applianceId)->default_value("lbg"), "log appliance id")(
      "port-file", po::value(&portFile), "write the listening port here once ready")(
      "stats-file", po::value(&cfg.statsFile),
      "counters for lbg-gateway's lbgctl stats and Prometheus (its control.proxy_stats), "
      "replaced atomically while they change; e.g. /run/lbg-proxy/counters.json")(
      "icap", po::value(&cfg.icapUri),
      "lbg-icapd's service for sanitize: true services, icap://IPv4:PORT/sanitize (required when "
      "the policy has one)")(
      "icap-max-body", po::value(&cfg.icapMaxBody)->default_value(cfg.icapMaxBody),
      "largest response body of a sanitized service held for lbg-icapd, in bytes; larger ones are "
      "refused (keep at most lbg-icapd's --max-body)")(
      "icap-timeout", po::value(&cfg.icapTimeoutSec)->default_value(cfg.icapTimeoutSec),
      "seconds lbg-icapd may take to answer; later: the client gets 502")(
      "head-timeout", po::value(&cfg.headTimeoutSec)->default_value(cfg.headTimeoutSec),
      "seconds a connection may stay silent before CONNECT and the handshakes are done")(
      "idle-timeout", po::value(&cfg.idleTimeoutSec)->default_value(cfg.idleTimeoutSec),
      "seconds a relayed connection may stay silent")(
      "workers", po::value(&cfg.workers)->default_value(cfg.workers),
      "worker threads, each with its own event loop on the same ports (SO_REUSEPORT); 0: one per "
      "CPU lbg-proxy may run on (its CPU affinity, e.g. systemd CPUAffinity=)")(
      "resolver-threads", po::value(&cfg.resolverThreads)->default_value(cfg.resolverThreads),
      "threads per worker that resolve CONNECT names (getaddrinfo), so a slow DNS server never "
      "stalls other connections; 1..64")(
      "resolver-queue", po::value(&cfg.resolverQueue)->default_value(cfg.resolverQueue),
      "name lookups that may wait per worker; further CONNECTs get 503 (resolve-busy)")(
      "max-connections", po::value(&cfg.maxConnections)->default_value(cfg.maxConnections),
      "client connections a worker holds at once; more are reset at accept and counted")(
      "icap-held-budget", po::value(&cfg.icapHeldBudget)->default_value(cfg.icapHeldBudget),
      "bytes of sanitized responses a worker holds for lbg-icapd at once (a body counts twice "
      "while lbg-icapd has it); a response that would pass it gets 503 (sanitize-busy)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "lbg-proxy: " << e.what() << "\n" << opts << "\n";
    return 2;
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "lbg-proxy: --listen needs ADDRESS:PORT\n";
    return 2;
  }
  cfg.listenAddress = listen.substr(0, colon);
  if (cfg.listenAddress.size() >= 2 && cfg.listenAddress.front() == '[' && cfg.listenAddress.back() == ']') {
    cfg.listenAddress = cfg.listenAddress.substr(1, cfg.listenAddress.size() - 2);  // "[::1]:3128"
  }
  cfg.listenPort = uint16_t(std::stoi(listen.substr(colon + 1)));
  for (const std::string& t : transparent) {
    const size_t tc = t.rfind(':');
    if (tc == std::string::npos) {
      std::cerr << "lbg-proxy: --transparent needs ADDRESS:PORT\n";
      return 2;
    }
    std::string address = t.substr(0, tc);
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
      address = address.substr(1, address.size() - 2);
    }
    const bool v6 = address.find(':') != std::string::npos;  // "[::]:8443" (or "::1" bare)
    const auto port = uint16_t(std::stoi(t.substr(tc + 1)));
    std::string& slot = v6 ? cfg.transparentAddress6 : cfg.transparentAddress;
    const bool other = !cfg.transparentAddress.empty() || !cfg.transparentAddress6.empty();
    if (!slot.empty() || address.empty() || (other && port != cfg.transparentPort)) {
      std::cerr << "lbg-proxy: --transparent: at most one IPv4 and one [IPv6] listener, on one port\n";
      return 2;
    }
    slot = address;
    cfg.transparentPort = port;
  }
  for (const auto& m : connectTo) {
    const size_t eq = m.find('=');
    if (eq == std::string::npos) {
      std::cerr << "lbg-proxy: --connect-to needs host=ip:port\n";
      return 2;
    }
    cfg.connectTo[m.substr(0, eq)] = m.substr(eq + 1);
  }
  if (!cfg.log.dir.empty() && cfg.log.keyFile.empty()) cfg.log.keyFile = cfg.log.dir + "/log.key";
  if (cfg.workers < 0) {
    std::cerr << "lbg-proxy: --workers must be 0 (one per CPU) or more\n";
    return 2;
  }
  auto server = lbg::proxy::ProxyWorkers::create(cfg);
  if (!server.ok()) {
    std::cerr << "lbg-proxy: " << server.error().toString() << "\n";
    return 1;
  }
  gServer = server.value().get();
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  signal(SIGHUP, onHangup);
  signal(SIGPIPE, SIG_IGN);
  if (!portFile.empty()) {
    std::ofstream(portFile + ".tmp") << gServer->port() << "\n";
    std::rename((portFile + ".tmp").c_str(), portFile.c_str());
  }
  gServer->run();
  return 0;
}
