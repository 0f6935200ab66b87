#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/ids/address_classes.h"
#include "dataplane/ids/flow_state.h"
#include "dataplane/ids/matcher.h"
#include "dataplane/ids/port_classes.h"
#include "dataplane/ids/threshold_table.h"
#include "policy/ids/rule_set.h"
#include "policy/ids/rule_stats.h"
#include "policy/base/result.h"

struct hs_database;
struct hs_scratch;
struct hs_stream;

namespace lbg::ids {

enum class Verdict : uint8_t { None, Alert, Drop, Reject, Pass };

// The outcome of one scan: the strongest action of the rules that matched (pass wins over all,
// then reject, drop, alert) and their sids in match order (bounded; `truncated` when more).
struct ScanResult {
  static constexpr int kMaxSids = 8;
  Verdict action = Verdict::None;
  uint8_t sidCount = 0;
  bool truncated = false;
  bool depthExceeded = false;  // the direction reached the stream depth: later bytes unscanned
  bool flowbitsFull = false;   // a flowbit could not be stored (FlowIdsState::kMaxFlowbits)
  bool fault = false;  // Hyperscan failed (stream not opened, scan error): ids.on_fault decides
  bool encrypted = false;  // a TLS flow's encrypted records began: its payload is scanned no more
  bool thresholdFull = false;  // a threshold/detection_filter could not be tracked: alerted
  std::array<uint32_t, kMaxSids> sids{};
  std::array<uint32_t, kMaxSids> rules{};  // the matching rules' indexes (Engine::rule())
};

// The sticky buffers of one transaction or message (HTTP request head, TLS hello, DNS query):
// an empty span is "not present". Payload may be given too, for rules mixing both.
struct BufferSet {
  std::array<std::span<const uint8_t>, kBufferCount> bytes{};
  // Bit b: buffer b has Engine::kScanPad readable bytes after its end, so Hyperscan scans it in
  // place instead of from a copy in the scratch's staging buffer (a response body in its slot).
  uint32_t padded = 0;
  // set() clears the bit: bytes given again without the promise are never read past their end.
  void set(Buffer b, std::span<const uint8_t> s) {
    bytes[int(b)] = s;
    padded &= ~(uint32_t(1) << int(b));
  }
  void setPadded(Buffer b, std::span<const uint8_t> s) {
    set(b, s);
    padded |= uint32_t(1) << int(b);
  }
  void set(Buffer b, std::string_view s) {
    set(b, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
};

struct EngineConfig {
  uint32_t streamDepth = 1u << 20;  // bytes scanned per TCP direction; beyond: depthExceeded
  uint32_t maxChunk = 65536;        // largest payload verified with the previous chunk's tail
  uint32_t maxBuffer = 65536;      // longer sticky buffers and datagrams: prefiltered on this much,
                                   // and the result says depthExceeded
  uint32_t recursionLimit = 3000;  // content backtracking steps per rule and buffer
  // TLS flows (FlowTuple::app Tls): false stops scanning a flow's payload where its encrypted
  // application_data records begin, as Suricata 7 does by default (`encryption-handling:
  // default`; tls_records.h); true scans every byte (Suricata's `full`).
  bool inspectEncryptedTls = false;
  // Entries of each worker's threshold/detection_filter table (ThresholdTable), made only when a
  // rule has one; a match that finds no room alerts (ScanResult::thresholdFull).
  uint32_t thresholdEntries = 8192;
  // TCP streams are scanned with the payload rules their addresses can match (Engine::streams_):
  // an address set used by fewer of those rules than this is not told apart (its rules go into
  // every group), so a rule set makes a handful of databases, not one per host list.
  uint32_t groupMinRules = 16;
  // Server ports whose flows get stream databases of their own (the rules that can match that
  // port); flows on other ports share one. Suricata's default `detect.grouping.tcp-whitelist`.
  std::vector<uint16_t> groupPorts = {53, 80, 139, 443, 445, 1433, 3306, 3389, 6666, 6667, 8080};
};

// Rules the engine itself could not take (a pcre PCRE2 rejects), in the loader's terms.
struct EngineReport {
  size_t rules = 0;
  std::vector<Rejection> rejections;
};

class Engine;
struct ScratchAccess;

// Per-lcore scratch: Hyperscan scratch, candidate list, copies for verification. Everything a
// scan needs is allocated here, once.
class Scratch {
 public:
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class Engine;
  friend struct ScratchAccess;
  Scratch() = default;
  static constexpr size_t kScanPad = 64;  // Engine::kScanPad
  hs_scratch* hs_ = nullptr;
  std::vector<uint32_t> stamp_;  // per rule: the scan generation it was last queued in
  uint32_t generation_ = 0;
  std::vector<uint32_t> candidates_;  // rule indices, capacity = rule count
  // Hyperscan 5.4's AVX512VBMI Teddy can read a byte past the end of its input (VectorCamp
  // vectorscan#322): it only ever scans these buffers, which keep kScanPad readable bytes after
  // the data.
  std::vector<uint8_t> staging_;                           // block inputs, long chunks in pieces
  std::vector<uint8_t> window_;                            // tail + chunk
  std::array<std::vector<uint8_t>, kBufferCount> dotted_;  // '.' + buffer, for dotprefix
  MatchTools tools_;
  const std::vector<uint32_t>* ids_ = nullptr;  // the database being scanned: pattern id -> rule
  // A stream scan's carried literals (Engine::Database::carry, else null): a literal reported
  // at `to` with carry c > 0 raises carryUntil_ to to + c when that is past chunkEnd_ (stream
  // offset).
  const std::vector<int16_t>* carryReach_ = nullptr;
  uint64_t chunkEnd_ = 0;
  uint64_t carryUntil_ = 0;
  ThresholdTable thresholds_;  // this worker's threshold/detection_filter windows
  uint64_t nowNs_ = 0;         // the packet's time (Engine::setTime), for the windows
  // Ended flows' Hyperscan streams, reset, per stream database (Engine::streams_ index): the next
  // flow on that database takes one instead of hs_open_stream() (a malloc and its first touch)
  // and hs_close_stream() (a free). At most kStreamPool per database (capacity reserved), the
  // rest are closed.
  static constexpr size_t kStreamPool = 64;
  std::vector<std::vector<hs_stream*>> streamPool_;
  uint64_t engineId_ = 0;  // the engine that made this scratch (its databases)
};

// Compiled once per rule set (policy version), shared read-only by the workers.
class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(std::shared_ptr<const RuleSet> rules,
                                                EngineConfig config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::unique_ptr<Scratch> makeScratch() const;
  const EngineReport& report() const { return report_; }
  size_t ruleCount() const { return rules_.size(); }
  // A compiled rule by the index a ScanResult gives (for the alert's msg, rev, classtype).
  const Rule& rule(uint32_t index) const { return *rules_[index].rule; }
  const RuleSet& ruleSet() const { return *set_; }
  const EngineConfig& config() const { return config_; }

  // Bytes that must be readable after an input Hyperscan scans in place (its AVX512VBMI literal
  // matcher can read past the end: Scratch).
  static constexpr size_t kScanPad = 64;

  // Payload of one packet in `direction` (kToServer or kToClient). TCP (tuple.ipProto 6): the
  // direction's stream, in order, up to streamDepth; other protocols: the datagram alone.
  // `readableAfter`: how many bytes after `bytes` may be read (an mbuf's tailroom); with
  // kScanPad or more, a TCP chunk is scanned in place, and copied (after the previous chunk's
  // tail) only when a rule is to be verified on it.
  ScanResult scanPayload(FlowIdsState& state, Direction direction, std::span<const uint8_t> bytes,
                         Scratch& scratch, size_t readableAfter = 0) const;
  // Whether some rule inspects buffer `b` in `direction` (so a caller can skip building a
  // buffer no rule reads: the HTTP response follower when no rule reads the response).
  bool inspects(Buffer b, Direction direction) const {
    return (inspected_[int(b)] & direction) != 0;
  }
  // Sticky buffers (block mode). `onlyReading` (bufferBit()s): only rules that read one of these
  // buffers may match. A transaction scanned again when a later buffer of it is complete (an
  // HTTP request's body after its head was scanned) gives every buffer, so that rules mixing
  // them are matched as one transaction, but only the later buffer's rules are judged: the
  // others were judged on the first scan and would fire twice.
  static constexpr uint32_t kAllBuffers = ~0u;
  static constexpr uint32_t bufferBit(Buffer b) { return 1u << int(b); }
  static_assert(kBufferCount <= 32, "bufferBit() masks are 32 bits");
  //
  // `prefixes` (bufferBit()s): buffers given as the part of them that came so far (an upload's
  // body before its end); only the rules that can be judged on such a prefix may match: drop or
  // reject rules without flowbit writes or thresholds whose inspections of those buffers stay
  // true as the buffer grows (contents, isdataat; not negations, endswith, bsize, pcre, byte_*).
  // A match is then a match of the whole buffer too, so the flow can be stopped before the rest
  // of it leaves, and no other rule's state is touched before the buffer's real scan.
  ScanResult scanBuffers(FlowIdsState& state, Direction direction, const BufferSet& buffers,
                         Scratch& scratch, uint32_t onlyReading = kAllBuffers,
                         uint32_t prefixes = 0) const;
  // Whether `bytes` (new bytes of buffer `b`, with enough of the earlier ones before them that a
  // fast pattern they cut is whole) hold the fast pattern of a rule that can be judged on a
  // prefix of `b`: then the caller scans the prefix so far (scanBuffers with `prefixes`).
  bool earlyHit(Buffer b, Direction direction, std::span<const uint8_t> bytes,
                Scratch& scratch) const;
  bool blocksEarly(Buffer b) const { return (earlyBlocks_ & bufferBit(b)) != 0; }
  // Closes the flow's Hyperscan streams (matches at close are not reported).
  void release(FlowIdsState& state) const;
  // The flow goes on with another engine (a new policy version): its streams are closed and what
  // refers to this engine's rules is forgotten (flowbits, the address index's hits, carried
  // literals); what belongs to the connection is kept (stream offsets and tails, depth, the TLS
  // record walk), so positions still count from the stream's start and the next engine opens
  // its streams where the flow is.
  void detach(FlowIdsState& state) const;
  // The same, but the streams are reset and kept in the worker's scratch (made by this engine)
  // for the next flows on their databases: equivalent (hs_reset_stream is a close and an open),
  // without the allocation.
  void release(FlowIdsState& state, Scratch& scratch) const;
  // The time of the packets the next scans are for (threshold/detection_filter windows).
  static void setTime(Scratch& scratch, uint64_t nowNs) { scratch.nowNs_ = nowNs; }

  // What rule `index` cost so far in this engine (one policy version), over every worker that
  // scans with it (`lbgctl ids stats`). Read from any thread.
  RuleStats ruleStats(uint32_t index) const;
  // Totals and the `limit` costliest rules (policyVersion left 0 for the caller).
  RuleCostReport ruleCosts(size_t limit) const;

 private:
  struct Database {
    hs_database* db = nullptr;
    std::vector<uint32_t> ids;  // pattern id -> rule index
    // Stream databases: pattern id -> up to how far past the literal's end (stream bytes) the
    // next chunks must search the previous chunk's tail for it again (carry_), 0 for never
    // (empty when no literal carries). A literal carries when its rule's match can end in a
    // later chunk than the literal: the fast pattern was cut (PrefilterLiteral) or sliced
    // (fast_pattern:o,l), so the content goes on past the literal; or the rule inspects more
    // than its fast pattern (reachesPastFp), which can come after it. Then it carries while the
    // content it belongs to lies in the tail (its start no more than kStreamTail bytes before
    // the next chunk), so the rule is verified on a window holding it, as when whole.
    std::vector<int16_t> carry;
  };
  // A stream literal is cut only when it and what it leaves out fit in the tail a chunk is
  // verified with, so a literal ending in a later chunk is found whole in its window.
  static constexpr size_t kMaxOverhang = 64;
  struct CompiledRule {
    const Rule* rule;
    std::vector<std::vector<ItemAux>> aux;  // [buffer][item]
    uint64_t rank;  // evaluation order on a packet: Suricata's (action, flowbits, priority, sid)
    uint8_t directions;  // Rule::directions(), computed once
    uint32_t buffers;    // bufferBit() of every buffer the rule reads
    uint32_t earlyBlock;  // buffers it can be judged on a prefix of (earlyBlockBuffers())
    // A stream rule that inspects the payload for more than its fast pattern: the rest can lie
    // in a later chunk, so a chunk verifies it on whether the match reaches the chunk (matcher
    // `reach`), not on whether the fast pattern ends in it.
    bool reachesPastFp;
  };
  static bool reachesPastFastPattern(const Rule& r);
  static uint32_t earlyBlockBuffers(const Rule& r);
  // Prefilter key: buffer × dotprefix × direction.
  static constexpr int kKeys = kBufferCount * 2 * 2;
  static int key(int buffer, bool dot, int dir) { return (buffer * 2 + (dot ? 1 : 0)) * 2 + dir; }
  // The buffer whose prefilter database holds a buffer's fast patterns. http.response_body and
  // file.data carry the same bytes (an HTTP response's body, dataplane/core/pipeline_http_response.cc):
  // one database for both, so a body is scanned once, not twice; each candidate is still verified
  // on its own rule's buffer, so a body given as one of them only never matches the other's rules.
  static int prefilterBuffer(int buffer) {
    return buffer == int(Buffer::HttpResponseBody) ? int(Buffer::FileData) : buffer;
  }

  Engine() = default;
  bool buildDatabases(std::string& error);
  // The address sets the stream groups tell apart: the most used ones of the stream rules.
  void buildAddressClasses();
  // The stream database of direction d for this flow (streams_ index, or kNoStream).
  uint16_t streamGroupOf(const FlowTuple& t, int d) const;
  // false on a Hyperscan error; `data` must have Scratch::kScanPad readable bytes after len.
  bool collect(const Database& db, const uint8_t* data, size_t len, Scratch& s) const;
  // Copies the input into the staging buffer first; `truncated` when it was longer.
  bool collectCopy(const Database& db, std::span<const uint8_t> bytes, Scratch& s,
                   bool& truncated) const;
  // payloadNew: where the new chunk starts in the payload view (after the previous tail).
  void verify(FlowIdsState& state, int dir, const BufferSet& view, uint64_t payloadBase,
              uint32_t payloadNew, uint32_t dsize, Scratch& s, ScanResult& out,
              uint32_t onlyReading = kAllBuffers, uint32_t prefixes = 0) const;
  bool headerMatches(const Rule& r, const FlowTuple& t, int dir) const;
  // Queues the rules without a fast pattern of prefilter key `k` that can concern this flow:
  // those of always_, and those of addressIndex_ listed under one of the flow's two addresses
  // (for the payload keys, looked up once per flow while none is found: FlowIdsState).
  void queueAlways(int k, FlowIdsState& state, Scratch& s) const;
  bool ruleMatches(const CompiledRule& cr, FlowIdsState& state, int dir, const BufferSet& view,
                   uint64_t payloadBase, uint32_t payloadNew, uint32_t dsize, Scratch& s) const;

  std::shared_ptr<const RuleSet> set_;
  EngineConfig config_;
  EngineReport report_;
  std::vector<CompiledRule> rules_;
  std::array<Database, kKeys> block_;
  std::array<uint8_t, kBufferCount> inspected_{};  // per buffer: directions some rule reads it in
  // TCP payload: one streaming database per group of rules a flow can match by its addresses
  // and server port (the classes_ of its client and server: a flow from $HOME_NET to outside is
  // not scanned for the rules written for traffic from $EXTERNAL_NET; ports_: nor one to port 80
  // for those of port 25565), chosen when the direction's stream opens. Only rules whose protocol
  // can be TCP. streamGroup_[d][(clientClass * classes + serverClass) * ports + portClass]:
  // index in streams_, kNoStream when no rule of direction d can match such a flow.
  static constexpr uint16_t kNoStream = FlowIdsState::kNoStream;
  AddressClasses classes_;
  PortClasses ports_;
  std::vector<Database> streams_;
  // Per stream database, a block database of its cut literals' prefixes (SINGLEMATCH): while a
  // flow's carryUntil is ahead, a chunk's candidates also come from the previous chunk's tail
  // searched with it, so a literal whose prefix was reported in one chunk and which ends in a
  // later one is verified there (a stream candidate must have its literal end in the new chunk).
  std::vector<Database> carry_;
  std::array<std::vector<uint16_t>, 2> streamGroup_;
  // Rules without a fast pattern, per prefilter key; the payload keys' are those of the flows
  // that are not TCP, kKeys + direction those of TCP flows (only rules whose protocol fits).
  std::array<std::vector<uint32_t>, kKeys + 2> always_;
  // Rules without a fast pattern whose header lists addresses on one side (`alert ip [a,b,...]
  // any -> $HOME_NET any`: IP reputation lists, a thousand rules in ET Open) can only match a
  // flow one of whose two addresses is in that list: they are filed under each listed prefix
  // (masked address + length) and found by one hash lookup per address and distinct length,
  // instead of having their lists walked on every scan. Verification still checks the header.
  struct PrefixKey {
    uint64_t hi = 0, lo = 0;
    uint8_t length = 0;
    bool operator==(const PrefixKey&) const = default;
  };
  struct PrefixKeyHash {
    size_t operator()(const PrefixKey& k) const {
      uint64_t x = k.hi * 0x9e3779b97f4a7c15ull ^ k.lo ^ (uint64_t(k.length) << 56);
      x ^= x >> 31;
      x *= 0xbf58476d1ce4e5b9ull;
      return size_t(x ^ (x >> 29));
    }
  };
  static PrefixKey prefixKey(const IpAddr& a, uint8_t length);
  static PrefixKey prefixKey(uint64_t hi, uint64_t lo, uint8_t length);  // the address's words
  struct AddressIndex {
    std::vector<uint8_t> lengths;  // distinct prefix lengths filed
    std::unordered_map<PrefixKey, uint32_t, PrefixKeyHash> rules;  // prefix -> index in lists
    std::vector<std::vector<uint32_t>> lists;                       // rule indexes per prefix
    // Two bits of one word per filed prefix (filterBits; a few KB, cached): most lookups of a
    // flow's addresses find nothing, and end here rather than in the map's scattered nodes.
    std::vector<uint64_t> filter;
  };
  // The filter is a blocked Bloom filter: two bits of one word per prefix (16 bits per prefix:
  // about 1.5 % false positives, each a lookup in the map's scattered nodes, instead of 6 % with
  // one bit; ET Open's lists probe 14 prefix lengths per address).
  static size_t filterWord(size_t h, size_t words) { return (h >> 6) & (words - 1); }
  static uint64_t filterBits(size_t h) {
    return uint64_t(1) << (h & 63) | uint64_t(1) << ((uint64_t(h) >> 40) & 63);
  }
  std::array<AddressIndex, kKeys + 2> addressIndex_;  // keys as always_
  // Per-rule counters, added to by every worker scanning with this engine (relaxed atomics: a
  // locked add per verified candidate, only after a prefilter hit or for an always-tried rule)
  // and read by the control thread.
  struct RuleCounters {
    std::atomic<uint64_t> checks{0}, matches{0}, cycles{0};
  };
  std::unique_ptr<RuleCounters[]> counters_;
  bool thresholds_ = false;  // some rule has a threshold or detection_filter
  uint32_t earlyBlocks_ = 0;  // buffers some rule can be judged on a prefix of
  uint64_t id_ = 0;  // unique per engine made in this process (FlowIdsState's lookup cache)
  // The CPU's time-stamp counter (cycles), else a steady clock in nanoseconds.
  static uint64_t ticks();
};

}  // namespace lbg::ids
