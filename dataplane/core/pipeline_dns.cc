// The pipeline's DNS stage on allowed resolver flows: DNS bindings with provenance.
//
// Only answers from a resolver the policy names (Snapshot::isDnsResolver) that answer a query this
// worker saw leave (inspect::DnsQueryTable: client address and port, resolver, transport,
// transaction id, question) become bindings, and only the first one per query. Unsolicited,
// mismatched and duplicate answers are dropped (neither bound nor delivered) and counted; an
// answer that arrives on the client's port is forged by a host of the segment and dropped too.
// A flow stays on one worker (symmetric RSS / one worker per flow key), so its query and its
// answer meet in the same table.

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/dns/message.h"

namespace lbg::dataplane {

namespace {
constexpr uint8_t kUdp = 17;
}  // namespace

bool Pipeline::inspectDns(Entry& e, const Unit& u, bool fromInitiator) {
  const packet::PacketView& v = u.view;
  if (!fromInitiator && u.fromInside == e.user.fromInside) {
    // The resolver is on the other side of the gateway: an "answer" entering from the client's
    // port was written by a host of the segment, whatever its addresses say.
    ++counters_.dns_inside_answer;
    return false;
  }
  if (fromInitiator && u.fromInside != e.user.fromInside) {
    // Likewise a "query" entering from the resolver's side: noting it would let an outsider ask
    // in a client's name and then answer itself.
    ++counters_.dns_outside_query;
    return false;
  }
  const IpAddr& resolver = fromInitiator ? v.dst : v.src;
  if (!snap_->isDnsResolver(resolver)) {
    ++counters_.dns_not_resolver;  // allowed by cidr, but its answers never bind
    return true;
  }
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    // Forwarded (the other end decides), but never noted or trusted: an answer the client would
    // drop must not bind, and a query the resolver drops gets no answer.
    ++counters_.bad_checksum;
    return true;
  }
  inspect::DnsEndpoints ep{};
  ep.client = fromInitiator ? v.src : v.dst;
  ep.resolver = resolver;
  ep.clientPort = fromInitiator ? v.srcPort : v.dstPort;
  ep.proto = v.ipProto;
  const uint8_t* p = v.frame + v.payloadOffset;
  if (v.ipProto == kUdp) return dnsMessage(ep, {p, v.payloadLen}, false, fromInitiator);

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
  if (e.user.dnsTcp[d] != DnsTcpReading::Reading || v.seq != e.user.dnsNextSeq[d]) {
    e.user.dnsTcp[d] = DnsTcpReading::Stopped;
    ++counters_.dns_tcp_skipped;
    return true;  // forwarded; an answer not read binds nothing
  }
  uint32_t off = 0;
  while (v.payloadLen - off >= 2) {
    const uint32_t len = 2u + (uint32_t(p[off]) << 8 | p[off + 1]);
    if (len > v.payloadLen - off) break;  // continues in a later segment: not read
    if (!dnsMessage(ep, {p + off, len}, true, fromInitiator)) {
      // The segment is dropped; its retransmission is not read again (it binds nothing).
      e.user.dnsTcp[d] = DnsTcpReading::Stopped;
      return false;
    }
    off += len;
  }
  // The next message starts here only if this segment ended on a boundary.
  e.user.dnsNextSeq[d] = v.seq + off;
  if (off != v.payloadLen) e.user.dnsTcp[d] = DnsTcpReading::Stopped;
  return true;
}

bool Pipeline::dnsMessage(const inspect::DnsEndpoints& ep, std::span<const uint8_t> msg,
                          bool overTcp, bool fromClient) {
  using Outcome = inspect::DnsQueryOutcome;
  const Outcome r = fromClient ? dnsQueries_->onQuery(ep, msg, overTcp, now_)
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
