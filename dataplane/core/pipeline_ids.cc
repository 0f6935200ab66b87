// 7. ids: the IDS/IPS over exactly the bytes the gateway forwards (dataplane/ids/ engine, rules
// from the policy's `ids:` block compiled once per snapshot).
//
//   at the verdict   the names the inspector found (tls.sni, http.host) and the request
//                    head's buffers (http_head_buffers.h) as sticky buffers; where the held
//                    client stream starts                                         idsJudged()
//   later heads      each later request head of a followed HTTP/1.x connection, as it is
//                    judged (http_follow.cc)                                      idsHttpHead()
//   HTTP by content  a flow allowed by address whose client's first bytes are an HTTP request:
//                    each request head on it, found by the IDS's own request walk, before the
//                    bytes that complete it leave (pipeline_ids_http.cc)        idsHttpFollow()
//   DNS queries      dns.query of each query datagram a client sends         stageIds()
//   certificates     tls.cert_subject / tls.cert_issuer of a TLS ≤ 1.2 server's leaf once the
//                    certificate check passed it, before its flight leaves   idsCertNames()
//   leaving packets  each packet's bytes past the direction's scanned edge, when it is
//                    forwarded; Hyperscan streaming mode, one stream per direction   stageIds()
//   released packets what a hold releases (the verdict's held client bytes, an HTTP
//                    head or later ClientHello held by a follower, the server flight
//                    held for its certificate check, payload held until nDPI named the
//                    application), in stream order, one by one as they leave   idsReleaseHeld()
//   act              alert → EVE alert event; drop/reject (mode ips) → the packet is dropped
//                    and the flow denied `ids-drop` (reset per defaults.deny)          idsAct()
//
// Exactly the forwarded bytes: the scan happens where a packet leaves (forwardAllowed(), or
// releaseHeld() of a scanned flow), never where it arrives, so that a packet a follower or a hold
// drops (and the peer resends, perhaps with other bytes) is scanned only when it really leaves.
// Stream order: the client's bytes after the verdict are in order by the normaliser's guarantee
// (a segment beyond the forwarded edge is dropped before it gets here; a retransmission repeats
// forwarded bytes, which are not scanned twice); held packets are released in sequence order
// from the scanned edge. The server's are not normalised: a segment beyond the scanned edge is
// dropped in ips mode (the server resends it; counted ids_stream_gap) and scanned as if
// contiguous in ids mode.
//
// Per flow: a slot of the worker's IDS pool (FlowIdsState + the edges), found by flow id in an
// open-addressing index, both reserved (on transparent huge pages) when a policy with `ids:` is
// first used. Per worker: the engine's scratch, which also pools ended flows' Hyperscan streams.
// Nothing is allocated per packet (Hyperscan allocates a flow's stream state when it opens it
// and the scratch has none pooled for its database: dataplane/ids/README.md).

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <type_traits>
#include <vector>

#include "dataplane/core/ids_http_follow.h"
#include "dataplane/core/ids_request.h"
#include "dataplane/core/ids_response.h"
#include "dataplane/ids/dns_tcp_queries.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/flow/huge_array.h"
#include "dataplane/flow/tcp_normalizer.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_head_buffers.h"
#include "dataplane/inspect/dns/message.h"
#include "dataplane/inspect/tls/x509_name.h"
#include "dataplane/packet/packet_view.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpFin = 0x01;
constexpr uint32_t kNone = UINT32_MAX;

struct IdsFlow {
  uint64_t flowId = 0;       // 0: free
  uint32_t edge[2] = {0, 0};  // next sequence number to scan per direction (TCP)
  uint8_t edgeKnown = 0;      // bit d: edge[d] is set
  uint32_t nextFree = kNone;
  // Default-initialised, not zeroed, when a flow takes the slot: its byte arrays (stream tails,
  // flowbits, address hits) are read only up to their counts, so only the scalars are written.
  ids::FlowIdsState st;
  IdsResponseFlow resp;  // the server's HTTP responses (pipeline_http_response.cc)
  IdsRequestFlow req;    // the client's upload in flight (pipeline_http_request.cc)
  ids::DnsTcpQueries dnsTcp;  // the client's DNS-over-TCP messages (dns.query)
  IdsHttpFollow http;         // HTTP on a flow allowed by address (pipeline_ids_http.cc)
};

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// Where flow `id` goes in the index: flow ids are a worker's counter, so flows made one after
// another (and, in their first packets, scanned one after another) share an index cache line
// (4 entries of 16 bytes), while the groups of 4 are scattered (a run of long-lived flows does
// not make one long probe run, as ids taken modulo the size would).
uint64_t homeOf(uint64_t id) {
  return mix(id >> 2) << 2 | (id & 3);
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
  // The slots (capacity) and the index are reserved, not written, when the worker is made (tens
  // of MB: zeroing them stalled the worker's first IDS packet); slots up to `used` were handed
  // out once, the rest are untouched, so their pages are faulted in as flows first use them.
  // Both are read at random once per scanned packet: on transparent huge pages (HugeArray), as
  // the flow table, so that the lookup is not also a TLB miss.
  uint32_t capacity = 0, used = 0;
  flow::HugeArray<IdsFlow> flows;
  uint32_t freeHead = kNone;  // released slots below `used`
  // flow id -> slot + 1 (0 empty), linear probing with backward-shift deletion; twice the slots.
  struct IndexEntry {
    uint64_t id;
    uint32_t slotPlus1;
  };
  flow::HugeArray<IndexEntry> index;
  uint64_t mask = 0;

  // A hold's packets while they are released in stream order (at most maxHeldPerFlow).
  struct Held {
    rte_mbuf* m;
    uint32_t seq;  // first data byte
    bool tcp;      // decoded as a whole TCP segment
    bool done;
  };
  std::vector<Held> held;
  // Where a request head's merged buffers are built (http_head_buffers.h), once per worker.
  std::unique_ptr<ids::HttpHeadScratch> httpHead = std::make_unique<ids::HttpHeadScratch>();
  // A leaf's subject and issuer as text (inspect/tls/x509_name.h); longer names are cut.
  char certSubject[2048];
  char certIssuer[2048];
  // HTTP bodies in flight, responses' and uploads' (ids_bodies.h), and the sink the request
  // walk hands an upload's body to (ids_request.h).
  uint32_t bodySlots;
  IdsBodies bodies;
  IdsRequestGather gather;

  static uint64_t indexSize(uint32_t slots) {
    uint64_t n = 2;
    while (n < uint64_t(slots) * 2) n <<= 1;
    return n;
  }
  // HugeArray: anonymous zeroed pages the kernel maps on first touch, none written here.
  IdsWorker(uint32_t slots, uint32_t maxHeld, uint32_t bodyBuffers, uint32_t bodyLimit,
            uint32_t bodiesPerClient, uint64_t* clientCapped)
      : capacity(slots),
        flows(slots),
        index(indexSize(slots)),
        held(maxHeld),
        bodySlots(std::min<uint32_t>(bodyBuffers, IdsBodies::kNoSlot - 1)),
        bodies(bodySlots, bodyLimit, *httpHead, bodiesPerClient, clientCapped) {
    static_assert(std::is_trivially_copyable_v<IdsFlow>);
    mask = index.size() - 1;
  }
  IdsFlow* find(uint64_t id) {
    for (uint64_t i = homeOf(id) & mask;; i = (i + 1) & mask) {
      if (index[i].slotPlus1 == 0) return nullptr;
      if (index[i].id == id) return &flows[index[i].slotPlus1 - 1];
    }
  }
  IdsFlow* acquire(uint64_t id) {
    uint32_t slot;
    if (freeHead != kNone) {
      slot = freeHead;
      freeHead = flows[slot].nextFree;
    } else if (used < capacity) {
      slot = used++;
    } else {
      return nullptr;
    }
    IdsFlow& f = *new (&flows[slot]) IdsFlow;  // default-initialised: the scalars only
    f.flowId = id;
    uint64_t i = homeOf(id) & mask;
    while (index[i].slotPlus1 != 0) i = (i + 1) & mask;
    index[i] = IndexEntry{id, slot + 1};
    return &f;
  }
  void release(uint64_t id) {
    uint64_t i = homeOf(id) & mask;
    while (index[i].slotPlus1 != 0 && index[i].id != id) i = (i + 1) & mask;
    if (index[i].slotPlus1 == 0) return;
    IdsFlow& f = flows[index[i].slotPlus1 - 1];
    engine->release(f.st, *scratch);  // its streams reset and pooled for the next flows
    f.resp.release(bodies);
    f.req.release(bodies);
    f.flowId = 0;
    f.nextFree = freeHead;
    freeHead = uint32_t(&f - flows.data());
    // Backward-shift deletion: later entries of the probe run move up into the hole.
    for (uint64_t j = (i + 1) & mask; index[j].slotPlus1 != 0; j = (j + 1) & mask) {
      const uint64_t home = homeOf(index[j].id) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        index[i] = index[j];
        i = j;
      }
    }
    index[i] = IndexEntry{};
  }
  // A new policy version brings a new engine: every flow's Hyperscan streams, flowbits and
  // address hits belong to the old one (Engine::detach); the rest of its slot is the
  // connection's and is kept: its stream edges, offsets and tails, its HTTP framing (where the
  // next request starts, a body or head in flight in its buffer), its responses' framing, its
  // DNS-over-TCP messages. Until 2026-12-07 the slots were emptied: a commit in the middle of an
  // upload made the IDS take the rest of the body for the connection's start, so a fake request
  // head there could hide the real next request as its body. A pattern straddling the commit is
  // missed (the new stream opens at the flow's next bytes). Once per reload on the worker.
  void switchTo(const std::shared_ptr<const ids::Engine>& next) {
    for (uint32_t i = 0; i < used; ++i)
      if (flows[i].flowId != 0) engine->detach(flows[i].st);
    engine = next;
    scratch = engine->makeScratch();
  }
};

void IdsWorkerDelete::operator()(IdsWorker* w) const {
  if (w == nullptr) return;
  for (uint32_t i = 0; i < w->used; ++i)
    if (w->flows[i].flowId != 0) w->engine->release(w->flows[i].st);  // Hyperscan's stream state
  delete w;
}

namespace {

// The flow's IDS slot for this snapshot's engine (made on first use, with the flow's tuple), or
// null when the pool is full. `ids` is created and switched here, at most once per policy version.
// `clientCapped`: the pipeline's counter of body slots refused to a client over its share.
IdsFlow* idsFlowOf(std::unique_ptr<IdsWorker, IdsWorkerDelete>& ids, const PipelineConfig& config,
                   const policy::Snapshot& snap, Pipeline::Entry& e, uint64_t* clientCapped) {
  if (!ids) {
    ids.reset(new IdsWorker(config.idsFlows, config.maxHeldPerFlow, config.idsBodies,
                            config.idsBodyLimit, config.idsBodiesPerClient, clientCapped));
  }
  if (ids->engine.get() != snap.idsEngine()) ids->switchTo(snap.idsEngineShared());
  if (e.meta.flags & kFlowIdsHeld) {
    if (IdsFlow* f = ids->find(e.user.flowId)) return f;
  }
  IdsFlow* f = ids->acquire(e.user.flowId);
  if (f == nullptr) return nullptr;
  e.meta.flags |= kFlowIdsHeld;
  ids::FlowIdsState& st = f->st;
  const bool loIsClient = e.meta.initiatorIsLo;
  st.tuple.client = loIsClient ? e.key.lo : e.key.hi;
  st.tuple.server = loIsClient ? e.key.hi : e.key.lo;
  st.tuple.clientPort = loIsClient ? e.key.loPort : e.key.hiPort;
  st.tuple.serverPort = loIsClient ? e.key.hiPort : e.key.loPort;
  st.tuple.ipProto = e.key.proto;
  return f;
}

// What may be read after `bytes` inside the mbuf's buffer (its tailroom), so the engine can
// scan a segment in place; 0 when the bytes are not in that buffer.
size_t readableAfter(const rte_mbuf* m, std::span<const uint8_t> bytes) {
  const auto* begin = static_cast<const uint8_t*>(m->buf_addr);
  const uint8_t* end = begin + m->buf_len;
  const uint8_t* last = bytes.data() + bytes.size();
  return bytes.data() >= begin && last <= end ? size_t(end - last) : 0;
}

bool idsReadsResponse(const ids::Engine& engine) {
  return engine.inspects(ids::Buffer::HttpStatCode, ids::kToClient) ||
         engine.inspects(ids::Buffer::HttpResponseBody, ids::kToClient) ||
         engine.inspects(ids::Buffer::FileData, ids::kToClient) || idsReadsResponseHead(engine);
}

// The request's method is HEAD: its response has no body (http_response_buffers.h).
bool isHeadRequest(std::span<const uint8_t> request) {
  static constexpr uint8_t kHead[] = {'H', 'E', 'A', 'D', ' '};
  return request.size() >= sizeof kHead && std::equal(kHead, kHead + sizeof kHead, request.data());
}

uint32_t dataSeqOf(const packet::PacketView& v) {
  return (v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq;
}

}  // namespace

bool Pipeline::idsScans(const Entry& e) const {
  return snap_->idsEngine() != nullptr && e.meta.verdict == Verdict::Allow &&
         !(e.meta.flags & kFlowIdsDone);
}

void Pipeline::idsRelease(Entry& e) {
  if (!(e.meta.flags & kFlowIdsHeld)) return;
  e.meta.flags &= uint8_t(~kFlowIdsHeld);
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
  if (r.thresholdFull) ++counters_.ids_threshold_full;
  if (r.fault) {
    ++counters_.ids_faults;
    fault = "fault";
  }
  // Past the stream depth the flow's bytes can no longer be scanned: an attacker pads a plain
  // connection with a megabyte, then sends what a rule would stop. Like a fault, ids.on_fault
  // decides (issue 12); TLS flows stop being scanned at their encrypted records long before.
  if (r.depthExceeded) {
    ++counters_.ids_depth_reached;
    if (fault == nullptr) fault = "stream-depth";
  }
  if (r.action == ids::Verdict::Pass) {
    ++counters_.ids_passed;
    e.meta.flags |= kFlowIdsDone;  // a pass rule exempts the rest of the flow (Suricata's pass)
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
    if (r.encrypted && fault == nullptr) {
      // A TLS flow's encrypted records began: nothing more to scan (Suricata's default).
      ++counters_.ids_tls_encrypted;
      e.meta.flags |= kFlowIdsDone;
      idsRelease(e);
      return true;
    }
    if (fault != nullptr) {
      // ids mode or on_fault: pass: the flow goes on unscanned.
      e.meta.flags |= kFlowIdsDone;
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
  if (e.meta.verdict != Verdict::Allow) {  // denied by the IDS meanwhile (a release before it)
    applyVerdict(e, u, fromInitiator, tx);
    return false;
  }
  const ids::Engine* engine = snap_->idsEngine();
  const packet::PacketView& v = u.view;
  if (engine == nullptr || u.count == 0 || (e.meta.flags & kFlowIdsDone)) return true;
  if (v.payloadLen == 0) {
    // The server's FIN ends a response whose body runs until the close: scanned before it leaves.
    if (fromInitiator || !(v.tcpFlags & kTcpFin) || !(e.meta.flags & kFlowIdsHeld) ||
        ids_->engine.get() != engine) {
      return true;
    }
    IdsFlow* f = ids_->find(e.user.flowId);
    if (f == nullptr || f->resp.http.phase != ids::HttpResponseState::Phase::UntilClose) {
      return true;
    }
    return idsHttpResponse(e, f->st, f->resp, ids_->bodies, *ids_->scratch, {}, true, u, tx);
  }
  const int d = fromInitiator ? 0 : 1;
  IdsFlow* f = idsFlowOf(ids_, config_, *snap_, e, &counters_.ids_body_client_capped);
  std::span<const uint8_t> bytes{v.frame + v.payloadOffset, v.payloadLen};
  const char* fault = nullptr;
  ids::ScanResult r;
  if (f == nullptr) {
    ++counters_.ids_state_full;
    fault = "state-full";
  } else {
    ids::FlowIdsState& st = f->st;
    st.tuple.app = idsApp(e.user.appProto);
    if (st.tuple.app == ids::AppProto::Unknown && f->http.byContent) {
      st.tuple.app = ids::AppProto::Http;
    }
    st.tuple.established = e.key.proto == kTcp
                               ? e.meta.tcpState >= flow::TcpState::Established
                               : e.meta.pkts[0] > 0 && e.meta.pkts[1] > 0;
    if (e.key.proto == kTcp) {
      const uint32_t seq = dataSeqOf(v);
      if (!(f->edgeKnown & (1 << d))) {
        // The direction's first payload starts one past its SYN; a flow picked up mid-stream,
        // or whose IDS state began after a reload, from this packet.
        const bool first = e.meta.bytes[d] == v.payloadLen && e.meta.sawSyn &&
                           (e.meta.seqKnown & (1 << d));
        f->edge[d] = first ? e.meta.isn[d] + 1 : seq;
        f->edgeKnown |= uint8_t(1 << d);
        if (!first && d == 0) f->dnsTcp.lost = true;  // message boundaries unknown
      }
      const int32_t rel = int32_t(seq - f->edge[d]);
      if (rel > 0) {
        ++counters_.ids_stream_gap;
        if (d == 0) {
          f->dnsTcp.lost = true;
          // ids mode scans it as contiguous: the request walk's framing is lost (ips drops it).
          if (!snap_->idsInline() && f->http.mode != IdsHttpFollow::Mode::Off) {
            f->http.mode = IdsHttpFollow::Mode::Off;
            f->req.release(ids_->bodies);
            ++counters_.ids_http_unfollowed;
          }
        }
        if (snap_->idsInline()) {  // never forward what was not scanned in order
          freeUnit(u);
          return false;
        }
      } else if (int64_t(rel) + int64_t(bytes.size()) <= 0) {
        // A retransmission of scanned bytes: the normaliser compared the client's; the server's
        // first copy reached the client as scanned (below), so the client keeps it.
        return true;
      } else {
        bytes = bytes.subspan(size_t(-rel));
      }
      if (d == 1 && !idsServerSegmentDeliverable(u)) return false;
      f->edge[d] = seq + v.payloadLen;
    }
    counters_.ids_scanned_bytes += bytes.size();
    ids::Engine::setTime(*ids_->scratch, now_);
    // HTTP on a flow allowed by address: no HTTP follower runs, so `alert http` rules and the
    // http.* buffers would never apply; the client's first bytes decide, as Suricata's protocol
    // detection does, and every request head after is followed (pipeline_ids_http.cc).
    if (fromInitiator && e.key.proto == kTcp && f->http.mode != IdsHttpFollow::Mode::Off) {
      if (f->http.mode == IdsHttpFollow::Mode::Unprobed) {
        const bool unnamed = st.tuple.app == ids::AppProto::Unknown && st.streamBytes[0] == 0;
        f->http.mode = unnamed ? IdsHttpFollow::Mode::Probe : IdsHttpFollow::Mode::Off;
      }
      if (f->http.mode != IdsHttpFollow::Mode::Off) {
        IdsHttpState hs{st, f->http, f->req, f->resp, ids_->bodies, ids_->gather, *ids_->scratch};
        if (!idsHttpFollow(e, hs, bytes, u, tx)) return false;
        if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule
      }
    }
    if (fromInitiator && st.tuple.app == ids::AppProto::Dns &&
        !(e.key.proto == kTcp ? idsDnsTcp(e, st, f->dnsTcp, bytes, u, tx)
                              : idsDnsQuery(e, st, bytes, u, tx))) {
      return false;
    }
    if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule on the query
    r = engine->scanPayload(st, fromInitiator ? ids::kToServer : ids::kToClient, bytes,
                            *ids_->scratch, readableAfter(u.mbufs[0], bytes));
  }
  if (!idsAct(e, r, fault, &u, fromInitiator, &tx)) return false;
  // The server's bytes of an HTTP flow, when some rule reads the response (else not followed).
  if (f != nullptr && !fromInitiator && e.key.proto == kTcp && !(e.meta.flags & kFlowIdsDone) &&
      f->st.tuple.app == ids::AppProto::Http && idsReadsResponse(*engine)) {
    return idsHttpResponse(e, f->st, f->resp, ids_->bodies, *ids_->scratch, bytes,
                           (v.tcpFlags & kTcpFin) != 0, u, tx);
  }
  return true;
}

// The server's bytes are not kept and compared as the client's are (dataplane/flow/README.md,
// "Normaliser"): a server that wants a download past the IDS sends a first copy the client never
// takes (Ptacek & Newsham's insertion: a bad checksum, or a TTL that runs out between the gateway
// and the client), the IDS scans it and moves its edge, and the resent copy with other bytes
// passes as a retransmission of scanned bytes. So the segment whose bytes are scanned must be one
// the client takes: a bad checksum is dropped unscanned (the client would drop it; the server
// resends), a low TTL is raised to the floor (a reassembled datagram's fragments carry theirs:
// dropped). What is not covered: a segment the client's TCP refuses for its own state (outside
// its window, an old timestamp under PAWS), which the gateway does not track for the server.
bool Pipeline::idsServerSegmentDeliverable(Unit& u) {
  const packet::PacketView& v = u.view;
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    ++counters_.bad_checksum;
    freeUnit(u);
    return false;
  }
  if (flow::ttlBelowFloor(v, normalizer_)) {
    if (u.count != 1) {
      ++counters_.ids_server_ttl_dropped;
      freeUnit(u);
      return false;
    }
    flow::raiseTtl(rte_pktmbuf_mtod(u.mbufs[0], uint8_t*), v, normalizer_.minTtl);
    ++counters_.ids_server_ttl_raised;
  }
  return true;
}

void Pipeline::forwardAllowed(Entry& e, Unit& u, bool fromInitiator, TxSink& tx) {
  if (stageIds(e, u, fromInitiator, tx)) forward(u, tx);
}

void Pipeline::idsReleaseHeld(Entry& e, TxSink& tx, PortRole out) {
  // The hold's packets are one side's: the client's unless the server's flight was held.
  const bool fromInitiator = out == (e.meta.initiatorInside ? PortRole::Outside : PortRole::Inside);
  const int d = fromInitiator ? 0 : 1;
  IdsFlow* f = idsFlowOf(ids_, config_, *snap_, e, &counters_.ids_body_client_capped);
  auto& held = ids_->held;
  uint32_t n = 0;
  bool haveMin = false;
  uint32_t minSeq = 0;
  e.meta.flags &= uint8_t(~kFlowHolding);
  hold_.drain(e.user.hold, [&](rte_mbuf* m) {
    if (n == held.size()) {  // more than maxHeldPerFlow: cannot happen (every hold checks it)
      ++counters_.ids_stream_gap;
      rte_pktmbuf_free(m);
      return;
    }
    packet::PacketView v;
    const bool tcp = packet::decode(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                                    v, decodeOptions_) == packet::DecodeStatus::Ok &&
                     v.ipProto == kTcp;
    const uint32_t seq = tcp ? dataSeqOf(v) : 0;
    if (tcp && v.payloadLen > 0 && (!haveMin || int32_t(seq - minSeq) < 0)) {
      minSeq = seq;
      haveMin = true;
    }
    held[n++] = IdsWorker::Held{m, seq, tcp, false};
  });
  // Where the held stream starts: the scanned edge, else (a hold that began the direction, or
  // IDS state made after a reload) its lowest sequence number; held packets were checked
  // against their stream buffer, so the flight or head they carry starts there.
  if (f != nullptr && haveMin && !(f->edgeKnown & (1 << d))) {
    f->edge[d] = minSeq;
    f->edgeKnown |= uint8_t(1 << d);
  }
  Unit unit{};
  rte_mbuf* one[1];
  unit.mbufs = one;
  unit.fromInside = fromInitiator == e.meta.initiatorInside;
  auto send = [&](IdsWorker::Held& h) {
    h.done = true;
    one[0] = h.m;
    unit.count = 1;
    unit.status = packet::decode(rte_pktmbuf_mtod(h.m, const uint8_t*),
                                 rte_pktmbuf_data_len(h.m), unit.view, decodeOptions_);
    if (unit.status != packet::DecodeStatus::Ok) {
      // An IP fragment of a held segment: its bytes cannot be scanned alone (ids.on_fault).
      if (snap_->idsInline() && !snap_->idsFailOpen()) {
        ++counters_.ids_faults;
        freeUnit(unit);
        return;
      }
      forward(unit, tx);
      return;
    }
    forwardAllowed(e, unit, fromInitiator, tx);
  };
  // In stream order: the next packet is one that starts at or before the scanned edge; when none
  // does (a gap), the lowest one (stageIds drops it in ips mode, scans it as contiguous in ids).
  for (uint32_t sent = 0; sent < n && e.meta.verdict == Verdict::Allow;) {
    IdsWorker::Held* next = nullptr;
    for (uint32_t i = 0; i < n; ++i) {
      IdsWorker::Held& h = held[i];
      if (h.done) continue;
      const bool inOrder = !h.tcp || f == nullptr || (e.meta.flags & kFlowIdsDone) ||
                           !(f->edgeKnown & (1 << d)) || int32_t(h.seq - f->edge[d]) <= 0;
      if (inOrder) {
        next = &h;
        break;
      }
      if (next == nullptr || int32_t(h.seq - next->seq) < 0) next = &h;
    }
    send(*next);
    ++sent;
    // A pass rule or depth ends it.
    f = (e.meta.flags & kFlowIdsHeld) ? ids_->find(e.user.flowId) : nullptr;
  }
  for (uint32_t i = 0; i < n; ++i)
    if (!held[i].done) rte_pktmbuf_free(held[i].m);  // the flow was denied on the way
}

bool Pipeline::idsHttpHead(Entry& e, std::span<const uint8_t> request,
                           const inspect::HttpRequestHead& head) {
  if (!idsScans(e)) return true;
  const ids::Engine* engine = snap_->idsEngine();
  IdsFlow* f = idsFlowOf(ids_, config_, *snap_, e, &counters_.ids_body_client_capped);
  if (f == nullptr) {
    ++counters_.ids_state_full;
    return idsAct(e, ids::ScanResult{}, "state-full", nullptr, true, nullptr);
  }
  f->st.tuple.app = idsApp(e.user.appProto);
  noteHttpRequest(f->resp.http, isHeadRequest(request));
  ids::BufferSet buffers;
  if (identity_.host) buffers.set(ids::Buffer::HttpHost, identity_.name);
  const auto headBytes = request.first(std::min<size_t>(head.headLength, request.size()));
  if (ids::fillHttpHeadBuffers(headBytes, *ids_->httpHead, buffers) == 0) return true;
  const bool bodyHere = setRequestBody(buffers, head, request);
  ids::Engine::setTime(*ids_->scratch, now_);
  if (!idsAct(e, engine->scanBuffers(f->st, ids::kToServer, buffers, *ids_->scratch), nullptr,
              nullptr, true, nullptr)) {
    return false;
  }
  return bodyHere || idsRequestBodyBegin(e, f->req, ids_->bodies, headBytes);
}

inspect::HttpBodySink* Pipeline::idsRequestSink(Entry& e) {
  if (!(e.meta.flags & kFlowIdsHeld) || !idsScans(e) || ids_->engine.get() != snap_->idsEngine()) {
    return nullptr;
  }
  IdsFlow* f = ids_->find(e.user.flowId);
  if (f == nullptr || !f->req.gathering()) return nullptr;
  ids_->gather.bind(f->st, f->req, ids_->bodies);
  return &ids_->gather;
}

bool Pipeline::idsRequestWalked(Entry& e) {
  IdsRequestFlow& q = ids_->gather.flow();
  if (e.user.http.at() != inspect::HttpStreamPhase::Head && q.bodyLen < ids_->bodies.limit()) {
    // The body goes on; in ips mode, a drop rule its bytes so far already match stops it here.
    return !snap_->idsInline() ||
           idsRequestBodyEarly(e, ids_->gather.state(), q, ids_->bodies, *ids_->scratch);
  }
  return idsScanRequestBody(e, ids_->gather.state(), q, ids_->bodies, *ids_->scratch);
}

namespace {

// The next certificate (DER) of a certificate_list, each after its 3-byte length, from `at`,
// which moves past it; false at the list's end or when a length runs past it.
bool nextCertificate(std::span<const uint8_t> chain, size_t& at, std::span<const uint8_t>& cert) {
  if (at + 3 > chain.size()) return false;
  const size_t len = size_t(chain[at]) << 16 | size_t(chain[at + 1]) << 8 | chain[at + 2];
  if (len > chain.size() - at - 3) return false;
  cert = chain.subspan(at + 3, len);
  at += 3 + len;
  return true;
}

}  // namespace

bool Pipeline::idsCertNames(Entry& e, std::span<const uint8_t> chain) {
  if (!idsScans(e)) return true;
  const ids::Engine* engine = snap_->idsEngine();
  // The certificate_list: the leaf comes first.
  size_t at = 0;
  std::span<const uint8_t> leaf;
  if (!nextCertificate(chain, at, leaf)) return true;
  IdsFlow* f = idsFlowOf(ids_, config_, *snap_, e, &counters_.ids_body_client_capped);
  if (f == nullptr) {
    ++counters_.ids_state_full;
    return idsAct(e, ids::ScanResult{}, "state-full", nullptr, false, nullptr);
  }
  f->st.tuple.app = idsApp(e.user.appProto);
  IdsWorker& w = *ids_;
  ids::BufferSet names;
  const size_t subject = inspect::x509NameText(leaf, inspect::X509NameField::Subject,
                                               w.certSubject, sizeof w.certSubject);
  const size_t issuer = inspect::x509NameText(leaf, inspect::X509NameField::Issuer,
                                              w.certIssuer, sizeof w.certIssuer);
  ids::Engine::setTime(*w.scratch, now_);
  if (subject > 0) names.set(ids::Buffer::TlsCertSubject, std::string_view(w.certSubject, subject));
  if (issuer > 0) names.set(ids::Buffer::TlsCertIssuer, std::string_view(w.certIssuer, issuer));
  if ((subject > 0 || issuer > 0) &&
      !idsAct(e, engine->scanBuffers(f->st, ids::kToClient, names, *w.scratch), nullptr, nullptr,
              false, nullptr)) {
    return false;
  }
  if (!engine->inspects(ids::Buffer::TlsCerts, ids::kToClient) || (e.meta.flags & kFlowIdsDone))
    return true;
  // tls.certs, a multi-buffer as in Suricata: each certificate (DER) scanned on its own, leaf
  // first; a rule that matches several of them alerts once.
  uint32_t seen[ids::ScanResult::kMaxSids * 4];
  size_t seenCount = 0;
  std::span<const uint8_t> der = leaf;
  for (bool more = true; more; more = nextCertificate(chain, at, der)) {
    ids::BufferSet cert;
    cert.set(ids::Buffer::TlsCerts, der);
    ids::ScanResult r = engine->scanBuffers(f->st, ids::kToClient, cert, *w.scratch);
    uint8_t kept = 0;
    for (uint8_t i = 0; i < r.sidCount; ++i) {
      if (std::find(seen, seen + seenCount, r.sids[i]) != seen + seenCount) continue;
      if (seenCount < std::size(seen)) seen[seenCount++] = r.sids[i];
      r.sids[kept] = r.sids[i];
      r.rules[kept++] = r.rules[i];
    }
    r.sidCount = kept;
    if (!idsAct(e, r, nullptr, nullptr, false, nullptr)) return false;
    if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule
  }
  return true;
}

bool Pipeline::idsDnsQuery(Entry& e, ids::FlowIdsState& st, std::span<const uint8_t> datagram,
                           Unit& u, TxSink& tx) {
  inspect::DnsQuestion q;
  if (inspect::parseDnsQuestion(datagram, false, q) != inspect::Status::Done || q.isResponse) {
    return true;  // not a query lbg reads: its bytes are still scanned as the datagram
  }
  char name[256];
  const size_t n = inspect::questionNameAsSent(datagram, false, q, name);
  if (n == 0) return true;
  ids::BufferSet buffers;
  buffers.set(ids::Buffer::DnsQuery, std::string_view(name, n));
  return idsAct(e, snap_->idsEngine()->scanBuffers(st, ids::kToServer, buffers, *ids_->scratch),
                nullptr, &u, true, &tx);
}

bool Pipeline::idsDnsTcp(Entry& e, ids::FlowIdsState& st, ids::DnsTcpQueries& q,
                         std::span<const uint8_t> bytes, Unit& u, TxSink& tx) {
  while (!bytes.empty()) {
    const ids::DnsTcpStep step = ids::stepDnsTcp(q, bytes);
    bytes = bytes.subspan(step.used);
    if (step.message.empty()) continue;
    ++counters_.ids_dns_tcp_queries;
    if (!idsDnsQuery(e, st, step.message, u, tx)) return false;
    if (e.meta.flags & kFlowIdsDone) return true;  // a pass rule: the slot is released
  }
  return true;
}

void Pipeline::idsJudged(Entry& e) {
  if (!idsScans(e)) return;
  const ids::Engine* engine = snap_->idsEngine();
  IdsFlow* f = idsFlowOf(ids_, config_, *snap_, e, &counters_.ids_body_client_capped);
  if (f == nullptr) {
    ++counters_.ids_state_full;
    idsAct(e, ids::ScanResult{}, "state-full", nullptr, true, nullptr);
    return;
  }
  ids::FlowIdsState& st = f->st;
  st.tuple.app = idsApp(e.user.appProto);
  st.tuple.established = e.key.proto == kTcp ? e.meta.tcpState >= flow::TcpState::Established
                                              : false;
  // The held client bytes are scanned as they are released (idsReleaseHeld), from where the
  // judged stream starts; the judged datagram as it is forwarded.
  std::span<const uint8_t> payload;
  if (e.key.proto == kTcp && e.user.stream.active()) {
    payload = flow::streamContiguous(*streams_, e.user.stream);
    f->edge[0] = e.user.stream.baseSeq;
    f->edgeKnown |= 1;
  }
  // The names the inspector found, as sticky buffers of this first message (block mode).
  ids::BufferSet names;
  bool haveNames = false;
  if (!identity_.name.empty()) {
    names.set(identity_.sni ? ids::Buffer::TlsSni : ids::Buffer::HttpHost, identity_.name);
    haveNames = identity_.sni || identity_.host;
  }
  // The request head (the inspector judged it well formed): request line and fields.
  inspect::HttpRequestHead head;
  bool bodyHere = true;
  if (identity_.host && !payload.empty()) {
    noteHttpRequest(f->resp.http, isHeadRequest(payload));
    ids::fillHttpHeadBuffers(payload, *ids_->httpHead, names);
    if (inspect::parseHttpRequestHead(payload, head) == inspect::Status::Done) {
      bodyHere = setRequestBody(names, head, payload);
    }
  }
  if (!haveNames) return;
  ids::Engine::setTime(*ids_->scratch, now_);
  if (idsAct(e, engine->scanBuffers(st, ids::kToServer, names, *ids_->scratch), nullptr, nullptr,
             true, nullptr) &&
      !bodyHere) {
    // The body comes after: gathered from where the walk (resumeHttpCarry) starts, the head's end.
    idsRequestBodyBegin(e, f->req, ids_->bodies, payload.first(head.headLength));
  }
}

}  // namespace lbg::dataplane
