#pragma once

// The certificate probe (証明書による認証, AP-CERT): a TLS 1.3 server sends its certificate
// encrypted, so the gateway cannot read it from the client's flow, and even a TLS 1.2 client's
// ClientHello reaches the server before its certificate is seen. Instead, the first
// time a (server address, port, SNI, pins) is seen, the appliance opens its own TLS connection to
// that server with that SNI and checks the certificate it gets with the passive check's rules
// (checkCertificateList(): one validator, chain_check.h). The client's ClientHello waits at the
// gateway meanwhile (dataplane/core/pipeline_probe.cc); the answer is cached there.
//
// The connection borrows the client's address (IP_TRANSPARENT, a port the kernel picks), so it
// leaves through the exception port and the outside port like lbg-proxy's upstream legs
// (tools/proxy/tproxy-rules.sh --segment): the server sees what it would see without the gateway,
// and the gateway admits exactly these connections (pipeline_probe.cc). A probe carries no client
// byte: its ClientHello is OpenSSL's, with the SNI only.
//
// Runs on the verifier thread (verifier.h), never on a worker; non-blocking sockets on one epoll.
// Bounds: probes of the same key share one connection; started probes are rate-limited in total
// and per server address (token buckets), and a request that cannot start waits until its
// deadline; verdicts are cached (positive and negative TTLs, bounded) so that the other workers'
// requests for the same key are answered without a connection.

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/ledger.h"
#include "dataplane/cert/verdict_cache.h"
#include "policy/base/ip_addr.h"

namespace lbg::cert {

struct VerifyRequest;

struct ProbeConfig {
  bool enabled = false;           // needs the exception port (and the kernel's routes to it)
  uint32_t timeoutMs = 3000;      // a request unanswered by then: ProbeTimeout
  uint32_t perSecond = 50;        // probes started per second, all destinations (burst: as many)
  uint32_t perAddressPerSecond = 4;  // per server address (burst: as many)
  uint32_t positiveTtlSec = 3600;    // how long a verified destination stays verified
  uint32_t negativeTtlSec = 60;      // how long a refused one stays refused
  uint32_t maxActive = 256;          // connections open at once; more wait (rate or deadline)
  uint32_t cacheEntries = 16384;     // the prober's own verdict cache (shared by all workers)
  // With several gateway workers: the worker a connection (client address and port → server
  // address and port) belongs to, as the ports spread flows (core/flow_steer.h). The probe then
  // binds a source port its asking worker owns, since only that worker admits the connection
  // (pipeline_probe.cc) and the server's replies reach that worker. Empty: the kernel picks.
  std::function<uint32_t(const IpAddr& client, uint16_t clientPort, const IpAddr& server,
                         uint16_t serverPort)>
      workerOf;
};

struct ProberCounters {
  uint64_t started = 0, joined = 0, cacheAnswered = 0, verified = 0, refused = 0, timeouts = 0,
           failed = 0, rateWaits = 0;
};

class Prober {
 public:
  using Done = std::function<void(VerifyRequest*, uint32_t worker)>;
  // `store` is the verifier's trust store, `ledger` where each probe's verdict is recorded (null:
  // none); both outlive the prober. Null on error (epoll, SSL_CTX).
  static std::unique_ptr<Prober> create(X509_STORE* store, const ProbeConfig& config,
                                        CertLedger* ledger = nullptr);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Takes a probe request of `worker`; its answer comes back through `done` (maybe at once).
  void submit(VerifyRequest* q, uint32_t worker, const Done& done);
  // Starts what the rate allows, advances connections, answers finished and late requests.
  void poll(const Done& done);
  bool idle() const { return probes_.empty(); }
  // `lbgctl certs flush`: the shared cache forgets `keys` (or everything).
  void forget(std::span<const CacheKey> keys, bool all);
  const ProberCounters& counters() const { return counters_; }
  const ProbeConfig& config() const { return config_; }
  // The TTL of a cached answer.
  uint64_t ttlNs(Refusal r) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    VerifyRequest* q;
    uint32_t worker;
  };
  struct Probe;
  Prober() = default;
  bool start(Probe& p);
  bool bindSource(Probe& p, sockaddr_storage& src, socklen_t srcLen);
  void advance(Probe& p);
  void finish(Probe& p, Refusal r, const Done& done);
  bool takeToken(const IpAddr& server, Clock::time_point now);
  Refusal verifyPeer(Probe& p);

  X509_STORE* store_ = nullptr;
  CertLedger* ledger_ = nullptr;
  ProbeConfig config_;
  int epoll_ = -1;
  SSL_CTX* ctx_ = nullptr;
  std::map<CacheKey, std::unique_ptr<Probe>> probes_;
  std::unique_ptr<VerdictCache> cache_;
  uint32_t active_ = 0;
  uint32_t nextPort_ = 0;  // where the search for a source port of the right worker goes on
  struct Bucket {
    double tokens = 0;
    Clock::time_point at{};
  };
  Bucket total_;
  std::map<IpAddr, Bucket> perAddress_;
  ProberCounters counters_;
};

}  // namespace lbg::cert
