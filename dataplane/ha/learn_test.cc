#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "dataplane/flow/flow_key.h"
#include "dataplane/ha/learn_frame.h"
#include "dataplane/ha/learn_table.h"

namespace lbg::ha {
namespace {

LearnHost host(uint32_t n, uint16_t outer = 0, uint16_t inner = 0) {
  LearnHost h{};
  h.mac[0] = 0x02;  // locally administered, unicast
  h.mac[2] = uint8_t(n >> 24);
  h.mac[3] = uint8_t(n >> 16);
  h.mac[4] = uint8_t(n >> 8);
  h.mac[5] = uint8_t(n);
  flow::FlowKey k{};
  const uint16_t tci[2] = {outer, inner};
  flow::setVlans(k, uint8_t(outer ? (inner ? 2 : 1) : 0), tci);
  std::memcpy(h.vlan, k.vlan, 3);
  return h;
}

uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}

TEST(LearnFrame, IsABroadcastRarpRequestFromTheHostNamingNoAddress) {
  const LearnHost h = host(0x0a0b0c);
  uint8_t f[kLearnFrameMax];
  std::memset(f, 0xee, sizeof(f));
  ASSERT_EQ(buildLearnFrame(h, f), 60u);  // the Ethernet minimum without FCS, zero padded
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f[i], 0xff);
  EXPECT_EQ(std::memcmp(f + 6, h.mac, 6), 0);  // what the switches learn
  EXPECT_EQ(be16(f + 12), 0x8035);
  const uint8_t* a = f + 14;
  EXPECT_EQ(be16(a), 1);           // Ethernet
  EXPECT_EQ(be16(a + 2), 0x0800);  // IPv4
  EXPECT_EQ(a[4], 6);
  EXPECT_EQ(a[5], 4);
  EXPECT_EQ(be16(a + 6), 3);  // request reverse
  EXPECT_EQ(std::memcmp(a + 8, h.mac, 6), 0);
  EXPECT_EQ(std::memcmp(a + 18, h.mac, 6), 0);
  const uint8_t zero[4] = {};
  EXPECT_EQ(std::memcmp(a + 14, zero, 4), 0);  // no sender IP: no host's ARP cache changes
  EXPECT_EQ(std::memcmp(a + 24, zero, 4), 0);
  for (size_t i = 14 + 28; i < 60; ++i) EXPECT_EQ(f[i], 0) << i;
}

TEST(LearnFrame, KeepsTheHostsVlanTags) {
  uint8_t f[kLearnFrameMax];
  ASSERT_EQ(buildLearnFrame(host(1, 0x123), f), 64u);
  EXPECT_EQ(be16(f + 12), 0x8100);
  EXPECT_EQ(be16(f + 14), 0x123);
  EXPECT_EQ(be16(f + 16), 0x8035);

  LearnHost qinq = host(1, 0xabc, 0x456);
  qinq.tpid = uint8_t(LearnTpid::Dot1ad);
  ASSERT_EQ(buildLearnFrame(qinq, f), 68u);
  EXPECT_EQ(be16(f + 12), 0x88a8);
  EXPECT_EQ(be16(f + 14), 0xabc);
  EXPECT_EQ(be16(f + 16), 0x8100);
  EXPECT_EQ(be16(f + 18), 0x456);
  EXPECT_EQ(be16(f + 20), 0x8035);
  EXPECT_EQ(std::memcmp(f + 22 + 8, qinq.mac, 6), 0);
}

TEST(LearnFrame, OnlyUnicastMacsAreLearnable) {
  const uint8_t zero[6] = {}, bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1}, v6mcast[6] = {0x33, 0x33, 0, 0, 0, 1},
                unicast[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
  EXPECT_FALSE(learnableMac(zero));
  EXPECT_FALSE(learnableMac(bcast));
  EXPECT_FALSE(learnableMac(mcast));
  EXPECT_FALSE(learnableMac(v6mcast));
  EXPECT_TRUE(learnableMac(unicast));
}

TEST(LearnTable, DeduplicatesByMacVlanAndSide) {
  LearnTable t(64);
  EXPECT_EQ(t.note(LearnSide::Inside, host(1), 1), LearnNote::Added);
  EXPECT_EQ(t.note(LearnSide::Inside, host(1), 2), LearnNote::Refreshed);
  EXPECT_EQ(t.size(), 1u);
  // The same MAC on another VLAN or on the other side is another host to announce.
  EXPECT_EQ(t.note(LearnSide::Inside, host(1, 10), 3), LearnNote::Added);
  EXPECT_EQ(t.note(LearnSide::Outside, host(1), 4), LearnNote::Added);
  EXPECT_EQ(t.size(), 3u);
  LearnHost broadcast = host(1);
  std::memset(broadcast.mac, 0xff, 6);
  EXPECT_EQ(t.note(LearnSide::Outside, broadcast, 5), LearnNote::Ignored);
  EXPECT_EQ(t.size(), 3u);

  std::set<std::pair<int, uint32_t>> seen;
  for (uint32_t i = 0; i < t.capacity(); ++i) {
    LearnSide side{};
    LearnHost h{};
    if (!t.at(i, side, h)) continue;
    seen.insert({int(side), uint32_t(h.vlan[0]) << 8 | h.mac[5]});
  }
  EXPECT_EQ(seen, (std::set<std::pair<int, uint32_t>>{{0, 1}, {0, 10 << 8 | 1}, {1, 1}}));
}

TEST(LearnTable, IsBoundedAndCountsWhatItRefuses) {
  const uint64_t stale = 1000;
  LearnTable t(256, stale);
  ASSERT_EQ(t.capacity(), 256u);
  uint32_t added = 0, full = 0;
  for (uint32_t n = 1; n <= 4000; ++n) {
    const auto r = t.note(LearnSide::Outside, host(n), 10);
    if (r == LearnNote::Added) ++added;
    if (r == LearnNote::Full) ++full;
    ASSERT_NE(r, LearnNote::Replaced);  // all are recent
  }
  EXPECT_EQ(t.size(), added);
  EXPECT_LE(t.size(), 256u);
  EXPECT_GT(t.size(), 200u);  // 32 buckets of 8: nearly all filled before the first refusal
  EXPECT_EQ(added + full, 4000u);
  // A known host is still refreshed when the table is full.
  EXPECT_EQ(t.note(LearnSide::Outside, host(1), 20), LearnNote::Refreshed);
  // Once the others were not seen for `stale`, new hosts take their places; the size stays.
  const uint32_t before = t.size();
  uint32_t replaced = 0;
  for (uint32_t n = 5000; n < 5100; ++n) {
    if (t.note(LearnSide::Outside, host(n), 10 + stale) == LearnNote::Replaced) ++replaced;
  }
  EXPECT_GT(replaced, 0u);
  EXPECT_EQ(t.size(), before);
}

}  // namespace
}  // namespace lbg::ha
