#include "dataplane/ids/threshold_table.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::ids {
namespace {

using Outcome = ThresholdTable::Outcome;
constexpr uint64_t kSecond = 1'000'000'000ull;

Threshold make(Threshold::Type type, Threshold::Track track, uint32_t count, uint32_t seconds) {
  Threshold t;
  t.type = type;
  t.track = track;
  t.count = count;
  t.seconds = seconds;
  return t;
}

std::string run(ThresholdTable& table, const Threshold& t, int matches, uint64_t at = 0,
                const IpAddr& src = *IpAddr::parse("10.0.0.1"),
                const IpAddr& dst = *IpAddr::parse("192.0.2.1")) {
  std::string out;
  for (int i = 0; i < matches; ++i)
    out += table.check(7, t, src, dst, at) == Outcome::Alert ? 'A' : '.';
  return out;
}

TEST(IdsThresholdTable, LimitAlertsAtMostCountPerWindow) {
  ThresholdTable table(64);
  const auto t = make(Threshold::Type::Limit, Threshold::Track::BySrc, 2, 60);
  EXPECT_EQ(run(table, t, 5), "AA...");
  EXPECT_EQ(run(table, t, 2, 59 * kSecond), "..");
  EXPECT_EQ(run(table, t, 3, 60 * kSecond), "AA.");  // a new window
}

TEST(IdsThresholdTable, ThresholdAlertsEveryCountthMatch) {
  ThresholdTable table(64);
  const auto t = make(Threshold::Type::Threshold, Threshold::Track::BySrc, 3, 60);
  EXPECT_EQ(run(table, t, 7), "..A..A.");
  const auto one = make(Threshold::Type::Threshold, Threshold::Track::ByDst, 1, 60);
  ThresholdTable other(64);
  EXPECT_EQ(run(other, one, 3), "AAA");
}

TEST(IdsThresholdTable, BothAlertsOncePerWindowAtTheCountthMatch) {
  ThresholdTable table(64);
  const auto t = make(Threshold::Type::Both, Threshold::Track::BySrc, 3, 10);
  EXPECT_EQ(run(table, t, 6), "..A...");
  EXPECT_EQ(run(table, t, 4, 10 * kSecond), "..A.");
}

TEST(IdsThresholdTable, DetectionFilterAlertsPastTheCount) {
  ThresholdTable table(64);
  const auto t = make(Threshold::Type::DetectionFilter, Threshold::Track::BySrc, 2, 60);
  EXPECT_EQ(run(table, t, 5), "..AAA");
  EXPECT_EQ(run(table, t, 3, 61 * kSecond), "..A");
}

TEST(IdsThresholdTable, TrackingKeys) {
  const IpAddr a = *IpAddr::parse("10.0.0.1"), b = *IpAddr::parse("10.0.0.2");
  const IpAddr x = *IpAddr::parse("192.0.2.1"), y = *IpAddr::parse("192.0.2.2");
  auto limit1 = [](Threshold::Track track) {
    return make(Threshold::Type::Limit, Threshold::Track(track), 1, 60);
  };
  {
    ThresholdTable t(64);  // by_src: another source has its own window
    EXPECT_EQ(run(t, limit1(Threshold::Track::BySrc), 2, 0, a, x), "A.");
    EXPECT_EQ(run(t, limit1(Threshold::Track::BySrc), 1, 0, a, y), ".");
    EXPECT_EQ(run(t, limit1(Threshold::Track::BySrc), 1, 0, b, x), "A");
  }
  {
    ThresholdTable t(64);  // by_dst
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByDst), 1, 0, a, x), "A");
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByDst), 1, 0, b, x), ".");
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByDst), 1, 0, a, y), "A");
  }
  {
    ThresholdTable t(64);  // by_rule: one window for everyone
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByRule), 1, 0, a, x), "A");
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByRule), 1, 0, b, y), ".");
  }
  {
    ThresholdTable t(64);  // by_both: the pair
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByBoth), 1, 0, a, x), "A");
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByBoth), 1, 0, a, y), "A");
    EXPECT_EQ(run(t, limit1(Threshold::Track::ByBoth), 1, 0, a, x), ".");
  }
  {
    ThresholdTable t(64);  // rules keep their own windows
    const auto l = limit1(Threshold::Track::BySrc);
    EXPECT_EQ(t.check(1, l, a, x, 0), Outcome::Alert);
    EXPECT_EQ(t.check(2, l, a, x, 0), Outcome::Alert);
    EXPECT_EQ(t.check(1, l, a, x, 0), Outcome::Suppress);
  }
}

// The table is bounded: when a probe run holds only live windows of other keys the match is
// reported Full (the caller alerts and counts it); expired windows are reused.
TEST(IdsThresholdTable, FullTableIsReportedAndExpiredEntriesReused) {
  ThresholdTable table(ThresholdTable::kMaxProbe);
  EXPECT_EQ(table.capacity(), uint32_t(ThresholdTable::kMaxProbe));
  const auto t = make(Threshold::Type::Limit, Threshold::Track::BySrc, 1, 10);
  for (int i = 0; i < ThresholdTable::kMaxProbe; ++i)
    EXPECT_EQ(table.check(uint32_t(i), t, IpAddr{}, IpAddr{}, 0), Outcome::Alert);
  EXPECT_EQ(table.check(100, t, IpAddr{}, IpAddr{}, kSecond), Outcome::Full);
  EXPECT_EQ(table.check(3, t, IpAddr{}, IpAddr{}, kSecond), Outcome::Suppress);  // still there
  EXPECT_EQ(table.check(100, t, IpAddr{}, IpAddr{}, 10 * kSecond), Outcome::Alert);
  ThresholdTable none;
  EXPECT_EQ(none.check(1, t, IpAddr{}, IpAddr{}, 0), Outcome::Full);
}

}  // namespace
}  // namespace lbg::ids
