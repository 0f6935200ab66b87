#include "dataplane/ha/flow_sync.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
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
                            SyncKey{std::vector<uint8_t>(32, uint8_t(key))}, workers, 64, 16);
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

DnsSyncRecord binding(uint8_t worker) {
  DnsSyncRecord r{};
  r.addr[15] = 200;
  r.ttlSec = 60;
  r.worker = worker;
  r.nameLen = 10;
  std::memcpy(r.name, "example.jp", 10);
  return r;
}

CertSyncRecord verdict(uint8_t refusal) {
  CertSyncRecord r{};
  r.key[0] = refusal;
  r.ttlSec = 60;
  r.cache = uint8_t(CertSyncCache::Probe);
  r.verdict = refusal;
  return r;
}

TEST(FlowSync, BindingsGoToTheLearningWorkerAndVerdictsToEveryWorker) {
  auto a = make(47451, 47452, 'k', 3);
  auto b = make(47452, 47451, 'k', 3);
  ASSERT_TRUE(a && b);
  // 7 bindings from worker 2 (two datagrams of at most 5), 2 verdicts from worker 0 and a flow.
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(a->cacheRings(2).dnsOut->tryPush(binding(2)));
  ASSERT_TRUE(a->cacheRings(0).certOut->tryPush(verdict(0)));
  ASSERT_TRUE(a->cacheRings(0).certOut->tryPush(verdict(7)));  // negative ones too
  ASSERT_TRUE(a->outbound(1).tryPush(record(1, 1)));
  a->pollOnce(false, kNow);
  EXPECT_EQ(a->counters().ha_sync_datagrams_sent, 4u);  // one kind per datagram
  pump(*b, true, 4);
  const auto c = b->counters();
  EXPECT_EQ(c.ha_sync_dns_received, 7u);
  EXPECT_EQ(c.ha_sync_cert_received, 6u);  // 2 verdicts × 3 workers
  EXPECT_EQ(c.ha_sync_records_received, 1u);
  EXPECT_EQ(c.ha_sync_malformed + c.ha_sync_replayed + c.ha_sync_inbound_overflow, 0u);
  DnsSyncRecord d;
  int bindings = 0;
  for (uint32_t w = 0; w < 3; ++w) {
    while (b->cacheRings(w).dnsIn->tryPop(d)) {
      EXPECT_EQ(w, 2u);
      ++bindings;
    }
  }
  EXPECT_EQ(bindings, 7);
  for (uint32_t w = 0; w < 3; ++w) {
    CertSyncRecord v;
    ASSERT_TRUE(b->cacheRings(w).certIn->tryPop(v));
    EXPECT_EQ(v.verdict, 0);
    ASSERT_TRUE(b->cacheRings(w).certIn->tryPop(v));
    EXPECT_EQ(v.verdict, 7);
    EXPECT_FALSE(b->cacheRings(w).certIn->tryPop(v));
  }
}

TEST(FlowSync, AFullCacheInboundRingIsCounted) {
  auto a = make(47461, 47462, 'k', 1);
  auto b = make(47462, 47461, 'k', 1);
  ASSERT_TRUE(a && b);
  uint64_t pushed = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 16; ++i) pushed += a->cacheRings(0).certOut->tryPush(verdict(1));
    a->pollOnce(false, kNow);
  }
  pump(*b, true, a->counters().ha_sync_datagrams_sent);
  const auto c = b->counters();
  EXPECT_EQ(c.ha_sync_cert_received, 16u);  // the ring's size
  EXPECT_EQ(c.ha_sync_cert_received + c.ha_sync_inbound_overflow, pushed);
}

}  // namespace
}  // namespace lbg::ha
