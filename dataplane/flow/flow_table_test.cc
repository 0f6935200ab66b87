#include "dataplane/flow/flow_table.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(FlowTable, FullBucketsEvictIdleThenEmbryonicNeverEstablished) {
  Timeouts to;
  to.establishedNs = 1000;
  to.synNs = 1000;
  auto t = make(16, to);  // two buckets: every key's candidates are the whole table
  auto grow = [&](Table::Entry* e) {
    e->meta.tcpState = TcpState::Established;
    e->meta.pkts[0] = e->meta.pkts[1] = 1;
    t->noteProgress(*e);
  };
  for (uint32_t i = 0; i < 16; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), 10 + i, [](Table::Entry&) { FAIL(); });
    e->user.id = i;
    if (i != 5) grow(e);  // key(5) stays embryonic (handshake never completed)
  }
  EXPECT_EQ(t->size(), 16u);
  EXPECT_EQ(t->embryonic(), 1u);
  t->find(key(9), hashKey(key(9)))->meta.lastSeenNs = 0;  // idle at 1005

  std::vector<uint64_t> evicted;
  auto onEvict = [&](Table::Entry& e) { evicted.push_back(e.user.id); };
  grow(t->insert(key(100), hashKey(key(100)), 1005, onEvict));  // idle one first
  grow(t->insert(key(101), hashKey(key(101)), 1006, onEvict));  // then the embryonic one
  // Only established, live flows are left: a new flow is refused, none of them evicted.
  EXPECT_EQ(t->insert(key(102), hashKey(key(102)), 1007, onEvict), nullptr);
  EXPECT_EQ(evicted, (std::vector<uint64_t>{9, 5}));
  EXPECT_EQ(t->counters.evicted, 2u);
  EXPECT_EQ(t->counters.refused, 1u);
  EXPECT_EQ(t->size(), 16u);
  EXPECT_EQ(t->embryonic(), 0u);
  EXPECT_NE(t->find(key(100), hashKey(key(100))), nullptr);
  EXPECT_EQ(t->find(key(9), hashKey(key(9))), nullptr);
  EXPECT_NE(t->find(key(0), hashKey(key(0))), nullptr);
}

TEST(FlowTable, EmbryonicPartitionEvictsOldestFirst) {
  auto r = Table::create(1024, {}, 8);
  ASSERT_TRUE(r.ok());
  auto t = std::move(r.value());
  EXPECT_EQ(t->embryonicMax(), 8u);
  // Five established flows, then a flood of embryonic ones (a SYN each, never answered).
  for (uint32_t i = 0; i < 5; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), i, [](Table::Entry&) { FAIL(); });
    e->user.id = i;
    e->meta.tcpState = TcpState::SynSent;
    e->meta.pkts[0] = 1;
    t->noteProgress(*e);  // not yet: no answer, no handshake
    EXPECT_TRUE(e->meta.embryonic);
    e->meta.tcpState = TcpState::Established;
    e->meta.pkts[1] = 1;
    t->noteProgress(*e);
    EXPECT_FALSE(e->meta.embryonic);
  }
  std::vector<uint64_t> evicted;
  for (uint32_t i = 100; i < 120; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), i,
                                [&](Table::Entry& v) { evicted.push_back(v.user.id); });
    ASSERT_NE(e, nullptr);
    e->user.id = i;
  }
  // 20 embryonic into 8 places: the 12 oldest went, in the order they came.
  std::vector<uint64_t> want;
  for (uint64_t i = 100; i < 112; ++i) want.push_back(i);
  EXPECT_EQ(evicted, want);
  EXPECT_EQ(t->counters.embryonic_evicted, 12u);
  EXPECT_EQ(t->embryonic(), 8u);
  EXPECT_EQ(t->size(), 13u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_NE(t->find(key(i), hashKey(key(i))), nullptr);
  // Erasing and expiring embryonic entries take them off the list: the next eviction is the
  // oldest still there.
  t->erase(t->find(key(112), hashKey(key(112))));
  EXPECT_EQ(t->embryonic(), 7u);
  Table::Entry* e = t->insert(key(200), hashKey(key(200)), 200, [](Table::Entry&) { FAIL(); });
  e->user.id = 200;
  evicted.clear();
  t->insert(key(201), hashKey(key(201)), 201,
            [&](Table::Entry& v) { evicted.push_back(v.user.id); });
  EXPECT_EQ(evicted, (std::vector<uint64_t>{113}));
}

TEST(FlowTable, EmbryonicOrderSurvivesRelocation) {
  // A nearly full table moves entries between their buckets (cuckoo step); the embryonic list
  // must follow them, and no established flow is ever evicted for an embryonic one.
  auto r = Table::create(4096, {}, 64);
  ASSERT_TRUE(r.ok());
  auto t = std::move(r.value());
  uint32_t established = 0;
  for (uint32_t i = 0; i < 3900; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), 1, [](Table::Entry&) { FAIL(); });
    if (e == nullptr) continue;
    e->user.id = i;
    e->meta.tcpState = TcpState::Established;
    e->meta.pkts[1] = 1;
    t->noteProgress(*e);
    ++established;
  }
  const uint64_t relocatedBefore = t->counters.relocated;
  std::vector<uint64_t> evicted;
  std::vector<uint64_t> kept;
  for (uint32_t i = 10000; i < 10400; ++i) {
    Table::Entry* e = t->insert(key(i), hashKey(key(i)), 2, [&](Table::Entry& v) {
      EXPECT_TRUE(v.meta.embryonic) << v.user.id;
      evicted.push_back(v.user.id);
    });
    if (e == nullptr) continue;  // refused: its candidates were all established
    e->user.id = i;
    kept.push_back(i);
  }
  EXPECT_GT(t->counters.relocated, relocatedBefore);
  EXPECT_LE(t->embryonic(), 64u);
  // The list still counts exactly the embryonic entries, and every established one is there.
  uint32_t grown = 0, embryonic = 0;
  t->forEach([&](const Table::Entry& e) { (e.meta.embryonic ? embryonic : grown) += 1; });
  EXPECT_EQ(grown, established);
  EXPECT_EQ(embryonic, t->embryonic());
  EXPECT_EQ(evicted.size() + embryonic, kept.size());
  // The survivors are the newest: each was inserted after every flow the list's head evicted.
  EXPECT_GE(t->counters.embryonic_evicted, 1u);
  t->forEach([&](const Table::Entry& e) {
    if (e.meta.embryonic) EXPECT_GT(e.user.id, *std::min_element(evicted.begin(), evicted.end()));
  });
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
