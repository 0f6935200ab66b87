// The pipeline's side of stream ownership (dataplane/flow/tcp_normalizer.h): every TCP packet of a
// known flow passes here before the tracker sees it. Mid-stream pick-ups are denied, packets the
// server might not accept as the gateway does are normalised or dropped, and once a flow is
// allowed its client bytes must repeat exactly what was forwarded (`stream-conflict`).

#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;
}  // namespace

bool Pipeline::admitPacket(Entry& e, Unit& u, bool created, bool fromInitiator, TxSink& tx) {
  if (!created && !u.byAddress && u.fromInside != (fromInitiator == e.meta.initiatorInside)) {
    // A known flow's packet must enter where its side is: the client's from the client's port.
    // One from the other port is someone else's (spoofed across the gateway): dropped.
    ++counters_.wrong_port_dropped;
    freeUnit(u);
    return false;
  }
  return u.view.ipProto != 6 || normalizeStream(e, u, created, fromInitiator, tx);
}

bool Pipeline::normalizeStream(Entry& e, Unit& u, bool created, bool fromInitiator, TxSink& tx) {
  const packet::PacketView& v = u.view;
  const uint8_t synAck = v.tcpFlags & (kTcpSyn | kTcpAck);
  if (created) {
    // A flow must start with the client's SYN: one picked up mid-stream has no known sequence
    // space, so neither its bytes nor its window can be checked (fail closed). A capture that
    // starts with the server's SYN-ACK still shows the handshake. Inbound starts are the first
    // verdict's (`inbound`).
    if (synAck != kTcpSyn && e.meta.initiatorInside && !config_.allowMidstream &&
        !(u.byAddress && synAck == (kTcpSyn | kTcpAck))) {
      ++counters_.tcp_midstream_denied;
      identity_ = Identity{};
      setVerdict(e, Action::Deny, Reason::Midstream, -1, "no-syn");
      applyVerdict(e, u, fromInitiator, tx);
      return false;
    }
    // The first SYN is never dropped here (its flow must get its first verdict), but a low TTL
    // is raised: its data (TCP Fast Open) is judged and must reach the server.
    if (u.count == 1 && flow::ttlBelowFloor(v, normalizer_)) {
      flow::raiseTtl(rte_pktmbuf_mtod(u.mbufs[0], uint8_t*), v, normalizer_.minTtl);
      ++counters_.tcp_ttl_raised;
    }
    return true;
  }
  const flow::TcpState st = e.meta.tcpState;
  if (fromInitiator) {
    // A new SYN on a live connection (the old one not closed by an exact RST or FINs): the server
    // may have dropped the old one; the new connection must not inherit its verdict.
    if (synAck == kTcpSyn && (st == flow::TcpState::Established || st == flow::TcpState::FinWait ||
                              st == flow::TcpState::Closing)) {
      ++counters_.tcp_syn_on_live_dropped;
      freeUnit(u);
      return false;
    }
    const auto header = flow::checkTcpHeader(v);
    if (header != flow::NormAction::Pass) {
      if (header == flow::NormAction::DropUrgent) {
        ++counters_.tcp_urgent_dropped;
      } else {
        ++counters_.tcp_discard_option_dropped;
      }
      freeUnit(u);
      return false;
    }
    if (flow::ttlBelowFloor(v, normalizer_)) {
      if (u.count != 1) {  // a reassembled datagram: its fragments carry the TTL
        ++counters_.tcp_low_ttl_dropped;
        freeUnit(u);
        return false;
      }
      flow::raiseTtl(rte_pktmbuf_mtod(u.mbufs[0], uint8_t*), v, normalizer_.minTtl);
      ++counters_.tcp_ttl_raised;
    }
  }
  // Only allowed flows are guarded: a pending flow's client bytes go through its stream buffer,
  // a denied flow forwards nothing. A capture that starts with the SYN-ACK has no client ISN.
  if (e.meta.verdict != Verdict::Allow || !e.meta.sawSyn) return true;
  const auto act = flow::normalizeTcp(*rings_, e.guard, e.meta, v, fromInitiator);
  switch (act) {
    case flow::NormAction::Pass:
      return true;
    case flow::NormAction::Conflict:
      identity_ = Identity{};
      setVerdict(e, Action::Deny, Reason::StreamConflict, -1, "after-verdict");
      applyVerdict(e, u, fromInitiator, tx);
      return false;
    case flow::NormAction::DropAhead:
      ++counters_.stream_ahead_dropped;
      break;
    case flow::NormAction::DropFull:
      ++counters_.stream_guard_full;
      break;
    case flow::NormAction::DropBadAck:
      ++counters_.tcp_bad_ack_dropped;
      break;
    case flow::NormAction::DropAfterFin:
      ++counters_.tcp_after_fin_dropped;
      break;
    case flow::NormAction::DropUrgent:
    case flow::NormAction::DropDiscardOpt:
      break;  // header checks, counted above
  }
  freeUnit(u);
  return false;
}

Result<Ok> Pipeline::createStreamGuard(const PipelineConfig& config) {
  if (config.guardRingBytes == 0 || (config.guardRingBytes & (config.guardRingBytes - 1)) != 0) {
    return Error{"stream guard: ring bytes must be a power of two"};
  }
  auto rings = flow::StreamBufferPool::create(config.guardRings, config.guardRingBytes);
  if (!rings) return rings.error();
  rings_ = std::move(rings.value());
  normalizer_ = config.normalizer;
  return Ok{};
}

void Pipeline::adoptJudged(Entry& e, bool detach) {
  if (e.meta.verdict == Verdict::Allow && e.key.proto == 6 && e.meta.sawSyn &&
      e.user.stream.active()) {
    const auto judged = flow::streamContiguous(*streams_, e.user.stream);
    const uint32_t from = e.user.stream.baseSeq - e.meta.isn[0];
    bool ok = flow::guardAdopt(*rings_, e.guard, e.meta, judged.data(), uint32_t(judged.size()),
                               from);
    if (ok && e.user.stream.rangeCount > 0) e.guard.blind = 1;
    if (!ok) {
      // The released bytes could not be kept for comparison: fail closed.
      ++counters_.stream_guard_exhausted;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "stream-guard");
    }
  }
  if (detach && e.user.stream.active()) streams_->detach(e.user.stream);
}

}  // namespace lbg::dataplane
