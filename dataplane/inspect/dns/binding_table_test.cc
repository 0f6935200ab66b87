#include "dataplane/inspect/dns/binding_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace lbg::inspect {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

IpAddr v4(uint32_t a) {
  return IpAddr::fromV4(a);
}

std::set<std::string> namesOf(const DnsBindingTable& t, const IpAddr& a, uint64_t now) {
  std::set<std::string> out;
  t.anyName(a, now, [&](std::string_view n) {
    out.insert(std::string(n));
    return false;
  });
  return out;
}

std::unique_ptr<DnsBindingTable> table(uint32_t capacity) {
  auto t = DnsBindingTable::create(capacity);
  EXPECT_TRUE(t.ok());
  return std::move(t.value());
}

TEST(DnsBindingTable, CreateChecksCapacity) {
  EXPECT_FALSE(DnsBindingTable::create(0).ok());
  EXPECT_FALSE(DnsBindingTable::create(DnsBindingTable::kMaxCapacity + 1).ok());
  auto t = DnsBindingTable::create(100);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value()->capacity(), 128u);
}

TEST(DnsBindingTable, BindAndExpire) {
  auto t = table(1024);
  const IpAddr a = v4(0xc0000201);
  EXPECT_TRUE(namesOf(*t, a, 0).empty());
  t->bind(a, "outlook.office365.com", 100 * kSec, 10 * kSec);
  EXPECT_EQ(namesOf(*t, a, 50 * kSec), std::set<std::string>{"outlook.office365.com"});
  EXPECT_TRUE(namesOf(*t, a, 100 * kSec).empty());  // expiry is exclusive
  EXPECT_TRUE(namesOf(*t, v4(0xc0000202), 50 * kSec).empty());
  EXPECT_EQ(t->counters().binds.load(), 1u);
  EXPECT_EQ(t->liveAddresses(50 * kSec), 1u);
  EXPECT_EQ(t->liveAddresses(100 * kSec), 0u);
}

TEST(DnsBindingTable, V4AndV6AreDistinct) {
  auto t = table(64);
  const IpAddr a4 = *IpAddr::parse("192.0.2.1");
  const IpAddr a6 = *IpAddr::parse("2001:db8::1");
  t->bind(a4, "four.example", 10 * kSec);
  t->bind(a6, "six.example", 10 * kSec);
  EXPECT_EQ(namesOf(*t, a4, 0), std::set<std::string>{"four.example"});
  EXPECT_EQ(namesOf(*t, a6, 0), std::set<std::string>{"six.example"});
}

TEST(DnsBindingTable, SeveralNamesPerAddressAndRefresh) {
  auto t = table(64);
  const IpAddr a = v4(0x0a000001);
  t->bind(a, "n1.example", 10 * kSec);
  t->bind(a, "n2.example", 20 * kSec);
  t->bind(a, "n3.example", 30 * kSec);
  t->bind(a, "n4.example", 40 * kSec);
  EXPECT_EQ(namesOf(*t, a, 0).size(), 4u);
  // Refresh keeps the later expiry and does not take another entry.
  t->bind(a, "n1.example", 50 * kSec);
  t->bind(a, "n1.example", 5 * kSec);
  EXPECT_EQ(t->counters().refreshed.load(), 2u);
  EXPECT_EQ(namesOf(*t, a, 45 * kSec), std::set<std::string>{"n1.example"});
  // A fifth name pushes out the one that expires first (n2).
  t->bind(a, "n5.example", 60 * kSec);
  EXPECT_EQ(t->counters().replaced.load(), 1u);
  EXPECT_EQ(namesOf(*t, a, 0),
            (std::set<std::string>{"n1.example", "n3.example", "n4.example", "n5.example"}));
  // With a clock, an expired entry is reused silently.
  t->bind(a, "n6.example", 70 * kSec, 35 * kSec);  // n3 expired at 30 s
  EXPECT_EQ(t->counters().replaced.load(), 1u);
  EXPECT_EQ(namesOf(*t, a, 35 * kSec),
            (std::set<std::string>{"n1.example", "n4.example", "n5.example", "n6.example"}));
}

TEST(DnsBindingTable, AnyNameStopsWhenAsked) {
  auto t = table(64);
  const IpAddr a = v4(0x0a000002);
  t->bind(a, "a.example", 10 * kSec);
  t->bind(a, "b.example", 10 * kSec);
  int calls = 0;
  EXPECT_TRUE(t->anyName(a, 0, [&](std::string_view) { return ++calls == 1; }));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_FALSE(t->anyName(a, 0, [&](std::string_view) { return ++calls, false; }));
  EXPECT_EQ(calls, 2);
}

TEST(DnsBindingTable, RejectsEmptyAndOverlongNames) {
  auto t = table(64);
  // bind() says whether it wrote (the HA sync counts what a standby could not take).
  EXPECT_FALSE(t->bind(v4(1), "", 10 * kSec));
  EXPECT_FALSE(t->bind(v4(1), std::string(254, 'a'), 10 * kSec));
  EXPECT_EQ(t->counters().rejected.load(), 2u);
  EXPECT_TRUE(t->bind(v4(1), std::string(253, 'a'), 10 * kSec));
  EXPECT_EQ(*namesOf(*t, v4(1), 0).begin(), std::string(253, 'a'));
  EXPECT_TRUE(t->bind(v4(1), std::string(253, 'a'), 20 * kSec));  // a refresh writes too
}

TEST(DnsBindingTable, WalkVisitsEveryLiveNameInSlices) {
  auto t = table(64);
  t->bind(v4(1), "a.example", 10 * kSec);
  t->bind(v4(1), "b.example", 20 * kSec);
  t->bind(v4(2), "c.example", 30 * kSec);
  t->bind(v4(3), "gone.example", 5 * kSec);
  std::set<std::string> seen;
  uint32_t cursor = 0, slices = 0;
  do {
    cursor = t->walk(cursor, 16, 6 * kSec, [&](const IpAddr& a, std::string_view n, uint64_t exp) {
      seen.insert(a.toString() + " " + std::string(n) + " " + std::to_string(exp / kSec));
    });
    ++slices;
  } while (cursor != 0);
  EXPECT_EQ(slices, 4u);  // 64 slots, 16 per slice
  EXPECT_EQ(seen, (std::set<std::string>{"0.0.0.1 a.example 10", "0.0.0.1 b.example 20",
                                          "0.0.0.2 c.example 30"}));  // the expired one is not
}

TEST(DnsBindingTable, FullTableEvictsAndCounts) {
  auto t = table(16);  // one probe window: the 17th address must evict
  for (uint32_t i = 0; i < 16; ++i) t->bind(v4(0x0a000000 + i), "x.example", (100 + i) * kSec);
  EXPECT_EQ(t->counters().evicted.load(), 0u);
  EXPECT_EQ(t->liveAddresses(0), 16u);
  t->bind(v4(0x0b000000), "new.example", 500 * kSec);
  EXPECT_EQ(t->counters().evicted.load(), 1u);
  // The victim is the entry that expired first.
  EXPECT_TRUE(namesOf(*t, v4(0x0a000000), 0).empty());
  EXPECT_EQ(namesOf(*t, v4(0x0b000000), 0), std::set<std::string>{"new.example"});
  EXPECT_EQ(namesOf(*t, v4(0x0a000001), 0), std::set<std::string>{"x.example"});
  // Once entries have expired, new addresses reuse their slots without counting evictions.
  for (uint32_t i = 0; i < 8; ++i) t->bind(v4(0x0c000000 + i), "y.example", 900 * kSec, 200 * kSec);
  EXPECT_EQ(t->counters().evicted.load(), 1u);
  EXPECT_EQ(t->liveAddresses(200 * kSec), 9u);
}

// Names carry their own checksum and their address's index, so a reader can tell a torn or
// misplaced name from a real one.
std::string makeName(uint32_t addrIndex, uint32_t len, char c) {
  return "a" + std::to_string(addrIndex) + "." + std::string(len, c) + ".k" + std::to_string(len) +
         c;
}
bool checkName(std::string_view n, uint32_t addrIndex) {
  const std::string head = "a" + std::to_string(addrIndex) + ".";
  if (n.substr(0, head.size()) != head) return false;
  n.remove_prefix(head.size());
  const size_t dot = n.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const char c = n[0];
  for (size_t i = 0; i < dot; ++i) {
    if (n[i] != c) return false;
  }
  return n.substr(dot) == ".k" + std::to_string(dot) + c;
}

TEST(DnsBindingTable, ConcurrentReadersSeeNoTornNames) {
  auto t = table(64);  // small: slots are evicted and reused under the readers' feet
  constexpr uint32_t kAddresses = 256;
  constexpr int kBindsPerWriter = 40000;
  std::atomic<int> writersLeft{2};
  std::atomic<uint64_t> bad{0}, seen{0};
  auto writer = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < kBindsPerWriter; ++i) {
      const uint32_t idx = rng() % kAddresses;
      const uint32_t len = 1 + rng() % 200;
      const char c = char('a' + rng() % 26);
      t->bind(v4(0x0a000000 + idx), makeName(idx, len, c), 1000 * kSec + rng() % 1000);
    }
    --writersLeft;
  };
  auto reader = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    while (writersLeft.load() > 0) {
      const uint32_t idx = rng() % kAddresses;
      t->anyName(v4(0x0a000000 + idx), 0, [&](std::string_view n) {
        ++seen;
        if (!checkName(n, idx)) ++bad;
        return false;
      });
    }
  };
  std::thread w1(writer, 1), w2(writer, 2), r1(reader, 3), r2(reader, 4);
  w1.join();
  w2.join();
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_GT(t->counters().evicted.load(), 0u);
}

}  // namespace
}  // namespace lbg::inspect
