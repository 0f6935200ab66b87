// The workers' side of the caches' HA sync (dataplane/ha/cache_record.h, ARCHITECTURE.md
// "Redundancy"): what decides a *new* flow's verdict on the active and that the standby cannot
// learn itself, since it sees none of the traffic.
//
//   DNS bindings          bindDnsAnswers() (pipeline_dns.cc) binds an answer's address to its
//                         name, and the same binding (with the TTL it was given, in seconds) goes
//                         to the peer; the standby's worker of the same index binds it in the
//                         shared table with its own clock.
//   certificate verdicts  serviceCert() / serviceProbeAnswer() store the verifier's answer in
//                         this worker's cache, and the same verdict (positive or negative, with
//                         its TTL) goes to the peer; the sync thread hands it to every worker of
//                         the standby (the next flow to that destination may land on any).
//
// Hot path: a binding or a verdict is a copy into this worker's bounded ring or a counted loss
// (ha_sync_dns_ring_overflow, ha_sync_cert_ring_overflow); never a wait, a lock or an allocation.
// The sweep reads cacheSweepSlots slots per loop iteration (the table's seqlock reads, no writes).
// Sent again: every cacheResyncIntervalNs (60 s) a sweep, a slice per loop iteration, re-sends
// the live bindings (worker 0 walks the shared table) and each worker's live verdicts with their
// remaining TTLs, so that a standby that (re)started after them has them within a minute.

#include <algorithm>
#include <cstring>

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/hostname.h"

namespace lbg::dataplane {

static_assert(uint8_t(cert::Refusal::OcspInvalid) == ha::kSyncCertVerdictMax,
              "a new refusal must be accepted by the sync codec (cache_record.h)");

namespace {
constexpr uint64_t kNsPerSec = 1000000000ull;

uint32_t seconds(uint64_t ns) {  // rounded up, within the record's range
  const uint64_t s = (ns + kNsPerSec - 1) / kNsPerSec;
  return uint32_t(std::clamp<uint64_t>(s, 1, ha::kSyncMaxTtlSec));
}
}  // namespace

bool Pipeline::syncDnsBinding(const IpAddr& addr, std::string_view name, uint32_t ttlSec) {
  if (cacheSync_.dnsOut == nullptr || syncStandby_) return true;
  if (name.empty() || name.size() > inspect::kMaxHostnameLength) return true;  // refused there too
  ha::DnsSyncRecord* r = cacheSync_.dnsOut->reserve();
  if (r == nullptr) {
    ++counters_.ha_sync_dns_ring_overflow;
    return false;
  }
  std::memset(static_cast<void*>(r), 0, sizeof(*r));
  std::memcpy(r->addr, addr.bytes.data(), sizeof(r->addr));
  r->ttlSec = std::clamp<uint32_t>(ttlSec, 1, ha::kSyncMaxTtlSec);
  r->worker = uint8_t(worker_);
  r->nameLen = uint8_t(name.size());
  std::memcpy(r->name, name.data(), name.size());
  cacheSync_.dnsOut->commit();
  ++counters_.ha_sync_dns_queued;
  return true;
}

void Pipeline::syncCertVerdict(ha::CertSyncCache cache, const cert::VerifyRequest& rq,
                               uint64_t ttlNs) {
  exportCertVerdict(cache, rq.key, rq.result, ttlNs, &rq);
}

bool Pipeline::exportCertVerdict(ha::CertSyncCache cache, const cert::CacheKey& key,
                                 cert::Refusal verdict, uint64_t ttlNs,
                                 const cert::VerifyRequest* rq) {
  if (cacheSync_.certOut == nullptr || syncStandby_) return true;
  ha::CertSyncRecord* r = cacheSync_.certOut->reserve();
  if (r == nullptr) {
    ++counters_.ha_sync_cert_ring_overflow;
    return false;
  }
  std::memset(static_cast<void*>(r), 0, sizeof(*r));
  std::memcpy(r->key, key.data(), sizeof(r->key));
  r->ttlSec = seconds(ttlNs);
  r->cache = uint8_t(cache);
  r->verdict = uint8_t(verdict);
  if (rq != nullptr) {  // what it is about (a re-sent verdict has only its key: the cache's entry)
    std::memcpy(r->server, rq->server.bytes.data(), sizeof(r->server));
    r->serverPort = rq->serverPort;
    r->sniLen = rq->hostLen;
    std::memcpy(r->sni, rq->host, rq->hostLen);
  }
  cacheSync_.certOut->commit();
  ++counters_.ha_sync_cert_queued;
  return true;
}

void Pipeline::cacheSweep(uint64_t nowNs) {
  if (cacheSync_.dnsOut == nullptr && cacheSync_.certOut == nullptr) return;
  if (cacheSweepStart_ == 0) {  // the first sweep one interval after the start: nothing before
    cacheSweepStart_ = nowNs;
    return;
  }
  if (cacheSweepPhase_ == 3) {
    if (nowNs - cacheSweepStart_ < config_.cacheResyncIntervalNs) return;
    cacheSweepStart_ = nowNs;
    cacheSweepPhase_ = 0;
    cacheSweepCursor_ = 0;
  }
  // A full ring ends the slice; what it missed goes with the next sweep.
  bool room = true;
  switch (cacheSweepPhase_) {
    case 0:  // the DNS table is shared: one worker sends it
      if (worker_ == 0 && cacheSync_.dnsOut != nullptr) {
        cacheSweepCursor_ = dns_.walk(
            cacheSweepCursor_, config_.cacheSweepSlots, nowNs,
            [&](const IpAddr& addr, std::string_view name, uint64_t expiresNs) {
              if (room) room = syncDnsBinding(addr, name, seconds(expiresNs - nowNs));
            });
        if (cacheSweepCursor_ != 0) return;
      }
      break;
    case 1:
    case 2: {
      cert::VerdictCache* cache = cacheSweepPhase_ == 1 ? certCache_.get() : probeCache_.get();
      if (cache != nullptr && cacheSync_.certOut != nullptr) {
        const auto kind = cacheSweepPhase_ == 1 ? ha::CertSyncCache::Chain : ha::CertSyncCache::Probe;
        cacheSweepCursor_ = cache->walk(
            cacheSweepCursor_, config_.cacheSweepSlots, nowNs,
            [&](const cert::CacheKey& key, cert::Refusal verdict, uint64_t expiresNs) {
              if (room) room = exportCertVerdict(kind, key, verdict, expiresNs - nowNs, nullptr);
            });
        if (cacheSweepCursor_ != 0) return;
      }
      break;
    }
  }
  ++cacheSweepPhase_;
  cacheSweepCursor_ = 0;
}

void Pipeline::installCacheRecords(uint64_t nowNs) {
  if (cacheSync_.dnsIn == nullptr && cacheSync_.certIn == nullptr) return;
  now_ = nowNs;
  uint32_t budget = config_.syncInstallBudget;
  if (cacheSync_.dnsIn != nullptr) {
    ha::DnsSyncRecord r;
    while (budget > 0 && cacheSync_.dnsIn->tryPop(r)) {
      --budget;
      installDnsBinding(r);
    }
  }
  if (cacheSync_.certIn != nullptr) {
    ha::CertSyncRecord r;
    while (budget > 0 && cacheSync_.certIn->tryPop(r)) {
      --budget;
      installCertVerdict(r);
    }
  }
}

void Pipeline::installDnsBinding(const ha::DnsSyncRecord& r) {
  // The TTL within this box's own bounds, as if the answer had been seen here.
  const uint32_t ttl = std::clamp(r.ttlSec, config_.dnsTtlMinSec, config_.dnsTtlMaxSec);
  IpAddr addr;
  std::memcpy(addr.bytes.data(), r.addr, sizeof(r.addr));
  // A full window evicts like an answer seen here would (dns_binding_evicted); a contended slot
  // leaves the binding out: counted, and it only ever denies more.
  if (dns_.bind(addr, {r.name, r.nameLen}, now_ + uint64_t(ttl) * kNsPerSec, now_)) {
    ++counters_.ha_sync_dns_installed;
  } else {
    ++counters_.ha_sync_dns_refused;
  }
}

void Pipeline::installCertVerdict(const ha::CertSyncRecord& r) {
  const bool probe = r.cache == uint8_t(ha::CertSyncCache::Probe);
  cert::VerdictCache* cache = probe ? probeCache_.get() : certCache_.get();
  if (cache == nullptr) {  // no prober (or no verifier) here: nothing would read it
    ++counters_.ha_sync_cert_refused;
    return;
  }
  const cert::Refusal verdict = cert::Refusal(r.verdict);
  // Never longer than this box would keep its own verdict of that kind.
  const uint64_t limit = !probe                            ? config_.certCacheTtlNs
                         : verdict == cert::Refusal::None ? config_.probePositiveTtlNs
                                                          : config_.probeNegativeTtlNs;
  const uint64_t ttl = std::min(uint64_t(r.ttlSec) * kNsPerSec, limit);
  cert::CacheKey key;
  std::memcpy(key.data(), r.key, key.size());
  if (cache->insert(key, verdict, now_ + ttl, now_)) ++counters_.ha_sync_cert_displaced;
  ++counters_.ha_sync_cert_installed;
}

}  // namespace lbg::dataplane
