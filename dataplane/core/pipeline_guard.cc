// The pipeline's guard stage (stage 3, dataplane/guard): a packet that would create a flow from an
// inside source is admitted only while that source is within its new-flow rate (token bucket) and
// its count of concurrent flows. A refused packet creates no flow state, no log record and costs
// one source-table probe; it is counted by reason (guard_* counters). A packet from outside that
// matches no flow is dropped the same way, without flow state or log record. One infected PC
// scanning at full speed therefore cannot take the flow table or the uplink from the others.

#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"

#include <algorithm>

namespace lbg::dataplane {

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpAck = 0x10;
}  // namespace

std::unique_ptr<guard::SourceTable> makeGuard(const PipelineConfig& c) {
  const uint64_t sources = c.guardSources != 0 ? c.guardSources : 2ull * c.flowCapacity;
  return std::make_unique<guard::SourceTable>(uint32_t(std::min<uint64_t>(sources, 1u << 30)),
                                              guard::SourceLimits{});
}

bool Pipeline::guardAdmitNew(Unit& u) {
  guardCounted_ = false;
  const packet::PacketView& v = u.view;
  // Only flows an inside source starts are limited here. A replayed capture that starts with the
  // server's SYN-ACK names its client as the receiver: not this packet's source, so not counted.
  const bool synAckFirst =
      u.byAddress && v.ipProto == kTcp && (v.tcpFlags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck);
  if (synAckFirst) return true;
  if (!u.fromInside) {
    // Outside-initiated traffic is always denied: it costs the one lookup already made and no
    // state, so spoofed SYNs or packets of invented flows cannot fill the flow table or the log.
    ++counters_.guard_outside_dropped;
    freeUnit(u);
    return false;
  }
  if (snap_->version() != guardVersion_) {  // a new policy: its limits, the sources' state kept
    const policy::GuardSpec& g = snap_->guard();
    guard::SourceLimits l;
    l.newFlows = guard::BucketParams::make(g.newFlowsPerSec, g.newFlowBurst);
    l.maxConcurrent = g.maxFlowsPerSource;
    guard_->setLimits(l);
    guardVersion_ = snap_->version();
  }
  switch (guard_->admit(v.src, now_)) {
    case guard::Admit::Yes:
      guardCounted_ = true;
      return true;
    case guard::Admit::RateLimited:
      ++counters_.guard_rate_limited;
      break;
    case guard::Admit::TooManyFlows:
      ++counters_.guard_concurrent_limited;
      break;
    case guard::Admit::TableFull:
      ++counters_.guard_sources_full;
      break;
  }
  freeUnit(u);
  return false;
}

void Pipeline::guardRelease(const Entry& e) {
  if (!e.user.guardCounted) return;
  guard_->release(e.meta.initiatorIsLo ? e.key.lo : e.key.hi);
}

}  // namespace lbg::dataplane
