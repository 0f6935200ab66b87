// The pipeline's DNS stage on allowed resolver flows: DNS bindings with provenance.
//
// Only answers from a resolver the policy names (Snapshot::isDnsResolver) that answer a query this
// worker saw leave (inspect::DnsQueryTable: client address and port, resolver, transport,
// transaction id, question) become bindings, and only the first one per query. Unsolicited,
// mismatched and duplicate answers are dropped (neither bound nor delivered) and counted; an
// answer that arrives on the client's port is forged by a host of the segment and dropped too.
// A flow stays on one worker (symmetric RSS / one worker per flow key), so its query and its
// answer meet in the same table.
//
// DNS questions as a channel (`dns.queries: services`, the default): a query leaves only if its
// name is one some service lists, whatever server of port 53 it goes to; otherwise the packet is
// dropped and the flow denied (`dns-query`, the name logged as dns.rrname). A DNS tunnel through
// an allowed resolver needs names of its own, so it gets no byte out. What cannot be read (a
// malformed message, another opcode or class, a TCP segment that does not start at a known
// message boundary) is dropped too: a name not read is a name not judged.

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/dns/message.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kUdp = 17;
}  // namespace

bool Pipeline::inspectDns(Entry& e, const Unit& u, bool fromInitiator) {
  const packet::PacketView& v = u.view;
  if (!fromInitiator && u.fromInside == e.meta.initiatorInside) {
    // The resolver is on the other side of the gateway: an "answer" entering from the client's
    // port was written by a host of the segment, whatever its addresses say.
    ++counters_.dns_inside_answer;
    return false;
  }
  if (fromInitiator && u.fromInside != e.meta.initiatorInside) {
    // Likewise a "query" entering from the resolver's side: noting it would let an outsider ask
    // in a client's name and then answer itself.
    ++counters_.dns_outside_query;
    return false;
  }
  const IpAddr& resolver = fromInitiator ? v.dst : v.src;
  const bool isResolver = snap_->isDnsResolver(resolver);
  const bool filtering = fromInitiator && !snap_->dnsQueriesAny();
  if (!isResolver && !filtering) {
    ++counters_.dns_not_resolver;  // allowed by cidr, but its answers never bind
    return true;
  }
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    // Forwarded (the other end decides), but never noted or trusted: an answer the client would
    // drop must not bind, and a query the resolver drops gets no answer. A query whose name is
    // judged is dropped instead: its name is not read.
    ++counters_.bad_checksum;
    if (filtering) ++counters_.dns_query_denied;
    return !filtering;
  }
  inspect::DnsEndpoints ep{};
  ep.client = fromInitiator ? v.src : v.dst;
  ep.resolver = resolver;
  ep.clientPort = fromInitiator ? v.srcPort : v.dstPort;
  ep.proto = v.ipProto;
  const uint8_t* p = v.frame + v.payloadOffset;
  if (v.ipProto == kUdp) return dnsMessage(e, ep, {p, v.payloadLen}, false, fromInitiator, isResolver);

  // DNS over TCP (RFC 7766): each message has a two-byte length. Each direction is read only in
  // segments that start at a message boundary we know of, whole messages only; a message split
  // across segments, or any gap or retransmission, stops the reading of that direction (counted):
  // guessing a boundary could bind forged bytes. Queries not read leave their answers unsolicited.
  const int d = fromInitiator ? 0 : 1;
  if (d == 1 && e.user.dnsTcp[0] == DnsTcpReading::Stopped) {
    // The client's queries could not be read (a message split across segments, a gap), so its
    // answers cannot be matched: they pass unread and bind nothing, rather than breaking DNS
    // over TCP for such clients.
    e.user.dnsTcp[1] = DnsTcpReading::Stopped;
  }
  if (e.user.dnsTcp[d] == DnsTcpReading::Unknown) {
    const bool handshakeSeen = e.meta.sawSyn && e.meta.tcpState >= flow::TcpState::Established;
    e.user.dnsTcp[d] = handshakeSeen ? DnsTcpReading::Reading : DnsTcpReading::Stopped;
    e.user.dnsNextSeq[d] = e.meta.isn[d] + 1;
  }
  if (filtering && e.user.dnsTcp[0] == DnsTcpReading::Reading &&
      int32_t(e.user.dnsNextSeq[0] - (v.seq + v.payloadLen)) >= 0) {
    // A retransmission of client bytes already read: the stream guard makes sure it repeats them.
    return true;
  }
  if (e.user.dnsTcp[d] != DnsTcpReading::Reading || v.seq != e.user.dnsNextSeq[d]) {
    e.user.dnsTcp[d] = DnsTcpReading::Stopped;
    ++counters_.dns_tcp_skipped;
    if (filtering) {
      ++counters_.dns_query_denied;
      return false;  // client bytes not read carry names not judged
    }
    return true;  // forwarded; an answer not read binds nothing
  }
  uint32_t off = 0;
  while (v.payloadLen - off >= 2) {
    const uint32_t len = 2u + (uint32_t(p[off]) << 8 | p[off + 1]);
    if (len > v.payloadLen - off) break;  // continues in a later segment: not read
    if (!dnsMessage(e, ep, {p + off, len}, true, fromInitiator, isResolver)) {
      // The segment is dropped; its retransmission is not read again (it binds nothing).
      e.user.dnsTcp[d] = DnsTcpReading::Stopped;
      return false;
    }
    off += len;
  }
  // The next message starts here only if this segment ended on a boundary.
  e.user.dnsNextSeq[d] = v.seq + off;
  if (off != v.payloadLen) {
    e.user.dnsTcp[d] = DnsTcpReading::Stopped;
    if (filtering) {
      ++counters_.dns_query_denied;
      return false;  // a message split across segments: its name cannot be read here
    }
  }
  return true;
}

bool Pipeline::dnsQueryListed(Entry& e, inspect::Status st, const inspect::DnsQuestion& q) {
  char name[256];
  size_t n = 0;
  if (st == inspect::Status::Done && !q.isResponse) {
    n = inspect::questionName(q, name);
    if (n != 0 && snap_->nameListed({name, n})) return true;
  }
  ++counters_.dns_query_denied;
  identity_ = Identity{};
  identity_.name = std::string_view(name, n);  // neither SNI nor Host: logged as dns.rrname
  setVerdict(e, Action::Deny, Reason::DnsQuery, -1, n == 0 ? "unreadable" : std::string_view{});
  identity_ = Identity{};
  return false;
}

bool Pipeline::dnsMessage(Entry& e, const inspect::DnsEndpoints& ep,
                          std::span<const uint8_t> msg, bool overTcp, bool fromClient,
                          bool resolver) {
  using Outcome = inspect::DnsQueryOutcome;
  // A query's question is read once: for its name here, then for the query table.
  inspect::DnsQuestion q;
  const inspect::Status st =
      fromClient ? inspect::parseDnsQuestion(msg, overTcp, q) : inspect::Status::Invalid;
  if (fromClient && !snap_->dnsQueriesAny() && !dnsQueryListed(e, st, q)) return false;
  if (!resolver) {
    ++counters_.dns_not_resolver;  // allowed by cidr, but its answers never bind
    return true;
  }
  const Outcome r = fromClient ? dnsQueries_->onQuestion(ep, st, q, now_)
                               : dnsQueries_->onAnswer(ep, msg, overTcp, now_);
  counters_.dns_query_expired = dnsQueries_->expiredUnanswered();
  switch (r) {
    case Outcome::Noted:
      ++counters_.dns_queries;
      return true;
    case Outcome::Overflow:
      ++counters_.dns_query_overflow;  // forwarded; its answer will not bind (fail closed)
      return true;
    case Outcome::Matched:
      bindDnsAnswers(msg, overTcp);
      return true;
    case Outcome::Ignored:  // another opcode or class: nothing to note, nothing to bind
      return true;
    case Outcome::Invalid:
      ++counters_.dns_invalid;
      return fromClient;  // a malformed query is the resolver's business; an answer is dropped
    case Outcome::Mismatched:
      ++counters_.dns_mismatched;
      return false;
    case Outcome::Duplicate:
      ++counters_.dns_duplicate;
      return false;
    case Outcome::WrongKind:  // a response from the client or a query from the resolver
    case Outcome::Unsolicited:
      if (fromClient) return true;
      ++counters_.dns_unsolicited;
      return false;
  }
  return false;
}

void Pipeline::bindDnsAnswers(std::span<const uint8_t> msg, bool overTcp) {
  const uint32_t minTtl = config_.dnsTtlMinSec, maxTtl = config_.dnsTtlMaxSec;
  const auto st = inspect::parseDnsResponse(msg, overTcp, [&](const inspect::DnsBinding& b) {
    uint32_t ttl = b.ttl < minTtl ? minTtl : (b.ttl > maxTtl ? maxTtl : b.ttl);
    dns_.bind(b.addr, {b.name, b.nameLen}, now_ + uint64_t(ttl) * 1000000000ull, now_);
    syncDnsBinding(b.addr, {b.name, b.nameLen}, ttl);  // to the HA peer (pipeline_cache_sync.cc)
    ++counters_.dns_answers;
  });
  if (st == inspect::Status::Invalid) ++counters_.dns_invalid;
}

}  // namespace lbg::dataplane
