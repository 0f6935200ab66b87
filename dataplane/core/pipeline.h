#pragma once

// The packet pipeline, listed once and in order (ARCHITECTURE.md "The packet pipeline"):
//
//   1. rx       a burst of mbufs from one port queue                 (worker loop / replay source)
//   2. decode   Ethernet, VLAN, IPv4/IPv6, fragments, TCP/UDP/ICMP  stageDecode()
//   3. guard    new-flow rate and concurrent flows per inside source guardAdmitNew()
//               UDP/ICMP/fragment flood limits per destination       guardFloodAdmit()
//   4. flow     symmetric lookup/insert, TCP state                   stageFlow()
//   5. inspect  pending flows: the inspector tables (inspect/inspector.h) handlePending()
//               TLS ClientHello, HTTP Host; QUIC Initial ClientHello
//               allowed flows: DNS answers, later HTTP heads           stageInspectAllowed()
//               TLS ≤ 1.2 server flights: certificate check          checkServerFlight()
//                 (verifier thread's answers applied after the burst)  serviceCert()
//               appid (nDPI) on each flow's first packets               stageAppId()
//   6. policy   lookup in the current immutable snapshot             decide*()
//   7. ids      Hyperscan scan of the bytes allowed flows forward     stageIds(), idsJudged()
//               (held packets scanned as released, in stream order)  idsReleaseHeld()
//   8. verdict  forward, drop, reset; held packets released or freed applyVerdict()
//   9. log      fixed-size events into the worker's SPSC ring        emit*()
//
// Nothing reorders the stages at run time. Once a flow has a final verdict and no inspector needs
// it, its packets take the short path decode → flow → verdict.
//
// Hot-path contract: no allocation, locks, exceptions, syscalls or logging per packet. Every table
// is bounded and its overflow is counted; every failure denies (fail closed).

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/cert/request_index.h"
#include "dataplane/cert/verdict_cache.h"
#include "dataplane/cert/verifier.h"
#include "dataplane/core/counter_export.h"
#include "dataplane/core/flow_state.h"
#include "dataplane/core/hold_queue.h"
#include "dataplane/core/pipeline_counters.h"
#include "dataplane/core/snapshot_slot.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/guard/deny_summary.h"
#include "dataplane/guard/dest_table.h"
#include "dataplane/guard/source_table.h"
#include "dataplane/ha/flow_sync.h"
#include "dataplane/ha/learn_table.h"
#include "dataplane/inspect/appid/appid.h"
#include "dataplane/inspect/dns/binding_table.h"
#include "dataplane/inspect/dns/query_table.h"
#include "dataplane/inspect/http/request.h"
#include "dataplane/inspect/inspector.h"
#include "dataplane/packet/fragment_reassembler.h"
#include "dataplane/packet/packet_view.h"
#include "dataplane/telemetry/event.h"
#include "dataplane/telemetry/spsc_ring.h"

struct rte_mbuf;
struct rte_mempool;

namespace lbg::ids {
struct ScanResult;
struct FlowIdsState;
struct DnsTcpQueries;
class Scratch;
}

namespace lbg::dataplane {

// Exception: the net_tap port toward the kernel and lbg-proxy (pipeline_intercept.cc).
enum class PortRole : uint8_t { Inside = 0, Outside = 1, Exception = 2 };
inline PortRole otherPort(PortRole p) {
  return p == PortRole::Inside ? PortRole::Outside : PortRole::Inside;
}

// Where a burst came from: a port (live), or a capture whose direction comes from segment.inside.
enum class Ingress : uint8_t { InsidePort, OutsidePort, ByAddress, ExceptionPort };

// Frames leave through this sink; the worker loop flushes it to the ports after each burst, the
// replay flushes it to the output capture.
class TxSink {
 public:
  virtual ~TxSink() = default;
  virtual void send(PortRole out, rte_mbuf* m) = 0;
};

struct PipelineConfig {
  uint32_t flowCapacity = 1u << 20;
  // Table-exhaustion protection (flow_table.h): at most this many flows may be embryonic (TCP
  // without a completed handshake, UDP unanswered) at once; more evict the oldest of them. 0: a
  // quarter of flowCapacity. Established flows are never evicted for new ones.
  uint32_t embryonicFlows = 0;
  uint32_t streamBuffers = 8192;
  uint32_t streamBufferBytes = 16384;
  // Rings of client bytes forwarded after the verdict and not yet acknowledged by the server
  // (dataplane/flow/tcp_normalizer.h): a flow borrows one while it has unacknowledged bytes. The
  // ring size (a power of two) is the most a client may have in flight unacknowledged: beyond
  // it, new data is dropped until the server acknowledges (upload ≤ ring / RTT per connection).
  uint32_t guardRings = 4096;
  uint32_t guardRingBytes = 32768;
  flow::NormalizerConfig normalizer{};
  uint32_t holdSlots = 16384;
  uint16_t maxHeldPerFlow = 512;  // ClientHello in one-byte segments still fits
  uint32_t eventRingSize = 1u << 16;
  uint32_t fragmentDatagrams = 1024;
  uint64_t fragmentTimeoutNs = 2'000'000'000ull;
  uint32_t expireBudget = 64;  // flow slots aged per loop iteration
  flow::Timeouts timeouts{};
  // Verify TCP/UDP checksums of bytes that feed an inspector: an end host drops a segment with a
  // bad checksum, so accepting it would let a client insert data the inspector sees and the
  // server never does. Off only for replaying captures taken on hosts with checksum offload.
  bool verifyChecksums = true;
  // Replay only (`lbg-gateway replay --midstream`): a TCP flow first seen after its SYN is
  // inspected as before the normaliser instead of denied (`midstream:no-syn`), for captures cut
  // from longer traces. Such flows have no client ISN and are not guarded.
  bool allowMidstream = false;
  uint32_t dnsTtlMinSec = 30;
  uint32_t dnsTtlMaxSec = 86400;
  // DNS queries waiting for their answer, per worker (dataplane/inspect/dns/query_table.h): an
  // answer binds only if it matches one. ~320 bytes each; a full table refuses (counted) and
  // the refused query's answer does not bind.
  uint32_t dnsPendingQueries = 4096;
  uint64_t dnsQueryTimeoutNs = 10'000'000'000ull;
  // Application identification (nDPI) on each flow's first appIdPackets packets, with at most
  // appIdSlots flows under identification at once (more are left unidentified, counted). 0 slots
  // turns it off.
  uint32_t appIdSlots = 4096;
  uint16_t appIdPackets = 16;
  // Guard (dataplane/guard): inside sources tracked per worker (32 bytes each). The limits come
  // from the policy's defaults.guard. 0: twice the flow capacity (at least 16,384), so that the source table (which
  // refuses new flows when full, fail closed) cannot fill before the flow table does: every
  // tracked source holds a flow or a recent one (a /16 inside segment is 65,536 sources).
  uint32_t guardSources = 0;
  // Passive certificate check of TLS ≤ 1.2 flows allowed by SNI (pipeline_cert.cc): off when
  // null. Not owned; shared by the workers (each has its rings and verifierSlots requests).
  cert::Verifier* certVerifier = nullptr;
  uint32_t certCacheEntries = 4096;  // per worker (~56 bytes each)
  uint64_t certCacheTtlNs = 3600'000'000'000ull;
  // The certificate probe (pipeline_probe.cc, dataplane/cert/prober.h): on when the
  // verifier runs a prober (the exception port exists). The worker caches the answers.
  uint32_t probeCacheEntries = 4096;  // per worker
  uint64_t probePositiveTtlNs = 3600'000'000'000ull;
  uint64_t probeNegativeTtlNs = 60'000'000'000ull;
  // Denied packets the guard refuses or drops are logged aggregated (dataplane/guard
  // deny_summary.h): one `ddos` record per source and reason per interval, at most this many
  // rows per worker and interval (~80 bytes each); packets beyond are only counted.
  uint32_t denySummaryRows = 1024;
  // Destinations tracked for the per-destination UDP/ICMP/fragment flood limits (~72 bytes each);
  // the limits come from the policy's defaults.guard.
  uint32_t guardDestinations = 16384;
  uint64_t denySummaryIntervalNs = 10'000'000'000ull;
  // IDS (pipeline_ids.cc): allowed flows with scan state at once per worker (~400 bytes each plus
  // Hyperscan's stream state), reserved when a policy with `ids:` is first used. A flow beyond
  // it is counted (ids_state_full) and follows ids.on_fault (fail closed by default).
  uint32_t idsFlows = 16384;
  // HTTP bodies: responses (pipeline_http_response.cc), followed when a rule reads
  // http.stat_code, http.response_body or file.data, and uploads (pipeline_http_request.cc),
  // when a rule reads http.request_body. A body is gathered and scanned up to this many bytes
  // (Suricata's response-/request-body-limit; beyond: counted ids_response_body_beyond or
  // ids_request_body_limit, not scanned as a buffer), in one of this many buffers per worker
  // (reserved, touched as used; at most 65,534) held while the body's first idsBodyLimit bytes
  // are in flight. A body that finds none follows ids.on_fault (ids_response_unbuffered,
  // ids_request_unbuffered).
  uint32_t idsBodyLimit = 65536;
  uint32_t idsBodies = 64;
  // At most this many of those buffers held by one client (inside host) at once, 0 for no bound:
  // one host leaving cut heads or unfinished bodies on many connections must not make every other
  // host's follow ids.on_fault (refused: ids_body_client_capped, then as a body without a buffer).
  // A quarter: a site whose clients all reach the gateway through one internal proxy raises it.
  uint32_t idsBodiesPerClient = 16;
  // The exception path (pipeline_intercept.cc): with a port toward the kernel and lbg-proxy,
  // TCP flows to a service with `intercept: true` (by its CIDR, or by the DNS binding of the
  // destination) are handed to it from their SYN, their frames' destination MAC set to
  // exceptionMac (the tap's: the kernel takes only frames addressed to it).
  bool exceptionPort = false;
  std::array<uint8_t, 6> exceptionMac{};
  // HA flow-state sync (pipeline_sync.cc, dataplane/ha): a synced flow's state is sent again when
  // it was seen since the previous sweep of the table; a sweep starts at most every
  // syncIntervalNs and looks at syncSweepBudget slots per loop iteration.
  uint64_t syncIntervalNs = 200'000'000ull;
  uint32_t syncSweepBudget = 1024;
  uint32_t syncInstallBudget = 512;  // records installed per loop iteration (standby)
  // DNS bindings and certificate verdicts are sent when made, and again by a sweep every
  // cacheResyncIntervalNs (pipeline_cache_sync.cc), so that a standby that started after them
  // has them too; cacheSweepSlots table slots per loop iteration.
  uint64_t cacheResyncIntervalNs = 60'000'000'000ull;
  uint32_t cacheSweepSlots = 64;
  // The takeover's learning frames (pipeline_learn.cc, dataplane/ha/learn_frame.h): hosts kept
  // per worker, rounds sent after becoming active and their spacing (as keepalived repeats its
  // gratuitous ARPs), frames per loop iteration (one TX batch: the mbufs stay within the pool's
  // per-worker slack).
  uint32_t learnHosts = 4096;
  uint32_t learnRounds = 3;
  uint64_t learnIntervalNs = 100'000'000ull;
  uint32_t learnBudget = 64;
};

struct IdsWorker;  // pipeline_ids.cc: the worker's IDS flow pool and scratch
struct IdsResponseFlow;  // ids_response.h
struct IdsRequestFlow;   // ids_request.h
struct IdsHttpState;     // ids_http_follow.h
class IdsBodies;         // ids_bodies.h
struct IdsWorkerDelete {
  void operator()(IdsWorker* w) const;
};

std::unique_ptr<guard::SourceTable> makeGuard(const PipelineConfig& config);
std::unique_ptr<guard::DenySummary> makeDenySummary(const PipelineConfig& config);
std::unique_ptr<guard::DestTable> makeFloodGuard(const PipelineConfig& config);

class Pipeline {
 public:
  using Table = flow::FlowTable<FlowState>;
  using Entry = Table::Entry;
  static_assert(sizeof(Entry) <= 256, "four cache lines per flow: the bytes/flow of the benchmark");
  // What every packet of an established or denied flow reads lies on the two hot lines the burst
  // prefetches (FlowTable::prefetchEntry): the key, FlowMeta (verdict, follow, flags) and the
  // normaliser's word; FlowState (from offset kHotBytes) is read when a flow starts, is judged,
  // holds packets or ends.
  static_assert(offsetof(Entry, meta) + sizeof(flow::FlowMeta) <= Table::kHotBytes &&
                offsetof(Entry, guard) + sizeof(flow::StreamGuard) <= Table::kHotBytes &&
                offsetof(Entry, user) >= Table::kHotBytes);
  static constexpr uint16_t kMaxBurst = 256;

  static Result<std::unique_ptr<Pipeline>> create(const PipelineConfig& config,
                                                  uint32_t workerIndex, SnapshotSlot& policy,
                                                  inspect::DnsBindingTable& dns, rte_mempool* pool);

  // Runs one burst (at most kMaxBurst mbufs) through every stage. Takes ownership of the mbufs:
  // each is sent, held or freed.
  void processBurst(rte_mbuf** pkts, uint16_t n, Ingress ingress, uint64_t nowNs, TxSink& tx);

  // Ages flows (a bounded slice per call) and fragments; logs ends. Call between bursts.
  void housekeeping(uint64_t nowNs);

  // Applies the certificate verifier's answers (pipeline_cert.cc): held server flights released
  // or their flows denied and reset. Call after each burst; `waitAll` (replay) waits until no
  // request is in flight, so that a replay is deterministic.
  void serviceCert(uint64_t nowNs, TxSink& tx, bool waitAll);
  uint32_t certInFlight() const { return certInFlight_; }

  // Ends every flow (shutdown / end of replay): logs ends, frees held packets.
  void drainAll(uint64_t nowNs);

  // HA flow-state sync (pipeline_sync.cc). `out`: this worker's ring to the sync thread (allowed
  // flows' state, their ends); `in`: records from the peer to install. Either may be null.
  void attachSync(ha::SyncRing* out, ha::SyncRing* in) {
    syncOut_ = out;
    syncIn_ = in;
    // A box of a pair keeps the hosts it announces when it takes over (pipeline_learn.cc).
    if (out != nullptr && !learn_) learn_ = std::make_unique<ha::LearnTable>(config_.learnHosts);
  }
  // The caches' sync (pipeline_cache_sync.cc, dataplane/ha/cache_record.h): this worker's rings
  // of DNS bindings and certificate verdicts, to the sync thread and from it. Any may be null.
  void attachCacheSync(const ha::CacheSyncRings& rings) { cacheSync_ = rings; }
  // Once per loop iteration, after housekeeping(): installs what the peer sent (bounded), and
  // while active re-sends a slice of the flows seen since the previous sweep.
  void serviceSync(uint64_t nowNs, bool standby);
  // The takeover's learning frames (pipeline_learn.cc), once per loop iteration with the role of
  // the iteration: when it changes from standby to active, every host of the worker's table is
  // announced out of the port opposite its side, in learnRounds rounds learnIntervalNs apart,
  // learnBudget frames per call. Frames come from the packet pool and go through `tx`.
  void serviceLearn(uint64_t nowNs, bool standby, TxSink& tx);
  // What the service thread logs (one `ha.learn` record per takeover, once every worker is done):
  // announcements finished, and the last one's hosts and frames. Relaxed atomics.
  struct LearnReport {
    uint32_t done = 0;
    uint64_t hosts = 0, frames = 0;
  };
  LearnReport learnReport() const {
    return {learnDone_.load(std::memory_order_acquire),
            learnDoneHosts_.load(std::memory_order_relaxed),
            learnDoneFrames_.load(std::memory_order_relaxed)};
  }

  const PipelineCounters& counters() const { return counters_; }
  // Fills a zeroed event with a flow's tuple (client first), verdict, counters and service name
  // (from `snap` when it is the snapshot that judged the flow). Shared by the log and listings.
  static void describeFlow(const Entry& e, const policy::Snapshot* snap, telemetry::Event& ev);
  // Malformed frames by reason (packet::DropReason order; index 0 unused).
  static constexpr size_t kDecodeReasons = WorkerCounters::kDecodeReasons;
  const std::array<uint64_t, kDecodeReasons>& decodeDrops() const { return decodeDrops_; }
  // A copy of every counter set of this worker (pipeline, flow table, stream buffers, reassembler,
  // appid; not the port's, which the runtime keeps). Read by the service thread while the worker
  // writes: each value is an aligned 64-bit word, the copy a consistent-enough view for statistics.
  WorkerCounters workerCounters() const {
    WorkerCounters c;
    c.pipeline = counters_;
    c.flowTable = flows_->counters;
    c.streams = streams_->counters;
    c.reassembly = frags_->counters();
    if (appid_) c.appid = appid_->counters();
    c.decodeDrops = decodeDrops_;
    return c;
  }
  telemetry::SpscRing<telemetry::Event>& events() { return events_; }
  const Table& flowTable() const { return *flows_; }
  const packet::FragmentReassembler& fragments() const { return *frags_; }
  uint32_t workerIndex() const { return worker_; }

 private:
  Pipeline(const PipelineConfig& config, uint32_t workerIndex, SnapshotSlot& policy,
           inspect::DnsBindingTable& dns, rte_mempool* pool);

  // A packet and the mbufs that carry it (several for a reassembled datagram).
  struct Unit {
    packet::PacketView view;
    rte_mbuf* const* mbufs;
    uint16_t count;
    packet::DecodeStatus status;
    bool fromInside;  // the packet arrived on (or, replayed, comes from) the inside
    bool byAddress;   // replay: direction from addresses, not from a port
    bool keyed;       // key and hash below are computed
    bool reversed;    // the packet goes from the key's hi side to its lo side
    uint32_t hash;
    flow::FlowKey key;
  };
  Unit batch_[kMaxBurst];
  // Mbufs freeUnit() put aside during the current burst (deferFree_), freed by flushFreed().
  rte_mbuf* freed_[kMaxBurst];
  uint16_t freedCount_ = 0;
  bool deferFree_ = false;

  // pipeline_burst.cc: packet *slot decoded into `u` and keyed (its buckets prefetched); false
  // when it was dropped (counted, freed; u.count 0).
  bool decodeUnit(rte_mbuf** slot, Ingress ingress, Unit& u);
  void processDecoded(Unit& u, Ingress ingress, TxSink& tx);
  // A new entry for the keyed unit: counted, a fresh flow id, pending, nothing held. Null (and
  // counted) when the table is full. The caller sets direction and origin.
  Entry* insertFlow(const Unit& u);

  void processUnit(Unit& u, TxSink& tx);
  void stageFlow(Unit& u, TxSink& tx);
  // pipeline_inspect.cc: flows waiting for their verdict, through the inspector tables.
  void handlePending(Entry& e, Unit& u, bool fromInitiator, TxSink& tx);
  bool holdClientBytes(Entry& e, Unit& u);  // false: denied (resources, conflict, limits)
  void inspectStream(Entry& e, const packet::PacketView& v);
  void inspectDatagram(Entry& e, const packet::PacketView& v);
  void judgeFinding(Entry& e, const inspect::Finding& f, policy::L4 l4, uint16_t port,
                    const IpAddr& server);
  // pipeline_stream.cc: ingress-port consistency, then the stream normaliser for TCP. False: the
  // packet was consumed (dropped, or its flow denied).
  bool admitPacket(Entry& e, Unit& u, bool created, bool fromInitiator, TxSink& tx);
  bool normalizeStream(Entry& e, Unit& u, bool created, bool fromInitiator, TxSink& tx);
  Result<Ok> createStreamGuard(const PipelineConfig& config);
  // The first verdict released the stream buffer's bytes: the guard keeps those it needs. The
  // buffer is given back unless a follower keeps holding (`detach` false).
  void adoptJudged(Entry& e, bool detach = true);
  // False: the packet must be dropped (a DNS answer that answers no outstanding query).
  bool stageInspectAllowed(Entry& e, Unit& u, bool fromInitiator);
  // pipeline_dns.cc: DNS bindings with provenance.
  bool inspectDns(Entry& e, const Unit& u, bool fromInitiator);
  // False when a client's query names what no service lists (the flow is denied dns-query).
  // `st` and `q` are parseDnsQuestion()'s reading of the query.
  bool dnsQueryListed(Entry& e, inspect::Status st, const inspect::DnsQuestion& q);
  bool dnsMessage(Entry& e, const inspect::DnsEndpoints& ep, std::span<const uint8_t> msg,
                  bool overTcp, bool fromClient, bool resolver);
  void bindDnsAnswers(std::span<const uint8_t> msg, bool overTcp);
  void stageAppId(Entry& e, const Unit& u, bool created);
  void finishAppId(Entry& e);
  void enforceApp(Entry& e);
  // app_hold.cc: true when the packet was consumed (held, dropped, or its flow denied).
  bool holdUntilIdentified(Entry& e, Unit& u, bool fromInitiator, TxSink& tx);
  void handleIcmp(Unit& u, TxSink& tx);

  // 7. ids (pipeline_ids.cc): the IDS scans exactly the bytes an allowed flow forwards, when
  // they are forwarded. stageIds: a packet about to leave; false when it was consumed (dropped,
  // or its flow denied: a flow denied meanwhile takes the deny path here). forwardAllowed:
  // stageIds, then forward. idsReleaseHeld: releaseHeld() of a scanned flow, held packets in
  // stream order. idsJudged: at the verdict, the names the inspector found (sticky buffers) and
  // where the held client stream starts; it may turn the Allow into a Deny. idsHttpHead: a later
  // request of a followed HTTP connection (`request` from its head on), judged and about to
  // leave, as sticky buffers; false when it denied the flow. idsRelease: the flow ends.
  bool idsScans(const Entry& e) const;
  bool idsHttpHead(Entry& e, std::span<const uint8_t> request,
                   const inspect::HttpRequestHead& head);
  // The client's bytes of a TCP flow allowed without a name (by address: no HTTP follower), as
  // they leave (stageIds, before their payload scan): whether its first bytes are an HTTP
  // request, as Suricata's protocol detection would tell, then every request head of the
  // connection scanned as sticky buffers (pipeline_ids_http.cc); false when it denied the flow.
  bool idsHttpFollow(Entry& e, IdsHttpState& s, std::span<const uint8_t> bytes, Unit& u,
                     TxSink& tx);
  // tls.cert_subject / tls.cert_issuer of a verified TLS ≤ 1.2 server's leaf (pipeline_cert.cc,
  // before the held flight leaves); false when it denied the flow.
  bool idsCertNames(Entry& e, std::span<const uint8_t> chain);
  // dns.query of a client's query datagram (stageIds); false when it denied the flow.
  bool idsDnsTcp(Entry& e, ids::FlowIdsState& st, ids::DnsTcpQueries& q,
                 std::span<const uint8_t> bytes, Unit& u, TxSink& tx);
  bool idsDnsQuery(Entry& e, ids::FlowIdsState& st, std::span<const uint8_t> datagram, Unit& u,
                   TxSink& tx);
  bool stageIds(Entry& e, Unit& u, bool fromInitiator, TxSink& tx);
  // A server segment with bytes the IDS is about to scan must reach the client as scanned: false
  // (the unit freed, counted) when the client would drop it, and its TTL raised to the floor.
  bool idsServerSegmentDeliverable(Unit& u);
  // pipeline_http_response.cc: the server's next in-order bytes of an HTTP flow (`fin`: they end
  // its side) through the flow's response follower; each response's http.stat_code,
  // http.response_body and file.data scanned where its body ends (or reaches the inspection
  // limit), before the segment that ends it leaves. False when it denied the flow.
  bool idsHttpResponse(Entry& e, ids::FlowIdsState& st, IdsResponseFlow& r,
                       IdsBodies& bodies, ids::Scratch& scratch,
                       std::span<const uint8_t> bytes, bool fin, Unit& u, TxSink& tx);
  bool idsScanResponse(Entry& e, ids::FlowIdsState& st, IdsResponseFlow& r,
                       IdsBodies& bodies, ids::Scratch& scratch, Unit& u, TxSink& tx);
  // An upload's http.request_body (pipeline_http_request.cc). idsRequestBodyBegin: at a head
  // whose body did not come with it, a body buffer and the head kept (false: denied, no buffer
  // under on_fault drop). idsRequestSink: while one is gathered, the sink the request walk of
  // judgeHttpBytes hands the body to (else null); idsRequestWalked: after that walk, the scan
  // where the body ended or reached the limit (false: denied). idsScanRequestBody: that scan.
  bool idsRequestBodyBegin(Entry& e, IdsRequestFlow& q, IdsBodies& bodies,
                           std::span<const uint8_t> head);
  inspect::HttpBodySink* idsRequestSink(Entry& e);
  bool idsRequestWalked(Entry& e);
  bool idsScanRequestBody(Entry& e, ids::FlowIdsState& st, IdsRequestFlow& q, IdsBodies& bodies,
                          ids::Scratch& scratch);
  // ips mode, before the body's end: the drop rules that a prefix cannot fool, on the body so
  // far, when its new bytes hold one of their fast patterns (false: denied).
  bool idsRequestBodyEarly(Entry& e, ids::FlowIdsState& st, IdsRequestFlow& q, IdsBodies& bodies,
                           ids::Scratch& scratch);
  void forwardAllowed(Entry& e, Unit& u, bool fromInitiator, TxSink& tx);
  void idsReleaseHeld(Entry& e, TxSink& tx, PortRole out);
  void idsJudged(Entry& e);
  void idsRelease(Entry& e);
  // Logs the scan's alerts and applies its action; `fault` names a failure (ids.on_fault). With
  // `u` (stageIds) a denied flow's packet is dropped through applyVerdict. False: denied.
  bool idsAct(Entry& e, const ids::ScanResult& r, const char* fault, Unit* u, bool fromInitiator,
              TxSink* tx);

  // Exception path (pipeline_intercept.cc). decideIntercept: true when the new flow was judged
  // (handed to the proxy, or denied because it cannot be); punt: a packet of a handed flow from
  // the inside or outside port; fromException: a frame the kernel sent out the exception port.
  bool decideIntercept(Entry& e, const Unit& u, const IpAddr& server, uint16_t port);
  // An allow of an intercept service for a flow not handed over (setVerdict's gate): refused.
  bool bypassesProxy(const Entry& e, telemetry::Reason r, int32_t service) const;
  void refuseBypass(Entry& e, int32_t service);
  void punt(Entry& e, Unit& u, TxSink& tx);
  void fromException(Unit& u, TxSink& tx);

  // Later requests of HTTP connections allowed by Host (http_follow.cc).
  enum class HttpJudged : uint8_t { Judged, PartialHead, Denied };
  bool armHttpFollow(Entry& e, const inspect::HttpRequestHead& head, uint32_t judgedEnd);
  bool laterHostAllowed(const Entry& e, std::string_view name);
  HttpJudged judgeHttpBytes(Entry& e, std::span<const uint8_t> data, size_t& pos);
  void resumeHttpCarry(Entry& e, Unit& u, TxSink& tx);
  bool holdForFollow(Entry& e, Unit& u);
  void followHttp(Entry& e, Unit& u, TxSink& tx);
  // Shared by both followers. followSeq: the segment's first data sequence number, or false when
  // the segment was dealt with already (no payload or only judged bytes: forwarded; bad
  // checksum: dropped). joinHeld: a segment joins the bytes held (a head or hello not complete);
  // Dropped: freed (past a gap, counted in `gaps`, or a duplicate); Held: the caller resumes its
  // carry; Denied: verdict set and buffer given back, the caller applies it.
  enum class HeldJoin : uint8_t { Dropped, Held, Denied };
  bool followSeq(Entry& e, Unit& u, uint32_t next, TxSink& tx, uint32_t& seq);
  HeldJoin joinHeld(Entry& e, Unit& u, uint32_t seq, uint64_t& gaps);

  // The cleartext TLS handshake of connections allowed after a ClientHello (tls_follow.cc).
  enum class TlsJudged : uint8_t { Judged, PartialHello, Ended, Denied };
  void armTlsFollow(Entry& e, const inspect::Finding& f);
  TlsJudged judgeTlsBytes(Entry& e, std::span<const uint8_t> data, size_t& pos);
  void resumeTlsCarry(Entry& e, Unit& u, TxSink& tx);
  void followTls(Entry& e, Unit& u, TxSink& tx);
  uint32_t tlsNameHash(std::string_view name) const;

  // policy stage
  void decideFirstPacket(Entry& e, Unit& u, bool fromInitiator);
  // `f`: what the client's bytes showed (null when judged before any): checked against the
  // protocol the allowing service declares on the port.
  bool decideByBinding(Entry& e, const IpAddr& server, policy::L4 proto, uint16_t port,
                       const inspect::Finding* f = nullptr);
  void decideByName(Entry& e, const inspect::Finding& f, policy::L4 l4, uint16_t port,
                    const IpAddr& server);
  // False (and denied protocol-mismatch) when `f` is not what the service declares on the port.
  bool protocolFits(Entry& e, int service, policy::L4 l4, uint16_t port,
                    const inspect::Finding* f);
  void recheckVerdict(Entry& e);
  void setVerdict(Entry& e, telemetry::Action a, telemetry::Reason r, int32_t service,
                  std::string_view detail = {});

  // verdict stage
  void applyVerdict(Entry& e, Unit& u, bool fromInitiator, TxSink& tx);
  void forward(Unit& u, TxSink& tx);
  // pipeline_burst.cc: within a burst the unit's mbufs are freed together at its end (their
  // second cache line, which freeing reads, prefetched meanwhile); outside a burst at once.
  void freeUnit(Unit& u);
  void flushFreed();
  void sendResets(const packet::PacketView& p, PortRole sourceSide, bool bothWays, TxSink& tx);
  void releaseHeld(Entry& e, TxSink& tx, PortRole out);
  void freeHeld(Entry& e);

  // HA flow-state sync (pipeline_sync.cc). syncFirst: an allowed flow's first sync, from the
  // Allow case of stageFlow (once its followers other than HTTP are done); syncGone: its end or
  // denial is sent (it was synced). installSynced: one record from the peer.
  static bool syncable(const Entry& e);
  // `u`: the packet of the flow's first sync, whose MACs name its hosts (learnHosts()).
  bool syncExport(const Entry& e, ha::SyncOp op, const Unit* u = nullptr);
  void syncFirst(Entry& e, const Unit& u);
  void syncGone(Entry& e);
  void syncSweep(uint64_t nowNs);
  void installSynced(const ha::SyncRecord& r);
  // pipeline_learn.cc: the hosts of a flow's packet (source on its ingress side, destination on
  // the other) into the worker's table and the record; a synced record's hosts into the table.
  void learnHosts(const Unit& u, ha::SyncRecord& r);
  void learnSynced(const ha::SyncRecord& r);
  void noteHost(ha::LearnSide side, const ha::LearnHost& h);
  // pipeline_cache_sync.cc: a binding or a verdict this (active) worker just stored goes to the
  // peer; the peer's are stored here (standby), within syncInstallBudget per iteration.
  bool syncDnsBinding(const IpAddr& addr, std::string_view name, uint32_t ttlSec);
  void syncCertVerdict(ha::CertSyncCache cache, const cert::VerifyRequest& rq, uint64_t ttlNs);
  bool exportCertVerdict(ha::CertSyncCache cache, const cert::CacheKey& key, cert::Refusal verdict,
                         uint64_t ttlNs, const cert::VerifyRequest* rq);
  void cacheSweep(uint64_t nowNs);
  void installCacheRecords(uint64_t nowNs);
  void installDnsBinding(const ha::DnsSyncRecord& r);
  void installCertVerdict(const ha::CertSyncRecord& r);

  // log stage
  void emitVerdict(const Entry& e);
  void emitEnd(const Entry& e, telemetry::EndReason why);
  void endFlow(Entry& e, telemetry::EndReason why);

  // pipeline_cert.cc: the passive certificate check of TLS ≤ 1.2 server flights.
  void createCertCheck(const PipelineConfig& config);
  void armCertCheck(Entry& e, std::string_view sni);
  void checkServerFlight(Entry& e, Unit& u, TxSink& tx);
  bool holdServerBytes(Entry& e, Unit& u);  // false: denied
  void readServerFlight(Entry& e, Unit& u, TxSink& tx);
  void applyCertResult(Entry& e, cert::Refusal r, Unit* u, TxSink& tx);
  void passServerFlight(Entry& e, TxSink& tx);
  void denyServerFlight(Entry& e, Unit* u, telemetry::Reason r, std::string_view detail,
                        TxSink& tx);
  void endCertCheck(Entry& e);
  // True when the flow's service only logs certificate refusals (`certificate: {check: log}`):
  // the refusal is recorded and the flow goes on.
  bool certRefusalLogged(Entry& e, cert::Refusal r);
  // `lbgctl certs flush`: this worker's passive and probe caches forget `keys` (or everything).
  void forgetCertVerdicts(std::span<const cert::CacheKey> keys, bool all);
  // setVerdict() with the request's SNI as the record's name (AP-CERT evidence per service).
  void setCertVerdict(Entry& e, telemetry::Action a, telemetry::Reason r, int32_t service,
                      const cert::VerifyRequest& rq, std::string_view detail = {});
  // The last held packet, decoded: what resets are built from when no packet is at hand (its
  // mbuf stays in the hold queue: count 0).
  Unit lastHeldUnit(Entry& e);

  // pipeline_probe.cc: destinations proven by the prober before the ClientHello leaves.
  bool awaitProbe(Entry& e, Unit& u, TxSink& tx);  // true: held or denied
  void waitProbe(Unit& u, TxSink& tx);
  void serviceProbeAnswer(cert::VerifyRequest& rq, int32_t slot, TxSink& tx);
  void applyProbeResult(Entry& e, const cert::VerifyRequest& rq, TxSink& tx);
  Entry* admitProbe(const Unit& u);  // a probe's SYN from the exception port: its flow, or null

  // guard stage (pipeline_guard.cc): false = the new flow is refused, the unit freed and counted.
  bool guardAdmitNew(Unit& u);
  void guardRelease(const Entry& e);
  // A packet the guard denied: counted into this interval's summary row of its source and reason.
  void guardNoteDenied(const Unit& u, telemetry::Reason why);
  // Emits the summary's rows as `ddos` records once its interval is over (or now, `force`).
  void guardFlushDenied(bool force);
  // Per-destination flood limit of UDP, ICMP and fragments: false = dropped, freed and counted.
  bool guardFloodAdmit(Unit& u, guard::FloodKind kind);

  PipelineConfig config_;
  uint32_t worker_;
  SnapshotSlot& policySlot_;
  inspect::DnsBindingTable& dns_;
  rte_mempool* pool_;
  const policy::Snapshot* snap_ = nullptr;  // the one snapshot of the current burst
  uint32_t snapEpoch_ = 0;                  // its version's low 32 bits (FlowMeta::epoch)
  uint64_t now_ = 0;
  uint64_t nextFlowId_ = 1;
  uint64_t tlsNameSeed_ = 0;  // keys tlsNameHash(): random per process

  std::unique_ptr<Table> flows_;
  std::unique_ptr<flow::StreamBufferPool> streams_;
  std::unique_ptr<flow::StreamBufferPool> rings_;  // the normaliser's, power-of-two sized
  flow::NormalizerConfig normalizer_{};
  std::unique_ptr<packet::FragmentReassembler> frags_;
  std::unique_ptr<inspect::AppId> appid_;  // null when appIdSlots is 0
  std::unique_ptr<inspect::DnsQueryTable> dnsQueries_;  // this worker's outstanding DNS queries
  std::unique_ptr<guard::SourceTable> guard_;  // inside sources' new-flow buckets and flow counts
  std::unique_ptr<IdsWorker, IdsWorkerDelete> ids_;  // made at the first snapshot with an engine
  bool guardCounted_ = false;                  // the unit just admitted was counted in guard_
  uint64_t guardVersion_ = ~0ull;              // the snapshot version guard_'s limits come from
  std::unique_ptr<guard::DenySummary> denied_;  // this interval's denied packets, aggregated
  std::unique_ptr<guard::DestTable> floods_;    // per-destination UDP/ICMP/fragment buckets
  uint64_t floodVersion_ = ~0ull;               // the snapshot version floods_' limits come from
  HoldPool hold_;
  // Passive certificate check (pipeline_cert.cc): null verifier_ = off.
  cert::Verifier* verifier_ = nullptr;
  std::unique_ptr<cert::RequestPool> certRequests_;
  struct CertOwner {  // which flow a request belongs to (entries move in the table)
    flow::FlowKey key;
    uint32_t hash;
  };
  std::unique_ptr<CertOwner[]> certOwners_;
  std::unique_ptr<cert::RequestIndex> certIndex_;  // flow id -> its request
  std::unique_ptr<cert::VerdictCache> certCache_;
  std::unique_ptr<cert::VerdictCache> probeCache_;  // null: no prober
  uint32_t certInFlight_ = 0;
  ha::SyncRing* syncOut_ = nullptr;  // HA flow sync (pipeline_sync.cc); null: not a pair
  ha::SyncRing* syncIn_ = nullptr;
  bool syncStandby_ = false;
  ha::CacheSyncRings cacheSync_;  // the caches' sync (pipeline_cache_sync.cc); null: not a pair
  // The caches' re-sync sweep: 0 the DNS table (worker 0: it is shared), 1 the chain cache, 2 the
  // probe cache, 3 done until the next interval.
  uint8_t cacheSweepPhase_ = 3;
  uint32_t cacheSweepCursor_ = 0;
  uint64_t cacheSweepStart_ = 0;
  uint32_t syncCursor_ = UINT32_MAX;  // the sweep's next slot; UINT32_MAX: no sweep running
  uint64_t syncSweepStart_ = 0, syncPrevSweepStart_ = 0;
  std::unique_ptr<ha::LearnTable> learn_;  // null: not a pair (pipeline_learn.cc)
  int8_t learnWasStandby_ = -1;             // the previous iteration's role; -1: none yet
  uint32_t learnRoundsLeft_ = 0;            // of the running announcement; 0: none running
  uint32_t learnCursor_ = 0;                // the next slot of learn_ in this round
  uint64_t learnRoundNs_ = 0;               // when the current round starts
  uint64_t learnFrames_ = 0;                // frames of the running announcement
  std::atomic<uint32_t> learnDone_{0};
  std::atomic<uint64_t> learnDoneHosts_{0}, learnDoneFrames_{0};
  telemetry::SpscRing<telemetry::Event> events_;
  PipelineCounters counters_;
  std::array<uint64_t, kDecodeReasons> decodeDrops_{};
  packet::DecodeOptions decodeOptions_{};
  inspect::InspectScratch scratch_{};  // parser outputs of the current pending packet

  // Per-flow identity of the current verdict, copied into the verdict event.
  struct Identity {
    std::string_view name;
    std::string_view alpn;
    bool sni = false;
    bool host = false;
  } identity_;
};

}  // namespace lbg::dataplane
