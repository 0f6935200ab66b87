// The passive certificate check (証明書による認証, AP-CERT) of TLS ≤ 1.2 flows, after an allow
// verdict by SNI:
//
//   arm     the SNI and the service's pins go into a request of the worker's pool   armCertCheck()
//   hold    server bytes: checksum, stream buffer, hold queue (bounded)            holdServerBytes()
//   read    ServerHello and the whole certificate list (inspect/tls/server_flight) readServerFlight()
//   judge   the worker's verdict cache, else the verifier thread (dataplane/cert)  serviceCert()
//   apply   release the flight to the client, or deny (cert-*) and reset both      applyCertResult()
//
// TLS 1.3 encrypts the certificate: its flight passes untouched and is counted (the probe is
// another issue). The worker never verifies: it computes the cache key (SHA-256, no allocation)
// and lends the request to the verifier through its rte_ring.

#include <rte_mbuf.h>

#include <cstring>
#include <thread>

#include "dataplane/cert/cache_key.h"
#include "dataplane/cert/request_index.h"
#include "dataplane/core/cert_reason.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/tls/server_flight.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcpSyn = 0x02;
}  // namespace

void Pipeline::createCertCheck(const PipelineConfig& config) {
  verifier_ = config.certVerifier;
  if (verifier_ == nullptr) return;
  const uint32_t slots = verifier_->slotsPerWorker();
  certRequests_ = std::make_unique<cert::RequestPool>(slots);
  certOwners_.reset(new CertOwner[slots]);
  certIndex_ = std::make_unique<cert::RequestIndex>(slots);
  certCache_ = std::make_unique<cert::VerdictCache>(config.certCacheEntries);
  if (verifier_->probing()) {
    probeCache_ = std::make_unique<cert::VerdictCache>(config.probeCacheEntries);
  }
}

void Pipeline::armCertCheck(Entry& e, std::string_view sni) {
  const int32_t slot = certRequests_->acquire();
  if (slot < 0) {
    ++counters_.cert_slots_exhausted;
    setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "cert-requests");
    return;
  }
  cert::VerifyRequest& rq = certRequests_->at(slot);
  rq.flowId = e.user.flowId;
  rq.hostLen = uint8_t(sni.size() < sizeof(rq.host) ? sni.size() : sizeof(rq.host));
  std::memcpy(rq.host, sni.data(), rq.hostLen);
  // The allowing service's pins (validated by the policy parser; decoding allocates nothing).
  for (const std::string& text : snap_->service(e.user.service).pins) {
    if (rq.pinCount == cert::kMaxPins) break;
    if (cert::decodePin(text, rq.pins[rq.pinCount])) ++rq.pinCount;
  }
  rq.ocsp = cert::ocspModeOf(snap_->service(e.user.service).ocsp);
  certOwners_[size_t(slot)] = CertOwner{e.key, flow::hashKey(e.key)};
  certIndex_->insert(e.user.flowId, slot);
  e.meta.follow |= kFollowCert;
  ++counters_.cert_checks;
}

void Pipeline::checkServerFlight(Entry& e, Unit& u, TxSink& tx) {
  const packet::PacketView& v = u.view;
  if (v.payloadLen == 0) {
    forward(u, tx);  // ACKs, FIN and RST carry nothing to check
    return;
  }
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    ++counters_.bad_checksum;  // the client would drop it: never part of the judged flight
    freeUnit(u);
    return;
  }
  if (e.user.stream.active() && !(e.meta.follow & kFollowServerHeld)) {
    // The client's later ClientHello is held in the flow's only stream buffer (tls_follow.cc):
    // the server sends this again once it is judged.
    ++counters_.hold_other_side_dropped;
    freeUnit(u);
    return;
  }
  if (!holdServerBytes(e, u)) {
    denyServerFlight(e, &u, e.user.reason, {}, tx);
    return;
  }
  if (e.meta.follow & kFollowCertAsked) return;  // the verifier answers through serviceCert()
  readServerFlight(e, u, tx);
}

bool Pipeline::holdServerBytes(Entry& e, Unit& u) {
  const packet::PacketView& v = u.view;
  if (!e.user.stream.active()) {
    const uint32_t base = (e.meta.seqKnown & 2) && e.meta.sawSyn ? e.meta.isn[1] + 1 : v.seq;
    if (!streams_->attach(e.user.stream, base)) {
      ++counters_.stream_exhausted;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "stream-buffers");
      return false;
    }
    e.meta.follow |= kFollowServerHeld;
  }
  const uint32_t dataSeq = (v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq;
  const auto added =
      flow::streamAdd(*streams_, e.user.stream, dataSeq, v.frame + v.payloadOffset, v.payloadLen);
  if (added == flow::StreamStatus::Conflict) {
    setVerdict(e, Action::Deny, Reason::StreamConflict, -1, "server");
    return false;
  }
  if (added == flow::StreamStatus::OutOfWindow || e.user.hold.count + u.count > config_.maxHeldPerFlow) {
    ++counters_.cert_flight_limit;
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "server-flight");
    return false;
  }
  e.meta.flags |= kFlowHolding;
  for (uint16_t i = 0; i < u.count; ++i) {
    if (!hold_.push(e.user.hold, u.mbufs[i])) {
      for (uint16_t j = i; j < u.count; ++j) rte_pktmbuf_free(u.mbufs[j]);
      u.count = 0;
      ++counters_.hold_exhausted;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "hold-pool");
      return false;
    }
    ++counters_.cert_server_held;
  }
  u.count = 0;  // owned by the hold queue now
  return true;
}

void Pipeline::readServerFlight(Entry& e, Unit& u, TxSink& tx) {
  const auto whole = flow::streamContiguous(*streams_, e.user.stream);
  if (whole.empty()) return;  // the first bytes are still missing
  cert::VerifyRequest& rq = certRequests_->at(certIndex_->find(e.user.flowId));
  inspect::TlsServerHello sh;
  const auto st = inspect::parseServerFlight(whole, sh, {}, {rq.chain, cert::kMaxChainBytes});
  const bool full = whole.size() >= streams_->bytesEach();
  if (st == inspect::Status::Invalid) {
    if (sh.reason == inspect::TlsReason::Alert) {
      ++counters_.cert_server_alert;  // the server refuses the handshake: nothing to protect
      passServerFlight(e, tx);
      return;
    }
    ++counters_.cert_flight_invalid;
    denyServerFlight(e, &u, Reason::CertUntrusted, "server-flight", tx);
    return;
  }
  // With a revocation rule the check also waits for what follows the Certificate: a stapled OCSP
  // response, or the next message that says there is none.
  const bool needStatus = rq.ocsp != cert::OcspMode::Off && sh.hasCertificate && !sh.statusKnown;
  if (st == inspect::Status::NeedMore || (sh.hasCertificate && !sh.chainComplete) || needStatus) {
    if (full) {
      ++counters_.cert_flight_limit;
      denyServerFlight(e, &u, Reason::InspectLimit, "server-flight", tx);
    }
    return;
  }
  if (sh.tls13 || sh.helloRetry) {
    ++counters_.cert_tls13_passed;  // encrypted certificate: the probe's (not built yet)
    passServerFlight(e, tx);
    return;
  }
  if (!sh.hasCertificate) {
    ++counters_.cert_no_certificate;
    passServerFlight(e, tx);
    return;
  }
  if (!sh.chainCopied) {
    ++counters_.cert_flight_limit;
    denyServerFlight(e, &u, Reason::InspectLimit, "certificate-list", tx);
    return;
  }
  if (rq.ocsp != cert::OcspMode::Off && sh.hasStaple && !sh.stapleCopied) {
    ++counters_.cert_flight_limit;  // chain and staple over 16 KiB: not judged, so not passed
    denyServerFlight(e, &u, Reason::InspectLimit, "ocsp-staple", tx);
    return;
  }
  rq.chainLen = sh.chainLength;
  rq.stapleLen = rq.ocsp != cert::OcspMode::Off && sh.hasStaple ? sh.stapleLength : 0;
  rq.key = cert::cacheKey({rq.chain, rq.chainLen}, {rq.host, rq.hostLen}, {rq.pins, rq.pinCount},
                          rq.ocsp, {rq.chain + rq.chainLen, rq.stapleLen});
  cert::Refusal cached;
  if (certCache_->find(rq.key, now_, cached)) {
    ++counters_.cert_cache_hits;
    applyCertResult(e, cached, &u, tx);
    return;
  }
  ++counters_.cert_cache_misses;
  rq.server = u.view.src;  // the server's segment: for the ledger (`lbgctl certs`)
  rq.serverPort = u.view.srcPort;
  rq.atUnixSec = int64_t(now_ / 1000000000ull);
  rq.inFlight = true;
  if (!verifier_->post(worker_, &rq)) {  // cannot happen: the ring holds the whole pool
    rq.inFlight = false;
    ++counters_.cert_slots_exhausted;
    denyServerFlight(e, &u, Reason::ResourceExhausted, "cert-verifier", tx);
    return;
  }
  ++certInFlight_;
  ++counters_.cert_verify_requests;
  e.meta.follow |= kFollowCertAsked;
}

void Pipeline::serviceCert(uint64_t nowNs, TxSink& tx, bool waitAll) {
  if (verifier_ == nullptr) return;
  // `lbgctl certs flush` (cache_flush.h): one acquire load per loop unless a flush is pending.
  verifier_->cacheFlush().poll(worker_, [this](std::span<const cert::CacheKey> keys, bool all) {
    forgetCertVerdicts(keys, all);
  });
  if (certInFlight_ == 0) return;
  now_ = nowNs;
  snap_ = policySlot_.enter(worker_);
  snapEpoch_ = static_cast<uint32_t>(snap_->version());
  cert::VerifyRequest* got[32];
  do {
    const uint32_t n = verifier_->collect(worker_, got);
    for (uint32_t i = 0; i < n; ++i) {
      cert::VerifyRequest& rq = *got[i];
      const int32_t slot = certRequests_->indexOf(&rq);
      rq.inFlight = false;
      --certInFlight_;
      if (rq.probe) {
        serviceProbeAnswer(rq, slot, tx);  // pipeline_probe.cc
        continue;
      }
      if (certCache_->insert(rq.key, rq.result, now_ + config_.certCacheTtlNs, now_)) {
        ++counters_.cert_cache_displaced;
      }
      syncCertVerdict(ha::CertSyncCache::Chain, rq, config_.certCacheTtlNs);  // to the HA peer
      const CertOwner& owner = certOwners_[size_t(slot)];
      Entry* e = rq.flowGone ? nullptr : flows_->find(owner.key, owner.hash);
      if (e == nullptr || e->user.flowId != rq.flowId || !(e->meta.follow & kFollowCertAsked)) {
        ++counters_.cert_late_answers;
        certRequests_->release(slot);
        continue;
      }
      ++counters_.cert_verify_answers;
      e->meta.follow &= uint8_t(~kFollowCertAsked);
      applyCertResult(*e, rq.result, nullptr, tx);
    }
    if (waitAll && certInFlight_ > 0 && n == 0) std::this_thread::yield();
  } while (waitAll && certInFlight_ > 0);
}

void Pipeline::forgetCertVerdicts(std::span<const cert::CacheKey> keys, bool all) {
  ++counters_.cert_cache_flushes;
  if (all) {
    certCache_->clear();
    if (probeCache_) probeCache_->clear();
    return;
  }
  for (const cert::CacheKey& k : keys) {
    certCache_->erase(k);
    if (probeCache_) probeCache_->erase(k);
  }
}

bool Pipeline::certRefusalLogged(Entry& e, cert::Refusal r) {
  if (e.user.service < 0 || snap_->service(e.user.service).certCheck != policy::CertCheck::Log) {
    return false;
  }
  // `certificate: {check: log}`: the refusal is recorded as a verdict record of its own (allow,
  // the refusal's reason, detail log-only) and the flow goes on.
  ++counters_.cert_log_only;
  setCertVerdict(e, Action::Allow, reasonOf(r), e.user.service,
                 certRequests_->at(certIndex_->find(e.user.flowId)), "log-only");
  return true;
}

void Pipeline::applyCertResult(Entry& e, cert::Refusal r, Unit* u, TxSink& tx) {
  if (r == cert::Refusal::None || certRefusalLogged(e, r)) {
    ++counters_.cert_verified;
    // The IDS's tls.cert_* buffers (pipeline_ids.cc): a drop rule stops the flight here.
    const cert::VerifyRequest& rq = certRequests_->at(certIndex_->find(e.user.flowId));
    if (!idsCertNames(e, {rq.chain, rq.chainLen})) {
      denyServerFlight(e, u, Reason::IdsDrop, {}, tx);
      return;
    }
    passServerFlight(e, tx);
    return;
  }
  ++counters_.cert_refused;
  denyServerFlight(e, u, reasonOf(r), {}, tx);
}

void Pipeline::passServerFlight(Entry& e, TxSink& tx) {
  endCertCheck(e);
  releaseHeld(e, tx, e.meta.initiatorInside ? PortRole::Inside : PortRole::Outside);
}

void Pipeline::denyServerFlight(Entry& e, Unit* u, Reason r, std::string_view detail,
                                TxSink& tx) {
  if (e.meta.verdict != Verdict::Deny) {
    // Logged with the SNI and the service whose destination failed to prove itself (AP-CERT
    // evidence per service).
    setCertVerdict(e, Action::Deny, r, e.user.service,
                   certRequests_->at(certIndex_->find(e.user.flowId)), detail);
  }
  // Resets to both sides, built from the server packet at hand or the last one held.
  Unit held = u == nullptr ? lastHeldUnit(e) : Unit{};
  if (u == nullptr) u = &held;
  endCertCheck(e);
  applyVerdict(e, *u, false, tx);  // resets both ways, frees what was held
}

void Pipeline::setCertVerdict(Entry& e, Action a, Reason r, int32_t service,
                              const cert::VerifyRequest& rq, std::string_view detail) {
  identity_ = Identity{};
  identity_.name = std::string_view(rq.host, rq.hostLen);
  identity_.sni = true;
  setVerdict(e, a, r, service, detail);
  identity_ = Identity{};
}

Pipeline::Unit Pipeline::lastHeldUnit(Entry& e) {
  Unit held{};
  rte_mbuf* last = hold_.last(e.user.hold);
  if (last != nullptr) {
    held.status = packet::decode(rte_pktmbuf_mtod(last, const uint8_t*),
                                 rte_pktmbuf_data_len(last), held.view, decodeOptions_);
  }
  return held;
}

void Pipeline::endCertCheck(Entry& e) {
  if (!(e.meta.follow & kFollowCert)) return;
  const int32_t slot = certIndex_->find(e.user.flowId);
  certIndex_->erase(e.user.flowId);
  cert::VerifyRequest& rq = certRequests_->at(slot);
  if (rq.inFlight) {
    rq.flowGone = true;  // released when the verifier hands it back
  } else {
    certRequests_->release(slot);
  }
  // The stream buffer is the client's when it holds a later ClientHello (tls_follow.cc).
  if ((e.meta.follow & kFollowServerHeld) && e.user.stream.active()) streams_->detach(e.user.stream);
  e.meta.follow &= uint8_t(~(kFollowCert | kFollowCertAsked | kFollowServerHeld | kFollowProbe));
}

}  // namespace lbg::dataplane
