#pragma once

// DNS response inspector (RFC 1035 §4, RFC 2181 §5.2/§8/§10.1, RFC 7766 TCP framing).
//
// Turns the A/AAAA answers of a response into name → address bindings for the question name.
// Only records reachable from the question name through the CNAME chain in the answer section
// count: a resolver that adds "bank.example A 203.0.113.9" to an answer for another name binds
// nothing. Authority and additional sections are never read.
//
// Untrusted input: compression pointers must point strictly backwards (so no loops), at most
// kMaxDnsPointerHops of them per name, never outside the message; names longer than 255 octets,
// reserved label types, RDATA lengths that disagree with the type, and records that run past the
// message are Invalid. Hot path: no allocation, no exceptions, bounded work (kMaxDnsAnswers).

#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "dataplane/inspect/status.h"
#include "policy/base/ip_addr.h"

namespace lbg::inspect {

inline constexpr uint32_t kMaxDnsPointerHops = 32;
// Answers beyond this many are not considered (fewer bindings only ever deny more).
inline constexpr uint32_t kMaxDnsAnswers = 64;
// Longest CNAME chain followed from the question name.
inline constexpr uint32_t kMaxDnsChain = 8;

#define LBG_DNS_REASONS(X)                                                                \
  X(None, "none")                                                                         \
  X(Truncated, "dns-truncated") /* message ends inside a field */                         \
  X(BadTcpLength, "dns-bad-tcp-length")                                                   \
  X(QuestionCount, "dns-question-count") /* not exactly one question */                   \
  X(BadName, "dns-bad-name")             /* label type, length > 255 */                   \
  X(BadPointer, "dns-bad-pointer")       /* forward, self or out-of-range pointer */      \
  X(TooManyHops, "dns-too-many-hops")                                                     \
  X(BadRdata, "dns-bad-rdata")                /* A not 4 bytes, AAAA not 16, bad CNAME */ \
  X(CnameConflict, "dns-cname-conflict")      /* two CNAMEs for one owner, or a loop */   \
  X(BadQuestionName, "dns-bad-question-name") /* QNAME is not a host name: no binding */  \
  X(TooLarge, "dns-too-large")                /* more than 65535 bytes */

enum class DnsReason : uint8_t {
#define LBG_DNS_REASON_ENUM_(id, text) id,
  LBG_DNS_REASONS(LBG_DNS_REASON_ENUM_)
#undef LBG_DNS_REASON_ENUM_
};
std::string_view toString(DnsReason r);

struct DnsBinding {
  const char* name;  // normalised QNAME: lowercase, no trailing dot; valid only during the call
  uint8_t nameLen;
  IpAddr addr;
  uint32_t ttl;  // seconds, the smallest TTL along the CNAME chain (RFC 2181 §8: MSB set = 0)
};

// What parseDnsResponse() saw besides the bindings (for counters and logs).
struct DnsSummary {
  uint16_t id;
  uint8_t rcode;
  bool truncatedFlag;  // TC bit
  uint16_t qtype;
  uint16_t answers;   // ANCOUNT
  uint16_t bindings;  // sink calls
  DnsReason reason;
};

using DnsBindingSinkFn = void (*)(void* ctx, const DnsBinding& b);

// The non-template core. Returns NotMine for queries, non-QUERY opcodes and non-IN questions;
// Done (with no bindings) for a valid response with RCODE != 0 or a QNAME that is not a host name
// (reason BadQuestionName); NeedMore only over TCP while the framed message is incomplete.
Status parseDnsResponseRaw(std::span<const uint8_t> msg, bool overTcp, DnsBindingSinkFn fn,
                           void* ctx, DnsSummary& summary);

// Calls sink(const DnsBinding&) for every A/AAAA answer on the question name's CNAME chain.
// Bindings are delivered only once the whole answer section has been validated, so an Invalid
// message binds nothing.
template <class Sink>
Status parseDnsResponse(std::span<const uint8_t> msg, bool overTcp, Sink&& sink,
                        DnsSummary* summary = nullptr) {
  using S = std::remove_reference_t<Sink>;
  DnsSummary local{};
  return parseDnsResponseRaw(
      msg, overTcp, [](void* ctx, const DnsBinding& b) { (*static_cast<S*>(ctx))(b); },
      const_cast<void*>(static_cast<const void*>(&sink)), summary ? *summary : local);
}

// The question of a DNS message (query or response), for matching an answer to its query.
struct DnsQuestion {
  uint16_t id;
  uint16_t qtype;
  bool isResponse;  // QR bit
  uint8_t nameLen;  // bytes of `name` in use
  // QNAME in uncompressed wire form, ASCII lowercased (RFC 4343), root label included.
  uint8_t name[255];
};

// Reads the header and the one question of a message, query or response (over TCP, after the
// RFC 7766 length). Done when QDCOUNT is 1, OPCODE is QUERY and QCLASS is IN; NotMine for other
// opcodes and classes; Invalid for anything malformed or not exactly one question; NeedMore over
// TCP while the framed message is incomplete. No allocation, bounded work.
Status parseDnsQuestion(std::span<const uint8_t> msg, bool overTcp, DnsQuestion& q);

// The question's QNAME as a dotted name without the root ("a.example"), into `out` (at least 254
// bytes); its length, or 0 for the root or a label holding a '.' byte: such a name is not the
// dotted name it would print as, so it can never be taken for a listed one.
size_t questionName(const DnsQuestion& q, char* out);

// The same name with its letters in the case `msg` carries them (the IDS's dns.query, as
// Suricata shows it): `q` is parseDnsQuestion()'s result for `msg`. A QNAME that is not written
// out in full at the start of the question (a compression pointer) comes lowercased.
size_t questionNameAsSent(std::span<const uint8_t> msg, bool overTcp, const DnsQuestion& q,
                          char* out);

}  // namespace lbg::inspect
