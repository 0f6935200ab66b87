#include "dataplane/ids/engine.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "dataplane/ids/prefilter_literal.h"

namespace lbg::ids {
namespace {

int onMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx);

// Engine::Database::carry of a stream literal: the first `look` bytes of content c's fast pattern
// (from fpOffset). Reported at stream offset `to` (its end), its content spans
// [to - look - fpOffset, to + overhang).
int16_t carryReach(const Content& c, size_t look, bool reachesPastFp) {
  constexpr int64_t kTail = FlowIdsState::kStreamTail;
  const int64_t size = int64_t(c.bytes.size()), before = int64_t(c.fpOffset) + int64_t(look);
  int64_t reach = 0;
  // The content goes on past the literal: carried until it ends, verified whole when it fits
  // in the tail.
  if (size <= kTail) reach = size - before;
  // The rule's other inspections can follow: carried while the content's start stays in the
  // tail of the chunk before (at most kTail bytes before the next chunk's start).
  if (reachesPastFp && before <= kTail) reach = std::max(reach, kTail + 1 - before);
  return int16_t(reach);
}

// Suricata's default action-order: pass, drop, reject, alert.
uint64_t actionOrder(Action a) {
  switch (a) {
    case Action::Pass:
      return 0;
    case Action::Drop:
      return 1;
    case Action::Reject:
      return 2;
    case Action::Alert:
      return 3;
  }
  return 3;
}

// Suricata's flowbits ordering (detect-engine-sigorder.c): rules that only write flowbits
// (set/unset/toggle) first, then those that read and write, then those that only read
// (isset/isnotset), then the rest.
uint64_t flowbitsOrder(const Rule& r) {
  bool read = false, write = false;
  for (const Flowbit& fb : r.flowbits)
    (fb.op == Flowbit::Op::IsSet || fb.op == Flowbit::Op::IsNotSet ? read : write) = true;
  return write && !read ? 0 : write ? 1 : read ? 2 : 3;
}

// Rules a TCP stream can match: `ip`, `tcp` and the application protocols over TCP.
bool streamProtocol(Protocol p) {
  return p != Protocol::Udp && p != Protocol::Icmp;
}

// Copies direction d's tail (the tailLen[d] bytes before stream offset streamBytes[d], from
// the ring) to `out`, in stream order.
void copyTail(const FlowIdsState& st, int d, uint8_t* out) {
  constexpr uint32_t kTail = FlowIdsState::kStreamTail;
  const uint32_t len = st.tailLen[d];
  const uint32_t start = (st.streamBytes[d] - len) & (kTail - 1);
  const uint32_t first = std::min(len, kTail - start);
  std::memcpy(out, st.tail[d] + start, first);
  std::memcpy(out + first, st.tail[d], len - first);
}

// Puts the last bytes of a chunk of n bytes that starts at streamBytes[d] into the ring (before
// streamBytes[d] moves past it).
void keepTail(FlowIdsState& st, int d, const uint8_t* chunk, uint32_t n) {
  constexpr uint32_t kTail = FlowIdsState::kStreamTail;
  const uint32_t keep = std::min(n, kTail);
  const uint32_t at = (st.streamBytes[d] + n - keep) & (kTail - 1);
  const uint32_t first = std::min(keep, kTail - at);
  std::memcpy(st.tail[d] + at, chunk + n - keep, first);
  std::memcpy(st.tail[d], chunk + n - keep + first, keep - first);
  st.tailLen[d] = uint16_t(std::min<uint32_t>(kTail, st.tailLen[d] + n));
}

Verdict verdictOf(Action a) {
  switch (a) {
    case Action::Alert:
      return Verdict::Alert;
    case Action::Drop:
      return Verdict::Drop;
    case Action::Reject:
      return Verdict::Reject;
    case Action::Pass:
      return Verdict::Pass;
  }
  return Verdict::None;
}

}  // namespace

// The callback reaches the scratch through the context pointer: no allocation, no lock.
struct ScratchAccess {
  static void queue(Scratch& s, uint32_t rule) {
    if (s.stamp_[rule] == s.generation_) return;
    s.stamp_[rule] = s.generation_;
    s.candidates_.push_back(rule);  // capacity reserved for every rule: never reallocates
  }
  static const std::vector<uint32_t>& ids(Scratch& s) { return *s.ids_; }
  static void carry(Scratch& s, unsigned id, unsigned long long to) {
    if (s.carryReach_ == nullptr) return;
    const int16_t c = (*s.carryReach_)[id];
    if (c <= 0) return;
    const uint64_t end = to + uint64_t(c);
    if (end > s.chunkEnd_) s.carryUntil_ = std::max(s.carryUntil_, end);
  }
};

namespace {
int onMatch(unsigned id, unsigned long long, unsigned long long to, unsigned, void* ctx) {
  auto& s = *static_cast<Scratch*>(ctx);
  ScratchAccess::queue(s, ScratchAccess::ids(s)[id]);
  ScratchAccess::carry(s, id, to);
  return 0;
}
}  // namespace

Scratch::~Scratch() {
  for (auto& pool : streamPool_)
    for (hs_stream* st : pool) hs_close_stream(st, nullptr, nullptr, nullptr);
  if (hs_) hs_free_scratch(hs_);
  if (tools_.matchData) pcre2_match_data_free(tools_.matchData);
  if (tools_.matchContext) pcre2_match_context_free(tools_.matchContext);
}

Engine::~Engine() {
  for (auto& d : block_)
    if (d.db) hs_free_database(d.db);
  for (auto& d : streams_)
    if (d.db) hs_free_database(d.db);
  for (auto& d : carry_)
    if (d.db) hs_free_database(d.db);
  for (auto& r : rules_)
    for (auto& b : r.aux)
      for (auto& a : b)
        if (a.pcre) pcre2_code_free(a.pcre);
}

Result<std::unique_ptr<Engine>> Engine::create(std::shared_ptr<const RuleSet> set,
                                               EngineConfig config) {
  std::unique_ptr<Engine> e(new Engine());
  e->set_ = std::move(set);
  e->config_ = config;
  for (const Rule& r : e->set_->rules()) {
    CompiledRule cr{&r, {}, 0, r.directions(), 0, earlyBlockBuffers(r), reachesPastFastPattern(r)};
    bool ok = true;
    std::string why;
    for (const BufferMatches& bm : r.buffers) {
      cr.buffers |= bufferBit(bm.buffer);
      cr.aux.emplace_back(bm.items.size());
      for (size_t k = 0; k < bm.items.size() && ok; ++k) {
        ItemAux& aux = cr.aux.back()[k];
        if (auto* c = std::get_if<Content>(&bm.items[k]); c && c->nocase) {
          aux.lowered = c->bytes;
          for (auto& ch : aux.lowered) ch = char(std::tolower(uint8_t(ch)));
        } else if (auto* p = std::get_if<Pcre>(&bm.items[k])) {
          int code;
          PCRE2_SIZE at;
          aux.pcre = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p->pattern.data()),
                                   p->pattern.size(), p->options, &code, &at, nullptr);
          if (!aux.pcre) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof msg);
            why = "pcre does not compile: " + std::string(reinterpret_cast<char*>(msg));
            ok = false;
          } else {
            aux.jit = pcre2_jit_compile(aux.pcre, PCRE2_JIT_COMPLETE) == 0;
          }
        }
      }
    }
    if (!ok) {
      for (auto& b : cr.aux)
        for (auto& a : b)
          if (a.pcre) pcre2_code_free(a.pcre);
      e->report_.rejections.push_back({r.file, r.line, 1, "pcre", why});
      continue;
    }
    // The order Suricata inspects a packet's rules in, so that flowbits written by one rule are
    // seen by the later ones as Suricata sees them: action, flowbits use, priority (the rule's,
    // else its classtype's, else 3; lower first), sid.
    int priority = r.priority;
    if (priority == 0) {
      const auto& classes = e->set_->classifications();
      auto it = classes.find(r.classtype);
      priority = it != classes.end() && it->second.priority > 0 ? it->second.priority : 3;
    }
    cr.rank = actionOrder(r.action) << 62 | flowbitsOrder(r) << 60 |
              uint64_t(std::clamp(priority, 0, 255)) << 52 | uint64_t(r.sid) << 20;
    e->rules_.push_back(std::move(cr));
  }
  e->report_.rules = e->rules_.size();
  for (const CompiledRule& cr : e->rules_)
    for (const BufferMatches& bm : cr.rule->buffers)
      e->inspected_[int(bm.buffer)] |= cr.directions;
  for (const CompiledRule& cr : e->rules_)
    e->thresholds_ |= cr.rule->threshold.has_value() || cr.rule->detectionFilter.has_value();
  for (const CompiledRule& cr : e->rules_) e->earlyBlocks_ |= cr.earlyBlock;
  e->counters_ = std::make_unique<RuleCounters[]>(e->rules_.size());
  static std::atomic<uint64_t> nextId{1};
  e->id_ = nextId.fetch_add(1, std::memory_order_relaxed);
  std::string error;
  if (!e->buildDatabases(error)) return Error{error};
  return Result<std::unique_ptr<Engine>>(std::move(e));
}

bool Engine::buildDatabases(std::string& error) {
  struct Patterns {
    std::vector<const char*> exprs;
    std::vector<size_t> lens;
    std::vector<unsigned> flags, ids;
  };
  std::array<Patterns, kKeys> block;
  buildAddressClasses();
  ports_ = PortClasses(config_.groupPorts);
  const uint32_t classes = uint32_t(classes_.classCount());
  const uint32_t portClasses = uint32_t(ports_.classCount());
  // Per direction and (client class, server class, server port class): the stream rules such a
  // flow can match.
  std::array<std::vector<std::vector<uint32_t>>, 2> groupRules;
  for (auto& g : groupRules) g.assign(size_t(classes) * classes * portClasses, {});
  for (uint32_t idx = 0; idx < rules_.size(); ++idx) {
    const Rule& r = *rules_[idx].rule;
    const uint8_t dirs = r.directions();
    for (int d = 0; d < 2; ++d) {
      if (!(dirs & (1 << d))) continue;
      if (r.fpBuffer < 0) {
        const BufferMatches* bm = r.buffers.empty() ? nullptr : &r.buffers[0];
        const int k0 = key(bm ? prefilterBuffer(int(bm->buffer)) : 0, bm && bm->dotPrefix, d);
        // Payload rules are filed for TCP flows and for the others apart (queueAlways()), so a
        // TCP segment does not queue the `udp` rules (ET's DNS opcode rules: every packet).
        const bool payload = k0 == key(0, false, d);
        for (int k : {k0, payload ? kKeys + d : -1}) {
          if (k < 0) continue;
          if (payload &&
              !(k == k0 ? r.header.protocol != Protocol::Tcp : streamProtocol(r.header.protocol)))
            continue;
          // The side whose list is the most specific (longest shortest prefix: a list of hosts
          // rather than $HOME_NET, which every flow of the segment is in), if either has one.
          const AddressSet* side = nullptr;
          int best = -1;
          for (const AddressSet* a : {&r.header.src, &r.header.dst}) {
            if (a->include.empty()) continue;
            int shortest = 128;
            for (const Cidr& c : a->include) shortest = std::min(shortest, int(c.prefix));
            if (shortest > best) side = a, best = shortest;
          }
          if (side == nullptr) {
            always_[k].push_back(idx);
            continue;
          }
          AddressIndex& ix = addressIndex_[k];
          for (const Cidr& c : side->include) {
            auto [it, fresh] =
                ix.rules.try_emplace(prefixKey(c.addr, c.prefix), uint32_t(ix.lists.size()));
            if (fresh) ix.lists.emplace_back();
            auto& list = ix.lists[it->second];
            if (list.empty() || list.back() != idx) list.push_back(idx);
            if (std::find(ix.lengths.begin(), ix.lengths.end(), c.prefix) == ix.lengths.end())
              ix.lengths.push_back(c.prefix);
          }
        }
        continue;
      }
      const BufferMatches& bm = r.buffers[r.fpBuffer];
      const Content& c = std::get<Content>(bm.items[r.fpItem]);
      const char* lit = c.bytes.data() + c.fpOffset;
      size_t len = c.fpLength ? c.fpLength : c.bytes.size();
      // A sticky buffer's candidate is verified in full: its database may look for a prefix of
      // the fast pattern that common words do not end (prefilter_literal.h). A datagram's is
      // kept whole (the streams' are cut below, with a carry).
      if (bm.buffer != Buffer::Payload) len = PrefilterLiteral::choose({lit, len}).size();
      auto add = [&](Patterns& p, unsigned flags) {
        p.ids.push_back(unsigned(p.exprs.size()));
        p.exprs.push_back(lit);
        p.lens.push_back(len);
        p.flags.push_back(flags | (c.nocase ? HS_FLAG_CASELESS : 0));
        return idx;
      };
      const int k = key(prefilterBuffer(int(bm.buffer)), bm.dotPrefix, d);
      block_[k].ids.push_back(add(block[k], HS_FLAG_SINGLEMATCH));
      if (bm.buffer == Buffer::Payload && streamProtocol(r.header.protocol)) {
        // As headerMatches(): the server's port is the destination's to the server, the
        // source's to the client, and the other way round for the swapped side of `<>`.
        const Header& h = r.header;
        const PortSet& serverPorts = d == 0 ? h.dstPorts : h.srcPorts;
        const PortSet& swappedPorts = d == 0 ? h.srcPorts : h.dstPorts;
        for (uint32_t pc = 0; pc < portClasses; ++pc) {
          const bool direct = ports_.mayMatch(pc, serverPorts);
          const bool swapped = h.bidirectional && ports_.mayMatch(pc, swappedPorts);
          for (uint32_t cc = 0; cc < classes; ++cc)
            for (uint32_t sc = 0; sc < classes; ++sc) {
              const uint32_t src = d == 0 ? cc : sc, dst = d == 0 ? sc : cc;
              const bool fits =
                  (direct && classes_.mayMatch(src, h.src) && classes_.mayMatch(dst, h.dst)) ||
                  (swapped && classes_.mayMatch(dst, h.src) && classes_.mayMatch(src, h.dst));
              if (fits) groupRules[d][(cc * classes + sc) * portClasses + pc].push_back(idx);
            }
        }
      }
    }
  }
  auto compile = [&](Patterns& p, unsigned mode, Database& db) {
    if (p.exprs.empty()) return true;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_lit_multi(p.exprs.data(), p.flags.data(), p.ids.data(), p.lens.data(),
                             unsigned(p.exprs.size()), mode, nullptr, &db.db, &err) != HS_SUCCESS) {
      error = std::string("hyperscan: ") + (err ? err->message : "compile failed");
      if (err) hs_free_compile_error(err);
      return false;
    }
    return true;
  };
  for (AddressIndex& ix : addressIndex_) {
    if (ix.rules.empty()) continue;
    size_t words = 1;  // a power of two, at least 16 bits per prefix
    while (words * 64 < ix.rules.size() * 16) words <<= 1;
    ix.filter.assign(words, 0);
    for (const auto& [pk, list] : ix.rules) {
      const size_t h = PrefixKeyHash{}(pk);
      ix.filter[filterWord(h, words)] |= filterBits(h);
    }
  }
  for (int k = 0; k < kKeys; ++k)
    if (!compile(block[k], HS_MODE_BLOCK, block_[k])) return false;
  // One database per distinct rule list (flows of several classes often share one).
  std::map<std::vector<uint32_t>, uint16_t> made;
  for (int d = 0; d < 2; ++d) {
    streamGroup_[d].assign(groupRules[d].size(), kNoStream);
    for (size_t g = 0; g < groupRules[d].size(); ++g) {
      const std::vector<uint32_t>& list = groupRules[d][g];
      if (list.empty()) continue;
      auto [it, fresh] = made.try_emplace(list, uint16_t(streams_.size()));
      streamGroup_[d][g] = it->second;
      if (!fresh) continue;
      Patterns p, cut;
      Database& db = streams_.emplace_back();
      Database& carry = carry_.emplace_back();
      for (uint32_t idx : list) {
        const Rule& r = *rules_[idx].rule;
        const Content& c = std::get<Content>(r.buffers[r.fpBuffer].items[r.fpItem]);
        const char* lit = c.bytes.data() + c.fpOffset;
        const size_t len = c.fpLength ? c.fpLength : c.bytes.size();
        // Cut as a sticky buffer's (prefilter_literal.h) when the whole fast pattern fits in the
        // tail: a prefix reported near a chunk's end is searched again in the next chunk's
        // window (carry_), so the literal is found in the chunk it ends in, as when whole.
        size_t look = len;
        if (len <= size_t(FlowIdsState::kStreamTail) && c.fpLength == 0) {
          look = PrefilterLiteral::choose({lit, len}).size();
          if (len - look > kMaxOverhang) look = len;
        }
        p.ids.push_back(unsigned(p.exprs.size()));
        p.exprs.push_back(lit);
        p.lens.push_back(look);
        // No SINGLEMATCH: a stream keeps reporting, the same literal may be verified again in a
        // later chunk.
        p.flags.push_back(c.nocase ? HS_FLAG_CASELESS : 0);
        db.ids.push_back(idx);
        const int16_t reach = carryReach(c, look, rules_[idx].reachesPastFp);
        db.carry.push_back(reach);
        if (reach > 0) {
          cut.ids.push_back(unsigned(cut.exprs.size()));
          cut.exprs.push_back(lit);
          cut.lens.push_back(look);
          cut.flags.push_back(HS_FLAG_SINGLEMATCH | (c.nocase ? HS_FLAG_CASELESS : 0));
          carry.ids.push_back(idx);
        }
      }
      if (std::all_of(db.carry.begin(), db.carry.end(), [](int16_t c) { return c <= 0; }))
        db.carry.clear();
      if (!compile(p, HS_MODE_STREAM, db) || !compile(cut, HS_MODE_BLOCK, carry)) return false;
    }
  }
  return true;
}

void Engine::buildAddressClasses() {
  // The non-`any` address sets of the payload rules a stream is scanned for, most used first.
  std::vector<std::pair<size_t, AddressSet>> uses;
  for (const CompiledRule& cr : rules_) {
    const Rule& r = *cr.rule;
    if (r.fpBuffer < 0 || r.buffers[r.fpBuffer].buffer != Buffer::Payload ||
        !streamProtocol(r.header.protocol))
      continue;
    for (const AddressSet* a : {&r.header.src, &r.header.dst}) {
      if (a->include.empty() && a->exclude.empty()) continue;
      const AddressSet k = AddressClasses::canonical(*a);
      auto it = std::find_if(uses.begin(), uses.end(),
                             [&](const auto& u) { return AddressClasses::same(u.second, k); });
      if (it == uses.end())
        uses.push_back({1, k});
      else
        ++it->first;
    }
  }
  std::stable_sort(uses.begin(), uses.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  // Sets used by a handful of rules are not worth databases of their own (their rules go into
  // every group their other side allows). At most kMaxClasses classes: the groups (databases to
  // compile) grow as its square times the port classes, 4² × 12 per direction at most.
  constexpr size_t kMaxClasses = 4;
  std::vector<AddressSet> sets;
  for (const auto& [n, set] : uses)
    if (n >= config_.groupMinRules && sets.size() < AddressClasses::kMaxSets) sets.push_back(set);
  for (;;) {
    classes_ = AddressClasses(sets);
    if (classes_.classCount() <= kMaxClasses || sets.empty()) return;
    sets.pop_back();
  }
}

uint16_t Engine::streamGroupOf(const FlowTuple& t, int d) const {
  const uint32_t n = uint32_t(classes_.classCount());
  return streamGroup_[d][(classes_.classOf(t.client) * n + classes_.classOf(t.server)) *
                             ports_.classCount() +
                         ports_.classOf(t.serverPort)];
}

std::unique_ptr<Scratch> Engine::makeScratch() const {
  std::unique_ptr<Scratch> s(new Scratch());
  for (auto& d : block_)
    if (d.db) hs_alloc_scratch(d.db, &s->hs_);
  for (auto& d : streams_)
    if (d.db) hs_alloc_scratch(d.db, &s->hs_);
  for (auto& d : carry_)
    if (d.db) hs_alloc_scratch(d.db, &s->hs_);
  s->stamp_.assign(rules_.size(), 0);
  s->candidates_.reserve(rules_.size());
  // Also the carry's copy of a stream tail (the carry search below).
  s->staging_.assign(
      std::max<size_t>(config_.maxBuffer, FlowIdsState::kStreamTail) + Scratch::kScanPad, 0);
  s->window_.assign(FlowIdsState::kStreamTail + config_.maxChunk + Scratch::kScanPad, 0);
  for (auto& d : s->dotted_) d.assign(config_.maxBuffer + 1 + Scratch::kScanPad, 0);
  s->tools_.matchData = pcre2_match_data_create(32, nullptr);
  s->tools_.matchContext = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(s->tools_.matchContext, 100000);
  pcre2_set_depth_limit(s->tools_.matchContext, 1000);
  s->tools_.recursionLimit = config_.recursionLimit;
  if (thresholds_) s->thresholds_ = ThresholdTable(config_.thresholdEntries);
  s->streamPool_.resize(streams_.size());
  for (auto& pool : s->streamPool_) pool.reserve(Scratch::kStreamPool);
  s->engineId_ = id_;
  return s;
}

void Engine::release(FlowIdsState& state) const {
  for (auto& st : state.stream)
    if (st) hs_close_stream(st, nullptr, nullptr, nullptr), st = nullptr;
  state.streamDb[0] = state.streamDb[1] = FlowIdsState::kStreamUnknown;
  state.carryUntil[0] = state.carryUntil[1] = 0;
}

void Engine::detach(FlowIdsState& state) const {
  release(state);
  state.flowbitCount = 0;
  state.addressHitCount[0] = state.addressHitCount[1] = FlowIdsState::kAddressHitsUnknown;
  state.addressIndexEngine = 0;
}

void Engine::release(FlowIdsState& state, Scratch& s) const {
  for (int d = 0; d < 2; ++d) {
    hs_stream*& st = state.stream[d];
    if (!st) continue;
    // Only the streams of this engine's databases, into the pool of the one it was opened on
    // (hs_reset_stream without a callback: matches at its end are not reported, as at a close).
    const uint16_t db = state.streamDb[d];
    if (s.engineId_ == id_ && db < s.streamPool_.size() &&
        s.streamPool_[db].size() < Scratch::kStreamPool &&
        hs_reset_stream(st, 0, nullptr, nullptr, nullptr) == HS_SUCCESS)
      s.streamPool_[db].push_back(st);  // capacity reserved: never reallocates
    else
      hs_close_stream(st, nullptr, nullptr, nullptr);
    st = nullptr;
  }
  state.streamDb[0] = state.streamDb[1] = FlowIdsState::kStreamUnknown;
  state.carryUntil[0] = state.carryUntil[1] = 0;
}

bool Engine::collectCopy(const Database& db, std::span<const uint8_t> bytes, Scratch& s,
                         bool& truncated) const {
  if (!db.db) return true;
  const size_t n = std::min<size_t>(bytes.size(), config_.maxBuffer);
  truncated |= n < bytes.size();
  std::memcpy(s.staging_.data(), bytes.data(), n);
  return collect(db, s.staging_.data(), n, s);
}

bool Engine::collect(const Database& db, const uint8_t* data, size_t len, Scratch& s) const {
  if (!db.db) return true;
  s.ids_ = &db.ids;
  return hs_scan(db.db, reinterpret_cast<const char*>(data), unsigned(len), 0, s.hs_, onMatch,
                 &s) == HS_SUCCESS;
}

namespace {
// Whether the rule's inspections of `bm` that hold on a prefix of the buffer hold on every longer
// buffer that starts with it: contents found stay found at the same positions, data present
// stays present. Not so for a negated content, endswith, bsize, a negated isdataat, pcre (an
// anchor or a lookahead at the prefix's end), byte_test / byte_jump (kept out to stay simple).
bool holdsOnLongerBuffers(const BufferMatches& bm) {
  if (bm.bsize || bm.dotPrefix) return false;
  for (const Match& m : bm.items) {
    if (const auto* c = std::get_if<Content>(&m)) {
      if (c->negated || c->endsWith) return false;
    } else if (const auto* d = std::get_if<IsDataAt>(&m)) {
      if (d->negated) return false;
    } else {
      return false;
    }
  }
  return true;
}
}  // namespace

bool Engine::reachesPastFastPattern(const Rule& r) {
  if (r.fpBuffer < 0 || r.buffers[r.fpBuffer].buffer != Buffer::Payload) return false;
  const std::vector<Match>& items = r.buffers[r.fpBuffer].items;
  for (size_t k = 0; k < items.size(); ++k) {
    if (int(k) == r.fpItem) continue;
    const Match& m = items[k];
    if (auto* c = std::get_if<Content>(&m); c && c->negated) continue;
    if (auto* p = std::get_if<Pcre>(&m); p && p->negated) continue;
    if (auto* d = std::get_if<IsDataAt>(&m); d && d->negated) continue;
    return true;  // reads bytes that can lie after the fast pattern
  }
  return false;
}

uint32_t Engine::earlyBlockBuffers(const Rule& r) {
  if (r.action != Action::Drop && r.action != Action::Reject) return 0;
  if (r.threshold || r.detectionFilter) return 0;
  for (const Flowbit& fb : r.flowbits)
    if (fb.op != Flowbit::Op::IsSet && fb.op != Flowbit::Op::IsNotSet) return 0;
  uint32_t read = 0, unsafe = 0;
  for (const BufferMatches& bm : r.buffers) {
    read |= bufferBit(bm.buffer);
    if (!holdsOnLongerBuffers(bm)) unsafe |= bufferBit(bm.buffer);
  }
  return read & ~unsafe;
}

namespace {
void beginScan(std::vector<uint32_t>& stamp, uint32_t& generation,
               std::vector<uint32_t>& candidates) {
  if (++generation == 0) {
    std::fill(stamp.begin(), stamp.end(), 0);
    generation = 1;
  }
  candidates.clear();
}
}  // namespace

bool Engine::earlyHit(Buffer b, Direction direction, std::span<const uint8_t> bytes,
                      Scratch& s) const {
  const int d = direction == kToServer ? 0 : 1;
  if (!(earlyBlocks_ & bufferBit(b)) || bytes.empty()) return false;
  beginScan(s.stamp_, s.generation_, s.candidates_);
  bool truncated = false;
  if (!collectCopy(block_[key(prefilterBuffer(int(b)), false, d)], bytes, s, truncated)) {
    return true;  // a Hyperscan error: let the scan of the whole prefix decide
  }
  for (uint32_t idx : s.candidates_)
    if (rules_[idx].earlyBlock & bufferBit(b)) return true;
  return false;
}

ScanResult Engine::scanPayload(FlowIdsState& state, Direction direction,
                               std::span<const uint8_t> bytes, Scratch& s,
                               size_t readableAfter) const {
  static_assert(kScanPad == Scratch::kScanPad);
  ScanResult out;
  const int d = direction == kToServer ? 0 : 1;
  if (bytes.empty()) return out;
  beginScan(s.stamp_, s.generation_, s.candidates_);
  BufferSet view;
  uint64_t base = 0;
  if (state.tuple.ipProto != 6) {
    out.fault |= !collectCopy(block_[key(0, false, d)], bytes, s, out.depthExceeded);
    queueAlways(key(0, false, d), state, s);
    view.set(Buffer::Payload, bytes);
    if (!s.candidates_.empty()) verify(state, d, view, 0, 0, uint32_t(bytes.size()), s, out);
    return out;
  }
  if (state.depthExceeded[d]) return out.depthExceeded = true, out;
  const uint32_t dsize = uint32_t(bytes.size());  // the packet's payload, for dsize
  if (state.tuple.app == AppProto::Tls && !config_.inspectEncryptedTls) {
    if (state.encrypted) return out.encrypted = true, out;
    const size_t stop = state.tls.next(d, state.streamBytes[d], bytes);
    if (stop != TlsFlowWalk::kNone) {  // the bytes before the first encrypted record still count
      state.encrypted = out.encrypted = true;
      bytes = bytes.first(stop);
      if (bytes.empty()) return out;
    }
  }
  const uint32_t room = config_.streamDepth - state.streamBytes[d];
  const uint32_t n = uint32_t(std::min<size_t>(bytes.size(), room));
  if (n < bytes.size()) state.depthExceeded[d] = out.depthExceeded = true;
  if (n == 0) return out;
  const uint8_t* chunk = bytes.data();
  const uint16_t tail = state.tailLen[d];
  const bool windowed = n <= config_.maxChunk;
  // In place when the caller's buffer is padded (n < bytes.size() only cuts, so the pad grows).
  const bool inPlace = windowed && readableAfter >= kScanPad;
  auto fillWindow = [&] {  // previous tail + chunk, padded: verified (and scanned) from here
    copyTail(state, d, s.window_.data());
    std::memcpy(s.window_.data() + tail, chunk, n);
  };
  if (windowed && !inPlace) fillWindow();
  if (state.streamDb[d] == FlowIdsState::kStreamUnknown)
    state.streamDb[d] = streamGroupOf(state.tuple, d);
  if (state.streamDb[d] != kNoStream) {
    const Database& db = streams_[state.streamDb[d]];
    if (!state.stream[d]) {
      // A stream pooled by an earlier flow on this database (reset then: as freshly opened).
      std::vector<hs_stream*>* pool =
          s.engineId_ == id_ ? &s.streamPool_[state.streamDb[d]] : nullptr;
      if (pool != nullptr && !pool->empty()) {
        state.stream[d] = pool->back();
        pool->pop_back();
      } else if (hs_open_stream(db.db, 0, &state.stream[d]) != HS_SUCCESS) {
        state.stream[d] = nullptr;
        return out.fault = true, out;
      }
      state.streamBase[d] = state.streamBytes[d];
    }
    s.ids_ = &db.ids;
    s.carryReach_ = db.carry.empty() ? nullptr : &db.carry;
    // In the Hyperscan stream's offsets (from streamBase), as the callback's are.
    const uint32_t hsBase = state.streamBase[d];
    s.chunkEnd_ = uint64_t(state.streamBytes[d] - hsBase) + n;
    s.carryUntil_ = 0;
    auto scan = [&](const uint8_t* p, uint32_t len) {
      out.fault |= hs_scan_stream(state.stream[d], reinterpret_cast<const char*>(p), len, 0, s.hs_,
                                  onMatch, &s) != HS_SUCCESS;
    };
    if (inPlace) {
      scan(chunk, n);
    } else if (windowed) {
      scan(s.window_.data() + tail, n);
    } else {
      for (uint32_t off = 0; off < n; off += config_.maxBuffer) {
        const uint32_t piece = std::min(n - off, config_.maxBuffer);
        std::memcpy(s.staging_.data(), chunk + off, piece);
        scan(s.staging_.data(), piece);
      }
    }
    s.carryReach_ = nullptr;
    // A literal an earlier chunk reported may belong to a match that ends in this one (a cut or
    // sliced fast pattern, or a rule's later inspections): it lies in the previous chunk's tail,
    // searched again so the rule is verified on this window.
    const Database& carry = carry_[state.streamDb[d]];
    if (state.carryUntil[d] > state.streamBytes[d] && carry.db && tail > 0) {
      copyTail(state, d, s.staging_.data());
      out.fault |= !collect(carry, s.staging_.data(), tail, s);
    }
    if (state.carryUntil[d] <= state.streamBytes[d] + n) state.carryUntil[d] = 0;
    if (s.carryUntil_ != 0) {
      state.carryUntil[d] =
          uint32_t(std::max<uint64_t>(state.carryUntil[d], s.carryUntil_ + hsBase));
    }
  }
  queueAlways(key(0, false, d), state, s);
  uint32_t fresh = 0;
  if (!s.candidates_.empty()) {
    if (windowed) {
      if (inPlace) fillWindow();
      view.set(Buffer::Payload, std::span<const uint8_t>(s.window_.data(), tail + n));
      base = state.streamBytes[d] - tail;
      fresh = tail;
    } else {
      view.set(Buffer::Payload, std::span<const uint8_t>(chunk, n));
      base = state.streamBytes[d];
    }
    verify(state, d, view, base, fresh, dsize, s, out);
  }
  // Keep the last kStreamTail bytes of the stream for the next chunks' verification.
  keepTail(state, d, chunk, n);
  state.streamBytes[d] += n;
  return out;
}

ScanResult Engine::scanBuffers(FlowIdsState& state, Direction direction, const BufferSet& buffers,
                               Scratch& s, uint32_t onlyReading, uint32_t prefixes) const {
  ScanResult out;
  const int d = direction == kToServer ? 0 : 1;
  beginScan(s.stamp_, s.generation_, s.candidates_);
  BufferSet view = buffers;
  for (int b = 0; b < kBufferCount; ++b) {
    auto bytes = buffers.bytes[b];
    if (!bytes.data()) continue;
    const int pb = prefilterBuffer(b);
    if (pb != b) {  // shares pb's database: the same bytes are scanned once, under pb
      const auto shared = buffers.bytes[pb];
      if (shared.data() == bytes.data() && shared.size() == bytes.size()) continue;
    }
    const Database& db = block_[key(pb, false, d)];
    if (buffers.padded & (uint32_t(1) << b)) {  // its own padding: no copy into staging
      const size_t n = std::min<size_t>(bytes.size(), config_.maxBuffer);
      out.depthExceeded |= n < bytes.size();
      out.fault |= !collect(db, bytes.data(), n, s);
    } else {
      out.fault |= !collectCopy(db, bytes, s, out.depthExceeded);
    }
    queueAlways(key(pb, false, d), state, s);
    const int dk = key(pb, true, d);
    if (b != 0 && (block_[dk].db || !always_[dk].empty() || !addressIndex_[dk].rules.empty())) {
      size_t n = std::min<size_t>(bytes.size(), config_.maxBuffer);
      s.dotted_[b][0] = '.';
      std::memcpy(s.dotted_[b].data() + 1, bytes.data(), n);
      out.fault |= !collect(block_[dk], s.dotted_[b].data(), n + 1, s);
      queueAlways(dk, state, s);
    }
  }
  if (!s.candidates_.empty()) {
    auto payload = buffers.bytes[0];
    verify(state, d, view, 0, 0, payload.data() ? uint32_t(payload.size()) : UINT32_MAX, s, out,
           onlyReading, prefixes);
  }
  return out;
}

uint64_t Engine::ticks() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

RuleStats Engine::ruleStats(uint32_t index) const {
  const RuleCounters& k = counters_[index];
  return {k.checks.load(std::memory_order_relaxed), k.matches.load(std::memory_order_relaxed),
          k.cycles.load(std::memory_order_relaxed)};
}

RuleCostReport Engine::ruleCosts(size_t limit) const {
  RuleCostReport out;
  out.enabled = true;
  out.rules = rules_.size();
  std::vector<std::pair<RuleStats, uint32_t>> checked;
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    const RuleStats st = ruleStats(i);
    out.total.checks += st.checks;
    out.total.matches += st.matches;
    out.total.cycles += st.cycles;
    out.rulesMatched += st.matches > 0;
    if (st.checks > 0) checked.push_back({st, i});
  }
  out.rulesChecked = checked.size();
  auto costlier = [](const auto& a, const auto& b) {
    if (a.first.cycles != b.first.cycles) return a.first.cycles > b.first.cycles;
    if (a.first.checks != b.first.checks) return a.first.checks > b.first.checks;
    return a.second < b.second;
  };
  const size_t n = std::min(limit, checked.size());
  std::partial_sort(checked.begin(), checked.begin() + long(n), checked.end(), costlier);
  for (size_t i = 0; i < n; ++i) {
    const Rule& r = *rules_[checked[i].second].rule;
    out.top.push_back({r.gid, r.sid, r.rev, r.msg, checked[i].first});
  }
  return out;
}

Engine::PrefixKey Engine::prefixKey(const IpAddr& a, uint8_t length) {
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = hi << 8 | a.bytes[size_t(i)];
  for (int i = 8; i < 16; ++i) lo = lo << 8 | a.bytes[size_t(i)];
  return prefixKey(hi, lo, length);
}

Engine::PrefixKey Engine::prefixKey(uint64_t hi, uint64_t lo, uint8_t length) {
  PrefixKey k;
  k.length = length;
  k.hi = length >= 64 ? hi : length == 0 ? 0 : hi & ~(~uint64_t(0) >> length);
  k.lo = length >= 128 ? lo : length <= 64 ? 0 : lo & ~(~uint64_t(0) >> (length - 64));
  return k;
}

void Engine::queueAlways(int k, FlowIdsState& state, Scratch& s) const {
  // The payload keys are looked up on every packet: the flow remembers what its addresses found
  // (its addresses never change), so only its first scan per direction hashes.
  const int payloadDir = k == key(0, false, 0) ? 0 : k == key(0, false, 1) ? 1 : -1;
  if (payloadDir >= 0 && state.tuple.ipProto == 6) k = kKeys + payloadDir;  // its TCP rules
  for (uint32_t r : always_[k]) ScratchAccess::queue(s, r);
  const AddressIndex& ix = addressIndex_[k];
  if (ix.rules.empty()) return;
  auto queueList = [&](uint32_t list) {
    for (uint32_t r : ix.lists[list]) ScratchAccess::queue(s, r);
  };
  uint8_t* count = nullptr;
  if (payloadDir >= 0) {
    if (state.addressIndexEngine != id_) {
      state.addressIndexEngine = id_;
      state.addressHitCount[0] = state.addressHitCount[1] = FlowIdsState::kAddressHitsUnknown;
    }
    count = &state.addressHitCount[payloadDir];
    if (*count <= FlowIdsState::kMaxAddressHits) {
      for (uint8_t i = 0; i < *count; ++i) queueList(state.addressHits[payloadDir][i]);
      return;
    }
    if (*count == FlowIdsState::kAddressHitsUnknown) *count = 0;
  }
  for (const IpAddr* a : {&state.tuple.client, &state.tuple.server}) {
    // The address as two words once, masked per length (14 lengths in ET Open).
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | a->bytes[size_t(i)];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | a->bytes[size_t(i)];
    for (uint8_t length : ix.lengths) {
      const PrefixKey pk = prefixKey(hi, lo, length);
      const size_t h = PrefixKeyHash{}(pk);
      const uint64_t bits = filterBits(h);
      if ((ix.filter[filterWord(h, ix.filter.size())] & bits) != bits) continue;
      auto it = ix.rules.find(pk);
      if (it == ix.rules.end()) continue;
      queueList(it->second);
      if (count == nullptr || *count == FlowIdsState::kAddressHitsMany) continue;
      if (*count == FlowIdsState::kMaxAddressHits)
        *count = FlowIdsState::kAddressHitsMany;
      else
        state.addressHits[payloadDir][(*count)++] = it->second;
    }
  }
}

bool Engine::headerMatches(const Rule& r, const FlowTuple& t, int dir) const {
  switch (r.header.protocol) {
    case Protocol::Ip:
      break;
    case Protocol::Tcp:
      if (t.ipProto != 6) return false;
      break;
    case Protocol::Udp:
      if (t.ipProto != 17) return false;
      break;
    case Protocol::Icmp:
      if (t.ipProto != 1 && t.ipProto != 58) return false;
      break;
    case Protocol::Http:
      if (t.app != AppProto::Http) return false;
      break;
    case Protocol::Tls:
      if (t.app != AppProto::Tls) return false;
      break;
    case Protocol::Dns:
      if (t.app != AppProto::Dns) return false;
      break;
  }
  const IpAddr& src = dir == 0 ? t.client : t.server;
  const IpAddr& dst = dir == 0 ? t.server : t.client;
  const uint16_t sp = dir == 0 ? t.clientPort : t.serverPort;
  const uint16_t dp = dir == 0 ? t.serverPort : t.clientPort;
  const Header& h = r.header;
  if (h.src.matches(src) && h.srcPorts.matches(sp) && h.dst.matches(dst) && h.dstPorts.matches(dp))
    return true;
  return h.bidirectional && h.src.matches(dst) && h.srcPorts.matches(dp) && h.dst.matches(src) &&
         h.dstPorts.matches(sp);
}

bool Engine::ruleMatches(const CompiledRule& cr, FlowIdsState& state, int dir,
                         const BufferSet& view, uint64_t payloadBase, uint32_t payloadNew,
                         uint32_t dsize, Scratch& s) const {
  const Rule& r = *cr.rule;
  if (!(cr.directions & (1 << dir))) return false;
  if (r.flow.established && !state.tuple.established) return false;
  if (r.flow.notEstablished && state.tuple.established) return false;
  if (r.dsize && (dsize == UINT32_MAX || !r.dsize->matches(dsize))) return false;
  if (!headerMatches(r, state.tuple, dir)) return false;
  for (const Flowbit& fb : r.flowbits) {
    if (fb.op != Flowbit::Op::IsSet && fb.op != Flowbit::Op::IsNotSet) continue;
    const bool want = fb.op == Flowbit::Op::IsSet;
    bool all = true, any = false;
    for (uint16_t id : fb.ids) {
      bool ok = state.isSet(id) == want;
      all &= ok, any |= ok;
    }
    if (!(fb.any ? any : all)) return false;
  }
  for (size_t b = 0; b < r.buffers.size(); ++b) {
    const BufferMatches& bm = r.buffers[b];
    auto bytes = view.bytes[int(bm.buffer)];
    if (!bytes.data()) return false;
    const uint8_t* data = bytes.data();
    uint32_t len = uint32_t(bytes.size());
    if (bm.dotPrefix) {
      data = s.dotted_[int(bm.buffer)].data();
      len = uint32_t(std::min<size_t>(bytes.size(), config_.maxBuffer) + 1);
    }
    const bool payload = bm.buffer == Buffer::Payload;
    const int fp = int(b) == r.fpBuffer && payload ? r.fpItem : -1;
    if (!matchBuffer(bm, cr.aux[b], data, len, payload ? payloadBase : 0, s.tools_, fp,
                     payload ? payloadNew : 0, payload && payloadNew > 0 && cr.reachesPastFp))
      return false;
  }
  return true;
}

void Engine::verify(FlowIdsState& state, int dir, const BufferSet& view, uint64_t payloadBase,
                    uint32_t payloadNew, uint32_t dsize, Scratch& s, ScanResult& out,
                    uint32_t onlyReading, uint32_t prefixes) const {
  auto& c = s.candidates_;
  // Suricata's order (CompiledRule::rank), then file order (few candidates).
  std::sort(c.begin(), c.end(), [&](uint32_t a, uint32_t b) {
    return rules_[a].rank != rules_[b].rank ? rules_[a].rank < rules_[b].rank : a < b;
  });
  for (uint32_t idx : c) {
    const CompiledRule& cr = rules_[idx];
    // A rule that reads none of them was judged on an earlier scan of the transaction.
    if (onlyReading != kAllBuffers && !(cr.buffers & onlyReading)) continue;
    // A buffer given as a prefix of what it will be: only rules a prefix cannot fool.
    if ((cr.buffers & prefixes) & ~cr.earlyBlock) continue;
    RuleCounters& k = counters_[idx];
    const uint64_t start = ticks();
    const bool hit = ruleMatches(cr, state, dir, view, payloadBase, payloadNew, dsize, s);
    k.cycles.fetch_add(ticks() - start, std::memory_order_relaxed);
    k.checks.fetch_add(1, std::memory_order_relaxed);
    if (!hit) continue;
    k.matches.fetch_add(1, std::memory_order_relaxed);
    const Rule& r = *cr.rule;
    for (const Flowbit& fb : r.flowbits)
      for (uint16_t id : fb.ids) {
        if (fb.op == Flowbit::Op::Set)
          out.flowbitsFull |= !state.set(id);
        else if (fb.op == Flowbit::Op::Unset)
          state.unset(id);
        else if (fb.op == Flowbit::Op::Toggle)
          state.isSet(id) ? state.unset(id) : void(out.flowbitsFull |= !state.set(id));
      }
    if (r.action == Action::Pass) {
      out.action = Verdict::Pass;
      out.sidCount = 0;
      out.truncated = false;
      return;
    }
    // The rule matched (its flowbits are written); its detection_filter, then its threshold,
    // decide whether this match alerts and acts (Suricata: at alert time, per tracked address).
    if (thresholds_ && (r.detectionFilter || r.threshold)) {
      const IpAddr& src = dir == 0 ? state.tuple.client : state.tuple.server;
      const IpAddr& dst = dir == 0 ? state.tuple.server : state.tuple.client;
      bool suppressed = false;
      for (uint32_t kind = 0; kind < 2 && !suppressed; ++kind) {
        const std::optional<Threshold>& t = kind == 0 ? r.detectionFilter : r.threshold;
        if (!t) continue;
        const auto o = s.thresholds_.check(idx * 2 + kind, *t, src, dst, s.nowNs_);
        out.thresholdFull |= o == ThresholdTable::Outcome::Full;
        suppressed = o == ThresholdTable::Outcome::Suppress;
      }
      if (suppressed) continue;
    }
    // noalert keeps a drop a drop; it only silences the alert.
    if (!r.noalert || r.action != Action::Alert)
      out.action = std::max(out.action, verdictOf(r.action));
    if (r.noalert) continue;
    if (out.sidCount < ScanResult::kMaxSids) {
      out.rules[out.sidCount] = idx;
      out.sids[out.sidCount++] = r.sid;
    } else
      out.truncated = true;
  }
}

}  // namespace lbg::ids
