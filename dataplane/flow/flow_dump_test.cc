#include "dataplane/flow/flow_dump.h"

#include <gtest/gtest.h>

#include <set>

#include "dataplane/flow/flow_table.h"

namespace lbg::flow {
namespace {

struct Payload {
  uint64_t id;
};
using Table = FlowTable<Payload>;
using Dump = FlowDump<Table>;

FlowKey key(uint32_t i) {
  bool r;
  return makeKey(IpAddr::fromV4(0x0a000000 + i), uint16_t(10000 + i), IpAddr::fromV4(0x34600001),
                 443, 6, r);
}

std::unique_ptr<Table> filled(uint32_t capacity, uint32_t flows) {
  auto t = std::move(Table::create(capacity).value());
  for (uint32_t i = 0; i < flows; ++i) {
    const FlowKey k = key(i);
    t->insert(k, hashKey(k), 1, [](Table::Entry&) {})->user.id = i;
  }
  return t;
}

// Runs the worker's side until the listing completes; returns the number of steps it took.
size_t drive(Dump& d, const Table& t, uint32_t slotsPerStep) {
  size_t steps = 0;
  while (!d.done()) {
    d.step(t, slotsPerStep);
    ++steps;
  }
  return steps;
}

TEST(FlowDump, ListsEveryFlowOnceInSlotOrderLikeAFullWalk) {
  auto t = filled(4096, 1000);
  std::vector<uint64_t> full;
  t->forEach([&](const Table::Entry& e) { full.push_back(e.user.id); });
  ASSERT_EQ(full.size(), 1000u);

  Dump d;
  ASSERT_TRUE(d.request(5000));
  const size_t steps = drive(d, *t, 64);
  // Bounded: each step looked at 64 slots at most, so the 4096 slots took 64 steps.
  EXPECT_EQ(steps, 4096u / 64);
  ASSERT_EQ(d.count(), full.size());
  for (size_t i = 0; i < d.count(); ++i) EXPECT_EQ(d.rows()[i].user.id, full[i]);
  d.reset();
  EXPECT_FALSE(d.done());
}

TEST(FlowDump, StopsAtTheLimitWithoutWalkingFurther) {
  auto t = filled(4096, 1000);
  Dump d;
  ASSERT_TRUE(d.request(10));
  const size_t steps = drive(d, *t, 64);
  EXPECT_EQ(d.count(), 10u);
  EXPECT_LT(steps, 4096u / 64);
  std::vector<uint64_t> first;
  t->forEach([&](const Table::Entry& e) {
    if (first.size() < 10) first.push_back(e.user.id);
  });
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(d.rows()[i].user.id, first[i]);
}

TEST(FlowDump, IdleWorkerDoesNothingAndEmptyTableCompletes) {
  auto t = filled(64, 0);
  Dump d;
  EXPECT_FALSE(d.step(*t, 16));  // nothing asked
  EXPECT_FALSE(d.done());
  ASSERT_TRUE(d.request(100));
  EXPECT_EQ(drive(d, *t, 16), 64u / 16);
  EXPECT_EQ(d.count(), 0u);
}

TEST(FlowDump, UnfinishedRequestKeepsItsBuffer) {
  auto t = filled(4096, 100);
  Dump d;
  ASSERT_TRUE(d.request(100));
  d.step(*t, 8);  // the worker is part-way through
  // The service thread gave up waiting: a new request must not resize a buffer the worker owns.
  EXPECT_FALSE(d.request(10));
  drive(d, *t, 8);
  EXPECT_EQ(d.count(), 100u);
  d.reset();
  EXPECT_TRUE(d.request(10));
}

TEST(FlowDump, FlowsChangingBetweenStepsAreListedAtMostOnceEachWhenNotMoved) {
  auto t = filled(1024, 100);
  Dump d;
  ASSERT_TRUE(d.request(1000));
  d.step(*t, 512);
  // New flows arrive and some go while the listing is half done; the worker keeps running.
  for (uint32_t i = 100; i < 120; ++i) {
    const FlowKey k = key(i);
    t->insert(k, hashKey(k), 2, [](Table::Entry&) {})->user.id = i;
  }
  drive(d, *t, 512);
  std::set<uint64_t> ids;
  for (size_t i = 0; i < d.count(); ++i) EXPECT_TRUE(ids.insert(d.rows()[i].user.id).second);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_TRUE(ids.count(i)) << i;
}

TEST(FlowDump, DropDuplicatesKeepsTheFirstCopyOfAMovedEntry) {
  auto t = filled(64, 3);
  Dump d;
  ASSERT_TRUE(d.request(10));
  drive(d, *t, 64);
  ASSERT_EQ(d.count(), 3u);
  d.dropDuplicates();
  EXPECT_EQ(d.count(), 3u);  // nothing moved, nothing dropped
  // A key in two slots, as a walk sees an entry that insert() moved behind the cursor.
  auto twice = filled(64, 0);
  const FlowKey k0 = key(0), k1 = key(1);
  twice->insert(k0, hashKey(k0), 1, [](Table::Entry&) {})->user.id = 0;
  twice->insert(k1, hashKey(k1), 1, [](Table::Entry&) {})->user.id = 1;
  Dump e;
  ASSERT_TRUE(e.request(10));
  e.step(*twice, 64);
  ASSERT_TRUE(e.done());
  ASSERT_EQ(e.count(), 2u);
  // Insert the same key again (a table never does this for one key; a moved entry looks alike).
  twice->insert(k0, hashKey(k0), 2, [](Table::Entry&) {})->user.id = 7;
  e.reset();
  ASSERT_TRUE(e.request(10));
  drive(e, *twice, 64);
  ASSERT_EQ(e.count(), 3u);
  std::vector<uint64_t> before;
  for (size_t i = 0; i < e.count(); ++i) before.push_back(e.rows()[i].user.id);
  e.dropDuplicates();
  ASSERT_EQ(e.count(), 2u);
  // The first occurrence of key 0 in slot order survives, order is kept.
  std::vector<uint64_t> expect;
  bool seen0 = false;
  for (uint64_t id : before) {
    const bool isK0 = id == 0 || id == 7;
    if (isK0 && seen0) continue;
    seen0 |= isK0;
    expect.push_back(id);
  }
  for (size_t i = 0; i < e.count(); ++i) EXPECT_EQ(e.rows()[i].user.id, expect[i]);
}

}  // namespace
}  // namespace lbg::flow
