#include "dataplane/inspect/dns/message.h"

#include <cstring>

#include "dataplane/inspect/byte_reader.h"
#include "dataplane/inspect/hostname.h"

namespace lbg::inspect {
namespace {

constexpr size_t kHeaderLength = 12;
constexpr size_t kMaxWireName = 255;  // RFC 1035 §3.1, length octets and root included
constexpr uint16_t kTypeA = 1, kTypeCname = 5, kTypeAaaa = 28;
constexpr uint16_t kClassIn = 1;

// A name in uncompressed wire form (length-prefixed labels, root label included), ASCII lowercased
// so that names compare with memcmp (RFC 4343: only A–Z fold).
struct WireName {
  uint8_t bytes[kMaxWireName];
  uint8_t len;
  bool operator==(const WireName& o) const {
    return len == o.len && std::memcmp(bytes, o.bytes, len) == 0;
  }
};

// Reads the name at `offset`. `next` is where the record continues (after the first pointer or the
// root label). Each pointer must land strictly before the start of the run of labels that holds it,
// so the read position falls with every hop and a loop is impossible; the hop cap bounds the rest.
bool readName(const uint8_t* msg, size_t size, size_t offset, WireName& out, size_t& next,
              DnsReason& why) {
  out.len = 0;
  size_t pos = offset;
  size_t runStart = offset;
  bool jumped = false;
  uint32_t hops = 0;
  while (true) {
    if (pos >= size) {
      why = DnsReason::Truncated;
      return false;
    }
    const uint8_t c = msg[pos];
    if ((c & 0xc0) == 0xc0) {
      if (pos + 1 >= size) {
        why = DnsReason::Truncated;
        return false;
      }
      const size_t target = size_t(c & 0x3f) << 8 | msg[pos + 1];
      if (target < kHeaderLength || target >= runStart) {
        why = DnsReason::BadPointer;
        return false;
      }
      if (++hops > kMaxDnsPointerHops) {
        why = DnsReason::TooManyHops;
        return false;
      }
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = runStart = target;
      continue;
    }
    if (c & 0xc0) {  // 01 and 10: extended and reserved label types (RFC 6891 §5)
      why = DnsReason::BadName;
      return false;
    }
    if (size_t(out.len) + 1 + c > kMaxWireName) {
      why = DnsReason::BadName;
      return false;
    }
    if (pos + 1 + c > size) {
      why = DnsReason::Truncated;
      return false;
    }
    out.bytes[out.len++] = c;
    for (size_t k = 0; k < c; ++k) {
      const uint8_t b = msg[pos + 1 + k];
      out.bytes[out.len++] = b >= 'A' && b <= 'Z' ? uint8_t(b | 0x20) : b;
    }
    pos += 1 + c;
    if (c == 0) break;
  }
  if (!jumped) next = pos;
  return true;
}

// Dotted text form of a lowercased wire name, validated as a host name. 0 if it is not one.
size_t toHostname(const WireName& w, char* out) {
  size_t n = 0;
  for (size_t i = 0; i < w.len && w.bytes[i] != 0; i += 1 + w.bytes[i]) {
    if (n != 0) out[n++] = '.';
    std::memcpy(out + n, &w.bytes[i + 1], w.bytes[i]);
    n += w.bytes[i];
  }
  return isHostname(reinterpret_cast<const uint8_t*>(out), n, false) ? n : 0;
}

struct Answer {
  uint16_t type;
  uint32_t ttl;
  uint16_t rdata;  // offset in the message
  uint16_t rdlen;
};

Status fail(DnsSummary& s, DnsReason r) {
  s.reason = r;
  return Status::Invalid;
}

}  // namespace

std::string_view toString(DnsReason r) {
  switch (r) {
#define LBG_DNS_REASON_TEXT_(id, text) \
  case DnsReason::id:                  \
    return text;
    LBG_DNS_REASONS(LBG_DNS_REASON_TEXT_)
#undef LBG_DNS_REASON_TEXT_
  }
  return "dns-unknown";
}

Status parseDnsResponseRaw(std::span<const uint8_t> input, bool overTcp, DnsBindingSinkFn fn,
                           void* ctx, DnsSummary& summary) {
  summary = DnsSummary{};
  const uint8_t* msg = input.data();
  size_t size = input.size();
  if (overTcp) {
    // RFC 7766 §8: a two-octet length, then the message. Later messages on the stream wait.
    if (size < 2) return Status::NeedMore;
    const size_t len = size_t(msg[0]) << 8 | msg[1];
    if (len < kHeaderLength) return fail(summary, DnsReason::BadTcpLength);
    if (size - 2 < len) return Status::NeedMore;
    msg += 2;
    size = len;
  }
  if (size > 65535) return fail(summary, DnsReason::TooLarge);  // offsets below are 16-bit
  ByteReader r(msg, size);
  uint16_t id, flags, qd, an, ns, ar;
  if (!r.u16(id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) || !r.u16(ar)) {
    return fail(summary, DnsReason::Truncated);
  }
  summary.id = id;
  summary.rcode = uint8_t(flags & 0x0f);
  summary.truncatedFlag = (flags & 0x0200) != 0;
  summary.answers = an;
  const bool isResponse = (flags & 0x8000) != 0;
  const uint8_t opcode = uint8_t(flags >> 11 & 0x0f);
  if (!isResponse || opcode != 0) return Status::NotMine;
  if (qd != 1) return fail(summary, DnsReason::QuestionCount);

  DnsReason why = DnsReason::None;
  WireName qname;
  size_t next = 0;
  if (!readName(msg, size, r.pos(), qname, next, why)) return fail(summary, why);
  r = ByteReader(msg, size);
  r.skip(next);
  uint16_t qtype, qclass;
  if (!r.u16(qtype) || !r.u16(qclass)) return fail(summary, DnsReason::Truncated);
  summary.qtype = qtype;
  if (qclass != kClassIn) return Status::NotMine;
  if (summary.rcode != 0) return Status::Done;  // NXDOMAIN, SERVFAIL…: nothing to bind

  // Pass 1: read and validate every considered answer record.
  Answer answers[kMaxDnsAnswers];
  WireName owners[kMaxDnsAnswers];
  const size_t count = an < kMaxDnsAnswers ? an : kMaxDnsAnswers;
  for (size_t i = 0; i < count; ++i) {
    if (!readName(msg, size, r.pos(), owners[i], next, why)) return fail(summary, why);
    r = ByteReader(msg, size);
    r.skip(next);
    uint16_t type, klass, rdlen;
    uint32_t ttl;
    if (!r.u16(type) || !r.u16(klass) || !r.u32(ttl) || !r.u16(rdlen) || rdlen > r.left()) {
      return fail(summary, DnsReason::Truncated);
    }
    Answer& a = answers[i];
    a.type = klass == kClassIn ? type : 0;  // other classes are kept out of the chain
    a.ttl = ttl & 0x80000000u ? 0 : ttl;    // RFC 2181 §8
    a.rdata = uint16_t(r.pos());
    a.rdlen = rdlen;
    if ((a.type == kTypeA && rdlen != 4) || (a.type == kTypeAaaa && rdlen != 16)) {
      return fail(summary, DnsReason::BadRdata);
    }
    if (a.type == kTypeCname) {
      WireName target;
      size_t end = 0;
      if (!readName(msg, a.rdata + size_t(rdlen), a.rdata, target, end, why)) {
        return fail(summary, why == DnsReason::Truncated ? DnsReason::BadRdata : why);
      }
      if (end != size_t(a.rdata) + rdlen) return fail(summary, DnsReason::BadRdata);
    }
    r.skip(rdlen);
  }

  // Pass 2: follow the CNAME chain from the question name. One CNAME per owner, no loops, and a
  // name with a CNAME has no other data (RFC 1034 §3.6.2): anything else is ambiguous.
  WireName chain[kMaxDnsChain + 1];
  uint32_t chainTtl[kMaxDnsChain + 1];
  size_t chainLen = 1;
  chain[0] = qname;
  chainTtl[0] = UINT32_MAX;
  for (size_t k = 0; k < chainLen; ++k) {
    int cname = -1;
    bool otherData = false;
    for (size_t i = 0; i < count; ++i) {
      if (!(owners[i] == chain[k])) continue;
      if (answers[i].type == kTypeCname) {
        if (cname >= 0) return fail(summary, DnsReason::CnameConflict);
        cname = int(i);
      } else if (answers[i].type == kTypeA || answers[i].type == kTypeAaaa) {
        otherData = true;
      }
    }
    if (cname < 0) continue;
    if (otherData) return fail(summary, DnsReason::CnameConflict);
    if (chainLen == kMaxDnsChain + 1) break;  // deeper names bind nothing
    WireName target;
    size_t end = 0;
    const Answer& a = answers[cname];
    readName(msg, size_t(a.rdata) + a.rdlen, a.rdata, target, end, why);  // validated in pass 1
    for (size_t j = 0; j < chainLen; ++j) {
      if (chain[j] == target) return fail(summary, DnsReason::CnameConflict);
    }
    chain[chainLen] = target;
    chainTtl[chainLen] = chainTtl[k] < a.ttl ? chainTtl[k] : a.ttl;
    ++chainLen;
  }

  char name[kMaxWireName];
  const size_t nameLen = toHostname(qname, name);
  if (nameLen == 0) {
    summary.reason = DnsReason::BadQuestionName;
    return Status::Done;
  }
  // Pass 3: deliver the bindings on the chain.
  for (size_t i = 0; i < count; ++i) {
    const Answer& a = answers[i];
    if (a.type != kTypeA && a.type != kTypeAaaa) continue;
    for (size_t k = 0; k < chainLen; ++k) {
      if (!(owners[i] == chain[k])) continue;
      DnsBinding b;
      b.name = name;
      b.nameLen = uint8_t(nameLen);
      b.addr = a.type == kTypeA ? IpAddr::fromV4(msg + a.rdata) : IpAddr::fromV6(msg + a.rdata);
      b.ttl = chainTtl[k] < a.ttl ? chainTtl[k] : a.ttl;
      fn(ctx, b);
      ++summary.bindings;
      break;
    }
  }
  return Status::Done;
}

Status parseDnsQuestion(std::span<const uint8_t> input, bool overTcp, DnsQuestion& q) {
  q = DnsQuestion{};
  const uint8_t* msg = input.data();
  size_t size = input.size();
  if (overTcp) {
    if (size < 2) return Status::NeedMore;
    const size_t len = size_t(msg[0]) << 8 | msg[1];
    if (len < kHeaderLength) return Status::Invalid;
    if (size - 2 < len) return Status::NeedMore;
    msg += 2;
    size = len;
  }
  if (size > 65535) return Status::Invalid;
  ByteReader r(msg, size);
  uint16_t flags, qd, an, ns, ar;
  if (!r.u16(q.id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) || !r.u16(ar)) {
    return Status::Invalid;
  }
  q.isResponse = (flags & 0x8000) != 0;
  if ((flags >> 11 & 0x0f) != 0) return Status::NotMine;
  if (qd != 1) return Status::Invalid;
  WireName name;
  size_t next = 0;
  DnsReason why = DnsReason::None;
  if (!readName(msg, size, r.pos(), name, next, why)) return Status::Invalid;
  r = ByteReader(msg, size);
  r.skip(next);
  uint16_t qclass;
  if (!r.u16(q.qtype) || !r.u16(qclass)) return Status::Invalid;
  if (qclass != kClassIn) return Status::NotMine;
  q.nameLen = name.len;
  std::memcpy(q.name, name.bytes, name.len);
  return Status::Done;
}

size_t questionName(const DnsQuestion& q, char* out) {
  size_t n = 0;
  uint32_t pos = 0;
  while (pos < q.nameLen) {
    const uint8_t len = q.name[pos++];
    if (len == 0) break;  // the root label ends the name
    if (len > q.nameLen - pos) return 0;
    if (n != 0) out[n++] = '.';
    for (uint8_t i = 0; i < len; ++i) {
      const uint8_t c = q.name[pos + i];
      if (c == '.') return 0;
      out[n++] = char(c);
    }
    pos += len;
  }
  return n;
}

size_t questionNameAsSent(std::span<const uint8_t> msg, bool overTcp, const DnsQuestion& q,
                          char* out) {
  const size_t n = questionName(q, out);
  const size_t at = (overTcp ? 2 : 0) + kHeaderLength;
  if (n == 0 || msg.size() < at + q.nameLen) return n;
  const uint8_t* wire = msg.data() + at;
  for (size_t i = 0; i < q.nameLen; ++i) {
    const uint8_t c = wire[i];
    if ((c >= 'A' && c <= 'Z' ? uint8_t(c | 0x20) : c) != q.name[i]) return n;
  }
  // Dotted byte j is wire byte j + 1 (each label's length byte became the dot before it).
  for (size_t j = 0; j < n; ++j)
    if (out[j] != '.') out[j] = char(wire[j + 1]);
  return n;
}

}  // namespace lbg::inspect
