// The certificate probe (証明書による認証, AP-CERT): a server that answers in TLS 1.3 encrypts its
// certificate, so the passive check (pipeline_cert.cc) cannot read it, and a client could name an
// allowed service in SNI and talk to any server. Even in TLS 1.2 the passive check comes after the
// ClientHello reached the server, and a ClientHello carries kilobytes of whatever its sender puts
// in its extensions. So, whenever the prober runs, a flow allowed by SNI has its destination
// prove itself before a byte of the hello leaves (TLS 1.2 flights are still checked passively
// after it):
//
//   gate    the worker's probe cache by (server address, port, SNI, pins)       awaitProbe()
//   hold    on a miss the ClientHello stays held (stream buffer, hold queue) and the flow's
//           certificate request goes to the prober (dataplane/cert/prober.h) on the verifier
//           thread; other payload of the flow is dropped meanwhile (resent)       waitProbe()
//   admit   the prober's own connection, from the client's address through the exception port,
//           gets a flow of its own (punted, `cert-probe`) that the gateway carries   admitProbe()
//   apply   the answer is cached; the hello goes on, or the flow is denied (cert-*,
//           cert-probe-timeout, cert-probe-failed) and both sides reset           applyProbeResult()
//
// The request is the flow's certificate request (armCertCheck): the passive check of a TLS 1.2
// answer reuses it afterwards. Without a prober (no exception port: replays) hellos pass to the
// passive check, and TLS 1.3 answers are unchecked, counted (cert_probe_unavailable,
// cert_tls13_passed).

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/cert/cache_key.h"
#include "dataplane/core/cert_reason.h"
#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;
}  // namespace

bool Pipeline::awaitProbe(Entry& e, Unit& u, TxSink& tx) {
  if (!(e.meta.follow & kFollowCert)) return false;
  if (probeCache_ == nullptr) {
    if (e.user.tls.offers13) ++counters_.cert_probe_unavailable;
    return false;
  }
  const packet::PacketView& v = u.view;
  const int32_t slot = certIndex_->find(e.user.flowId);
  cert::VerifyRequest& rq = certRequests_->at(slot);
  const cert::CacheKey key =
      cert::probeKey(v.dst, v.dstPort, {rq.host, rq.hostLen}, {rq.pins, rq.pinCount}, rq.ocsp);
  cert::Refusal cached;
  if (probeCache_->find(key, now_, cached)) {
    ++counters_.cert_probe_cache_hits;
    if (cached == cert::Refusal::None) return false;  // proven: the hello goes on
    rq.key = key;
    rq.result = cached;
    applyProbeResult(e, rq, tx);
    return true;
  }
  ++counters_.cert_probe_cache_misses;
  rq.probe = true;
  rq.probeRan = false;
  rq.key = key;
  rq.probeClient = v.src;
  rq.server = v.dst;
  rq.serverPort = v.dstPort;
  // The probe's frames leave with the client's frame's addresses (the routers see the same hop).
  std::memcpy(rq.probeMacs, v.frame + 6, 6);
  std::memcpy(rq.probeMacs + 6, v.frame, 6);
  rq.inFlight = true;
  if (!verifier_->post(worker_, &rq)) {  // cannot happen: the ring holds the whole pool
    rq.inFlight = false;
    rq.probe = false;
    ++counters_.cert_slots_exhausted;
    identity_ = Identity{};
    setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "cert-prober");
    streams_->detach(e.user.stream);
    applyVerdict(e, u, true, tx);
    return true;
  }
  ++certInFlight_;
  ++counters_.cert_probe_requests;
  e.meta.follow |= kFollowProbe;
  return true;
}

void Pipeline::waitProbe(Unit& u, TxSink& tx) {
  if (u.view.payloadLen == 0) {
    forward(u, tx);  // ACKs, FIN, RST: nothing the server could read
    return;
  }
  // The hello is held; anything after it (early data, a resent hello) waits for the client's
  // retransmission, and the server has nothing to say before the hello.
  ++counters_.cert_probe_held_dropped;
  freeUnit(u);
}

void Pipeline::serviceProbeAnswer(cert::VerifyRequest& rq, int32_t slot, TxSink& tx) {
  rq.probe = false;  // the flow's request again: the passive check of a TLS 1.2 answer uses it
  const uint64_t ttl = rq.result == cert::Refusal::None ? config_.probePositiveTtlNs
                                                        : config_.probeNegativeTtlNs;
  if (probeCache_->insert(rq.key, rq.result, now_ + ttl, now_)) ++counters_.cert_cache_displaced;
  syncCertVerdict(ha::CertSyncCache::Probe, rq, ttl);  // to the HA peer (pipeline_cache_sync.cc)
  const CertOwner& owner = certOwners_[size_t(slot)];
  Entry* e = rq.flowGone ? nullptr : flows_->find(owner.key, owner.hash);
  if (e == nullptr || e->user.flowId != rq.flowId || !(e->meta.follow & kFollowProbe)) {
    ++counters_.cert_late_answers;
    if (rq.flowGone) certRequests_->release(slot);
    return;
  }
  applyProbeResult(*e, rq, tx);
}

void Pipeline::applyProbeResult(Entry& e, const cert::VerifyRequest& rq, TxSink& tx) {
  e.meta.follow &= uint8_t(~kFollowProbe);
  Unit held = lastHeldUnit(e);
  if (e.meta.verdict == Verdict::Allow &&
      (rq.result == cert::Refusal::None || certRefusalLogged(e, rq.result))) {
    ++counters_.cert_probe_passed;
    resumeTlsCarry(e, held, tx);  // the held hello leaves, judged as before
    return;
  }
  if (e.meta.verdict == Verdict::Allow) {
    ++counters_.cert_probe_refused;
    // Logged with the SNI whose destination failed to prove itself, and how it was found out.
    setCertVerdict(e, Action::Deny, reasonOf(rq.result), e.user.service, rq,
                   rq.probeRan ? "probe" : "probe-cache");
  }
  streams_->detach(e.user.stream);
  endCertCheck(e);
  applyVerdict(e, held, true, tx);  // resets both ways, frees the held hello
}

Pipeline::Entry* Pipeline::admitProbe(const Unit& u) {
  const packet::PacketView& v = u.view;
  if (probeCache_ == nullptr || certInFlight_ == 0 || u.count != 1 || v.ipProto != kTcp ||
      (v.tcpFlags & (kTcpSyn | kTcpAck)) != kTcpSyn) {
    return nullptr;
  }
  // Only while a probe from this client to this server and port is in flight: the exception
  // port carries nothing else out of the kernel than lbg-proxy's legs and these.
  const cert::VerifyRequest* rq = nullptr;
  int32_t service = -1;
  for (uint32_t i = 0; i < certRequests_->count(); ++i) {
    const cert::VerifyRequest& r = certRequests_->at(int32_t(i));
    if (!r.inFlight || !r.probe || r.flowGone || r.serverPort != v.dstPort ||
        r.probeClient != v.src || r.server != v.dst) {
      continue;
    }
    const CertOwner& owner = certOwners_[i];
    const Entry* asker = flows_->find(owner.key, owner.hash);
    if (asker == nullptr || asker->user.flowId != r.flowId) continue;
    rq = &r;
    service = asker->user.service;
    break;
  }
  if (rq == nullptr) return nullptr;
  Entry* e = insertFlow(u);
  if (e == nullptr) return nullptr;  // table full: the probe times out, its flow is denied
  ++counters_.cert_probe_flows;
  e->meta.initiatorIsLo = !u.reversed;
  e->meta.sawSyn = true;
  e->meta.initiatorInside = true;  // it stands for the inside client
  std::memcpy(e->user.punt.clientMac, rq->probeMacs, 6);
  std::memcpy(e->user.punt.serverMac, rq->probeMacs + 6, 6);
  e->user.punt.proxyAnswered = true;  // no proxy behind it: the kernel's socket is the probe's
  e->meta.punted = true;
  setCertVerdict(*e, Action::Allow, Reason::CertProbe, service, *rq);  // its own log record
  return e;
}

}  // namespace lbg::dataplane
