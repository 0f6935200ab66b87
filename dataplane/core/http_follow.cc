// Continuous judgement of HTTP/1.x connections allowed by their Host: every later request head
// (keep-alive, pipelining) is found and judged before its bytes are forwarded. The framing is
// followed by inspect/http/request_stream.h; this file is the pipeline's side of it (sequence
// numbers, holding a head that spans segments, the verdict).
//
// Per flow: HttpRequestStream (8 bytes) and httpNextSeq in FlowState, the `follow` flag on the
// entry's hot line (so that other allowed flows pay one byte compare). A head that does not end
// in the segment that starts it borrows a stream buffer and its packets are held, exactly as
// before the first verdict, until the head is complete and judged.
//
// Sequence rules for client segments of a followed connection:
//   - bytes before httpNextSeq were judged (and forwarded, or are held): a segment made only of
//     them passes (a retransmission; a conflicting one is the stream normaliser's matter);
//   - a segment that starts beyond httpNextSeq (a gap) is dropped and counted: its bytes cannot
//     be judged before the missing ones, and the client sends them again;
//   - while a head is held, segments go through the stream buffer (conflicting overlaps deny,
//     `stream-conflict`), and bytes beyond the buffer deny (`inspect-limit`).

#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/http/request_stream.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcpSyn = 0x02;
}  // namespace

bool Pipeline::armHttpFollow(Entry& e, const inspect::HttpRequestHead& head, uint32_t judgedEnd) {
  inspect::HttpStreamReason why;
  if (!inspect::httpStreamStartBody(e.user.http, head, why)) {
    setVerdict(e, Action::Deny, Reason::HttpFraming, -1, inspect::toString(why));
    return false;
  }
  e.user.httpNextSeq = e.user.stream.baseSeq + judgedEnd;
  e.meta.follow |= kFollowHttp;
  return true;
}

bool Pipeline::laterHostAllowed(const Entry& e, std::string_view name) {
  const bool loIsClient = e.meta.initiatorIsLo;
  const IpAddr& server = loIsClient ? e.key.hi : e.key.lo;
  const uint16_t port = loIsClient ? e.key.hiPort : e.key.loPort;
  // The same rule as the first request (decideByName): a listed name for this port, and under
  // sni_dns: enforce resolved to this address for the same service.
  const int service = snap_->matchName(name, policy::L4::Tcp, port);
  if (service < 0) return false;
  // A later request may not name a service reached only through lbg-proxy (pipeline_intercept.cc).
  if (bypassesProxy(e, Reason::Host, service)) return false;
  if (snap_->sniDns() != policy::SniDnsMode::Enforce) return true;
  return dns_.anyName(server, now_, [&](std::string_view bound) {
    return snap_->matchName(bound, policy::L4::Tcp, port) == service;
  });
}

Pipeline::HttpJudged Pipeline::judgeHttpBytes(Entry& e, std::span<const uint8_t> data,
                                              size_t& pos) {
  while (pos < data.size()) {
    // An upload's body is handed to the IDS as it is walked over (pipeline_http_request.cc).
    inspect::HttpBodySink* body =
        e.user.http.at() == inspect::HttpStreamPhase::Head ? nullptr : idsRequestSink(e);
    const auto step = inspect::httpStreamAdvance(e.user.http, data.subspan(pos), body);
    pos += step.consumed;
    identity_ = Identity{};
    if (step.status == inspect::Status::Invalid) {
      setVerdict(e, Action::Deny, Reason::HttpFraming, -1, inspect::toString(step.reason));
      return HttpJudged::Denied;
    }
    if (body != nullptr && !idsRequestWalked(e)) return HttpJudged::Denied;
    if (step.status != inspect::Status::Done) break;  // the body goes on past these bytes
    inspect::HttpRequestHead head{};
    const auto st = inspect::parseHttpRequestHead(data.subspan(pos), head);
    if (st == inspect::Status::NeedMore) return HttpJudged::PartialHead;
    ++counters_.http_requests_followed;
    if (st != inspect::Status::Done) {
      const bool connect = head.reason == inspect::HttpReason::Connect;
      setVerdict(e, Action::Deny, connect ? Reason::HttpConnect : Reason::Ambiguous, -1,
                 connect ? std::string_view{} : inspect::toString(head.reason));
      return HttpJudged::Denied;
    }
    if (head.hasHost) {
      identity_.host = true;
      identity_.name = {head.host, head.hostLen};
    }
    if (!head.hasHost || !laterHostAllowed(e, identity_.name)) {
      // An HTTP/1.0 request without Host gets the server's default site: not the judged one.
      setVerdict(e, Action::Deny, Reason::RequestHost, -1,
                 head.hasHost ? std::string_view{} : std::string_view("no-host"));
      return HttpJudged::Denied;
    }
    inspect::HttpStreamReason why;
    if (!inspect::httpStreamStartBody(e.user.http, head, why)) {
      setVerdict(e, Action::Deny, Reason::HttpFraming, -1, inspect::toString(why));
      return HttpJudged::Denied;
    }
    // The IDS's http.* buffers of this request (pipeline_ids.cc), before any of it leaves.
    if (!idsHttpHead(e, data.subspan(pos), head)) return HttpJudged::Denied;
    pos += head.headLength;
  }
  identity_ = Identity{};
  return HttpJudged::Judged;
}

void Pipeline::resumeHttpCarry(Entry& e, Unit& u, TxSink& tx) {
  const auto buf = flow::streamContiguous(*streams_, e.user.stream);
  size_t pos = e.user.httpNextSeq - e.user.stream.baseSeq;
  const auto r = pos <= buf.size() ? judgeHttpBytes(e, buf, pos) : HttpJudged::PartialHead;
  if (r != HttpJudged::Denied && buf.size() >= streams_->bytesEach()) {
    // A full buffer: a head that does not fit, or held bytes past it that nobody read.
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-window");
  }
  if (e.meta.verdict != Verdict::Allow) {
    streams_->detach(e.user.stream);
    applyVerdict(e, u, true, tx);
    return;
  }
  e.user.httpNextSeq = e.user.stream.baseSeq + uint32_t(pos);
  // Out-of-order islands are held bytes not judged yet: keep holding until the gap fills.
  if (r == HttpJudged::PartialHead || e.user.stream.rangeCount > 0) return;
  streams_->detach(e.user.stream);
  releaseHeld(e, tx, e.meta.initiatorInside ? PortRole::Outside : PortRole::Inside);
}

bool Pipeline::holdForFollow(Entry& e, Unit& u) {
  const char* why = nullptr;
  if (e.user.hold.count + u.count > config_.maxHeldPerFlow) why = "held-packets";
  e.meta.flags |= kFlowHolding;
  for (uint16_t i = 0; why == nullptr && i < u.count; ++i) {
    if (!hold_.push(e.user.hold, u.mbufs[i])) {
      for (uint16_t j = i; j < u.count; ++j) rte_pktmbuf_free(u.mbufs[j]);
      ++counters_.hold_exhausted;
      u.count = 0;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "hold-pool");
      return false;
    }
    ++counters_.packets_held;
  }
  if (why != nullptr) {
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, why);
    return false;
  }
  u.count = 0;
  return true;
}

bool Pipeline::followSeq(Entry& e, Unit& u, uint32_t next, TxSink& tx, uint32_t& seq) {
  const packet::PacketView& v = u.view;
  if (v.payloadLen == 0) {
    forward(u, tx);
    return false;
  }
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    ++counters_.bad_checksum;  // the server drops it too; its bytes are never judged
    freeUnit(u);
    return false;
  }
  seq = (v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq;
  if (int32_t(seq + v.payloadLen - next) <= 0) {
    forwardAllowed(e, u, true, tx);  // bytes already judged (and scanned: pipeline_ids.cc)
    return false;
  }
  return true;
}

Pipeline::HeldJoin Pipeline::joinHeld(Entry& e, Unit& u, uint32_t seq, uint64_t& gaps) {
  const packet::PacketView& v = u.view;
  const flow::StreamState& s = e.user.stream;
  if (int32_t(seq - (s.baseSeq + s.contiguous)) > 0) {
    ++gaps;  // ahead of bytes not seen yet: the client sends it again
    freeUnit(u);
    return HeldJoin::Dropped;
  }
  if (int64_t(int32_t(seq - s.baseSeq)) + v.payloadLen > int64_t(streams_->bytesEach())) {
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-window");
  } else {
    const auto added =
        flow::streamAdd(*streams_, e.user.stream, seq, v.frame + v.payloadOffset, v.payloadLen);
    if (added == flow::StreamStatus::Conflict) {
      setVerdict(e, Action::Deny, Reason::StreamConflict, -1);
    } else if (added == flow::StreamStatus::OutOfWindow) {
      setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-window");
    } else if (added == flow::StreamStatus::Duplicate) {
      freeUnit(u);  // its bytes are held already and go with the held copy
      return HeldJoin::Dropped;
    } else if (holdForFollow(e, u)) {
      return HeldJoin::Held;
    }
  }
  streams_->detach(e.user.stream);
  return HeldJoin::Denied;
}

void Pipeline::followHttp(Entry& e, Unit& u, TxSink& tx) {
  const packet::PacketView& v = u.view;
  const uint32_t next = e.user.httpNextSeq;
  uint32_t seq;
  if (!followSeq(e, u, next, tx, seq)) return;
  const uint8_t* p = v.frame + v.payloadOffset;
  if (e.user.stream.active()) {
    // A head is being held: the segment joins it.
    switch (joinHeld(e, u, seq, counters_.http_follow_gap)) {
      case HeldJoin::Dropped:
        return;
      case HeldJoin::Held:
        resumeHttpCarry(e, u, tx);
        return;
      case HeldJoin::Denied:
        applyVerdict(e, u, true, tx);
        return;
    }
  }
  if (int32_t(seq - next) > 0) {
    ++counters_.http_follow_gap;  // ahead of bytes not seen yet: the client sends it again
    freeUnit(u);
    return;
  }
  const uint32_t skip = next - seq;
  size_t pos = 0;
  const auto r = judgeHttpBytes(e, {p + skip, v.payloadLen - skip}, pos);
  if (r == HttpJudged::Denied) {
    applyVerdict(e, u, true, tx);
    return;
  }
  if (r == HttpJudged::Judged) {
    e.user.httpNextSeq = seq + v.payloadLen;
    forwardAllowed(e, u, true, tx);
    return;
  }
  // A head starts in this segment and does not end in it: hold the segment, keep the head's bytes.
  const uint32_t headSeq = next + uint32_t(pos);
  if (!streams_->attach(e.user.stream, headSeq)) {
    ++counters_.stream_exhausted;
    setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "stream-buffers");
    applyVerdict(e, u, true, tx);
    return;
  }
  e.user.httpNextSeq = headSeq;
  flow::streamAdd(*streams_, e.user.stream, seq, p, v.payloadLen);  // fits: the head is < 8 KiB
  if (!holdForFollow(e, u)) {
    streams_->detach(e.user.stream);
    applyVerdict(e, u, true, tx);
  }
}

}  // namespace lbg::dataplane
