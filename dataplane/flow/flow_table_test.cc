#include "dataplane/flow/flow_table.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace lbg::flow {
namespace {

// A 64-byte payload like the pipeline's.
struct Payload {
  uint64_t id;
  uint8_t rest[56];
};
using Table = FlowTable<Payload>;

FlowKey key(uint32_t i, uint8_t proto = 6) {
  bool r;
  return makeKey(IpAddr::fromV4(0x0a000000 + i), uint16_t(10000 + (i % 50000)),
                 IpAddr::fromV4(0x34600001), 443, proto, r);
}

std::unique_ptr<Table> make(uint32_t cap, const Timeouts& t = {}) {
  auto r = Table::create(cap, t);
  EXPECT_TRUE(r.ok());
  return std::move(r.value());
}

TEST(FlowTable, EntrySizeForA64BytePayload) {
  // Reported to the lead: 1 M entries per lcore cost sizeof(Entry) MiB plus 4 MiB of signatures.
  EXPECT_LE(sizeof(Table::Entry), 192u);
  std::printf("sizeof(FlowTable<64-byte payload>::Entry) = %zu\n", sizeof(Table::Entry));
}

TEST(FlowTable, CreateRoundsAndValidates) {
  EXPECT_EQ(make(1000)->capacity(), 1024u);
  EXPECT_EQ(make(1)->capacity(), 16u);
  EXPECT_FALSE(Table::create(0).ok());
  EXPECT_FALSE(Table::create(Table::kMaxCapacity + 1).ok());
}

TEST(FlowTable, InsertFindErase) {
  auto t = make(1024);
  std::vector<Table::Entry*> entries;
  for (uint32_t i = 0; i < 500; ++i) {
    const FlowKey k = key(i);
    ASSERT_EQ(t->find(k, hashKey(k)), nullptr);
    Table::Entry* e = t->insert(k, hashKey(k), 100 + i, [](Table::Entry&) { FAIL(); });
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->meta.lastSeenNs, 100 + i);
    EXPECT_EQ(e->meta.tcpState, TcpState::None);
    EXPECT_EQ(e->user.id, 0u);  // zero-initialised
    e->user.id = i;
    entries.push_back(e);
  }
  EXPECT_EQ(t->size(), 500u);
  for (uint32_t i = 0; i < 500; ++i) {
    const FlowKey k = key(i);
    t->prefetch(hashKey(k));
    Table::Entry* e = t->find(k, hashKey(k));
    ASSERT_EQ(e, entries[i]);
    EXPECT_EQ(e->user.id, i);
    EXPECT_EQ(e->key, k);
  }
  // The reverse direction finds the same entry.
  bool r;
  const FlowKey back =
      makeKey(IpAddr::fromV4(0x34600001), 443, IpAddr::fromV4(0x0a000007), 10007, 6, r);
  EXPECT_TRUE(r);
  EXPECT_EQ(t->find(back, hashKey(back)), entries[7]);

  t->erase(entries[7]);
  t->erase(entries[7]);  // twice is harmless
  EXPECT_EQ(t->find(key(7), hashKey(key(7))), nullptr);
  EXPECT_EQ(t->size(), 499u);
  EXPECT_EQ(t->counters.erased, 1u);
  EXPECT_EQ(t->counters.inserted, 500u);
}

TEST(FlowTable, FullBucketsEvictIdleThenWeakThenOldest) {
  Timeouts to;
  to.establishedNs = 1000;
  to.synNs = 1000;
  auto t = make(16, to);  // two buckets: every key's candidates are the whole table
  for (uint32_t i = 0; i < 16; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), 10 + i, [](Table::Entry&) { FAIL(); });
    e->meta.tcpState = TcpState::Established;
    e->meta.pkts[0] = e->meta.pkts[1] = 1;
    e->user.id = i;
  }
  EXPECT_EQ(t->size(), 16u);
  t->find(key(5), hashKey(key(5)))->meta.tcpState = TcpState::SynSent;  // weak
  t->find(key(9), hashKey(key(9)))->meta.lastSeenNs = 0;                // idle at 1005
  // key(0), inserted at 10, is the least recently seen of the rest.

  std::vector<uint64_t> evicted;
  auto onEvict = [&](Table::Entry& e) { evicted.push_back(e.user.id); };
  auto established = [](Table::Entry* e) {
    e->meta.tcpState = TcpState::Established;
    e->meta.pkts[1] = 1;
  };
  established(t->insert(key(100), hashKey(key(100)), 1005, onEvict));  // idle one first
  established(t->insert(key(101), hashKey(key(101)), 1006, onEvict));  // then the weak one
  established(t->insert(key(102), hashKey(key(102)), 1007, onEvict));  // then the oldest
  EXPECT_EQ(evicted, (std::vector<uint64_t>{9, 5, 0}));
  EXPECT_EQ(t->counters.evicted, 3u);
  EXPECT_EQ(t->size(), 16u);
  EXPECT_NE(t->find(key(100), hashKey(key(100))), nullptr);
  EXPECT_EQ(t->find(key(9), hashKey(key(9))), nullptr);
}

TEST(FlowTable, BigTableFillsBeforeEvicting) {
  // Two-choice buckets: a table loaded to 90 % should need (almost) no evictions.
  auto t = make(1 << 16);
  uint64_t evictions = 0;
  for (uint32_t i = 0; i < (1u << 16) * 9 / 10; ++i) {
    bool r;
    const FlowKey k = makeKey(IpAddr::fromV4(0x0a000000 + i), uint16_t(1024 + i % 60000),
                              IpAddr::fromV4(0x08080808), 53, 17, r);
    t->insert(k, hashKey(k), 1, [&](Table::Entry&) { ++evictions; });
  }
  EXPECT_LT(evictions, 100u);
}

TEST(FlowTable, ExpireIsIncrementalAndUsesStateTimeouts) {
  Timeouts to;
  to.synNs = 100;
  to.establishedNs = 10000;
  to.udpUnrepliedNs = 50;
  auto t = make(64, to);
  for (uint32_t i = 0; i < 20; ++i) {
    Table::Entry* e = t->insert(key(i, i < 10 ? 6 : 17), hashKey(key(i, i < 10 ? 6 : 17)), 0,
                                [](Table::Entry&) {});
    e->user.id = i;
    if (i < 5) {
      e->meta.tcpState = TcpState::Established;
      e->meta.pkts[1] = 1;  // answered
    }
  }
  std::set<uint64_t> gone;
  auto onExpire = [&](Table::Entry& e) { gone.insert(e.user.id); };
  t->expire(49, 64, onExpire);
  EXPECT_TRUE(gone.empty());
  // A budget of 8 slots per call: the 64 slots take 8 calls to sweep.
  t->expire(100, 8, onExpire);
  EXPECT_LE(gone.size(), 8u);
  for (int i = 0; i < 7; ++i) t->expire(100, 8, onExpire);
  EXPECT_EQ(gone.size(), 15u);  // 5 SYN-state TCP + 10 unreplied UDP
  for (uint64_t i = 0; i < 5; ++i) EXPECT_FALSE(gone.count(i));
  EXPECT_EQ(t->size(), 5u);
  EXPECT_EQ(t->counters.expired, 15u);
}

TEST(FlowTable, ForEachVisitsEveryEntry) {
  auto t = make(256);
  for (uint32_t i = 0; i < 100; ++i)
    t->insert(key(i), hashKey(key(i)), 0, [](Table::Entry&) {})->user.id = i;
  t->erase(t->find(key(42), hashKey(key(42))));
  std::set<uint64_t> ids;
  t->forEach([&](const Table::Entry& e) { ids.insert(e.user.id); });
  EXPECT_EQ(ids.size(), 99u);
  EXPECT_FALSE(ids.count(42));
}

}  // namespace
}  // namespace lbg::flow
