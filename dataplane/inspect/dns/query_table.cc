#include "dataplane/inspect/dns/query_table.h"

#include <cstdlib>
#include <cstring>
#include <random>

#include "dataplane/inspect/dns/mix.h"

namespace lbg::inspect {

enum class SlotState : uint8_t { Free, Pending, Answered };

struct DnsQueryTable::Slot {
  IpAddr client;
  IpAddr resolver;
  uint64_t expiresNs;
  uint16_t clientPort;
  uint16_t id;
  uint16_t qtype;
  uint8_t proto;
  SlotState state;
  uint8_t nameLen;
  uint8_t name[255];

  bool sameQuery(const DnsEndpoints& ep, uint16_t txid) const {
    return clientPort == ep.clientPort && id == txid && proto == ep.proto &&
           client == ep.client && resolver == ep.resolver;
  }
  bool sameQuestion(const DnsQuestion& q) const {
    return qtype == q.qtype && nameLen == q.nameLen && std::memcmp(name, q.name, nameLen) == 0;
  }
  bool live(uint64_t nowNs) const { return state != SlotState::Free && nowNs < expiresNs; }
};

namespace {

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

Result<std::unique_ptr<DnsQueryTable>> DnsQueryTable::create(uint32_t capacity,
                                                             uint64_t timeoutNs) {
  if (capacity < kMinCapacity || capacity > kMaxCapacity) {
    return Error{"DNS query table capacity out of range"};
  }
  if (timeoutNs == 0) return Error{"DNS query timeout must be positive"};
  uint32_t n = kMinCapacity;
  while (n < capacity) n <<= 1;
  // calloc: zero pages, resident only where used; Free is 0.
  auto* slots = static_cast<Slot*>(std::calloc(n, sizeof(Slot)));
  if (slots == nullptr) return Error{"DNS query table: out of memory"};
  std::random_device rd;
  const uint64_t seed = (uint64_t(rd()) << 32) ^ rd();
  return std::unique_ptr<DnsQueryTable>(new DnsQueryTable(slots, n - 1, timeoutNs, seed));
}

DnsQueryTable::DnsQueryTable(Slot* slots, uint32_t mask, uint64_t timeoutNs, uint64_t seed)
    : slots_(slots), mask_(mask), timeoutNs_(timeoutNs), seed_(seed) {}

DnsQueryTable::~DnsQueryTable() { std::free(slots_); }

uint32_t DnsQueryTable::home(const DnsEndpoints& ep, uint16_t id) const {
  uint64_t h = seed_;
  h = mix64(h ^ load64(ep.client.bytes.data()));
  h = mix64(h ^ load64(ep.client.bytes.data() + 8));
  h = mix64(h ^ load64(ep.resolver.bytes.data()));
  h = mix64(h ^ load64(ep.resolver.bytes.data() + 8));
  h = mix64(h ^ (uint64_t(ep.clientPort) << 24 | uint64_t(id) << 8 | ep.proto));
  return static_cast<uint32_t>(h) & mask_;
}

DnsQueryOutcome DnsQueryTable::onQuery(const DnsEndpoints& ep, std::span<const uint8_t> msg,
                                       bool overTcp, uint64_t nowNs) {
  DnsQuestion q;
  const Status st = parseDnsQuestion(msg, overTcp, q);
  return onQuestion(ep, st, q, nowNs);
}

DnsQueryOutcome DnsQueryTable::onQuestion(const DnsEndpoints& ep, Status st,
                                          const DnsQuestion& q, uint64_t nowNs) {
  if (st == Status::NotMine) return DnsQueryOutcome::Ignored;
  if (st != Status::Done) return DnsQueryOutcome::Invalid;
  if (q.isResponse) return DnsQueryOutcome::WrongKind;
  const uint32_t start = home(ep, q.id);
  Slot* reuse = nullptr;
  for (uint32_t p = 0; p < kProbeWindow; ++p) {
    Slot& s = slots_[(start + p) & mask_];
    if (s.live(nowNs)) {
      if (!s.sameQuery(ep, q.id)) continue;
      reuse = &s;  // a retransmission (or a new question under the same id): re-armed
      break;
    }
    if (reuse == nullptr) reuse = &s;
  }
  if (reuse == nullptr) return DnsQueryOutcome::Overflow;
  Slot& s = *reuse;
  if (s.state == SlotState::Pending && !s.live(nowNs)) ++expired_;
  s.client = ep.client;
  s.resolver = ep.resolver;
  s.clientPort = ep.clientPort;
  s.id = q.id;
  s.proto = ep.proto;
  s.qtype = q.qtype;
  s.nameLen = q.nameLen;
  std::memcpy(s.name, q.name, q.nameLen);
  s.expiresNs = nowNs + timeoutNs_;
  s.state = SlotState::Pending;
  return DnsQueryOutcome::Noted;
}

DnsQueryOutcome DnsQueryTable::onAnswer(const DnsEndpoints& ep, std::span<const uint8_t> msg,
                                        bool overTcp, uint64_t nowNs) {
  DnsQuestion q;
  const Status st = parseDnsQuestion(msg, overTcp, q);
  if (st == Status::NotMine) return DnsQueryOutcome::Ignored;
  if (st != Status::Done) return DnsQueryOutcome::Invalid;
  if (!q.isResponse) return DnsQueryOutcome::WrongKind;
  const uint32_t start = home(ep, q.id);
  for (uint32_t p = 0; p < kProbeWindow; ++p) {
    Slot& s = slots_[(start + p) & mask_];
    if (!s.live(nowNs) || !s.sameQuery(ep, q.id)) continue;
    if (s.state == SlotState::Answered) return DnsQueryOutcome::Duplicate;
    // A wrong question does not consume the query: the real answer may still come.
    if (!s.sameQuestion(q)) return DnsQueryOutcome::Mismatched;
    s.state = SlotState::Answered;  // kept until it expires, to recognise duplicates
    return DnsQueryOutcome::Matched;
  }
  return DnsQueryOutcome::Unsolicited;
}

size_t DnsQueryTable::outstanding(uint64_t nowNs) const {
  size_t n = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    n += slots_[i].live(nowNs) && slots_[i].state == SlotState::Pending;
  }
  return n;
}

}  // namespace lbg::inspect
