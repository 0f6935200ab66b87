#include "dataplane/core/flow_steer.h"

#include <rte_ethdev.h>
#include <rte_thash.h>

#include <algorithm>
#include <cstring>

namespace lbg::dataplane {

// 0x6d5a repeated: Toeplitz over (a, b, pa, pb) equals Toeplitz over (b, a, pb, pa), because the
// key repeats every 16 bits and the fields swap in whole 16-bit units.
const uint8_t kSymmetricRssKey[40] = {0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                      0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                      0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                      0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

namespace {
constexpr uint8_t kTcp = 6, kUdp = 17;

uint32_t word(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
}  // namespace

FlowSteering::FlowSteering(const uint8_t* key, uint64_t rssHf, std::vector<uint16_t> reta)
    : rssHf_(rssHf), reta_(std::move(reta)) {
  std::memcpy(rawKey_, key, sizeof(rawKey_));
  uint32_t orig[10];
  std::memcpy(orig, key, sizeof(orig));
  rte_convert_rss_key(orig, key_, sizeof(orig));
}

FlowSteering FlowSteering::symmetricDefault(uint16_t queues, uint16_t retaSize) {
  std::vector<uint16_t> reta(retaSize);
  for (uint16_t i = 0; i < retaSize; ++i) reta[i] = queues == 0 ? 0 : uint16_t(i % queues);
  return FlowSteering(kSymmetricRssKey, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP,
                      std::move(reta));
}

uint32_t FlowSteering::hash(const IpAddr& src, uint16_t srcPort, const IpAddr& dst,
                            uint16_t dstPort, uint8_t proto, bool fragment) const {
  // The fields the NIC hashes for this kind of packet (rss_hf): addresses and ports for an
  // unfragmented TCP/UDP segment of an enabled type, else addresses when plain IP hashing is on.
  const bool v4 = src.isV4();
  uint64_t l4Bit = 0;
  if (!fragment && proto == kTcp) l4Bit = v4 ? RTE_ETH_RSS_NONFRAG_IPV4_TCP : RTE_ETH_RSS_NONFRAG_IPV6_TCP;
  if (!fragment && proto == kUdp) l4Bit = v4 ? RTE_ETH_RSS_NONFRAG_IPV4_UDP : RTE_ETH_RSS_NONFRAG_IPV6_UDP;
  const bool withPorts = l4Bit != 0 && (rssHf_ & l4Bit) != 0;
  uint64_t l3Bits;
  if (v4) {
    l3Bits = RTE_ETH_RSS_IPV4 | (fragment ? RTE_ETH_RSS_FRAG_IPV4 : RTE_ETH_RSS_NONFRAG_IPV4_OTHER);
  } else {
    l3Bits = RTE_ETH_RSS_IPV6 | (fragment ? RTE_ETH_RSS_FRAG_IPV6 : RTE_ETH_RSS_NONFRAG_IPV6_OTHER);
  }
  if (!withPorts && (rssHf_ & l3Bits) == 0) return 0;
  uint32_t tuple[9];
  uint32_t n = 0;
  if (v4) {
    tuple[n++] = word(&src.bytes[12]);
    tuple[n++] = word(&dst.bytes[12]);
  } else {
    for (int i = 0; i < 16; i += 4) tuple[n++] = word(&src.bytes[i]);
    for (int i = 0; i < 16; i += 4) tuple[n++] = word(&dst.bytes[i]);
  }
  if (withPorts) tuple[n++] = uint32_t(srcPort) << 16 | dstPort;
  return rte_softrss_be(tuple, n, reinterpret_cast<const uint8_t*>(key_));
}

uint16_t FlowSteering::queueOfTuple(const IpAddr& src, uint16_t srcPort, const IpAddr& dst,
                                    uint16_t dstPort, uint8_t proto) const {
  if (reta_.empty()) return 0;
  return reta_[hash(src, srcPort, dst, dstPort, proto, false) % reta_.size()];
}

int32_t FlowSteering::queueOf(const packet::PacketView& v) const {
  if (v.ipVersion == 0) return -1;
  if (reta_.empty()) return 0;
  const uint32_t h = hash(v.src, v.srcPort, v.dst, v.dstPort, v.ipProto, v.isFragment);
  return reta_[h % reta_.size()];
}

bool FlowSteering::sameQueues(const FlowSteering& other) const {
  if (std::memcmp(rawKey_, other.rawKey_, sizeof(rawKey_)) != 0 || rssHf_ != other.rssHf_) {
    return false;
  }
  const size_t n = std::max(reta_.size(), other.reta_.size());
  if (reta_.empty() || other.reta_.empty()) return reta_.empty() && other.reta_.empty();
  // Sizes are powers of two (NICs): entry i of the larger table falls on i % size of the smaller.
  for (size_t i = 0; i < n; ++i) {
    if (reta_[i % reta_.size()] != other.reta_[i % other.reta_.size()]) return false;
  }
  return true;
}

}  // namespace lbg::dataplane
