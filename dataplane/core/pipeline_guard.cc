// The pipeline's guard stage (stage 3, dataplane/guard): a packet that would create a flow from an
// inside source is admitted only while that source is within its new-flow rate (token bucket) and
// its count of concurrent flows. A refused packet creates no flow state, no log record and costs
// one source-table probe; it is counted by reason (guard_* counters). A packet from outside that
// matches no flow is dropped the same way, without flow state or log record. One infected PC
// scanning at full speed therefore cannot take the flow table or the uplink from the others.
// Every packet the guard denies is added to a bounded per-(source, reason) summary; once per
// interval each row becomes one `ddos` record with its counts, so a flood of denied packets is
// never a flood of log records (at most denySummaryRows records per worker and interval).

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/core/pipeline.h"

#include <algorithm>

namespace lbg::dataplane {

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpAck = 0x10;
}  // namespace

std::unique_ptr<guard::SourceTable> makeGuard(const PipelineConfig& c) {
  // A source stays tracked while its bucket refills, after its flows have ended: hence the floor
  // for small tables.
  const uint64_t sources =
      c.guardSources != 0 ? c.guardSources : std::max<uint64_t>(2ull * c.flowCapacity, 16384);
  return std::make_unique<guard::SourceTable>(uint32_t(std::min<uint64_t>(sources, 1u << 30)),
                                              guard::SourceLimits{});
}

std::unique_ptr<guard::DenySummary> makeDenySummary(const PipelineConfig& c) {
  return std::make_unique<guard::DenySummary>(c.denySummaryRows, c.denySummaryIntervalNs);
}

std::unique_ptr<guard::DestTable> makeFloodGuard(const PipelineConfig& c) {
  return std::make_unique<guard::DestTable>(c.guardDestinations, guard::DestLimits{});
}

bool Pipeline::guardFloodAdmit(Unit& u, guard::FloodKind kind) {
  if (snap_->version() != floodVersion_) {  // a new policy: its limits, the buckets kept
    const policy::GuardSpec& g = snap_->guard();
    guard::DestLimits l;
    l.perKind[int(guard::FloodKind::Udp)] =
        guard::BucketParams::make(g.udpPerDestPps, g.udpPerDestBurst);
    l.perKind[int(guard::FloodKind::Icmp)] =
        guard::BucketParams::make(g.icmpPerDestPps, g.icmpPerDestBurst);
    l.perKind[int(guard::FloodKind::Fragment)] =
        guard::BucketParams::make(g.fragmentsPerDestPps, g.fragmentsPerDestBurst);
    floods_->setLimits(l);
    floodVersion_ = snap_->version();
  }
  switch (floods_->take(u.view.dst, kind, now_)) {
    case guard::FloodAdmit::Yes:
      return true;
    case guard::FloodAdmit::Limited:
      if (kind == guard::FloodKind::Udp) ++counters_.guard_udp_flood_dropped;
      if (kind == guard::FloodKind::Icmp) ++counters_.guard_icmp_flood_dropped;
      if (kind == guard::FloodKind::Fragment) ++counters_.guard_fragment_flood_dropped;
      break;
    case guard::FloodAdmit::TableFull:
      ++counters_.guard_dests_full;
      break;
  }
  guardNoteDenied(u, telemetry::Reason::Flood);
  freeUnit(u);
  return false;
}

void Pipeline::guardNoteDenied(const Unit& u, telemetry::Reason why) {
  uint32_t bytes = 0;
  for (uint16_t i = 0; i < u.count; ++i) bytes += rte_pktmbuf_pkt_len(u.mbufs[i]);
  if (!denied_->add(u.view.src, static_cast<uint8_t>(why), u.view.dst, u.view.dstPort,
                    u.view.ipProto, bytes, now_)) {
    ++counters_.guard_deny_unsummarised;
  }
}

void Pipeline::guardFlushDenied(bool force) {
  if (!force && !denied_->due(now_)) return;
  denied_->flush([this](const guard::DenyRow& r) {
    telemetry::Event* ev = events_.reserve();
    if (ev == nullptr) {
      ++counters_.events_lost;
      return;
    }
    std::memset(static_cast<void*>(ev), 0, sizeof(*ev));
    ev->kind = telemetry::EventKind::DenySummary;
    ev->timestampNs = now_;
    ev->action = telemetry::Action::Deny;
    ev->reason = static_cast<telemetry::Reason>(r.reason);
    ev->src = r.src;
    ev->dst = r.dst;
    ev->dstPort = r.dstPort;
    ev->proto = r.proto;
    ev->pkts[0] = r.packets;
    ev->bytes[0] = r.bytes;
    ev->startNs = r.firstNs;
    ev->endNs = r.lastNs;
    events_.commit();
    ++counters_.guard_deny_summaries;
  });
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
    guardNoteDenied(u, telemetry::Reason::Inbound);
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
  telemetry::Reason why = telemetry::Reason::None;
  switch (guard_->admit(v.src, now_)) {
    case guard::Admit::Yes:
      guardCounted_ = true;
      return true;
    case guard::Admit::RateLimited:
      ++counters_.guard_rate_limited;
      why = telemetry::Reason::RateLimit;
      break;
    case guard::Admit::TooManyFlows:
      ++counters_.guard_concurrent_limited;
      why = telemetry::Reason::FlowLimit;
      break;
    case guard::Admit::TableFull:
      ++counters_.guard_sources_full;
      why = telemetry::Reason::TableFull;
      break;
  }
  guardNoteDenied(u, why);
  freeUnit(u);
  return false;
}

void Pipeline::guardRelease(const Entry& e) {
  if (!e.user.guardCounted) return;
  guard_->release(e.meta.initiatorIsLo ? e.key.lo : e.key.hi);
}

}  // namespace lbg::dataplane
