#include "dataplane/proxy/proxy_workers.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "dataplane/proxy/ca_files.h"
#include "dataplane/proxy/counters_file.h"
#include "policy/parser.h"

namespace lbg::proxy {

namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A minter of its own for each worker (its cache is unlocked), over shared references to the
// CA's certificate and key (read-only once loaded).
std::unique_ptr<LeafMinter> minterFor(const CaPair& ca) {
  X509_up_ref(ca.cert.get());
  EVP_PKEY_up_ref(ca.key.get());
  return LeafMinter::create(X509Ptr(ca.cert.get()), PkeyPtr(ca.key.get()));
}

std::string subjectOf(X509* cert) {
  char name[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
  return name;
}

}  // namespace

int defaultWorkerCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

Result<std::unique_ptr<ProxyWorkers>> ProxyWorkers::create(const ProxyConfig& config) {
  std::unique_ptr<ProxyWorkers> s(new ProxyWorkers());
  s->config_ = config;
  const int count = config.workers > 0 ? config.workers : defaultWorkerCount();
  if (count > 256) return Error{"--workers must be at most 256", std::to_string(count)};
  auto doc = policy::parsePolicyFile(config.policyFile,
                                     std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  if (!doc.ok()) return doc.error();
  auto snap = policy::Snapshot::create(std::move(doc.value()), 1);
  if (!snap.ok()) return snap.error();
  for (size_t i = 0; i < snap.value()->serviceCount(); ++i) {
    // Fail closed at start: without lbg-icapd the promise of `sanitize: true` cannot be kept.
    if (snap.value()->service(int(i)).sanitize && config.icapUri.empty()) {
      return Error{"the policy sanitizes service '" + snap.value()->service(int(i)).name +
                       "' but no --icap service is configured",
                   config.policyFile};
    }
  }
  if (config.icapMaxBody == 0) return Error{"--icap-max-body must be positive", ""};

  s->caIdentity_ = caFilesIdentity(config.caCertFile, config.caKeyFile);
  auto ca = loadCaPair(config.caCertFile, config.caKeyFile);
  if (!ca) return ca.error();

  TicketSeed seed;
  if (!seed.generate(int64_t(std::time(nullptr)))) return Error{"no random bytes for session tickets", ""};
  ProxyConfig workerConfig = config;
  // About 1.5 KB a session: 20,480 TLS 1.2 sessions take some 30 MB at most.
  s->sessionIds_ = std::make_unique<SessionIdStore>(20480);
  for (int i = 0; i < count; ++i) {
    auto minter = minterFor(*ca);
    if (!minter) return Error{"the appliance CA key cannot sign", config.caKeyFile};
    s->links_.push_back(std::make_unique<WorkerLink>());
    auto w = ProxyServer::create(workerConfig, snap.value(), std::move(minter), seed, *s->links_.back(),
                                 s->sessionIds_.get());
    if (!w.ok()) {
      seed.wipe();
      return w.error();
    }
    // The others bind the port the first one got (SO_REUSEPORT), when asked for any.
    workerConfig.listenPort = w.value()->port();
    workerConfig.transparentPort = w.value()->transparentPort();
    s->workers_.push_back(std::move(w.value()));
  }
  // Every worker has its ring: the seed, from which earlier keys could be computed, is gone.
  seed.wipe();
  s->caInUse_ = std::move(ca->cert);

  if (!config.log.dir.empty()) {
    auto w = telemetry::LogWriter::create(config.log);
    if (!w.ok()) return w.error();
    s->log_ = std::move(w.value());
  }
  return s;
}

ProxyWorkers::~ProxyWorkers() {
  workers_.clear();
  if (log_) {
    drainLogs();
    log_->close();
  }
}

ProxyCounters ProxyWorkers::counters() const {
  ProxyCounters sum = own_;
  for (const auto& link : links_) sum.add(link->counters());
  return sum;
}

void ProxyWorkers::drainLogs() {
  for (const auto& link : links_) link->drainLogs(logBatch_);
  if (log_) {
    for (const std::string& record : logBatch_) log_->append(record);
  }
  logBatch_.clear();
}

void ProxyWorkers::writeStats(bool force) {
  if (config_.statsFile.empty()) return;
  const ProxyCounters now = counters();
  if (!force && std::memcmp(&written_, &now, sizeof now) == 0) return;
  if (writeCountersFile(config_.statsFile, now)) written_ = now;
}

void ProxyWorkers::reloadCa(const char* why, bool force) {
  const std::string identity = caFilesIdentity(config_.caCertFile, config_.caKeyFile);
  if (!force && identity == caIdentity_) return;
  // Tried once per change: a broken pair is not read again every few seconds, only once the
  // files change again (or on SIGHUP).
  caIdentity_ = identity;
  auto pair = loadCaPair(config_.caCertFile, config_.caKeyFile);
  if (!pair) {
    ++own_.ca_reload_failed;
    std::fprintf(stderr, "lbg-proxy: appliance CA not reloaded (%s): %s; still minting with %s\n",
                 why, pair.error().toString().c_str(), subjectOf(caInUse_.get()).c_str());
    return;
  }
  if (X509_cmp(pair->cert.get(), caInUse_.get()) == 0) return;  // the same CA
  std::vector<std::unique_ptr<LeafMinter>> minters;
  for (size_t i = 0; i < workers_.size(); ++i) {
    minters.push_back(minterFor(*pair));
    if (!minters.back()) {
      ++own_.ca_reload_failed;
      std::fprintf(stderr, "lbg-proxy: appliance CA not reloaded (%s): its key cannot sign; still "
                   "minting with %s\n", why, subjectOf(caInUse_.get()).c_str());
      return;
    }
  }
  // Each worker adopts its new minter at its next loop iteration (the cache of leaves goes with
  // the old one; connections already handed a leaf keep it).
  for (size_t i = 0; i < workers_.size(); ++i) links_[i]->postMinter(std::move(minters[i]));
  caInUse_ = std::move(pair->cert);
  ++own_.ca_reloads;
  std::fprintf(stderr, "lbg-proxy: appliance CA reloaded (%s): now minting with %s\n", why,
               subjectOf(caInUse_.get()).c_str());
}

void ProxyWorkers::run() {
  // Signals (stop, SIGHUP) are this thread's: the workers start with all of them blocked.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  std::vector<std::thread> threads;
  for (auto& w : workers_) threads.emplace_back([server = w.get()] { server->run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  auto lastTick = std::chrono::steady_clock::now();
  auto nextCaCheck = lastTick + std::chrono::seconds(config_.caCheckIntervalSec);
  writeStats(true);
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    drainLogs();
    const auto now = std::chrono::steady_clock::now();
    if (now - lastTick > std::chrono::milliseconds(500)) {
      if (log_) log_->tick(uint64_t(nowNs()));
      if (reloadRequested_) {
        reloadRequested_ = 0;
        reloadCa("SIGHUP", true);
      } else if (config_.caCheckIntervalSec > 0 && now >= nextCaCheck) {
        nextCaCheck = now + std::chrono::seconds(config_.caCheckIntervalSec);
        reloadCa("its files changed", false);
      }
      writeStats(false);
      lastTick = now;
    }
  }
  for (auto& link : links_) link->requestStop();
  for (auto& t : threads) t.join();
  drainLogs();
  if (log_) log_->tick(uint64_t(nowNs()));
  writeStats(true);
}

}  // namespace lbg::proxy
