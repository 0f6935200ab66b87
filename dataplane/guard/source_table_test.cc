#include "dataplane/guard/source_table.h"

#include <gtest/gtest.h>

namespace lbg::dataplane::guard {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

IpAddr v4(uint32_t a) {
  return IpAddr::fromV4(a);
}

TEST(TokenBucket, BurstThenRate) {
  const BucketParams p = BucketParams::make(10, 5);  // 10/s, burst 5
  uint64_t tat = 0;
  const uint64_t t0 = 100 * kSec;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(takeToken(tat, p, t0)) << i;
  EXPECT_FALSE(takeToken(tat, p, t0));
  // One interval later exactly one more token.
  EXPECT_TRUE(takeToken(tat, p, t0 + kSec / 10));
  EXPECT_FALSE(takeToken(tat, p, t0 + kSec / 10));
  // After a long pause the bucket is full again, but never holds more than the burst.
  EXPECT_TRUE(bucketFull(tat, t0 + 10 * kSec));
  int n = 0;
  while (takeToken(tat, p, t0 + 10 * kSec)) ++n;
  EXPECT_EQ(n, 5);
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  const BucketParams p = BucketParams::make(0, 0);
  uint64_t tat = 0;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(takeToken(tat, p, 1));
}

TEST(TokenBucket, BurstOfOneIsStrictRate) {
  const BucketParams p = BucketParams::make(2, 1);
  uint64_t tat = 0;
  EXPECT_TRUE(takeToken(tat, p, kSec));
  EXPECT_FALSE(takeToken(tat, p, kSec + kSec / 4));
  EXPECT_TRUE(takeToken(tat, p, kSec + kSec / 2));
}

SourceLimits limits(uint32_t rate, uint32_t burst, uint32_t conc) {
  SourceLimits l;
  l.newFlows = BucketParams::make(rate, burst);
  l.maxConcurrent = conc;
  return l;
}

TEST(SourceTable, OneSourceLimitedAnotherNot) {
  SourceTable t(64, limits(10, 3, 0));
  const uint64_t now = 5 * kSec;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.admit(v4(0x0a000001), now), Admit::Yes);
  EXPECT_EQ(t.admit(v4(0x0a000001), now), Admit::RateLimited);
  EXPECT_EQ(t.admit(v4(0x0a000002), now), Admit::Yes);
  EXPECT_EQ(t.counters().rateLimited, 1u);
  EXPECT_EQ(t.counters().admitted, 4u);
}

TEST(SourceTable, ConcurrentLimitAndRelease) {
  SourceTable t(64, limits(0, 0, 2));
  const auto a = v4(0xc0a80001);
  EXPECT_EQ(t.admit(a, 1), Admit::Yes);
  EXPECT_EQ(t.admit(a, 1), Admit::Yes);
  EXPECT_EQ(t.admit(a, 1), Admit::TooManyFlows);
  EXPECT_EQ(t.concurrent(a), 2u);
  t.release(a);
  EXPECT_EQ(t.concurrent(a), 1u);
  EXPECT_EQ(t.admit(a, 1), Admit::Yes);
  t.release(v4(0x01020304));
  EXPECT_EQ(t.counters().releaseUnknown, 1u);
}

TEST(SourceTable, FullTableRefusesNewSourceFailClosed) {
  SourceTable t(16, limits(1, 1, 0));  // one token per second per source
  const uint64_t now = 10 * kSec;
  uint32_t admitted = 0, full = 0;
  for (uint32_t i = 0; i < 100; ++i) {
    const Admit r = t.admit(v4(0x0a000000 + i), now);
    if (r == Admit::Yes) ++admitted;
    if (r == Admit::TableFull) ++full;
  }
  EXPECT_EQ(admitted, 16u);
  EXPECT_EQ(full, 84u);
  EXPECT_EQ(t.counters().tableFull, 84u);
  EXPECT_EQ(t.used(now), 16u);
  // Once their buckets refill and they hold no flow... they still hold a counted flow each.
  EXPECT_EQ(t.admit(v4(0x0b000000), now + 5 * kSec), Admit::TableFull);
}

TEST(SourceTable, IdleSlotsAreReused) {
  SourceTable t(16, limits(1, 1, 0));
  const uint64_t now = 10 * kSec;
  for (uint32_t i = 0; i < 16; ++i) {
    ASSERT_EQ(t.admit(v4(0x0a000000 + i), now), Admit::Yes);
    t.release(v4(0x0a000000 + i));
  }
  EXPECT_EQ(t.admit(v4(0x0b000000), now), Admit::TableFull);  // buckets still empty: state kept
  EXPECT_EQ(t.admit(v4(0x0b000000), now + 2 * kSec), Admit::Yes);
  // A known source is found past a reused slot and keeps its state.
  EXPECT_EQ(t.admit(v4(0x0b000000), now + 2 * kSec), Admit::RateLimited);
}

}  // namespace
}  // namespace lbg::dataplane::guard
