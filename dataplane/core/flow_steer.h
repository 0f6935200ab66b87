#pragma once

// Which worker owns a flow, computed in software exactly as a NIC's receive-side scaling picks the
// queue: Toeplitz hash (the port's key) over the fields the port hashes for the packet's kind (its
// rss_hf: addresses, plus TCP/UDP ports for unfragmented segments), then the port's redirection
// table (RETA). Worker i polls queue i, so the queue is the worker.
//
// Why: the exception port (a net_tap toward the host's kernel) has its RX queue chosen by the
// kernel, not by the NICs, and several workers each hold their own flows. A frame the kernel hands
// to the tap is moved to the worker whose queue the NICs put the flow's other packets on
// (runtime.cc). Ports without RSS (virtual devices) use the same function with the symmetric key
// and the default RETA, so that every port and the certificate prober (which picks its source
// port with it) agree on one owner per flow.
//
// With the symmetric key (0x6d5a repeated) both directions of a flow hash alike.
// Hot path: queueOf() allocates nothing; create() (set-up) may.

#include <cstdint>
#include <vector>

#include "dataplane/packet/packet_view.h"
#include "policy/base/ip_addr.h"

namespace lbg::dataplane {

// The symmetric Toeplitz key the runtime gives every port with RSS.
extern const uint8_t kSymmetricRssKey[40];

class FlowSteering {
 public:
  // `key`: the 40-byte key as given to the NIC; `rssHf`: the RTE_ETH_RSS_* bits the port hashes
  // by; `reta`: the queue of each RETA entry (entry = hash % size). An empty `reta` means no RSS:
  // every frame belongs to queue 0.
  FlowSteering(const uint8_t* key, uint64_t rssHf, std::vector<uint16_t> reta);
  // The software stand-in for a port without RSS: symmetric key, IPv4/IPv6 + TCP/UDP, the
  // default RETA (entry i → queue i % queues) of `retaSize` entries.
  static FlowSteering symmetricDefault(uint16_t queues, uint16_t retaSize = 128);

  // The queue the port puts this packet on. Non-IP frames (ARP): -1, no owner (any worker).
  int32_t queueOf(const packet::PacketView& v) const;
  // The same for a TCP/UDP tuple (the prober's connection before it exists).
  uint16_t queueOfTuple(const IpAddr& src, uint16_t srcPort, const IpAddr& dst, uint16_t dstPort,
                        uint8_t proto) const;
  // The Toeplitz hash the port computes, 0 for a packet it does not hash.
  uint32_t hash(const IpAddr& src, uint16_t srcPort, const IpAddr& dst, uint16_t dstPort,
                uint8_t proto, bool fragment) const;

  // Whether two ports put every hash on the same queue (both directions of a flow arrive on
  // different ports: their RETAs must agree, or the flow's two halves reach two workers).
  bool sameQueues(const FlowSteering& other) const;
  const std::vector<uint16_t>& reta() const { return reta_; }

 private:
  uint32_t key_[10];  // converted for rte_softrss_be
  uint8_t rawKey_[40];
  uint64_t rssHf_;
  std::vector<uint16_t> reta_;
};

}  // namespace lbg::dataplane
