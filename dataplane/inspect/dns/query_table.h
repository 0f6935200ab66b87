#pragma once

// Outstanding DNS queries of one worker lcore, so that only an answer to a query the gateway saw
// leave can become a binding (DNS bindings with provenance).
//
// A query is keyed by its transport tuple and transaction id: (client address, client port,
// resolver address, protocol, id); it also keeps its question (QNAME, compared case-insensitively,
// and QTYPE). An answer matches when the resolver sends it back to the same client address and
// port with the same id and the same question. Each query takes one answer: the first matching
// one binds, any later one is a duplicate. A client that retransmits its query (same id and
// question) re-arms it, since the resolver may answer each copy.
//
// Bounded and allocation-free after create(): open addressing over a window of kProbeWindow slots
// from a keyed hash (an outsider cannot aim many tuples at one window without knowing the seed).
// A query is forgotten timeoutNs after it was seen: expired slots
// are reused and never match. A full window refuses the new query (counted by the caller as
// overflow): its answer will not bind, which only ever denies more. Memory: capacity × 320 bytes.

#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/inspect/dns/message.h"
#include "policy/base/ip_addr.h"
#include "policy/base/result.h"

namespace lbg::inspect {

// Who speaks: the client (initiator of the flow) and the resolver (its server, port 53).
struct DnsEndpoints {
  IpAddr client;
  IpAddr resolver;
  uint16_t clientPort;
  uint8_t proto;  // 17 UDP, 6 TCP
};

enum class DnsQueryOutcome : uint8_t {
  Ignored,      // not a QUERY/IN message this table deals with (other opcode, class)
  Invalid,      // malformed header or question
  Noted,        // a query, now outstanding
  Overflow,     // a query that found no free slot: its answer will not bind
  Matched,      // the one answer to an outstanding query: may bind
  Unsolicited,  // an answer to no outstanding query (tuple or id unknown, or expired)
  Mismatched,   // tuple and id known, but another question
  Duplicate,    // the query was already answered
  WrongKind,    // a response from the client or a query from the resolver
};

class DnsQueryTable {
 public:
  static constexpr uint32_t kProbeWindow = 8;
  static constexpr uint32_t kMinCapacity = kProbeWindow;
  static constexpr uint32_t kMaxCapacity = 1u << 20;

  // capacity: slots, rounded up to a power of two within [kMinCapacity, kMaxCapacity];
  // timeoutNs: how long a query waits for its answer.
  static Result<std::unique_ptr<DnsQueryTable>> create(uint32_t capacity, uint64_t timeoutNs);
  ~DnsQueryTable();
  DnsQueryTable(const DnsQueryTable&) = delete;
  DnsQueryTable& operator=(const DnsQueryTable&) = delete;

  // A message from the client to the resolver.
  // The same, for a question the caller already read (`st` is parseDnsQuestion()'s status):
  // the pipeline judges the name first and parses each query once.
  DnsQueryOutcome onQuestion(const DnsEndpoints& ep, Status st, const DnsQuestion& q,
                             uint64_t nowNs);
  DnsQueryOutcome onQuery(const DnsEndpoints& ep, std::span<const uint8_t> msg, bool overTcp,
                          uint64_t nowNs);
  // A message from the resolver to the client. Only Matched may be turned into bindings.
  DnsQueryOutcome onAnswer(const DnsEndpoints& ep, std::span<const uint8_t> msg, bool overTcp,
                           uint64_t nowNs);

  uint32_t capacity() const { return mask_ + 1; }
  // Queries waiting for an answer at `nowNs` (walks the table: tests and stats only).
  size_t outstanding(uint64_t nowNs) const;
  // Queries that expired unanswered, counted when their slot is reused.
  uint64_t expiredUnanswered() const { return expired_; }

 private:
  struct Slot;
  DnsQueryTable(Slot* slots, uint32_t mask, uint64_t timeoutNs, uint64_t seed);
  uint32_t home(const DnsEndpoints& ep, uint16_t id) const;

  Slot* slots_;
  uint32_t mask_;
  uint64_t timeoutNs_;
  uint64_t seed_;
  uint64_t expired_ = 0;
};

}  // namespace lbg::inspect
