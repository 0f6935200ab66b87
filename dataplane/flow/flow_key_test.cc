#include "dataplane/flow/flow_key.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <unordered_set>

namespace lbg::flow {
namespace {

IpAddr v4(uint32_t a) {
  return IpAddr::fromV4(a);
}

TEST(FlowKey, VlansSeparateFlows) {
  bool r;
  FlowKey a = makeKey(v4(0x0a000001), 40000, v4(0x34600000), 443, 6, r);
  FlowKey b = a, c = a, d = a;
  const uint16_t ten[2] = {10, 0}, eleven[2] = {11, 0}, qinq[2] = {10, 0x0abc}, deep[2] = {0x0a10, 0};
  setVlans(b, 1, ten);
  setVlans(c, 1, eleven);
  setVlans(d, 2, qinq);
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(b == c);
  EXPECT_FALSE(b == d);
  FlowKey e = a;
  setVlans(e, 1, deep);  // 0xa10: the high nibble lands in vlan[2], not on top of vlan 0x10
  FlowKey f = a;
  const uint16_t low[2] = {0x10, 0};
  setVlans(f, 1, low);
  EXPECT_FALSE(e == f);
  // The priority bits of the TCI are not part of the id.
  FlowKey g = a;
  const uint16_t prio[2] = {uint16_t(0xe000 | 10), 0};
  setVlans(g, 1, prio);
  EXPECT_TRUE(g == b);
}

// The decode pass's makeKey() (tail written as one word, addresses ordered by word compares) is
// makeKey() then setVlans(), byte for byte, and == is memcmp() of the 40 bytes.
TEST(FlowKey, OneStoreKeyMatchesTwoStepKey) {
  std::mt19937_64 rng(7);
  const uint16_t tcis[][2] = {{0, 0}, {10, 0}, {0x0a10, 0}, {0xe00a, 0x0abc}, {0x0fff, 0x0fff}};
  for (int n = 0; n < 20000; ++n) {
    IpAddr a, b;
    for (auto& x : a.bytes) x = uint8_t(rng() % 3);  // small alphabet: equal prefixes are common
    for (auto& x : b.bytes) x = uint8_t(rng() % 3);
    if (n % 4 == 0) b = a;
    const uint16_t sp = uint16_t(rng() % 4), dp = uint16_t(rng() % 4);
    const uint8_t proto = n % 2 ? 6 : 17;
    const uint8_t count = uint8_t(n % 3);
    const auto& tci = tcis[n % 5];
    bool r1, r2;
    FlowKey k1 = makeKey(a, sp, b, dp, proto, r1);
    setVlans(k1, count, tci);
    const FlowKey k2 = makeKey(a, sp, b, dp, proto, count, tci, r2);
    ASSERT_EQ(r1, r2);
    ASSERT_EQ(std::memcmp(&k1, &k2, sizeof(FlowKey)), 0);
    ASSERT_EQ(r1, std::memcmp(a.bytes.data(), b.bytes.data(), 16) > 0 ||
                      (std::memcmp(a.bytes.data(), b.bytes.data(), 16) == 0 && sp > dp));
    ASSERT_TRUE(k1 == k2);
    FlowKey k3 = k2;
    reinterpret_cast<uint8_t*>(&k3)[n % 40] ^= uint8_t(1u << (n % 8));
    ASSERT_FALSE(k3 == k2);
  }
}

TEST(FlowKey, SymmetricByConstruction) {
  const IpAddr a = v4(0x0a000001), b = v4(0xc0000201);
  bool r1 = true, r2 = false;
  const FlowKey k1 = makeKey(a, 51000, b, 443, 6, r1);
  const FlowKey k2 = makeKey(b, 443, a, 51000, 6, r2);
  EXPECT_EQ(k1, k2);
  EXPECT_NE(r1, r2);
  EXPECT_FALSE(r1);  // 10.0.0.1 orders first
  EXPECT_EQ(k1.lo, a);
  EXPECT_EQ(k1.loPort, 51000);
  EXPECT_EQ(k1.hiPort, 443);
  EXPECT_EQ(hashKey(k1), hashKey(k2));
  EXPECT_EQ(k1.vlan[0] | k1.vlan[1] | k1.vlan[2], 0);
}

TEST(FlowKey, SameAddressOrdersByPort) {
  const IpAddr a = v4(0x7f000001);
  bool r1, r2;
  const FlowKey k1 = makeKey(a, 9000, a, 80, 6, r1);
  const FlowKey k2 = makeKey(a, 80, a, 9000, 6, r2);
  EXPECT_EQ(k1, k2);
  EXPECT_TRUE(r1);
  EXPECT_FALSE(r2);
  EXPECT_EQ(k1.loPort, 80);
}

TEST(FlowKey, ProtocolAndFamilyDistinguish) {
  const IpAddr a = v4(0x0a000001), b = v4(0x0a000002);
  bool r;
  EXPECT_NE(makeKey(a, 1, b, 2, 6, r), makeKey(a, 1, b, 2, 17, r));
  uint8_t raw[16] = {0x20, 0x01, 0x0d, 0xb8};
  raw[15] = 1;
  EXPECT_NE(makeKey(a, 1, b, 2, 6, r), makeKey(IpAddr::fromV6(raw), 1, b, 2, 6, r));
}

TEST(FlowKey, HashSpreadsKeys) {
  // 20000 distinct keys differing only in the client port and address: a 32-bit hash should give
  // (nearly) 20000 distinct values and use both halves of every bit.
  std::unordered_set<uint32_t> seen;
  uint32_t ors = 0, ands = ~0u;
  const IpAddr server = v4(0x34600000);
  for (uint32_t i = 0; i < 20000; ++i) {
    bool r;
    const FlowKey k =
        makeKey(v4(0x0a000000 + (i >> 8)), uint16_t(40000 + (i & 0xff)), server, 443, 6, r);
    const uint32_t h = hashKey(k);
    seen.insert(h);
    ors |= h;
    ands &= h;
  }
  EXPECT_GT(seen.size(), 19990u);
  EXPECT_EQ(ors, ~0u);
  EXPECT_EQ(ands, 0u);
}

}  // namespace
}  // namespace lbg::flow
