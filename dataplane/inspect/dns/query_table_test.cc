#include "dataplane/inspect/dns/query_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::inspect {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

std::vector<uint8_t> wireName(const std::string& dotted) {
  std::vector<uint8_t> out;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(uint8_t(dot - start));
    out.insert(out.end(), dotted.begin() + long(start), dotted.begin() + long(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

// A query, or (answer) a response with one A record 192.0.2.1 for the question.
std::vector<uint8_t> message(uint16_t id, const std::string& qname, uint16_t qtype, bool answer,
                             bool tcp = false) {
  std::vector<uint8_t> m = {uint8_t(id >> 8), uint8_t(id), uint8_t(answer ? 0x81 : 0x01),
                            uint8_t(answer ? 0x80 : 0x00), 0, 1, 0, uint8_t(answer ? 1 : 0),
                            0, 0, 0, 0};
  const auto n = wireName(qname);
  m.insert(m.end(), n.begin(), n.end());
  m.insert(m.end(), {uint8_t(qtype >> 8), uint8_t(qtype), 0, 1});
  if (answer) m.insert(m.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 192, 0, 2, 1});
  if (tcp) {
    const size_t len = m.size();
    m.insert(m.begin(), {uint8_t(len >> 8), uint8_t(len)});
  }
  return m;
}

DnsEndpoints endpoints(uint16_t clientPort = 5353, uint8_t proto = 17) {
  DnsEndpoints ep{};
  ep.client = IpAddr::fromV4(uint32_t(0x0a01000a));    // 10.1.0.10
  ep.resolver = IpAddr::fromV4(uint32_t(0xc0000235));  // 192.0.2.53
  ep.clientPort = clientPort;
  ep.proto = proto;
  return ep;
}

std::unique_ptr<DnsQueryTable> table(uint32_t capacity = 64) {
  auto t = DnsQueryTable::create(capacity, 5 * kSec);
  EXPECT_TRUE(t);
  return std::move(t.value());
}

TEST(DnsQueryTable, AnswerToOutstandingQueryMatchesOnce) {
  auto t = table();
  const auto ep = endpoints();
  EXPECT_EQ(t->onQuery(ep, message(0x1234, "files.partner.example", 1, false), false, kSec),
            DnsQueryOutcome::Noted);
  EXPECT_EQ(t->outstanding(kSec), 1u);
  // The answer's question may differ in case (0x20 randomisation echoes the query's case).
  EXPECT_EQ(t->onAnswer(ep, message(0x1234, "Files.Partner.Example", 1, true), false, 2 * kSec),
            DnsQueryOutcome::Matched);
  EXPECT_EQ(t->outstanding(2 * kSec), 0u);
  EXPECT_EQ(t->onAnswer(ep, message(0x1234, "files.partner.example", 1, true), false, 2 * kSec),
            DnsQueryOutcome::Duplicate);
}

TEST(DnsQueryTable, UnsolicitedAnswerMatchesNothing) {
  auto t = table();
  EXPECT_EQ(t->onAnswer(endpoints(), message(7, "files.partner.example", 1, true), false, kSec),
            DnsQueryOutcome::Unsolicited);
}

TEST(DnsQueryTable, EveryPartOfTheTupleMustMatch) {
  auto t = table();
  const auto ep = endpoints();
  ASSERT_EQ(t->onQuery(ep, message(0x1234, "a.example", 1, false), false, kSec),
            DnsQueryOutcome::Noted);
  const auto ans = message(0x1234, "a.example", 1, true);
  // Transaction id.
  EXPECT_EQ(t->onAnswer(ep, message(0x1235, "a.example", 1, true), false, kSec),
            DnsQueryOutcome::Unsolicited);
  // Client port.
  EXPECT_EQ(t->onAnswer(endpoints(5354), ans, false, kSec), DnsQueryOutcome::Unsolicited);
  // Transport.
  EXPECT_EQ(t->onAnswer(endpoints(5353, 6), message(0x1234, "a.example", 1, true, true), true, kSec),
            DnsQueryOutcome::Unsolicited);
  // Resolver address.
  auto other = ep;
  other.resolver = IpAddr::fromV4(uint32_t(0xc0000236));
  EXPECT_EQ(t->onAnswer(other, ans, false, kSec), DnsQueryOutcome::Unsolicited);
  // Client address.
  other = ep;
  other.client = IpAddr::fromV4(uint32_t(0x0a01000b));
  EXPECT_EQ(t->onAnswer(other, ans, false, kSec), DnsQueryOutcome::Unsolicited);
  // Question name and type: mismatched, and the query is still waiting for its real answer.
  EXPECT_EQ(t->onAnswer(ep, message(0x1234, "b.example", 1, true), false, kSec),
            DnsQueryOutcome::Mismatched);
  EXPECT_EQ(t->onAnswer(ep, message(0x1234, "a.example", 28, true), false, kSec),
            DnsQueryOutcome::Mismatched);
  EXPECT_EQ(t->onAnswer(ep, message(0x1234, "a.example.x", 1, true), false, kSec),
            DnsQueryOutcome::Mismatched);
  EXPECT_EQ(t->onAnswer(ep, ans, false, kSec), DnsQueryOutcome::Matched);
}

TEST(DnsQueryTable, QueriesAndAnswersGoOneWayOnly) {
  auto t = table();
  const auto ep = endpoints();
  EXPECT_EQ(t->onQuery(ep, message(1, "a.example", 1, true), false, kSec),
            DnsQueryOutcome::WrongKind);
  EXPECT_EQ(t->onAnswer(ep, message(1, "a.example", 1, false), false, kSec),
            DnsQueryOutcome::WrongKind);
  const std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_EQ(t->onQuery(ep, junk, false, kSec), DnsQueryOutcome::Invalid);
  EXPECT_EQ(t->onAnswer(ep, junk, false, kSec), DnsQueryOutcome::Invalid);
}

TEST(DnsQueryTable, RetransmittedQueryIsReArmed) {
  auto t = table();
  const auto ep = endpoints();
  const auto q = message(9, "a.example", 1, false);
  ASSERT_EQ(t->onQuery(ep, q, false, kSec), DnsQueryOutcome::Noted);
  ASSERT_EQ(t->onAnswer(ep, message(9, "a.example", 1, true), false, kSec),
            DnsQueryOutcome::Matched);
  ASSERT_EQ(t->onQuery(ep, q, false, 2 * kSec), DnsQueryOutcome::Noted);
  EXPECT_EQ(t->onAnswer(ep, message(9, "a.example", 1, true), false, 2 * kSec),
            DnsQueryOutcome::Matched);
  EXPECT_EQ(t->outstanding(2 * kSec), 0u);
}

TEST(DnsQueryTable, QueriesExpire) {
  auto t = table();
  const auto ep = endpoints();
  ASSERT_EQ(t->onQuery(ep, message(9, "a.example", 1, false), false, kSec),
            DnsQueryOutcome::Noted);
  EXPECT_EQ(t->onAnswer(ep, message(9, "a.example", 1, true), false, 6 * kSec),
            DnsQueryOutcome::Unsolicited);
  EXPECT_EQ(t->outstanding(6 * kSec), 0u);
  // The expired slot is reused and counted.
  ASSERT_EQ(t->onQuery(ep, message(9, "a.example", 1, false), false, 7 * kSec),
            DnsQueryOutcome::Noted);
  EXPECT_EQ(t->expiredUnanswered(), 1u);
}

TEST(DnsQueryTable, OverTcp) {
  auto t = table();
  const auto ep = endpoints(40000, 6);
  ASSERT_EQ(t->onQuery(ep, message(3, "a.example", 1, false, true), true, kSec),
            DnsQueryOutcome::Noted);
  EXPECT_EQ(t->onAnswer(ep, message(3, "a.example", 1, true, true), true, kSec),
            DnsQueryOutcome::Matched);
}

TEST(DnsQueryTable, FullTableRefusesAndCountsNothingElse) {
  auto t = table(DnsQueryTable::kMinCapacity);  // one probe window: the whole table
  const auto ep = endpoints();
  uint32_t noted = 0, overflow = 0;
  for (uint16_t id = 0; id < 3 * DnsQueryTable::kMinCapacity; ++id) {
    const auto r = t->onQuery(ep, message(id, "a.example", 1, false), false, kSec);
    noted += r == DnsQueryOutcome::Noted;
    overflow += r == DnsQueryOutcome::Overflow;
  }
  EXPECT_EQ(noted, DnsQueryTable::kMinCapacity);
  EXPECT_EQ(overflow, 2 * DnsQueryTable::kMinCapacity);
  EXPECT_EQ(t->outstanding(kSec), DnsQueryTable::kMinCapacity);
  // An overflowed query's answer is unsolicited; a noted one still matches.
  EXPECT_EQ(t->onAnswer(ep, message(3 * DnsQueryTable::kMinCapacity - 1, "a.example", 1, true),
                        false, kSec),
            DnsQueryOutcome::Unsolicited);
  // Once the queries expire, their slots serve new ones.
  EXPECT_EQ(t->onQuery(ep, message(999, "a.example", 1, false), false, 10 * kSec),
            DnsQueryOutcome::Noted);
}

TEST(DnsQueryTable, CreateRejectsBadSizes) {
  EXPECT_FALSE(DnsQueryTable::create(1, kSec));
  EXPECT_FALSE(DnsQueryTable::create(DnsQueryTable::kMaxCapacity + 1, kSec));
  EXPECT_FALSE(DnsQueryTable::create(64, 0));
}

}  // namespace
}  // namespace lbg::inspect
