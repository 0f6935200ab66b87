// FlowSteering: the software copy of the NICs' RSS that sends the exception port's frames to the
// worker owning their flow. Checked against the RSS verification suite of the Intel 82599
// datasheet (7.1.2.8.3, also DPDK's app/test/test_thash.c) and against rte_softrss over the
// NIC's own input layout (rte_ipv4_tuple), then for what the runtime relies on: symmetry, the
// RETA, and two ports' agreement.
#include "dataplane/core/flow_steer.h"

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_thash.h>

#include "dataplane/core/test_frames.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::dataplane {
namespace {

// The key of the verification suite (Microsoft's RSS specification).
const uint8_t kSuiteKey[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                               0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                               0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                               0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

TEST(FlowSteering, VerificationSuiteIpv4) {
  const IpAddr src = ip("66.9.149.187"), dst = ip("161.142.100.80");
  const FlowSteering l3(kSuiteKey, RTE_ETH_RSS_IPV4, {0});
  const FlowSteering l4(kSuiteKey, RTE_ETH_RSS_NONFRAG_IPV4_TCP, {0});
  EXPECT_EQ(l3.hash(src, 2794, dst, 1766, 6, false), 0x323e8fc2u);
  EXPECT_EQ(l4.hash(src, 2794, dst, 1766, 6, false), 0x51ccc178u);
  // A fragment is hashed by its addresses only, and not at all without a fragment bit.
  EXPECT_EQ(FlowSteering(kSuiteKey, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP, {0})
                .hash(src, 2794, dst, 1766, 6, true),
            0x323e8fc2u);
  EXPECT_EQ(l4.hash(src, 2794, dst, 1766, 6, true), 0u);
  EXPECT_EQ(l4.hash(src, 2794, dst, 1766, 17, false), 0u);  // UDP not enabled
}

TEST(FlowSteering, VerificationSuiteIpv6) {
  const IpAddr src = ip("3ffe:2501:200:1fff::7"), dst = ip("3ffe:2501:200:3::1");
  EXPECT_EQ(FlowSteering(kSuiteKey, RTE_ETH_RSS_IPV6, {0}).hash(src, 2794, dst, 1766, 6, false),
            0x2cc18cd5u);
  EXPECT_EQ(FlowSteering(kSuiteKey, RTE_ETH_RSS_NONFRAG_IPV6_TCP, {0})
                .hash(src, 2794, dst, 1766, 6, false),
            0x40207d3du);
}

// The NIC's input layout as DPDK spells it (CPU-order words, ports in the union) and the plain
// rte_softrss with the unconverted key: the same number, here with the gateway's own key.
TEST(FlowSteering, AgreesWithSoftRssOnTheNicLayout) {
  const FlowSteering s(kSymmetricRssKey, RTE_ETH_RSS_NONFRAG_IPV4_TCP, {0});
  uint32_t seed = 12345;
  for (int i = 0; i < 200; ++i) {
    seed = seed * 1103515245u + 12345u;
    rte_thash_tuple t{};
    t.v4.src_addr = seed;
    t.v4.dst_addr = seed * 7u + 3u;
    t.v4.sport = uint16_t(seed >> 7);
    t.v4.dport = uint16_t(seed >> 19);
    const uint32_t want = rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN,
                                      kSymmetricRssKey);
    EXPECT_EQ(s.hash(IpAddr::fromV4(t.v4.src_addr), t.v4.sport, IpAddr::fromV4(t.v4.dst_addr),
                     t.v4.dport, 6, false),
              want);
  }
}

// Both directions of a flow land on one worker, for IPv4 and IPv6, TCP and UDP; and the flows
// spread over both workers (else the steering would be trivially "symmetric").
TEST(FlowSteering, BothDirectionsOneWorker) {
  const FlowSteering s = FlowSteering::symmetricDefault(2);
  uint32_t seed = 99, perQueue[2] = {0, 0};
  for (int i = 0; i < 400; ++i) {
    seed = seed * 1103515245u + 12345u;
    uint8_t a6[16], b6[16];
    for (int k = 0; k < 16; ++k) {
      a6[k] = uint8_t(seed >> (k % 24));
      b6[k] = uint8_t((seed * 31u) >> (k % 20));
    }
    const bool v6 = i % 2 == 1;
    const IpAddr a = v6 ? IpAddr::fromV6(a6) : IpAddr::fromV4(seed);
    const IpAddr b = v6 ? IpAddr::fromV6(b6) : IpAddr::fromV4(seed ^ 0x5a5a1234u);
    const uint16_t pa = uint16_t(seed >> 5), pb = uint16_t(seed >> 17);
    const uint8_t proto = i % 3 == 0 ? 17 : 6;
    EXPECT_EQ(s.hash(a, pa, b, pb, proto, false), s.hash(b, pb, a, pa, proto, false));
    const uint16_t q = s.queueOfTuple(a, pa, b, pb, proto);
    EXPECT_EQ(q, s.queueOfTuple(b, pb, a, pa, proto));
    ASSERT_LT(q, 2);
    ++perQueue[q];
  }
  EXPECT_GT(perQueue[0], 100u);
  EXPECT_GT(perQueue[1], 100u);
}

TEST(FlowSteering, RetaHonoured) {
  const std::vector<uint16_t> reta = {3, 1, 2, 0, 1, 1, 0, 2};
  const FlowSteering s(kSymmetricRssKey, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP, reta);
  const FlowSteering allToOne(kSymmetricRssKey, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP,
                              std::vector<uint16_t>(128, 1));
  for (uint16_t port = 1000; port < 1100; ++port) {
    const IpAddr a = ip("10.0.0.1"), b = ip("192.0.2.7");
    const uint32_t h = s.hash(a, port, b, 443, 6, false);
    EXPECT_EQ(s.queueOfTuple(a, port, b, 443, 6), reta[h % reta.size()]);
    EXPECT_EQ(allToOne.queueOfTuple(a, port, b, 443, 6), 1);
  }
  // Without RSS everything is queue 0; without IP, no owner.
  EXPECT_EQ(FlowSteering(kSymmetricRssKey, 0, {}).queueOfTuple(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2, 6), 0);
}

// From a decoded frame, as the runtime does: the packet's own tuple, either direction.
TEST(FlowSteering, DecodedFrames) {
  const FlowSteering s = FlowSteering::symmetricDefault(2);
  lbg::testing::L4Spec out{ip("10.1.0.10"), ip("203.0.113.9"), 40001, 443};
  lbg::testing::L4Spec back{ip("203.0.113.9"), ip("10.1.0.10"), 443, 40001};
  const auto f1 = lbg::testing::frame(out, {});
  const auto f2 = lbg::testing::frame(back, {});
  packet::PacketView v1{}, v2{};
  ASSERT_EQ(packet::decode(f1.data(), uint32_t(f1.size()), v1), packet::DecodeStatus::Ok);
  ASSERT_EQ(packet::decode(f2.data(), uint32_t(f2.size()), v2), packet::DecodeStatus::Ok);
  EXPECT_EQ(s.queueOf(v1), s.queueOfTuple(out.src, 40001, out.dst, 443, 6));
  EXPECT_EQ(s.queueOf(v1), s.queueOf(v2));
  packet::PacketView arp{};
  arp.ipVersion = 0;
  EXPECT_EQ(s.queueOf(arp), -1);
}

// Two ports agree when key, hashed fields and queue per entry agree, whatever their RETA sizes.
TEST(FlowSteering, PortsAgree) {
  EXPECT_TRUE(FlowSteering::symmetricDefault(2, 128).sameQueues(FlowSteering::symmetricDefault(2, 512)));
  EXPECT_TRUE(FlowSteering::symmetricDefault(4, 64).sameQueues(FlowSteering::symmetricDefault(4, 512)));
  // 3 queues over 128 and 512 entries: entry 128 is queue 2 in one, queue 0 in the other.
  EXPECT_FALSE(FlowSteering::symmetricDefault(3, 128).sameQueues(FlowSteering::symmetricDefault(3, 512)));
  const auto r = FlowSteering::symmetricDefault(2).reta();
  EXPECT_FALSE(FlowSteering(kSuiteKey, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP, r)
                   .sameQueues(FlowSteering::symmetricDefault(2)));
}

}  // namespace
}  // namespace lbg::dataplane
