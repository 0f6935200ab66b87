// The workers' side of HA flow-state sync (dataplane/ha/README.md, ARCHITECTURE.md
// "Redundancy"). Active: an allowed flow's state goes into the worker's ring to the sync thread
// at its first packet in the Allow state (once no follower but HTTP's needs it: a TLS handshake
// still followed, a server flight under certificate check or a held probe are not continued
// elsewhere), again when it was seen since the previous sweep (every ~200 ms: the sequence
// tracking the standby holds lags by about that much), and its end or denial as a delete.
// Standby: the records the peer sent are installed in this worker's table on its loop; its
// workers run but forward nothing (runtime.cc), so the flows wait there for a takeover.
//
// Hot path: one bit test per packet of an allowed flow (FlowMeta::synced); a record is a copy
// into a bounded ring, a full ring is counted (ha_sync_ring_overflow), never waited for.

#include <cstring>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

namespace {
constexpr uint8_t kTcp = 6, kUdp = 17;
}  // namespace

bool Pipeline::syncable(const Entry& e) {
  if (e.meta.verdict != Verdict::Allow || e.meta.punted) return false;
  // lbg-proxy's connections (punted) cannot move: their TLS keys live in one process.
  if (e.key.proto != kTcp && e.key.proto != kUdp) return false;
  if ((e.meta.follow & ~kFollowHttp) != 0) return false;
  return e.key.proto != kTcp || e.meta.sawSyn;
}

bool Pipeline::syncExport(const Entry& e, ha::SyncOp op, const Unit* u) {
  ha::SyncRecord* r = syncOut_->reserve();
  if (r == nullptr) {
    ++counters_.ha_sync_ring_overflow;
    return false;
  }
  std::memset(static_cast<void*>(r), 0, sizeof(*r));
  r->key = e.key;
  r->op = uint8_t(op);
  r->worker = uint8_t(worker_);
  r->flowId = e.user.flowId;
  if (op == ha::SyncOp::Upsert) {
    r->policyVersion = e.user.policyVersion;
    r->serviceId = e.user.serviceId;
    for (int d = 0; d < 2; ++d) {
      r->pkts[d] = e.meta.pkts[d];
      r->bytes[d] = e.meta.bytes[d];
      r->seqNext[d] = e.meta.seqNext[d];
      r->finSeq[d] = e.meta.finSeq[d];
      r->isn[d] = e.meta.isn[d];
    }
    r->clientAcked = e.meta.clientAcked;
    r->tcpState = uint8_t(e.meta.tcpState);
    r->seqKnown = e.meta.seqKnown;
    r->finSeen = e.meta.finSeen;
    r->finAcked = e.meta.finAcked;
    r->reason = uint8_t(e.user.reason);
    r->appProto = uint8_t(e.user.appProto);
    r->appMaster = e.user.appMaster;
    r->appApp = e.user.appApp;
    uint8_t f = 0;
    if (e.meta.initiatorIsLo) f |= ha::kSyncInitiatorIsLo;
    if (e.meta.initiatorInside) f |= ha::kSyncFromInside;
    if (e.meta.sawSyn) f |= ha::kSyncSawSyn;
    if (e.user.appDone) f |= ha::kSyncAppDone;
    if (e.user.appGuessed) f |= ha::kSyncAppGuessed;
    if (e.meta.follow & kFollowHttp) {
      // The HTTP follower's position: the new active judges the next request head where this
      // one would have (a request judged here after the last sync is not known there).
      f |= ha::kSyncFollowHttp;
      std::memcpy(&r->httpStream, &e.user.http, sizeof(r->httpStream));
      r->httpNextSeq = e.user.httpNextSeq;
    }
    r->flags = f;
    // The flow's hosts travel once, with its first record (pipeline_learn.cc).
    if (u != nullptr) learnHosts(*u, *r);
  }
  syncOut_->commit();
  ++counters_.ha_sync_queued;
  return true;
}

void Pipeline::syncFirst(Entry& e, const Unit& u) {
  if (syncStandby_ || !syncable(e) || e.meta.tcpState == flow::TcpState::Closed) return;
  if (syncExport(e, ha::SyncOp::Upsert, &u)) e.meta.synced = true;
}

void Pipeline::syncGone(Entry& e) {
  e.meta.synced = false;
  if (syncOut_ == nullptr || syncStandby_) return;
  syncExport(e, ha::SyncOp::Delete);
}

void Pipeline::syncSweep(uint64_t nowNs) {
  if (syncCursor_ >= flows_->capacity()) {
    if (syncSweepStart_ != 0 && nowNs - syncSweepStart_ < config_.syncIntervalNs) return;
    syncPrevSweepStart_ = syncSweepStart_;
    syncSweepStart_ = nowNs;
    syncCursor_ = 0;
  }
  syncCursor_ = flows_->walk(syncCursor_, config_.syncSweepBudget, [&](const Entry& e) {
    // Only flows that changed since the previous sweep started: an idle flow's state is current.
    // (A packet stamped with that sweep's start came in the same loop iteration, before it
    // began: that sweep saw it.)
    if (!e.meta.synced || (syncPrevSweepStart_ != 0 && e.meta.lastSeenNs <= syncPrevSweepStart_)) {
      return true;
    }
    const bool closed = e.key.proto == kTcp && e.meta.tcpState == flow::TcpState::Closed;
    if (!closed && !syncable(e)) return true;
    return syncExport(e, closed ? ha::SyncOp::Delete : ha::SyncOp::Upsert);  // full: next time
  });
}

void Pipeline::serviceSync(uint64_t nowNs, bool standby) {
  syncStandby_ = standby;
  if (syncIn_ != nullptr) {
    now_ = nowNs;
    snap_ = policySlot_.enter(worker_);
    snapEpoch_ = static_cast<uint32_t>(snap_->version());
    ha::SyncRecord r;
    for (uint32_t n = 0; n < config_.syncInstallBudget && syncIn_->tryPop(r); ++n) {
      installSynced(r);
    }
  }
  installCacheRecords(nowNs);  // DNS bindings and certificate verdicts (pipeline_cache_sync.cc)
  if (syncOut_ != nullptr && !standby) syncSweep(nowNs);
  if (!standby) cacheSweep(nowNs);  // bindings and verdicts again (pipeline_cache_sync.cc)
}

void Pipeline::installSynced(const ha::SyncRecord& r) {
  const uint32_t hash = flow::hashKey(r.key);
  Entry* e = flows_->find(r.key, hash);
  if (r.op == uint8_t(ha::SyncOp::Delete)) {
    if (e == nullptr) return;
    // Forgotten without a log record: the active logs the flow's end.
    ++counters_.ha_sync_deleted;
    if (e->meta.synced && (e->meta.adoptedClient || e->meta.adoptedServer || e->key.proto == kUdp)) {
      flow::guardRelease(*rings_, e->guard);
      flows_->erase(e);
    } else {
      endFlow(*e, telemetry::EndReason::Closed);
      flows_->erase(e);
    }
    return;
  }
  // Installed only under the policy version that judged it: another version may deny it.
  const int service = r.policyVersion == snap_->version() ? snap_->serviceById(r.serviceId) : -1;
  if (service < 0) {
    ++counters_.ha_sync_version_mismatch;
    return;
  }
  if (e != nullptr && !(e->meta.synced && (e->meta.adoptedClient || e->meta.adoptedServer ||
                                           e->key.proto == kUdp))) {
    // A flow of this box's own (from when it was active): the peer's state is newer.
    endFlow(*e, telemetry::EndReason::Closed);
    flows_->erase(e);
    e = nullptr;
  }
  if (e == nullptr) {
    e = flows_->insert(r.key, hash, now_, [this](Entry& victim) {
      ++counters_.flows_evicted;
      endFlow(victim, telemetry::EndReason::Evicted);
    });
    if (e == nullptr) {
      ++counters_.ha_sync_install_refused;
      return;
    }
    ++counters_.ha_sync_installed;
    e->user.firstSeenNs = now_;
    e->user.hold = HoldPool::Queue{};
  } else {
    ++counters_.ha_sync_updated;
  }
  flow::FlowMeta& m = e->meta;
  FlowState& u = e->user;
  m.lastSeenNs = now_;  // its idle timeout runs from the last sync
  for (int d = 0; d < 2; ++d) {
    m.pkts[d] = r.pkts[d];
    m.bytes[d] = r.bytes[d];
    m.seqNext[d] = r.seqNext[d];
    m.finSeq[d] = r.finSeq[d];
    m.isn[d] = r.isn[d];
  }
  m.initiatorIsLo = r.flags & ha::kSyncInitiatorIsLo;
  m.sawSyn = r.flags & ha::kSyncSawSyn;
  m.initiatorInside = r.flags & ha::kSyncFromInside;
  m.tcpState = flow::TcpState(r.tcpState);
  m.seqKnown = r.seqKnown;
  m.finSeen = r.finSeen;
  m.finAcked = r.finAcked;
  m.verdict = Verdict::Allow;
  m.epoch = snapEpoch_;
  m.clientAcked = r.clientAcked;
  m.synced = true;  // its end goes back to the peer once this box is active
  const bool tcp = r.key.proto == kTcp;
  m.adoptedClient = tcp;
  m.adoptedServer = tcp;
  // Nothing of what was unacknowledged at the sync is in a ring here (tcp_normalizer.h).
  flow::guardRelease(*rings_, e->guard);
  if (tcp && m.clientAcked != 0 && m.seqNext[0] - m.isn[0] != m.clientAcked) e->guard.blind = 1;
  m.follow = 0;
  if (r.flags & ha::kSyncFollowHttp) {
    m.follow = kFollowHttp;
    std::memcpy(&u.http, &r.httpStream, sizeof(u.http));
    u.httpNextSeq = r.httpNextSeq;
  }
  u.flowId = r.flowId;
  u.policyVersion = snap_->version();
  u.serviceId = r.serviceId;
  u.service = service;
  u.reason = telemetry::Reason(r.reason);
  u.appProto = telemetry::AppProto(r.appProto);
  u.appMaster = r.appMaster;
  u.appApp = r.appApp;
  u.appDone = true;  // no identification is resumed: what the active found is kept
  u.appGuessed = r.flags & ha::kSyncAppGuessed;
  u.appSlotPlus1 = 0;
  u.guardCounted = false;  // not counted against its source here: it was admitted there
  flows_->noteProgress(*e);
  learnSynced(r);  // its hosts, announced if this box takes over (pipeline_learn.cc)
}

}  // namespace lbg::dataplane
