// The takeover's learning frames (dataplane/ha/learn_frame.h, ARCHITECTURE.md "Redundancy"):
// which hosts a worker knows, and the frames it sends for them when its box becomes active.
//
// Where the hosts come from: on the active, the packet of an allowed flow's first sync (its
// source MAC is a host on its ingress side, its destination MAC the host on the other side: the
// box is transparent, so that is the router or the client itself); on the standby, the same two
// hosts in the flow's first synced record. Once per flow, never per packet.
//
// When: in the first loop iteration the worker runs as active after running as standby, then
// learnRounds times learnIntervalNs apart. The frames are built into mbufs of the packet pool and
// sent from the worker's own TX queues, learnBudget per iteration: no allocation, no lock, no
// syscall; an empty pool skips the host and counts it (ha_learn_no_mbuf).

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

namespace {

uint8_t outerTpid(const packet::PacketView& v) {
  if (v.vlanCount < 2 || v.frameLen < 14) return uint8_t(ha::LearnTpid::Dot1q);
  const uint16_t t = uint16_t(v.frame[12] << 8 | v.frame[13]);
  if (t == 0x88a8) return uint8_t(ha::LearnTpid::Dot1ad);
  if (t == 0x9100) return uint8_t(ha::LearnTpid::Old9100);
  return uint8_t(ha::LearnTpid::Dot1q);
}

}  // namespace

void Pipeline::noteHost(ha::LearnSide side, const ha::LearnHost& h) {
  switch (learn_->note(side, h, now_)) {
    case ha::LearnNote::Added:
    case ha::LearnNote::Replaced:
      ++counters_.ha_learn_hosts;
      break;
    case ha::LearnNote::Full:
      ++counters_.ha_learn_table_full;
      break;
    case ha::LearnNote::Refreshed:
    case ha::LearnNote::Ignored:
      break;
  }
}

void Pipeline::learnHosts(const Unit& u, ha::SyncRecord& r) {
  const packet::PacketView& v = u.view;
  if (learn_ == nullptr || v.frame == nullptr || v.frameLen < 12) return;
  // A replayed capture has no ports: its frames name no host of this box's segments.
  if (u.byAddress) return;
  const uint8_t* src = v.frame + 6;
  const uint8_t* dst = v.frame;
  uint8_t* srcField = u.fromInside ? r.insideMac : r.outsideMac;
  uint8_t* dstField = u.fromInside ? r.outsideMac : r.insideMac;
  ha::LearnHost h{};
  std::memcpy(h.vlan, r.key.vlan, 3);
  h.tpid = outerTpid(v);
  r.vlanTpid = h.tpid;
  if (ha::learnableMac(src)) {
    std::memcpy(srcField, src, 6);
    std::memcpy(h.mac, src, 6);
    noteHost(u.fromInside ? ha::LearnSide::Inside : ha::LearnSide::Outside, h);
  }
  if (ha::learnableMac(dst)) {
    std::memcpy(dstField, dst, 6);
    std::memcpy(h.mac, dst, 6);
    noteHost(u.fromInside ? ha::LearnSide::Outside : ha::LearnSide::Inside, h);
  }
}

void Pipeline::learnSynced(const ha::SyncRecord& r) {
  if (learn_ == nullptr) return;
  ha::LearnHost h{};
  std::memcpy(h.vlan, r.key.vlan, 3);
  h.tpid = r.vlanTpid;
  if (ha::learnableMac(r.insideMac)) {
    std::memcpy(h.mac, r.insideMac, 6);
    noteHost(ha::LearnSide::Inside, h);
  }
  if (ha::learnableMac(r.outsideMac)) {
    std::memcpy(h.mac, r.outsideMac, 6);
    noteHost(ha::LearnSide::Outside, h);
  }
}

void Pipeline::serviceLearn(uint64_t nowNs, bool standby, TxSink& tx) {
  if (learn_ == nullptr) return;
  const bool takeover = learnWasStandby_ == 1 && !standby;
  learnWasStandby_ = standby ? 1 : 0;
  if (takeover) {
    learnRoundsLeft_ = config_.learnRounds;
    learnCursor_ = 0;
    learnRoundNs_ = nowNs;
    learnFrames_ = 0;
  }
  if (learnRoundsLeft_ == 0) return;
  if (!standby) {
    if (nowNs < learnRoundNs_) return;  // the next round is not due yet
    ha::LearnHost h{};
    ha::LearnSide side{};
    uint8_t frame[ha::kLearnFrameMax];
    uint32_t sent = 0;
    const uint32_t end = learn_->capacity();
    while (learnCursor_ < end && sent < config_.learnBudget) {
      if (!learn_->at(learnCursor_++, side, h)) continue;
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (m == nullptr) {
        ++counters_.ha_learn_no_mbuf;
        continue;
      }
      const size_t len = ha::buildLearnFrame(h, frame);
      std::memcpy(rte_pktmbuf_append(m, uint16_t(len)), frame, len);
      // The switches of the segment opposite the host learn it on this box's port there.
      tx.send(side == ha::LearnSide::Inside ? PortRole::Outside : PortRole::Inside, m);
      ++sent;
    }
    counters_.ha_learn_frames_sent += sent;
    learnFrames_ += sent;
    if (learnCursor_ < end) return;  // the round goes on in the next iteration
    learnCursor_ = 0;
    learnRoundNs_ += config_.learnIntervalNs;
    if (--learnRoundsLeft_ != 0) return;
  }
  // Done, or back to standby before the last round (what was sent is reported).
  learnRoundsLeft_ = 0;
  learnDoneHosts_.store(learn_->size(), std::memory_order_relaxed);
  learnDoneFrames_.store(learnFrames_, std::memory_order_relaxed);
  learnDone_.fetch_add(1, std::memory_order_release);
}

}  // namespace lbg::dataplane
