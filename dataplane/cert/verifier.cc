#include "dataplane/cert/verifier.h"

#include <rte_errno.h>
#include <rte_ring.h>

#include <pthread.h>

#include <chrono>
#include <csignal>

namespace lbg::cert {

Result<std::unique_ptr<Verifier>> Verifier::create(const std::string& trustFile, uint32_t workers,
                                                   uint32_t slotsPerWorker,
                                                   const ProbeConfig& probe,
                                                   uint32_t passiveTtlSec) {
  std::unique_ptr<Verifier> v(new Verifier());
  v->store_ = loadTrustStore(trustFile);
  if (!v->store_) return Error{"cannot load the trust store (PEM certificates)", trustFile};
  v->passiveTtlSec_ = passiveTtlSec;
  v->flush_ = std::make_unique<CacheFlush>(workers + 1);
  if (probe.enabled) {
    v->prober_ = Prober::create(v->store_.get(), probe, &v->ledger_);
    if (!v->prober_) return Error{"cannot set up the certificate prober (epoll, TLS context)"};
  }
  v->slotsPerWorker_ = slotsPerWorker;
  static std::atomic<uint32_t> instance{0};
  const uint32_t id = instance.fetch_add(1);
  // Ring capacity is size - 1 (a power of two): room for every request of the worker's pool.
  uint32_t size = 2;
  while (size - 1 < slotsPerWorker) size <<= 1;
  for (uint32_t w = 0; w < workers; ++w) {
    Rings r;
    for (int k = 0; k < 2; ++k) {
      const std::string name =
          "lbgcert" + std::to_string(id) + (k == 0 ? "q" : "a") + std::to_string(w);
      rte_ring* ring = rte_ring_create(name.c_str(), size, SOCKET_ID_ANY,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (ring == nullptr) {
        return Error{std::string("cannot create the verifier ring: ") + rte_strerror(rte_errno)};
      }
      (k == 0 ? r.requests : r.answers) = ring;
    }
    v->rings_.push_back(r);
  }
  v->thread_ = std::thread([p = v.get()] { p->run(); });
  return v;
}

Verifier::~Verifier() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  for (Rings& r : rings_) {
    rte_ring_free(r.requests);
    rte_ring_free(r.answers);
  }
}

bool Verifier::post(uint32_t w, VerifyRequest* r) {
  return rte_ring_sp_enqueue(rings_[w].requests, r) == 0;
}

uint32_t Verifier::collect(uint32_t w, std::span<VerifyRequest*> out) {
  return rte_ring_sc_dequeue_burst(rings_[w].answers, reinterpret_cast<void**>(out.data()),
                                   uint32_t(out.size()), nullptr);
}

void Verifier::answer(VerifyRequest* q, uint32_t worker) {
  // Never full: the answer ring holds every request of the worker's pool.
  while (rte_ring_sp_enqueue(rings_[worker].answers, q) != 0) std::this_thread::yield();
}

void Verifier::record(const VerifyRequest& q) {
  LedgerRow row;
  row.key = q.key;
  row.server = q.server;
  row.port = q.serverPort;
  row.host.assign(q.host, q.hostLen);
  row.cert = summarizeList({q.chain, q.chainLen});
  row.verdict = q.result;
  // A replay judges at the capture's time: its ledger says so too.
  row.checkedAt = q.atUnixSec != 0 ? q.atUnixSec
                                   : int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  row.expiresAt = row.checkedAt + passiveTtlSec_;
  ledger_.record(std::move(row));
}

void Verifier::run() {
  // The prober writes to servers that may reset the connection first: EPIPE, not a SIGPIPE that
  // would stop the whole gateway (blocked for this thread whatever the process does).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  void* batch[32];
  const Prober::Done done = [this](VerifyRequest* q, uint32_t w) { answer(q, w); };
  while (!stop_.load(std::memory_order_relaxed)) {
    bool idle = true;
    for (uint32_t w = 0; w < rings_.size(); ++w) {
      Rings& r = rings_[w];
      const uint32_t n = rte_ring_sc_dequeue_burst(r.requests, batch, 32, nullptr);
      for (uint32_t i = 0; i < n; ++i) {
        auto* q = static_cast<VerifyRequest*>(batch[i]);
        if (q->probe) {
          if (prober_) {
            prober_->submit(q, w, done);
          } else {  // a worker asks only when probing is on; fail closed all the same
            q->result = Refusal::ProbeFailed;
            answer(q, w);
          }
          continue;
        }
        CheckParams p;
        p.host = std::string_view(q->host, q->hostLen);
        p.pins = std::span<const SpkiPin>(q->pins, q->pinCount);
        p.atUnixSec = q->atUnixSec;
        p.ocspStaple = std::span<const uint8_t>(q->chain + q->chainLen, q->stapleLen);
        p.ocsp = q->ocsp;
        q->result = checkCertificateList(store_.get(), {q->chain, q->chainLen}, p);
        verified_.fetch_add(1, std::memory_order_relaxed);
        record(*q);
        answer(q, w);
      }
      idle &= n == 0;
    }
    flush_->poll(uint32_t(rings_.size()), [this](std::span<const CacheKey> keys, bool all) {
      if (prober_) prober_->forget(keys, all);
    });
    if (prober_) prober_->poll(done);
    if (idle) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace lbg::cert
