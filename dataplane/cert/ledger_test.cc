#include "dataplane/cert/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dataplane/cert/cache_flush.h"

namespace lbg::cert {
namespace {

LedgerRow row(uint8_t tag, const char* host, const char* server, int64_t at) {
  LedgerRow r;
  r.key[0] = tag;
  r.key[1] = 0xab;
  r.host = host;
  r.server = *IpAddr::parse(server);
  r.port = 443;
  r.checkedAt = at;
  r.expiresAt = at + 60;
  return r;
}

TEST(CertLedger, ListsNewestFirstAndFilters) {
  CertLedger l(16);
  l.record(row(1, "login.example.jp", "192.0.2.1", 100));
  l.record(row(2, "files.example.jp", "192.0.2.2", 300));
  l.record(row(3, "LOGIN.example.jp", "192.0.2.3", 200));
  auto all = l.list({}, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key[0], 2);
  EXPECT_EQ(all[1].key[0], 3);
  EXPECT_EQ(l.list({}, 2).size(), 2u);

  LedgerFilter byName;
  byName.host = "login.EXAMPLE.jp";  // case-insensitive
  EXPECT_EQ(l.list(byName, 10).size(), 2u);
  LedgerFilter byServer;
  byServer.server = IpAddr::parse("192.0.2.2");
  ASSERT_EQ(l.list(byServer, 10).size(), 1u);
  LedgerFilter byId;
  byId.ids = {ledgerId(row(3, "", "0.0.0.0", 0).key).substr(0, 4)};
  ASSERT_EQ(l.list(byId, 10).size(), 1u);
  EXPECT_EQ(l.list(byId, 10)[0].key[0], 3);
  byId.ids = {"03a"};  // shorter than 4 hex digits selects nothing
  EXPECT_TRUE(l.list(byId, 10).empty());
  EXPECT_EQ(ledgerId(row(3, "", "0.0.0.0", 0).key), "03ab000000000000");
}

TEST(CertLedger, RecordReplacesAndFullReplacesTheOldest) {
  CertLedger l(2);
  l.record(row(1, "a.example.jp", "192.0.2.1", 100));
  auto again = row(1, "a.example.jp", "192.0.2.1", 150);
  again.verdict = Refusal::Name;
  l.record(again);
  EXPECT_EQ(l.size(), 1u);
  EXPECT_EQ(l.list({}, 10)[0].verdict, Refusal::Name);
  l.record(row(2, "b.example.jp", "192.0.2.2", 120));
  l.record(row(3, "c.example.jp", "192.0.2.3", 130));  // full: row 2 (checked at 120) goes
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l.displaced(), 1u);
  LedgerFilter f;
  f.host = "b.example.jp";
  EXPECT_TRUE(l.list(f, 10).empty());
}

TEST(CertLedger, RemoveNeedsASelector) {
  CertLedger l(16);
  l.record(row(1, "a.example.jp", "192.0.2.1", 100));
  l.record(row(2, "b.example.jp", "192.0.2.1", 100));
  l.record(row(3, "c.example.jp", "192.0.2.9", 100));
  EXPECT_TRUE(l.remove({}).empty());  // no selector: nothing, never everything by accident
  LedgerFilter f;
  f.server = IpAddr::parse("192.0.2.1");
  EXPECT_EQ(l.remove(f).size(), 2u);
  EXPECT_EQ(l.size(), 1u);
  LedgerFilter all;
  all.all = true;
  EXPECT_EQ(l.remove(all).size(), 1u);
  EXPECT_EQ(l.size(), 0u);
}

// The flush reaches every participant (threads looping as workers do) before request() returns;
// a participant that never polls makes it fail, and blocks the next request instead of racing.
TEST(CacheFlush, EveryParticipantAppliesBeforeTheRequestReturns) {
  CacheFlush flush(3);
  std::atomic<bool> stop{false};
  std::atomic<int> applied[3] = {0, 0, 0};
  std::atomic<int> sawAll{0};
  CacheKey seen[3]{};
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      while (!stop.load()) {
        flush.poll(i, [&](std::span<const CacheKey> keys, bool all) {
          if (all) ++sawAll;
          if (!keys.empty()) seen[i] = keys[0];
          ++applied[i];
        });
      }
    });
  }
  CacheKey k{};
  k[0] = 7;
  ASSERT_TRUE(flush.request(std::span<const CacheKey>(&k, 1), false, std::chrono::seconds(5)));
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(applied[i].load(), 1);
    EXPECT_EQ(seen[i][0], 7);
  }
  std::vector<CacheKey> many(CacheFlush::kMaxKeys + 1);
  ASSERT_TRUE(flush.request(many, false, std::chrono::seconds(5)));
  EXPECT_EQ(sawAll.load(), 3);  // too many keys: everything
  stop.store(true);
  for (auto& t : threads) t.join();

  EXPECT_FALSE(flush.request({}, true, std::chrono::milliseconds(20)));  // nobody polls now
  flush.poll(0, [](auto, bool) {});
  flush.poll(1, [](auto, bool) {});
  EXPECT_FALSE(flush.request({}, true, std::chrono::milliseconds(20)));  // 2 still owes the last
  flush.poll(2, [](auto, bool) {});
  std::thread late([&] {
    for (int i = 0; i < 1000; ++i) {
      for (uint32_t p = 0; p < 3; ++p) flush.poll(p, [](auto, bool) {});
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  EXPECT_TRUE(flush.request({}, true, std::chrono::seconds(5)));
  late.join();
}

}  // namespace
}  // namespace lbg::cert
