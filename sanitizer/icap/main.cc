// lbg-icapd: the lbg file sanitizer (CDR engine) as an ICAP service (RFC 3507).

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sanitizer/core/engine.h"
#include "sanitizer/icap/engine_filter.h"
#include "sanitizer/icap/event_log.h"
#include "sanitizer/icap/server.h"
#include "sanitizer/icap/service.h"

#ifndef LBG_VERSION
#define LBG_VERSION "0.0.0"
#endif

namespace po = boost::program_options;
using namespace lbg;

namespace {

constexpr const char* kUsage =
    "lbg-icapd — ファイル無害化 ICAP サービス / file sanitization ICAP service (RFC 3507)\n"
    "\n"
    "Serves icap://HOST:PORT/sanitize for RESPMOD (downloads) and REQMOD (uploads).\n"
    "ダウンロード(RESPMOD)とアップロード(REQMOD)のファイルを無害化し、無害化できないものは\n"
    "ブロックページ(HTTP 403)に置き換えます。\n"
    "\n"
    "Usage: lbg-icapd --listen 127.0.0.1:1344 [options]\n";

int fail(const std::string& message) {
  std::cerr << "lbg-icapd: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Wide lines: Boost wraps by bytes and would cut a multi-byte Japanese character in two.
  po::options_description opts("Options / オプション", 400, 200);
  // clang-format off
  opts.add_options()
    ("help,h", "show this help / ヘルプを表示")
    ("version", "print the version / バージョンを表示")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:1344"),
       "HOST:PORT to listen on ([v6]:port for IPv6; port 0 = any free port) / 待ち受けアドレス")
    ("workers", po::value<uint32_t>()->default_value(4), "requests sanitized at once / 同時処理数")
    ("image-threads", po::value<uint32_t>()->default_value(sanitizer::EngineConfig{}.imageThreads),
       "threads per PDF for its images, per busy worker (1-16) / PDF内の画像を処理するスレッド数 (ワーカーごと)")
    ("max-connections", po::value<uint32_t>()->default_value(64),
       "open ICAP connections, idle ones included (advertised as Max-Connections; more get 503) / 最大接続数")
    ("max-body", po::value<uint64_t>()->default_value(64ull << 20),
       "largest file accepted in bytes; larger ones get a block page / 受け付ける最大サイズ")
    ("mode", po::value<std::string>()->default_value("rebuild"),
       "rebuild | text | image-pdf / 無害化方式")
    ("preview", po::value<uint32_t>()->default_value(4096), "Preview size advertised in OPTIONS")
    ("pass-type", po::value<std::vector<std::string>>()->composing(),
       "response media type that is passed after the preview without sanitizing "
       "(default: text/css; give 'none' for none) / 無害化せず通過させる応答の種類")
    ("log", po::value<std::string>(),
       "JSON lines log file, one fileinfo record per file; reopened on SIGHUP / ログ")
    ("quarantine", po::value<std::string>(),
       "directory where the engine keeps originals (created 0700) / 原本の隔離先")
    ("policy-version", po::value<std::string>()->default_value("default"),
       "policy version recorded in reports and the ISTag")
    ("contact", po::value<std::string>()->default_value(""),
       "whom users should ask about blocked files (block page) / 問い合わせ先")
    ("idle-timeout", po::value<uint32_t>()->default_value(90),
       "seconds an idle persistent connection is kept (keep above the proxy's pconn_timeout)")
    ("io-timeout", po::value<uint32_t>()->default_value(30),
       "seconds to wait for the rest of a request or for the client to read")
    ("ready-file", po::value<std::string>(),
       "write the bound port here once listening (for scripts and tests)");
  // clang-format on

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "lbg-icapd " LBG_VERSION "\n";
    return 0;
  }

  sanitizer::Mode mode;
  if (!icap::parseMode(vm["mode"].as<std::string>(), mode)) {
    return fail("--mode must be rebuild, text or image-pdf");
  }
  const uint64_t maxBody = vm["max-body"].as<uint64_t>();
  if (maxBody == 0) return fail("--max-body must be positive");

  sanitizer::EngineConfig engineConfig;
  engineConfig.policyVersion = vm["policy-version"].as<std::string>();
  engineConfig.maxInputBytes = maxBody;
  if (vm.count("quarantine")) engineConfig.quarantineDir = vm["quarantine"].as<std::string>();
  engineConfig.imageThreads = vm["image-threads"].as<uint32_t>();
  auto createdEngine = sanitizer::Engine::create(engineConfig);
  if (!createdEngine) return fail("engine: " + createdEngine.error().toString());
  std::shared_ptr<const sanitizer::Engine> engine = std::move(createdEngine).value();

  auto filter = std::make_shared<icap::EngineFilter>(
      engine, mode, std::string(LBG_VERSION) + "|" + engineConfig.policyVersion);

  std::shared_ptr<icap::EventLog> log;
  if (vm.count("log")) {
    auto created = icap::EventLog::create(vm["log"].as<std::string>());
    if (!created) return fail(created.error().toString());
    log = std::move(created).value();
  }

  icap::ServiceConfig serviceConfig;
  serviceConfig.previewBytes = vm["preview"].as<uint32_t>();
  serviceConfig.maxConnections = vm["max-connections"].as<uint32_t>();
  serviceConfig.contact = vm["contact"].as<std::string>();
  serviceConfig.serverName = "lbg-icapd/" LBG_VERSION;
  serviceConfig.limits.maxBodyBytes = maxBody;
  if (vm.count("pass-type")) {
    serviceConfig.responsePassTypes.clear();
    for (const auto& t : vm["pass-type"].as<std::vector<std::string>>()) {
      if (t != "none") serviceConfig.responsePassTypes.push_back(t);
    }
  }
  auto createdService = icap::SanitizeService::create(serviceConfig, filter, log);
  if (!createdService) return fail(createdService.error().toString());
  std::shared_ptr<const icap::SanitizeService> service = std::move(createdService).value();

  icap::ServerConfig serverConfig;
  serverConfig.listen = vm["listen"].as<std::string>();
  serverConfig.workers = vm["workers"].as<uint32_t>();
  serverConfig.maxConnections = vm["max-connections"].as<uint32_t>();
  serverConfig.connection.idleTimeoutMs =
      static_cast<int>(vm["idle-timeout"].as<uint32_t>() * 1000);
  serverConfig.connection.ioTimeoutMs = static_cast<int>(vm["io-timeout"].as<uint32_t>() * 1000);

  // Signals are taken by one thread with sigwait(), so no handler runs inside a worker.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGPIPE);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto createdServer = icap::Server::create(serverConfig, service);
  if (!createdServer) return fail(createdServer.error().toString());
  std::unique_ptr<icap::Server> server = std::move(createdServer).value();
  server->start();
  std::cerr << "lbg-icapd " LBG_VERSION " listening on "
            << serverConfig.listen.substr(0, serverConfig.listen.rfind(':')) << ":"
            << server->port() << " service /sanitize mode " << vm["mode"].as<std::string>()
            << " ISTag " << service->istag() << "\n";
  if (vm.count("ready-file")) {
    const auto path = vm["ready-file"].as<std::string>();
    const auto tmp = path + ".tmp";
    {
      std::ofstream f(tmp);
      f << server->port() << "\n";
    }
    std::rename(tmp.c_str(), path.c_str());
  }

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP && log) {
      // After logrotate has renamed the file.
      if (auto reopened = log->reopen(); !reopened) {
        std::cerr << "lbg-icapd: " << reopened.error().toString() << "\n";
      }
    }
  }
  std::cerr << "lbg-icapd: stopping\n";
  server->stop();
  server->wait();
  const auto& st = service->stats();
  std::cerr << "lbg-icapd: requests=" << st.requests << " sanitized=" << st.sanitized
            << " unchanged=" << st.unchanged << " blocked=" << st.blocked << " passed=" << st.passed
            << " errors=" << st.errors << " rejected=" << server->rejectedConnections() << "\n";
  return 0;
}
