#pragma once

// The certificate verifier thread: workers never verify. A worker lends a request (the flow's
// server certificate list, SNI, pins) to the verifier through its own request ring (rte_ring,
// single producer / single consumer, lock-free) and keeps holding the server's bytes; the
// verifier runs checkCertificateList() against the trust store and hands the request back through
// the worker's answer ring. Each worker owns a fixed pool of requests (RequestPool), so the rings
// can never overflow and a worker never allocates.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/cert/cache_flush.h"
#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/ledger.h"
#include "dataplane/cert/prober.h"
#include "dataplane/cert/verdict_cache.h"
#include "policy/base/result.h"

struct rte_ring;

namespace lbg::cert {

inline constexpr uint32_t kMaxPins = 8;          // per service; more are ignored (counted by the caller)
inline constexpr uint32_t kMaxChainBytes = 16384;  // a certificate list the stream buffer can hold

struct VerifyRequest {
  // The worker's: which flow asked (found again by its key, checked by flow id).
  uint64_t flowId = 0;
  bool inFlight = false;   // lent to the verifier
  bool flowGone = false;   // the flow ended while in flight: freed when it comes back
  // The question.
  int64_t atUnixSec = 0;
  uint8_t hostLen = 0;
  uint8_t pinCount = 0;
  OcspMode ocsp = OcspMode::Off;  // the service's staple rule, for the passive check and the probe
  char host[255];
  SpkiPin pins[kMaxPins];
  CacheKey key{};
  // The destination (the certificate ledger's row, and the probe's target).
  IpAddr server;
  uint16_t serverPort = 0;
  // A probe (prober.h) instead of a certificate list: the client whose address the probe's
  // connection borrows. `key` is then the probe's (probeKey()).
  bool probe = false;
  bool probeRan = false;  // answered by a connection of its own (not a cached or shared one)
  uint8_t probeMacs[12];  // the client's frame's source, then destination MAC
  IpAddr probeClient;
  uint32_t chainLen = 0;
  // The passive check's stapled OCSP response (CertificateStatus), if any, follows the list in
  // the same buffer: chain[chainLen, chainLen + stapleLen).
  uint32_t stapleLen = 0;
  uint8_t chain[kMaxChainBytes];
  // The answer.
  Refusal result = Refusal::None;
};

// A worker's requests: a fixed array and a free stack, used by that worker only.
class RequestPool {
 public:
  explicit RequestPool(uint32_t count) : slots_(new VerifyRequest[count]), count_(count) {
    free_.reserve(count);
    for (uint32_t i = count; i > 0; --i) free_.push_back(i - 1);
  }
  // Index of a free request, or -1 when all are taken.
  int32_t acquire() {
    if (free_.empty()) return -1;
    const uint32_t i = free_.back();
    free_.pop_back();  // no allocation: capacity reserved
    VerifyRequest& r = slots_[i];  // the header only: the chain is overwritten before use
    r.flowId = 0;
    r.inFlight = r.flowGone = false;
    r.atUnixSec = 0;
    r.hostLen = r.pinCount = 0;
    r.ocsp = OcspMode::Off;
    r.chainLen = r.stapleLen = 0;
    r.probe = r.probeRan = false;
    r.result = Refusal::None;
    return int32_t(i);
  }
  void release(int32_t i) { free_.push_back(uint32_t(i)); }
  VerifyRequest& at(int32_t i) { return slots_[size_t(i)]; }
  int32_t indexOf(const VerifyRequest* r) const { return int32_t(r - slots_.get()); }
  uint32_t count() const { return count_; }
  uint32_t available() const { return uint32_t(free_.size()); }

 private:
  std::unique_ptr<VerifyRequest[]> slots_;
  uint32_t count_;
  std::vector<uint32_t> free_;
};

class Verifier {
 public:
  // Loads the trust store once (an error if unreadable or empty) and starts the thread. Needs an
  // initialised EAL (the rings). `slotsPerWorker` bounds the requests a worker can have in flight.
  // With `probe.enabled`, the thread also runs the prober (prober.h) for probe requests.
  // `passiveTtlSec`: how long the workers reuse a passive verdict (the ledger's expiry).
  static Result<std::unique_ptr<Verifier>> create(const std::string& trustFile, uint32_t workers,
                                                  uint32_t slotsPerWorker,
                                                  const ProbeConfig& probe = {},
                                                  uint32_t passiveTtlSec = 3600);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Worker side (worker `w` only): false when the ring refused it (cannot happen while the
  // worker's requests come from a pool no larger than slotsPerWorker).
  bool post(uint32_t w, VerifyRequest* r);
  // Answered requests, at most out.size().
  uint32_t collect(uint32_t w, std::span<VerifyRequest*> out);

  uint32_t workers() const { return uint32_t(rings_.size()); }
  uint32_t slotsPerWorker() const { return slotsPerWorker_; }
  uint64_t verified() const { return verified_.load(std::memory_order_relaxed); }
  bool probing() const { return prober_ != nullptr; }

  // `lbgctl certs`: every verdict this thread produced (ledger.h), and the flush of the caches
  // (cache_flush.h) whose participants are the workers 0..workers()-1 and this thread.
  CertLedger& ledger() { return ledger_; }
  CacheFlush& cacheFlush() { return *flush_; }
  // Service thread: forgets `keys` (or everything) in every cache; false if a participant did
  // not acknowledge within `wait`.
  bool flush(std::span<const CacheKey> keys, bool all, std::chrono::milliseconds wait) {
    return flush_->request(keys, all, wait);
  }

 private:
  Verifier() = default;
  void run();

  struct Rings {
    rte_ring* requests = nullptr;
    rte_ring* answers = nullptr;
  };
  void answer(VerifyRequest* q, uint32_t worker);

  void record(const VerifyRequest& q);

  X509StorePtr store_;
  std::unique_ptr<Prober> prober_;  // used by the thread only
  static constexpr size_t kLedgerRows = 16384;
  CertLedger ledger_{kLedgerRows};
  std::unique_ptr<CacheFlush> flush_;
  uint32_t passiveTtlSec_ = 3600;
  std::vector<Rings> rings_;
  uint32_t slotsPerWorker_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> verified_{0};
  std::thread thread_;
};

}  // namespace lbg::cert
