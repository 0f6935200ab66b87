#include "dataplane/guard/deny_summary.h"

#include <gtest/gtest.h>

#include <vector>

namespace lbg::dataplane::guard {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

IpAddr v4(uint32_t a) { return IpAddr::fromV4(a); }

std::vector<DenyRow> flushAll(DenySummary& s) {
  std::vector<DenyRow> rows;
  s.flush([&](const DenyRow& r) { rows.push_back(r); });
  return rows;
}

TEST(DenySummary, AFloodOfOneSourceIsOneRowPerReason) {
  DenySummary s(64, 10 * kSec);
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(s.add(v4(0xc6120001), 1, v4(0x0a01000a + uint32_t(i % 7)), 53, 17, 100, kSec + i));
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.add(v4(0xc6120001), 2, v4(0x0a01000a), 80, 6, 60, 2 * kSec));
  EXPECT_EQ(s.used(), 2u);
  EXPECT_FALSE(s.due(10 * kSec));  // the interval began with the first packet
  EXPECT_TRUE(s.due(11 * kSec));
  auto rows = flushAll(s);
  ASSERT_EQ(rows.size(), 2u);
  const DenyRow& a = rows[0].reason == 1 ? rows[0] : rows[1];
  const DenyRow& b = rows[0].reason == 1 ? rows[1] : rows[0];
  EXPECT_EQ(a.packets, 100000u);
  EXPECT_EQ(a.bytes, 100000u * 100);
  EXPECT_EQ(a.firstNs, kSec);
  EXPECT_EQ(a.lastNs, kSec + 99999);
  EXPECT_EQ(a.dst.bytes, v4(0x0a01000a).bytes);  // the first destination
  EXPECT_EQ(a.dstPort, 53);
  EXPECT_EQ(a.proto, 17);
  EXPECT_EQ(b.packets, 10u);
  EXPECT_EQ(s.used(), 0u);
  EXPECT_FALSE(s.due(100 * kSec));  // empty: nothing to emit
  EXPECT_TRUE(flushAll(s).empty());
}

TEST(DenySummary, BoundedWithCountedOverflowForSpoofedSources) {
  // 100000 spoofed sources into 64 rows: at most 64 records per interval, the rest refused (the
  // caller counts them), never more rows than the table has.
  DenySummary s(64, 10 * kSec);
  EXPECT_EQ(s.capacity(), 64u);
  uint64_t refused = 0;
  for (uint32_t i = 0; i < 100000; ++i) refused += s.add(v4(0x0b000000 + i), 1, v4(1), 0, 17, 60, 5) ? 0 : 1;
  EXPECT_LE(s.used(), 64u);
  EXPECT_EQ(refused + [&] {
    uint64_t n = 0;
    s.flush([&](const DenyRow& r) { n += r.packets; });
    return n;
  }(), 100000u);
  // After the flush the next interval starts empty.
  EXPECT_TRUE(s.add(v4(7), 1, v4(1), 0, 17, 60, 20 * kSec));
  EXPECT_FALSE(s.due(29 * kSec));
  EXPECT_TRUE(s.due(30 * kSec));
}

}  // namespace
}  // namespace lbg::dataplane::guard
