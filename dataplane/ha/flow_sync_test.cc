#include "dataplane/ha/flow_sync.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace lbg::ha {
namespace {

constexpr uint64_t kNow = 1'800'000'000'000'000'000ull;

SyncEndpoint endpoint(const std::string& s) {
  auto e = SyncEndpoint::parse(s);
  EXPECT_TRUE(e) << s;
  return e.value();
}

SyncRecord record(uint16_t port, uint8_t worker) {
  SyncRecord r{};
  bool reversed = false;
  r.key = flow::makeKey(IpAddr::fromV4(0x0a000001), port, IpAddr::fromV4(0x0a0000c8), 80, 17,
                        reversed);
  r.op = uint8_t(SyncOp::Upsert);
  r.worker = worker;
  return r;
}

// Two boxes' sync threads on loopback, driven by pollOnce (no timing in the test: a loopback
// datagram is in the receiver's socket once sendto returned). Fixed high ports per test.
std::unique_ptr<FlowSync> make(uint16_t self, uint16_t peer, char key, uint32_t workers = 2) {
  auto s = FlowSync::create(endpoint("127.0.0.1:" + std::to_string(self)),
                            endpoint("127.0.0.1:" + std::to_string(peer)),
                            SyncKey{std::vector<uint8_t>(32, uint8_t(key))}, workers, 64);
  EXPECT_TRUE(s) << s.error().toString();
  return s ? std::move(s.value()) : nullptr;
}

// Polls the receiver until it saw `datagrams` or a bound of tries passed (loopback delivery is
// synchronous on Linux; the bound only guards against a hang).
void pump(FlowSync& to, bool standby, uint64_t datagrams) {
  for (int i = 0; i < 1000 && to.counters().ha_sync_datagrams_received < datagrams; ++i) {
    to.pollOnce(standby, kNow);
  }
}

TEST(SyncEndpoint, ParsesNumericAddressesOnly) {
  EXPECT_TRUE(SyncEndpoint::parse("192.168.1.2:7400"));
  EXPECT_TRUE(SyncEndpoint::parse("[fd00::1]:7400"));
  EXPECT_FALSE(SyncEndpoint::parse("192.168.1.2"));
  EXPECT_FALSE(SyncEndpoint::parse("192.168.1.2:0"));
  EXPECT_FALSE(SyncEndpoint::parse("192.168.1.2:70000"));
  EXPECT_FALSE(SyncEndpoint::parse("peer.example:7400"));
  EXPECT_FALSE(SyncEndpoint::parse("fd00::1:7400"));
  EXPECT_FALSE(SyncEndpoint::parse("[fd00::1]7400"));
}

TEST(FlowSync, RecordsReachTheSameWorkerOfAStandbyPeer) {
  auto a = make(47411, 47412, 'k');
  auto b = make(47412, 47411, 'k');
  ASSERT_TRUE(a && b);
  for (uint16_t i = 0; i < 20; ++i) ASSERT_TRUE(a->outbound(i % 2).tryPush(record(1000 + i, i % 2)));
  a->pollOnce(false, kNow);
  EXPECT_EQ(a->counters().ha_sync_datagrams_sent, 3u);  // 20 records, 8 per datagram
  pump(*b, true, 3);
  EXPECT_EQ(b->counters().ha_sync_records_received, 20u);
  SyncRecord r;
  for (uint32_t w = 0; w < 2; ++w) {
    int n = 0;
    while (b->inbound(w).tryPop(r)) {
      EXPECT_EQ(r.worker, w);
      ++n;
    }
    EXPECT_EQ(n, 10);
  }
}

TEST(FlowSync, AnActiveBoxIgnoresRecords) {
  auto a = make(47421, 47422, 'k');
  auto b = make(47422, 47421, 'k');
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound(0).tryPush(record(1, 0)));
  a->pollOnce(false, kNow);
  pump(*b, false, 1);
  EXPECT_EQ(b->counters().ha_sync_ignored_active, 1u);
  SyncRecord r;
  EXPECT_FALSE(b->inbound(0).tryPop(r));
}

TEST(FlowSync, APeerWithAnotherKeyInstallsNothing) {
  auto a = make(47431, 47432, 'x');
  auto b = make(47432, 47431, 'k');
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound(0).tryPush(record(1, 0)));
  a->pollOnce(false, kNow);
  pump(*b, true, 1);
  EXPECT_EQ(b->counters().ha_sync_auth_failed, 1u);
  EXPECT_EQ(b->counters().ha_sync_records_received, 0u);
  SyncRecord r;
  EXPECT_FALSE(b->inbound(0).tryPop(r));
}

TEST(FlowSync, AFullInboundRingIsCounted) {
  auto a = make(47441, 47442, 'k', 1);
  auto b = make(47442, 47441, 'k', 1);
  ASSERT_TRUE(a && b);
  uint64_t pushed = 0;
  for (int round = 0; round < 2; ++round) {
    for (uint16_t i = 0; i < 50; ++i) pushed += a->outbound(0).tryPush(record(i, 0));
    a->pollOnce(false, kNow);
  }
  pump(*b, true, a->counters().ha_sync_datagrams_sent);
  const auto c = b->counters();
  EXPECT_EQ(c.ha_sync_records_received, 64u);  // the ring's size
  EXPECT_EQ(c.ha_sync_records_received + c.ha_sync_inbound_overflow, pushed);
}

}  // namespace
}  // namespace lbg::ha
