// 7. ids: the IDS/IPS over exactly the bytes the gateway forwards (dataplane/ids/ engine, rules
// from the policy's `ids:` block compiled once per snapshot).
//
//   at the verdict   the held client stream (or the judged datagram) and the names the
//                    inspector found (tls.sni, http.host, http.method, http.uri)   idsJudged()
//   allowed packets  each packet's bytes past the direction's scanned edge, before it
//                    is forwarded; Hyperscan streaming mode, one stream per direction stageIds()
//   act              alert → EVE alert event; drop/reject (mode ips) → the packet is dropped
//                    and the flow denied `ids-drop` (reset per defaults.deny)          idsAct()
//
// Stream order: the client's bytes after the verdict are in order by the normaliser's guarantee
// (a segment beyond the forwarded edge is dropped before it gets here; a retransmission repeats
// forwarded bytes, which are not scanned twice). The server's are not normalised: a segment
// beyond the scanned edge is dropped in ips mode (the server resends it; counted
// ids_stream_gap) and scanned as if contiguous in ids mode.
//
// Per flow: a slot of the worker's IDS pool (FlowIdsState + the edges), found by flow id in an
// open-addressing index, both reserved when a policy with `ids:` is first used. Per worker: the
// engine's scratch. Nothing is allocated per packet (Hyperscan allocates a flow's stream state
// when it opens it, once per flow and direction: dataplane/ids/README.md).

#include <rte_mbuf.h>

#include <cstdio>
#include <vector>

#include "dataplane/core/pipeline.h"
#include "dataplane/ids/engine.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint32_t kNone = UINT32_MAX;

struct IdsFlow {
  uint64_t flowId = 0;       // 0: free
  uint32_t edge[2] = {0, 0};  // next sequence number to scan per direction (TCP)
  uint8_t edgeKnown = 0;      // bit d: edge[d] is set
  uint32_t nextFree = kNone;
  ids::FlowIdsState st{};
};

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

ids::AppProto idsApp(telemetry::AppProto p) {
  switch (p) {
    case telemetry::AppProto::Http:
      return ids::AppProto::Http;
    case telemetry::AppProto::Tls:
    case telemetry::AppProto::Quic:
      return ids::AppProto::Tls;
    case telemetry::AppProto::Dns:
      return ids::AppProto::Dns;
    default:
      return ids::AppProto::Unknown;
  }
}

}  // namespace

struct IdsWorker {
  std::shared_ptr<const ids::Engine> engine;  // keeps the flows' streams' engine alive
  std::unique_ptr<ids::Scratch> scratch;
  std::vector<IdsFlow> flows;
  uint32_t freeHead = kNone;
  // flow id -> slot + 1 (0 empty), linear probing with backward-shift deletion; twice the slots.
  std::vector<std::pair<uint64_t, uint32_t>> index;
  uint64_t mask = 0;

  explicit IdsWorker(uint32_t capacity) : flows(capacity) {
    for (uint32_t i = capacity; i-- > 0;) flows[i].nextFree = freeHead, freeHead = i;
    uint64_t n = 2;
    while (n < uint64_t(capacity) * 2) n <<= 1;
    index.assign(n, {0, 0});
    mask = n - 1;
  }
  IdsFlow* find(uint64_t id) {
    for (uint64_t i = mix(id) & mask;; i = (i + 1) & mask) {
      if (index[i].second == 0) return nullptr;
      if (index[i].first == id) return &flows[index[i].second - 1];
    }
  }
  IdsFlow* acquire(uint64_t id) {
    if (freeHead == kNone) return nullptr;
    const uint32_t slot = freeHead;
    IdsFlow& f = flows[slot];
    freeHead = f.nextFree;
    f = IdsFlow{};
    f.flowId = id;
    uint64_t i = mix(id) & mask;
    while (index[i].second != 0) i = (i + 1) & mask;
    index[i] = {id, slot + 1};
    return &f;
  }
  void release(uint64_t id) {
    uint64_t i = mix(id) & mask;
    while (index[i].second != 0 && index[i].first != id) i = (i + 1) & mask;
    if (index[i].second == 0) return;
    IdsFlow& f = flows[index[i].second - 1];
    engine->release(f.st);
    f.flowId = 0;
    f.nextFree = freeHead;
    freeHead = uint32_t(&f - flows.data());
    // Backward-shift deletion: later entries of the probe run move up into the hole.
    for (uint64_t j = (i + 1) & mask; index[j].second != 0; j = (j + 1) & mask) {
      const uint64_t home = mix(index[j].first) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        index[i] = index[j];
        i = j;
      }
    }
    index[i] = {0, 0};
  }
  // A new policy version brings a new engine: every flow's streams belong to the old one, so they
  // are closed and the flows start afresh from their next bytes (a pattern straddling the reload
  // is missed). Runs once per reload on the worker, not per packet.
  void switchTo(const std::shared_ptr<const ids::Engine>& next) {
    for (auto& f : flows)
      if (f.flowId != 0) {
        engine->release(f.st);
        f.flowId = 0;
      }
    freeHead = kNone;
    for (uint32_t i = uint32_t(flows.size()); i-- > 0;) flows[i].nextFree = freeHead, freeHead = i;
    std::fill(index.begin(), index.end(), std::pair<uint64_t, uint32_t>{0, 0});
    engine = next;
    scratch = engine->makeScratch();
  }
};

void IdsWorkerDelete::operator()(IdsWorker* w) const {
  if (w == nullptr) return;
  for (auto& f : w->flows)
    if (f.flowId != 0) w->engine->release(f.st);  // Hyperscan's stream state
  delete w;
}

namespace {

// The flow's IDS slot for this snapshot's engine (made on first use), or null when the pool is
// full. `ids` is created and switched here, at most once per policy version.
IdsFlow* idsFlowOf(std::unique_ptr<IdsWorker, IdsWorkerDelete>& ids, uint32_t capacity,
                   const policy::Snapshot& snap, FlowState& user, bool& created) {
  created = false;
  if (!ids) ids.reset(new IdsWorker(capacity));
  if (ids->engine.get() != snap.idsEngine()) ids->switchTo(snap.idsEngineShared());
  if (user.idsHeld) {
    if (IdsFlow* f = ids->find(user.flowId)) return f;
  }
  IdsFlow* f = ids->acquire(user.flowId);
  if (f != nullptr) {
    user.idsHeld = true;
    created = true;
  }
  return f;
}

}  // namespace

void Pipeline::idsRelease(Entry& e) {
  if (!e.user.idsHeld) return;
  e.user.idsHeld = false;
  if (ids_) ids_->release(e.user.flowId);
}

bool Pipeline::idsAct(Entry& e, const ids::ScanResult& r, const char* fault, Unit* u,
                      bool fromInitiator, TxSink* tx) {
  const ids::Engine& engine = *snap_->idsEngine();
  const bool blocking =
      snap_->idsInline() && (r.action == ids::Verdict::Drop || r.action == ids::Verdict::Reject);
  uint32_t blockSid = 0;
  for (uint8_t i = 0; i < r.sidCount; ++i) {
    const ids::Rule& rule = engine.rule(r.rules[i]);
    const bool blocked =
        snap_->idsInline() && (rule.action == ids::Action::Drop || rule.action == ids::Action::Reject);
    if (blocked && blockSid == 0) blockSid = rule.sid;
    ++counters_.ids_alerts;
    telemetry::Event* ev = events_.reserve();
    if (ev == nullptr) {
      ++counters_.events_lost;
      continue;
    }
    describeFlow(e, snap_, *ev);
    ev->kind = telemetry::EventKind::Alert;
    ev->timestampNs = now_;
    ev->sigId = rule.sid;
    ev->sigRev = rule.rev;
    ev->sigGid = rule.gid;
    ev->blocked = blocked;
    int severity = rule.priority;
    std::string_view category = rule.classtype;
    const auto& classes = engine.ruleSet().classifications();
    if (auto it = classes.find(rule.classtype); it != classes.end()) {
      category = it->second.description;
      if (severity == 0) severity = it->second.priority;
    }
    ev->severity = uint8_t(severity == 0 ? 3 : severity);
    telemetry::Event::copyText(ev->name, ev->nameLen, sizeof(ev->name), rule.msg);
    telemetry::Event::copyText(ev->detail, ev->detailLen, sizeof(ev->detail), category);
    events_.commit();
  }
  if (r.fault) {
    ++counters_.ids_faults;
    fault = "fault";
  }
  if (r.action == ids::Verdict::Pass) {
    ++counters_.ids_passed;
    e.user.idsDone = true;  // a pass rule exempts the rest of the flow (Suricata's pass)
    idsRelease(e);
    return true;
  }
  char detail[24];
  if (blocking) {
    ++counters_.ids_dropped;
    std::snprintf(detail, sizeof detail, "sid-%u", blockSid);
  } else if (fault != nullptr && snap_->idsInline() && !snap_->idsFailOpen()) {
    std::snprintf(detail, sizeof detail, "%s", fault);
  } else {
    if (fault != nullptr || r.depthExceeded) {
      // ids mode or on_fault: pass: the flow goes on unscanned. The stream depth ends scanning
      // (as Suricata's stream depth does) whatever on_fault says.
      if (r.depthExceeded) ++counters_.ids_depth_reached;
      e.user.idsDone = true;
      idsRelease(e);
    }
    return true;
  }
  identity_ = Identity{};
  setVerdict(e, Action::Deny, Reason::IdsDrop, -1, detail);
  idsRelease(e);
  if (u != nullptr) applyVerdict(e, *u, fromInitiator, *tx);
  return false;
}

bool Pipeline::stageIds(Entry& e, Unit& u, bool fromInitiator, TxSink& tx) {
  const ids::Engine* engine = snap_->idsEngine();
  const packet::PacketView& v = u.view;
  if (engine == nullptr || v.payloadLen == 0 || e.user.idsDone) return true;
  const int d = fromInitiator ? 0 : 1;
  bool created;
  IdsFlow* f = idsFlowOf(ids_, config_.idsFlows, *snap_, e.user, created);
  std::span<const uint8_t> bytes{v.frame + v.payloadOffset, v.payloadLen};
  const char* fault = nullptr;
  ids::ScanResult r;
  if (f == nullptr) {
    ++counters_.ids_state_full;
    fault = "state-full";
  } else {
    ids::FlowIdsState& st = f->st;
    if (created) {
      const bool loIsClient = e.meta.initiatorIsLo;
      st.tuple.client = loIsClient ? e.key.lo : e.key.hi;
      st.tuple.server = loIsClient ? e.key.hi : e.key.lo;
      st.tuple.clientPort = loIsClient ? e.key.loPort : e.key.hiPort;
      st.tuple.serverPort = loIsClient ? e.key.hiPort : e.key.loPort;
      st.tuple.ipProto = e.key.proto;
    }
    st.tuple.app = idsApp(e.user.appProto);
    st.tuple.established = e.key.proto == kTcp
                               ? e.meta.tcpState >= flow::TcpState::Established
                               : e.meta.pkts[0] > 0 && e.meta.pkts[1] > 0;
    if (e.key.proto == kTcp) {
      const uint32_t seq = (v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq;
      if (!(f->edgeKnown & (1 << d))) {
        f->edge[d] = seq;
        f->edgeKnown |= uint8_t(1 << d);
      }
      const int32_t rel = int32_t(seq - f->edge[d]);
      if (rel > 0) {
        ++counters_.ids_stream_gap;
        if (snap_->idsInline()) {  // never forward what was not scanned in order
          freeUnit(u);
          return false;
        }
      } else if (int64_t(rel) + int64_t(bytes.size()) <= 0) {
        return true;  // a retransmission of scanned bytes (the normaliser compared the client's)
      } else {
        bytes = bytes.subspan(size_t(-rel));
      }
      f->edge[d] = seq + v.payloadLen;
    }
    counters_.ids_scanned_bytes += bytes.size();
    r = engine->scanPayload(st, fromInitiator ? ids::kToServer : ids::kToClient, bytes,
                            *ids_->scratch);
  }
  return idsAct(e, r, fault, &u, fromInitiator, &tx);
}

void Pipeline::idsJudged(Entry& e, const Unit& u) {
  const ids::Engine* engine = snap_->idsEngine();
  if (engine == nullptr || e.meta.verdict != Verdict::Allow || e.user.idsDone) return;
  bool created;
  IdsFlow* f = idsFlowOf(ids_, config_.idsFlows, *snap_, e.user, created);
  if (f == nullptr) {
    ++counters_.ids_state_full;
    idsAct(e, ids::ScanResult{}, "state-full", nullptr, true, nullptr);
    return;
  }
  ids::FlowIdsState& st = f->st;
  const bool loIsClient = e.meta.initiatorIsLo;
  st.tuple.client = loIsClient ? e.key.lo : e.key.hi;
  st.tuple.server = loIsClient ? e.key.hi : e.key.lo;
  st.tuple.clientPort = loIsClient ? e.key.loPort : e.key.hiPort;
  st.tuple.serverPort = loIsClient ? e.key.hiPort : e.key.loPort;
  st.tuple.ipProto = e.key.proto;
  st.tuple.app = idsApp(e.user.appProto);
  st.tuple.established = e.key.proto == kTcp ? e.meta.tcpState >= flow::TcpState::Established
                                              : false;
  std::span<const uint8_t> payload;
  if (e.key.proto == kTcp) {
    if (e.user.stream.active()) payload = flow::streamContiguous(*streams_, e.user.stream);
    f->edge[0] = (e.user.stream.active() ? e.user.stream.baseSeq : 0) + uint32_t(payload.size());
    f->edgeKnown |= e.user.stream.active() ? 1 : 0;
  } else {
    payload = {u.view.frame + u.view.payloadOffset, u.view.payloadLen};
  }
  // The names the inspector found, as sticky buffers of this first message (block mode).
  ids::BufferSet names;
  bool haveNames = false;
  if (!identity_.name.empty()) {
    names.set(identity_.sni ? ids::Buffer::TlsSni : ids::Buffer::HttpHost, identity_.name);
    haveNames = identity_.sni || identity_.host;
  }
  if (identity_.host && !payload.empty()) {
    // Request line: METHOD SP request-target SP version (the inspector judged it well formed).
    std::string_view line(reinterpret_cast<const char*>(payload.data()), payload.size());
    const size_t lead = line.find_first_not_of("\r\n");
    if (lead != std::string_view::npos) line.remove_prefix(lead);
    line = line.substr(0, line.find("\r\n"));
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 != std::string_view::npos) {
      names.set(ids::Buffer::HttpMethod, line.substr(0, sp1));
      names.set(ids::Buffer::HttpUri, line.substr(sp1 + 1, sp2 - sp1 - 1));
    }
  }
  ids::ScanResult r;
  if (haveNames) {
    r = engine->scanBuffers(st, ids::kToServer, names, *ids_->scratch);
    if (!idsAct(e, r, nullptr, nullptr, true, nullptr)) return;
    if (e.user.idsDone) return;
  }
  if (payload.empty()) return;
  counters_.ids_scanned_bytes += payload.size();
  r = engine->scanPayload(st, ids::kToServer, payload, *ids_->scratch);
  idsAct(e, r, nullptr, nullptr, true, nullptr);
}

}  // namespace lbg::dataplane
