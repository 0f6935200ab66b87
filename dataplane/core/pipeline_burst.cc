// Stages 1–2 (pipeline.h): a burst's frames decoded and keyed, then every packet handed to the
// later stages in arrival order.
//
// An established packet's own work is short next to the loads it waits for: its frame's headers,
// its flow's signature buckets, its entry's hot lines (the table is far larger than the caches),
// and for a dropped packet the mbuf's second line that freeing reads. So the burst runs in passes
// that start those loads for every packet before any packet needs them (DPDK's burst-oriented
// prefetching): frames' first lines; decode, key and buckets; entries; the stages; the frees.
// What a pass asks for beyond need costs as much as a miss: the core tracks only so many lines in
// flight, and a prefetch waits for a free slot. Hence the second line of a frame only where it is
// read, and frees gathered at the end of the burst.
//
// Tried and not kept (tools/bench/README.md, "Where the nanoseconds go"): decode, entry prefetch
// and the stages as a software pipeline a few packets apart. Each entry prefetch then waited
// alone (the translation of an address in a 64 MiB table, on this VM), instead of overlapping
// with the burst's other ones.

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

namespace {
constexpr uint8_t kTcp = 6, kUdp = 17;
// Frames from the outside port: how far ahead of decoding a frame's first line is looked at
// (it has arrived by then) to ask for its second when the headers continue there.
constexpr uint16_t kPeekAhead = 4;

// The frame's headers reach past its first cache line: an IPv6 header, IPv4 options, or more
// than one VLAN tag (14 + 4 + 20 + 20 bytes of Ethernet, tag, IPv4 and TCP fit in 64).
void prefetchLongHeader(const rte_mbuf* m) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  if (rte_pktmbuf_data_len(m) <= 64) return;
  uint32_t off = 12;
  uint16_t type = uint16_t(d[off] << 8 | d[off + 1]);
  if (type == RTE_ETHER_TYPE_VLAN) {
    off += 4;
    type = uint16_t(d[off] << 8 | d[off + 1]);
  }
  if (type != RTE_ETHER_TYPE_IPV4 || (d[off + 2] & 0x0f) != 5) flow::prefetch(d + 64);
}

}  // namespace

bool Pipeline::decodeUnit(rte_mbuf** slot, Ingress ingress, Unit& u) {
  rte_mbuf* m = *slot;
  ++counters_.rx_packets;
  counters_.rx_bytes += rte_pktmbuf_pkt_len(m);
  u.count = 0;  // not processed unless decoded below
  if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
    ++counters_.multiseg_dropped;
    rte_pktmbuf_free(m);
    return false;
  }
  // Every field set here or by decode() (which clears the view): no burst-wide clearing of the
  // unit's 176 bytes first.
  u.mbufs = slot;
  u.byAddress = ingress == Ingress::ByAddress;
  u.fromInside = false;
  u.keyed = false;
  u.reversed = false;
  u.hash = 0;
  u.status = packet::decode(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), u.view,
                            decodeOptions_);
  if (u.status == packet::DecodeStatus::Malformed) {
    ++counters_.decode_malformed;
    ++decodeDrops_[static_cast<size_t>(u.view.dropReason)];
    rte_pktmbuf_free(m);
    return false;
  }
  u.count = 1;
  if (u.status == packet::DecodeStatus::Ok && (u.view.ipProto == kTcp || u.view.ipProto == kUdp)) {
    u.key = flow::makeKey(u.view.src, u.view.srcPort, u.view.dst, u.view.dstPort, u.view.ipProto,
                          u.view.vlanCount, u.view.vlanTci, u.reversed);
    u.hash = flow::hashKey(u.key);
    u.keyed = true;
    flows_->prefetch(u.hash);
    // A datagram's payload (DNS answers are read) in the line processBurst() left out.
    if (ingress == Ingress::OutsidePort && u.view.ipProto == kUdp && u.view.payloadLen > 0 &&
        u.view.payloadOffset < 64) {
      flow::prefetch(u.view.frame + 64);
    }
  } else {
    u.key = flow::FlowKey{};
  }
  return true;
}

void Pipeline::processBurst(rte_mbuf** pkts, uint16_t n, Ingress ingress, uint64_t nowNs,
                            TxSink& tx) {
  if (n > kMaxBurst) {
    processBurst(pkts, kMaxBurst, ingress, nowNs, tx);
    processBurst(pkts + kMaxBurst, static_cast<uint16_t>(n - kMaxBurst), ingress, nowNs, tx);
    return;
  }
  snap_ = policySlot_.enter(worker_);
  snapEpoch_ = static_cast<uint32_t>(snap_->version());
  now_ = nowNs;
  // Every frame's first line first, so that decoding one does not wait for it. The second line
  // (TCP options, payload) is read on the client's side, by the normaliser (options, the client's
  // bytes it keeps) and the inspectors: asked for too, except for frames from the outside port,
  // whose established packets (the bulk of a download) need only the first line when it holds
  // their headers (below: IPv4 without options, at most one VLAN tag).
  const bool fromOutside = ingress == Ingress::OutsidePort;
  for (uint16_t i = 0; i < n; ++i) {
    const auto* d = rte_pktmbuf_mtod(pkts[i], const char*);
    flow::prefetch(d);
    if (!fromOutside) flow::prefetch(d + 64);
  }
  deferFree_ = true;
  if (fromOutside) {
    for (uint16_t i = 0; i < n && i < kPeekAhead; ++i) prefetchLongHeader(pkts[i]);
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (fromOutside && i + kPeekAhead < n) prefetchLongHeader(pkts[i + kPeekAhead]);
    decodeUnit(&pkts[i], ingress, batch_[i]);
  }
  for (uint16_t i = 0; i < n; ++i) {
    const Unit& u = batch_[i];
    if (u.count != 0 && u.keyed) flows_->prefetchEntry(u.hash);
  }
  for (uint16_t i = 0; i < n; ++i) {
    Unit& u = batch_[i];
    if (u.count != 0) processDecoded(u, ingress, tx);
  }
  deferFree_ = false;
  flushFreed();
}

void Pipeline::freeUnit(Unit& u) {
  for (uint16_t i = 0; i < u.count; ++i) {
    rte_mbuf* m = u.mbufs[i];
    if (!deferFree_) {
      rte_pktmbuf_free(m);
      continue;
    }
    if (freedCount_ == kMaxBurst) flushFreed();
    // Freeing reads the mbuf's second line (next segment, pool): a miss to memory when the mbuf
    // was not recycled lately. Asked for now, it has arrived by the end of the burst, and the
    // misses of a burst's dropped packets overlap instead of following one another.
    flow::prefetch(reinterpret_cast<const char*>(m) + RTE_CACHE_LINE_MIN_SIZE);
    freed_[freedCount_++] = m;
  }
  u.count = 0;
}

void Pipeline::flushFreed() {
  if (freedCount_ == 0) return;
  rte_pktmbuf_free_bulk(freed_, freedCount_);
  freedCount_ = 0;
}

}  // namespace lbg::dataplane
