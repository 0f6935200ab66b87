// Several workers: every frame reaches the worker that owns its flow.
//
// Each worker keeps its own flows, and the ports' symmetric RSS sends both directions of a flow to
// one queue, hence one worker. Two kinds of port do not follow it:
//   - the exception port (net_tap): the kernel picks the queue of each frame it sends (its tun
//     flow table learns the queue a flow was last written from, else its own symmetric hash), so
//     a proxy leg or a certificate probe can come back on another worker's queue;
//   - with the exception port, a port without RSS (virtual devices): the device spreads flows by
//     a hash of its own (the kernel's, with a random seed, for net_af_packet's fanout), which the
//     prober cannot predict when it picks the source port of a probe.
// Their frames are steered in software: the owner is FlowSteering's queue (the RSS ports' key,
// hashed fields and RETA, or the symmetric default when no port does RSS), and a frame another
// worker owns goes into that worker's bounded ring (multi-producer, single consumer), which it
// drains each loop iteration. A full ring drops the frame (counted `steer_dropped`; TCP resends).
// Frames with no flow to own (ARP) stay with the worker that received them.
//
// The frame keeps its port in mbuf->port (set by every PMD), so the owner processes it as a frame
// of that port. Frames of one flow go to one owner from one producer queue at a time, so they
// stay in order except while the kernel moves a flow between tap queues.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>
#include <cstring>

#include "dataplane/core/runtime.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::dataplane {

namespace {

// Enough for a few bursts of each other worker: the owner drains it every loop iteration.
constexpr unsigned kSteerRingSize = 4096;

// The port's spreading as it reports it. A PMD that cannot report its key, fields or RETA is
// taken at what runtime.cc configured: the symmetric key, the fields asked for, and the default
// RETA (entry i → queue i % queues), which ethdev documents for a port whose RETA was not set.
FlowSteering portSteering(uint16_t port, uint16_t queues) {
  rte_eth_dev_info info{};
  rte_eth_dev_info_get(port, &info);
  const uint64_t asked =
      info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  uint8_t key[64];
  rte_eth_rss_conf conf{};
  conf.rss_key = key;
  conf.rss_key_len = sizeof(key);
  const bool known = rte_eth_dev_rss_hash_conf_get(port, &conf) == 0 && conf.rss_key_len >= 40;
  if (!known) std::memcpy(key, kSymmetricRssKey, 40);
  // Only the fields our frames can carry matter (the configure call asked for no others).
  const uint64_t hf = (known ? conf.rss_hf : asked) & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  const uint16_t size = info.reta_size != 0 ? info.reta_size : 128;
  std::vector<rte_eth_rss_reta_entry64> groups((size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                               RTE_ETH_RETA_GROUP_SIZE);
  for (auto& g : groups) g.mask = ~0ull;
  const bool retaKnown =
      info.reta_size != 0 && rte_eth_dev_rss_reta_query(port, groups.data(), size) == 0;
  std::vector<uint16_t> reta(size);
  for (uint16_t i = 0; i < size; ++i) {
    reta[i] = retaKnown ? groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE]
                        : uint16_t(i % queues);
  }
  return FlowSteering(key, hf, std::move(reta));
}

}  // namespace

Result<Ok> GatewayRuntime::setupSteering(const bool rss[3]) {
  // One worker owns everything; without the exception port every frame arrives where the ports'
  // own spreading puts it (af_packet's fanout hash is symmetric and the same on both ports) and
  // there is no probe: nothing to steer.
  if (config_.workers < 2 || portCount_ != 3) return Ok{};
  const uint16_t queues = static_cast<uint16_t>(config_.workers);
  std::unique_ptr<FlowSteering> ports[2];
  for (int r = 0; r < 2; ++r) {
    if (rss[r]) ports[r] = std::make_unique<FlowSteering>(portSteering(ports_[r], queues));
  }
  if (ports[0] && ports[1] && !ports[0]->sameQueues(*ports[1])) {
    // A flow's two directions arrive on different ports: they must reach the same worker.
    return Error{"inside and outside ports spread flows differently (RSS key, hash fields or "
                 "redirection table): a flow's two directions would reach two workers"};
  }
  steering_ = ports[0]   ? std::move(ports[0])
              : ports[1] ? std::move(ports[1])
                         : std::make_unique<FlowSteering>(FlowSteering::symmetricDefault(queues));
  for (uint16_t q : steering_->reta()) {
    if (q >= config_.workers) return Error{"an RSS redirection table names a queue past the workers"};
  }
  steerRx_[0] = !rss[0];
  steerRx_[1] = !rss[1];
  steerRx_[2] = true;
  for (uint32_t w = 0; w < config_.workers; ++w) {
    char name[32];
    std::snprintf(name, sizeof(name), "lbg_steer_%u", w);
    rte_ring* ring = rte_ring_create(name, kSteerRingSize, static_cast<int>(rte_socket_id()),
                                     RING_F_SC_DEQ);
    if (ring == nullptr) return Error{std::string("cannot create steering ring ") + name};
    steerRings_.push_back(ring);
  }
  return Ok{};
}

uint16_t GatewayRuntime::steerAway(uint32_t index, rte_mbuf** burst, uint16_t got,
                                   PortCounters& counters) {
  // The pipeline verifies checksums itself; here only the tuple matters.
  static constexpr packet::DecodeOptions kTupleOnly{.verifyIpv4Checksum = false};
  uint16_t keep = 0;
  for (uint16_t i = 0; i < got; ++i) {
    rte_mbuf* m = burst[i];
    packet::PacketView v;
    const auto status = packet::decode(rte_pktmbuf_mtod(m, const uint8_t*),
                                       rte_pktmbuf_data_len(m), v, kTupleOnly);
    const int32_t owner =
        status == packet::DecodeStatus::Ok || status == packet::DecodeStatus::Fragment
            ? steering_->queueOf(v)
            : -1;  // not IP, or malformed: the pipeline here drops or forwards it at layer 2
    if (owner < 0 || static_cast<uint32_t>(owner) == index) {
      burst[keep++] = m;
    } else if (rte_ring_mp_enqueue(steerRings_[owner], m) == 0) {
      ++counters.steered;
    } else {
      ++counters.steer_dropped;
      rte_pktmbuf_free(m);
    }
  }
  return keep;
}

void GatewayRuntime::processSteered(uint32_t index, Pipeline& p, uint64_t now, TxSink& tx,
                                    bool standby, PortCounters& counters) {
  rte_mbuf* got[256];
  const unsigned n = rte_ring_sc_dequeue_burst(steerRings_[index], reinterpret_cast<void**>(got),
                                               config_.rxBurst, nullptr);
  if (n == 0) return;
  if (standby) {
    counters.ha_standby_dropped += n;
    rte_pktmbuf_free_bulk(got, n);
    return;
  }
  static constexpr Ingress kIngress[3] = {Ingress::InsidePort, Ingress::OutsidePort,
                                          Ingress::ExceptionPort};
  // Runs of frames from one port, each processed as received there.
  unsigned start = 0;
  while (start < n) {
    int role = 0;
    while (role < portCount_ && ports_[role] != got[start]->port) ++role;
    unsigned end = start + 1;
    while (end < n && got[end]->port == got[start]->port) ++end;
    if (role == portCount_) {  // cannot happen: every ring frame came from one of our ports
      counters.steer_dropped += end - start;
      rte_pktmbuf_free_bulk(got + start, end - start);
    } else {
      if (role == 2) counters.exception_rx += end - start;
      p.processBurst(got + start, static_cast<uint16_t>(end - start), kIngress[role], now, tx);
    }
    start = end;
  }
}

}  // namespace lbg::dataplane
