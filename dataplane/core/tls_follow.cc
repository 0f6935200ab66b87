// Continuous judgement of TLS connections allowed after their ClientHello: the client's records
// are walked until the encrypted phase (inspect/tls/record_follow.h) and every later ClientHello
// (the one after a HelloRetryRequest, or one an attacker sends after the verdict) must parse and
// name the server that was judged, before any of its bytes is forwarded. This file is the
// pipeline's side (sequence numbers, holding a hello that spans segments, the verdict); its
// model is http_follow.cc, whose holding it shares (holdForFollow()).
//
// Per flow: TlsFollow (8 bytes), tlsNextSeq and tlsName in FlowState, the `follow` flag
// (kFollowTls) on the entry's hot line. Once the encrypted phase starts the flag is cleared: the
// established fast path pays its one byte compare and nothing else. The stream buffer and hold
// queue are shared with the certificate check of the server's flight: one side holds at a time
// (kFollowServerHeld), the other side's payload is dropped meanwhile and resent.
//
// Sequence rules for client segments of a followed connection (as http_follow.cc):
//   - bytes before tlsNextSeq were judged: a segment made only of them passes;
//   - a segment that starts beyond tlsNextSeq (a gap) is dropped and counted; the client resends;
//   - a ClientHello not complete in the segment that starts it borrows a stream buffer and its
//     packets are held, as before the first verdict, until it is complete and judged; bytes
//     beyond the buffer or the held-packet bound deny (`inspect-limit`).

#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/tls/record_follow.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

uint32_t Pipeline::tlsNameHash(std::string_view name) const {
  // Keyed (random per process), so that no name colliding with an allowed one can be computed
  // offline; case-insensitive like host names. 64-bit FNV-1a folded.
  uint64_t h = 0xcbf29ce484222325ull ^ tlsNameSeed_;
  for (char c : name) {
    h ^= uint8_t(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return uint32_t(h ^ (h >> 32));
}

void Pipeline::armTlsFollow(Entry& e, const inspect::Finding& f) {
  e.user.tls = inspect::tlsFollowStart(f.tlsOffers13, f.tlsEarlyData, f.sni);
  e.user.tlsName = f.sni ? tlsNameHash(f.name) : 0;
  e.user.tlsNextSeq = e.user.stream.baseSeq + f.judgedEnd;
  e.meta.follow |= kFollowTls;
}

Pipeline::TlsJudged Pipeline::judgeTlsBytes(Entry& e, std::span<const uint8_t> data,
                                            size_t& pos) {
  while (pos < data.size()) {
    const auto w = inspect::tlsFollowWalk(e.user.tls, data.subspan(pos));
    pos += w.consumed;
    switch (w.step) {
      case inspect::FollowStep::Walked:
        return TlsJudged::Judged;
      case inspect::FollowStep::End:
        e.meta.follow &= uint8_t(~kFollowTls);
        ++counters_.tls_follow_ended;
        return TlsJudged::Ended;
      case inspect::FollowStep::Invalid:
        identity_ = Identity{};
        setVerdict(e, Action::Deny, Reason::Malformed, -1, inspect::toString(w.reason));
        return TlsJudged::Denied;
      case inspect::FollowStep::Hello:
        break;
    }
    inspect::TlsClientHello& hello = scratch_.second;
    const auto h = inspect::tlsFollowHello(e.user.tls, data.subspan(pos), hello);
    if (h.status == inspect::Status::NeedMore) return TlsJudged::PartialHello;
    if (h.encrypted) {  // the encrypted Finished of a TLS 1.2 resumption
      e.meta.follow &= uint8_t(~kFollowTls);
      ++counters_.tls_follow_ended;
      return TlsJudged::Ended;
    }
    ++counters_.tls_hellos_followed;
    identity_ = Identity{};
    if (h.status != inspect::Status::Done) {
      setVerdict(e, Action::Deny, Reason::Ambiguous, -1, inspect::toString(h.reason));
      return TlsJudged::Denied;
    }
    // The same rules as the first hello: a hidden name proves nothing while ECH is blocked, and
    // the server named (or not named) must be the one judged.
    identity_.sni = hello.hasSni;
    identity_.name = {hello.sni, hello.sniLen};
    if (hello.ech && snap_->ech() == policy::EchMode::Block) {
      setVerdict(e, Action::Deny, Reason::Ech, -1);
      return TlsJudged::Denied;
    }
    if (hello.hasSni != bool(e.user.tls.hasSni) ||
        (hello.hasSni && tlsNameHash(identity_.name) != e.user.tlsName)) {
      setVerdict(e, Action::Deny, Reason::SniChanged, -1,
                 hello.hasSni ? identity_.name : std::string_view("no-sni"));
      return TlsJudged::Denied;
    }
    identity_ = Identity{};
    pos += h.consumed;
  }
  return TlsJudged::Judged;
}

void Pipeline::resumeTlsCarry(Entry& e, Unit& u, TxSink& tx) {
  const auto buf = flow::streamContiguous(*streams_, e.user.stream);
  size_t pos = e.user.tlsNextSeq - e.user.stream.baseSeq;
  const auto r = pos <= buf.size() ? judgeTlsBytes(e, buf, pos) : TlsJudged::Judged;
  const bool holding = r == TlsJudged::PartialHello ||
                       (r == TlsJudged::Judged && e.user.stream.rangeCount > 0);
  if (holding && buf.size() >= streams_->bytesEach()) {
    // A full buffer: a hello that does not fit, or held bytes past a gap nobody could read.
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-window");
  }
  if (e.meta.verdict != Verdict::Allow) {
    streams_->detach(e.user.stream);
    applyVerdict(e, u, true, tx);
    return;
  }
  if (r != TlsJudged::Ended) e.user.tlsNextSeq = e.user.stream.baseSeq + uint32_t(pos);
  // Out-of-order islands are held bytes not judged yet: keep holding until the gap fills.
  if (holding) return;
  streams_->detach(e.user.stream);
  releaseHeld(e, tx, e.meta.initiatorInside ? PortRole::Outside : PortRole::Inside);
}

void Pipeline::followTls(Entry& e, Unit& u, TxSink& tx) {
  const packet::PacketView& v = u.view;
  const uint32_t next = e.user.tlsNextSeq;
  uint32_t seq;
  if (!followSeq(e, u, next, tx, seq)) return;
  const uint8_t* p = v.frame + v.payloadOffset;
  if (e.meta.follow & kFollowServerHeld) {
    // The server's flight is held for its certificate check (pipeline_cert.cc) in the flow's
    // only stream buffer: the client sends these bytes again once it is released.
    ++counters_.hold_other_side_dropped;
    freeUnit(u);
    return;
  }
  if (e.user.stream.active()) {
    // A hello (or bytes past a gap) is being held: the segment joins it.
    switch (joinHeld(e, u, seq, counters_.tls_follow_gap)) {
      case HeldJoin::Dropped:
        return;
      case HeldJoin::Held:
        resumeTlsCarry(e, u, tx);
        return;
      case HeldJoin::Denied:
        applyVerdict(e, u, true, tx);
        return;
    }
  }
  if (int32_t(seq - next) > 0) {
    ++counters_.tls_follow_gap;  // ahead of bytes not seen yet: the client sends it again
    freeUnit(u);
    return;
  }
  const uint32_t skip = next - seq;
  size_t pos = 0;
  const auto r = judgeTlsBytes(e, {p + skip, v.payloadLen - skip}, pos);
  if (r == TlsJudged::Denied) {
    applyVerdict(e, u, true, tx);
    return;
  }
  if (r != TlsJudged::PartialHello) {
    e.user.tlsNextSeq = seq + v.payloadLen;
    forwardAllowed(e, u, true, tx);
    return;
  }
  // A hello starts in this segment and does not end in it: hold the segment, keep the hello's
  // bytes (the walker's state stays at its first byte).
  const uint32_t helloSeq = next + uint32_t(pos);
  if (!streams_->attach(e.user.stream, helloSeq)) {
    ++counters_.stream_exhausted;
    setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "stream-buffers");
    applyVerdict(e, u, true, tx);
    return;
  }
  e.user.tlsNextSeq = helloSeq;
  flow::streamAdd(*streams_, e.user.stream, seq, p, v.payloadLen);  // fits: one segment
  if (!holdForFollow(e, u)) {
    streams_->detach(e.user.stream);
    applyVerdict(e, u, true, tx);
  }
}

}  // namespace lbg::dataplane
