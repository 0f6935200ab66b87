#include "dataplane/cert/verdict_cache.h"

#include <gtest/gtest.h>

#include <map>

namespace lbg::cert {
namespace {

CacheKey key(uint32_t set, uint8_t tag) {
  CacheKey k{};
  std::memcpy(k.data(), &set, sizeof(set));
  k[31] = tag;
  return k;
}

TEST(VerdictCache, HitsMissesAndExpiry) {
  VerdictCache c(16);
  Refusal r;
  EXPECT_FALSE(c.find(key(0, 1), 0, r));
  EXPECT_FALSE(c.insert(key(0, 1), Refusal::Name, 100, 0));
  ASSERT_TRUE(c.find(key(0, 1), 50, r));
  EXPECT_EQ(r, Refusal::Name);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_FALSE(c.find(key(0, 1), 100, r));  // expired at its deadline
  EXPECT_EQ(c.size(), 0u);
}

TEST(VerdictCache, BoundedPerSetAndInTotal) {
  VerdictCache c(10);  // rounded up to 16: 4 sets of 4
  EXPECT_EQ(c.capacity(), 16u);
  // Five keys in one set: the one closest to expiry is displaced, the others stay.
  for (uint8_t t = 0; t < 4; ++t) EXPECT_FALSE(c.insert(key(0, t), Refusal::None, 1000 + t, 0));
  EXPECT_TRUE(c.insert(key(0, 9), Refusal::Untrusted, 2000, 0));
  Refusal r;
  EXPECT_FALSE(c.find(key(0, 0), 1, r));
  for (uint8_t t : {1, 2, 3, 9}) EXPECT_TRUE(c.find(key(0, t), 1, r)) << int(t);
  // Many keys never grow it past its capacity.
  for (uint32_t i = 0; i < 1000; ++i) c.insert(key(i, uint8_t(i)), Refusal::None, 5000 + i, 1);
  EXPECT_LE(c.size(), c.capacity());
  EXPECT_EQ(c.size(), 16u);
  // Refreshing a key does not displace anything.
  EXPECT_FALSE(c.insert(key(999, uint8_t(999)), Refusal::Name, 9000, 1));
  ASSERT_TRUE(c.find(key(999, uint8_t(999)), 2, r));
  EXPECT_EQ(r, Refusal::Name);
}

TEST(VerdictCache, ExpiredEntriesAreReusedBeforeLiveOnes) {
  VerdictCache c(4);
  for (uint8_t t = 0; t < 4; ++t) c.insert(key(0, t), Refusal::None, t == 2 ? 10 : 1000, 0);
  EXPECT_FALSE(c.insert(key(0, 7), Refusal::None, 1000, 20));  // took the expired slot
  Refusal r;
  for (uint8_t t : {0, 1, 3, 7}) EXPECT_TRUE(c.find(key(0, t), 30, r)) << int(t);
}

// `lbgctl certs flush`: one key forgotten, the others of its set kept; then everything.
TEST(VerdictCache, EraseAndClear) {
  VerdictCache c(16);
  Refusal r;
  c.insert(key(0, 1), Refusal::None, 100, 0);
  c.insert(key(0, 2), Refusal::Name, 100, 0);
  c.insert(key(1, 3), Refusal::None, 100, 0);
  EXPECT_TRUE(c.erase(key(0, 1)));
  EXPECT_FALSE(c.erase(key(0, 1)));
  EXPECT_FALSE(c.find(key(0, 1), 10, r));
  EXPECT_TRUE(c.find(key(0, 2), 10, r));
  EXPECT_EQ(c.size(), 2u);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.find(key(0, 2), 10, r));
  EXPECT_FALSE(c.find(key(1, 3), 10, r));
  EXPECT_FALSE(c.insert(key(1, 3), Refusal::None, 100, 0));  // the slot is free again
  EXPECT_EQ(c.size(), 1u);
}

TEST(VerdictCache, WalkVisitsLiveEntriesInSlices) {
  VerdictCache c(16);
  c.insert(key(0, 1), Refusal::None, 100, 0);
  c.insert(key(1, 2), Refusal::ProbeFailed, 200, 0);  // a refusal is walked like a pass
  c.insert(key(2, 3), Refusal::Name, 40, 0);          // expired at 50
  std::map<uint8_t, std::pair<Refusal, uint64_t>> seen;
  uint32_t cursor = 0, slices = 0;
  do {
    cursor = c.walk(cursor, 5, 50, [&](const CacheKey& k, Refusal r, uint64_t exp) { seen[k[31]] = {r, exp}; });
    ++slices;
  } while (cursor != 0);
  EXPECT_EQ(slices, 4u);  // 16 slots, 5 per slice
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], std::make_pair(Refusal::None, uint64_t(100)));
  EXPECT_EQ(seen[2], std::make_pair(Refusal::ProbeFailed, uint64_t(200)));
}

}  // namespace
}  // namespace lbg::cert
