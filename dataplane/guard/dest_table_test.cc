#include "dataplane/guard/dest_table.h"

#include <gtest/gtest.h>

namespace lbg::dataplane::guard {
namespace {

constexpr uint64_t kMs = 1'000'000ull;

DestLimits limits(uint32_t udp, uint32_t udpBurst, uint32_t icmp = 0, uint32_t icmpBurst = 0) {
  DestLimits l;
  l.perKind[int(FloodKind::Udp)] = BucketParams::make(udp, udpBurst);
  l.perKind[int(FloodKind::Icmp)] = BucketParams::make(icmp, icmpBurst);
  return l;
}

int admitted(DestTable& t, const IpAddr& dst, FloodKind k, int n, uint64_t now) {
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += t.take(dst, k, now) == FloodAdmit::Yes;
  return ok;
}

TEST(DestTable, OneDestinationIsHeldToItsRateAnotherIsNot) {
  DestTable t(1024, limits(1000, 100));
  const IpAddr victim = IpAddr::fromV4(0x0a01000a), other = IpAddr::fromV4(0x0a01000b);
  EXPECT_EQ(admitted(t, victim, FloodKind::Udp, 10000, 5 * kMs), 100);  // the burst
  EXPECT_EQ(admitted(t, other, FloodKind::Udp, 50, 5 * kMs), 50);
  // 10 ms later: 10 more tokens (1000/s).
  EXPECT_EQ(admitted(t, victim, FloodKind::Udp, 10000, 15 * kMs), 10);
}

TEST(DestTable, KindsHaveTheirOwnBucketsAndUnlimitedKeepsNoState) {
  DestTable t(16, limits(1000, 2, 10, 1));
  const IpAddr d = IpAddr::fromV4(0x34600001);
  EXPECT_EQ(admitted(t, d, FloodKind::Udp, 5, 0), 2);
  EXPECT_EQ(admitted(t, d, FloodKind::Icmp, 5, 0), 1);
  EXPECT_EQ(admitted(t, d, FloodKind::Fragment, 500, 0), 500);  // no limit set
}

TEST(DestTable, FullWindowRefusesUntilBucketsRefill) {
  DestTable t(16, limits(1, 1));  // 16 slots: one window is the whole table
  for (uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(t.take(IpAddr::fromV4(0x0b000000 + i), FloodKind::Udp, 0), FloodAdmit::Yes);
  }
  EXPECT_EQ(t.take(IpAddr::fromV4(0x0c000000), FloodKind::Udp, 0), FloodAdmit::TableFull);
  // A second later every bucket is full again: the slots are reused.
  EXPECT_EQ(t.take(IpAddr::fromV4(0x0c000000), FloodKind::Udp, 1000 * kMs), FloodAdmit::Yes);
}

}  // namespace
}  // namespace lbg::dataplane::guard
