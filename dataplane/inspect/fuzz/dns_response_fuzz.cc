// libFuzzer target: DNS response parser over UDP and TCP framing. Checks that bindings only come
// with Done, carry a normalised host name, and that UDP and TCP framing of the same bytes agree.
// Also: a response whose question parses matches the same message, sent as the query, exactly once;
// and its question name as sent differs from the lowercased one in letter case only.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/inspect/dns/message.h"
#include "dataplane/inspect/dns/query_table.h"
#include "dataplane/inspect/hostname.h"

using lbg::inspect::Status;

namespace {
struct Collect {
  size_t count = 0;
  uint64_t digest = 0;
  void operator()(const lbg::inspect::DnsBinding& b) {
    if (b.nameLen == 0 ||
        !lbg::inspect::isHostname(reinterpret_cast<const uint8_t*>(b.name), b.nameLen, false)) {
      std::abort();
    }
    for (size_t i = 0; i < b.nameLen; ++i) {
      if (b.name[i] >= 'A' && b.name[i] <= 'Z') std::abort();
      digest = digest * 31 + uint8_t(b.name[i]);
    }
    for (uint8_t x : b.addr.bytes) digest = digest * 131 + x;
    digest += b.ttl;
    ++count;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Collect udp;
  lbg::inspect::DnsSummary s{};
  const Status st = lbg::inspect::parseDnsResponse({data, size}, false, udp, &s);
  if (st == Status::NeedMore) std::abort();  // over UDP the message is whole or broken
  if (st != Status::Done && udp.count != 0) std::abort();
  if (udp.count != s.bindings) std::abort();

  // Provenance: the same question asked first is the one query this answer may match, once.
  static auto table = lbg::inspect::DnsQueryTable::create(64, 1'000'000'000ull);
  static uint64_t now = 0;
  now += 2'000'000'000ull;  // every earlier query has expired
  lbg::inspect::DnsQuestion q;
  // The IDS's dns.query (questionNameAsSent): the lowercased name with the letters as sent, so
  // the two differ in letter case only.
  if (lbg::inspect::parseDnsQuestion({data, size}, false, q) == Status::Done) {
    char lowered[256], sent[256];
    const size_t n = lbg::inspect::questionName(q, lowered);
    if (lbg::inspect::questionNameAsSent({data, size}, false, q, sent) != n) std::abort();
    for (size_t i = 0; i < n; ++i) {
      const char c = sent[i] >= 'A' && sent[i] <= 'Z' ? char(sent[i] | 0x20) : sent[i];
      if (c != lowered[i]) std::abort();
    }
  }
  if (lbg::inspect::parseDnsQuestion({data, size}, false, q) == Status::Done && q.isResponse &&
      size >= 3) {
    std::vector<uint8_t> query(data, data + size);
    query[2] &= 0x7f;  // QR = 0
    lbg::inspect::DnsEndpoints ep{};
    ep.clientPort = 5353;
    ep.proto = 17;
    using O = lbg::inspect::DnsQueryOutcome;
    if (table.value()->onQuery(ep, {query.data(), query.size()}, false, now) != O::Noted) {
      std::abort();
    }
    if (table.value()->onAnswer(ep, {data, size}, false, now) != O::Matched) std::abort();
    if (table.value()->onAnswer(ep, {data, size}, false, now) != O::Duplicate) std::abort();
  }

  if (size <= 65535) {
    std::vector<uint8_t> framed(size + 2);
    framed[0] = uint8_t(size >> 8);
    framed[1] = uint8_t(size);
    std::memcpy(framed.data() + 2, data, size);
    Collect tcp;
    const Status st2 = lbg::inspect::parseDnsResponse({framed.data(), framed.size()}, true, tcp);
    if (size >= 12 && (st2 != st || tcp.count != udp.count || tcp.digest != udp.digest)) {
      std::abort();
    }
  }
  return 0;
}
