#include "dataplane/inspect/dns/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::inspect {
void PrintTo(DnsReason r, std::ostream* os) {
  *os << toString(r);
}
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}
Bytes name(const std::string& dotted) {
  Bytes b;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    b.push_back(uint8_t(dot - start));
    b.insert(b.end(), dotted.begin() + long(start), dotted.begin() + long(dot));
    start = dot + 1;
  }
  b.push_back(0);
  return b;
}
Bytes ptr(uint16_t off) {
  return {uint8_t(0xc0 | off >> 8), uint8_t(off)};
}
Bytes v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return {a, b, c, d};
}

// Assembles a message; names are given in wire form so tests can compress or corrupt them.
struct Msg {
  uint16_t flags = 0x8180;  // response, RD, RA, NOERROR
  std::vector<Bytes> questions;
  struct Rr {
    Bytes owner;
    uint16_t type;
    uint32_t ttl;
    Bytes rdata;
    uint16_t klass = 1;
  };
  std::vector<Rr> answers;
  Bytes trailer;  // raw bytes appended after the answers (authority, garbage)

  Msg& q(Bytes n, uint16_t type = 1) {
    put16(n, type);
    put16(n, 1);
    questions.push_back(std::move(n));
    return *this;
  }
  Msg& rr(Bytes owner, uint16_t type, uint32_t ttl, Bytes rdata) {
    answers.push_back({std::move(owner), type, ttl, std::move(rdata)});
    return *this;
  }
  Bytes build() const {
    Bytes b;
    put16(b, 0x1234);
    put16(b, flags);
    put16(b, questions.size());
    put16(b, answers.size());
    put16(b, 0);
    put16(b, 0);
    for (const auto& q : questions) b.insert(b.end(), q.begin(), q.end());
    for (const auto& a : answers) {
      b.insert(b.end(), a.owner.begin(), a.owner.end());
      put16(b, a.type);
      put16(b, a.klass);
      put32(b, a.ttl);
      put16(b, a.rdata.size());
      b.insert(b.end(), a.rdata.begin(), a.rdata.end());
    }
    b.insert(b.end(), trailer.begin(), trailer.end());
    return b;
  }
};

struct Seen {
  std::string name;
  std::string addr;
  uint32_t ttl;
};

struct Result {
  Status status;
  DnsSummary summary;
  std::vector<Seen> bindings;
};

Result run(const Bytes& m, bool tcp = false) {
  Result r{};
  r.status = parseDnsResponse(
      {m.data(), m.size()}, tcp,
      [&](const DnsBinding& b) {
        r.bindings.push_back({std::string(b.name, b.nameLen), b.addr.toString(), b.ttl});
      },
      &r.summary);
  return r;
}

constexpr uint16_t kA = 1, kCname = 5, kAaaa = 28, kTxt = 16;
constexpr uint16_t kQname = 12;  // offset of the question name

TEST(DnsResponse, SimpleAnswer) {
  Msg m;
  m.q(name("WWW.Example.COM")).rr(ptr(kQname), kA, 300, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  ASSERT_EQ(r.status, Status::Done);
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(r.bindings[0].name, "www.example.com");
  EXPECT_EQ(r.bindings[0].addr, "192.0.2.1");
  EXPECT_EQ(r.bindings[0].ttl, 300u);
  EXPECT_EQ(r.summary.bindings, 1);
}

TEST(DnsResponse, CnameChainToAAndAaaa) {
  Msg m;
  m.q(name("outlook.office365.com"))
      .rr(ptr(kQname), kCname, 600, name("outlook.ha.office365.com"))
      .rr(name("outlook.ha.office365.com"), kCname, 100, name("edge.example.net"))
      .rr(name("EDGE.example.net"), kA, 50, v4(198, 51, 100, 7))
      .rr(name("edge.example.net"), kAaaa, 900,
          {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9});
  const Result r = run(m.build());
  ASSERT_EQ(r.status, Status::Done);
  ASSERT_EQ(r.bindings.size(), 2u);
  EXPECT_EQ(r.bindings[0].name, "outlook.office365.com");
  EXPECT_EQ(r.bindings[0].addr, "198.51.100.7");
  EXPECT_EQ(r.bindings[0].ttl, 50u);
  EXPECT_EQ(r.bindings[1].addr, "2001:db8::9");
  EXPECT_EQ(r.bindings[1].ttl, 100u);  // the chain's smallest TTL
}

TEST(DnsResponse, ChainInAnyOrder) {
  Msg m;
  m.q(name("a.example"))
      .rr(name("c.example"), kA, 60, v4(192, 0, 2, 3))
      .rr(name("b.example"), kCname, 60, name("c.example"))
      .rr(name("a.example"), kCname, 60, name("b.example"));
  const Result r = run(m.build());
  ASSERT_EQ(r.status, Status::Done);
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(r.bindings[0].name, "a.example");
}

TEST(DnsResponse, UnrelatedRecordsBindNothing) {
  Msg m;
  m.q(name("allowed.example.jp"))
      .rr(name("bank.example"), kA, 60, v4(203, 0, 113, 9))               // not on the chain
      .rr(name("other.example"), kCname, 60, name("allowed.example.jp"))  // points in, not out
      .rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  ASSERT_EQ(r.status, Status::Done);
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(r.bindings[0].addr, "192.0.2.1");
}

TEST(DnsResponse, OtherClassesAndTypesIgnored) {
  Msg m;
  m.q(name("a.example")).rr(ptr(kQname), kTxt, 60, {3, 'a', 'b', 'c'});
  m.answers.push_back({ptr(kQname), kA, 60, v4(192, 0, 2, 1), 3 /* CH */});
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_TRUE(r.bindings.empty());
}

TEST(DnsResponse, NotResponsesAreNotMine) {
  Msg m;
  m.flags = 0x0100;  // query
  m.q(name("a.example"));
  EXPECT_EQ(run(m.build()).status, Status::NotMine);
  m.flags = 0x8000 | (5 << 11);  // UPDATE
  EXPECT_EQ(run(m.build()).status, Status::NotMine);
}

TEST(DnsResponse, ErrorRcodeBindsNothing) {
  Msg m;
  m.flags = 0x8183;  // NXDOMAIN
  m.q(name("a.example")).rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_TRUE(r.bindings.empty());
  EXPECT_EQ(r.summary.rcode, 3);
}

TEST(DnsResponse, ExactlyOneQuestion) {
  Msg two;
  two.q(name("a.example")).q(name("b.example")).rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  Result r = run(two.build());
  EXPECT_EQ(r.status, Status::Invalid);
  EXPECT_EQ(r.summary.reason, DnsReason::QuestionCount);
  EXPECT_TRUE(r.bindings.empty());
  Msg none;
  r = run(none.build());
  EXPECT_EQ(r.summary.reason, DnsReason::QuestionCount);
}

TEST(DnsResponse, QuestionNameNotAHostName) {
  Msg m;
  m.q(name("bad name.example")).rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.summary.reason, DnsReason::BadQuestionName);
  EXPECT_TRUE(r.bindings.empty());
  Msg root;
  root.q(name("")).rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  EXPECT_TRUE(run(root.build()).bindings.empty());
}

TEST(DnsResponse, CompressionPointerAbuse) {
  auto reasonWithOwner = [](Bytes owner) {
    Msg m;
    m.q(name("a.example")).rr(std::move(owner), kA, 60, v4(192, 0, 2, 1));
    const Result r = run(m.build());
    EXPECT_EQ(r.status, Status::Invalid);
    EXPECT_TRUE(r.bindings.empty());
    return r.summary.reason;
  };
  const uint16_t answerAt = 12 + 11 + 4;  // header + "a.example" + qtype/qclass
  EXPECT_EQ(reasonWithOwner(ptr(answerAt)), DnsReason::BadPointer);      // itself
  EXPECT_EQ(reasonWithOwner(ptr(answerAt + 4)), DnsReason::BadPointer);  // forward
  EXPECT_EQ(reasonWithOwner(ptr(0x3fff)), DnsReason::BadPointer);        // past the end
  EXPECT_EQ(reasonWithOwner(ptr(2)), DnsReason::BadPointer);             // into the header
  // "x" then a pointer back to the start of this very name: a loop through a label.
  Bytes loop = {1, 'x'};
  const Bytes back = ptr(answerAt);
  loop.insert(loop.end(), back.begin(), back.end());
  EXPECT_EQ(reasonWithOwner(loop), DnsReason::BadPointer);
  EXPECT_EQ(reasonWithOwner({0x40, 0x00}), DnsReason::BadName);  // extended label type
  EXPECT_EQ(reasonWithOwner({0x80, 0x00}), DnsReason::BadName);
}

TEST(DnsResponse, PointerHopLimit) {
  // Segments in a TXT record: seg0 = "a" root, segK = "a" + pointer to segK-1. Reading segN takes
  // N + 1 hops from the owner pointer.
  for (int segments : {20, 40}) {
    Msg m;
    m.q(name("q.example"));
    const uint16_t rdataAt = 12 + 11 + 4 + 2 + 10;
    Bytes rdata;
    std::vector<uint16_t> at;
    for (int k = 0; k < segments; ++k) {
      at.push_back(uint16_t(rdataAt + rdata.size()));
      rdata.push_back(1);
      rdata.push_back('a');
      if (k == 0) {
        rdata.push_back(0);
      } else {
        const Bytes p = ptr(at[k - 1]);
        rdata.insert(rdata.end(), p.begin(), p.end());
      }
    }
    m.rr(ptr(kQname), kTxt, 60, rdata).rr(ptr(at.back()), kA, 60, v4(192, 0, 2, 1));
    const Result r = run(m.build());
    if (segments < int(kMaxDnsPointerHops)) {
      EXPECT_EQ(r.status, Status::Done);
      EXPECT_TRUE(r.bindings.empty());  // "a.a.a…" is not on the chain
    } else {
      EXPECT_EQ(r.status, Status::Invalid);
      EXPECT_EQ(r.summary.reason, DnsReason::TooManyHops);
    }
  }
}

TEST(DnsResponse, NameTooLong) {
  std::string longName;
  for (int i = 0; i < 5; ++i) longName += std::string(60, 'a' + i) + ".";
  longName += "example";  // 5 × 61 + 8 > 255
  Msg m;
  m.q(name(longName));
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Invalid);
  EXPECT_EQ(r.summary.reason, DnsReason::BadName);
}

TEST(DnsResponse, BadRdata) {
  Msg a;
  a.q(name("a.example")).rr(ptr(kQname), kA, 60, {192, 0, 2, 1, 0});
  EXPECT_EQ(run(a.build()).summary.reason, DnsReason::BadRdata);
  Msg aaaa;
  aaaa.q(name("a.example")).rr(ptr(kQname), kAaaa, 60, v4(192, 0, 2, 1));
  EXPECT_EQ(run(aaaa.build()).summary.reason, DnsReason::BadRdata);
  // CNAME whose name runs past its RDLENGTH.
  Msg c;
  Bytes target = name("b.example");
  c.q(name("a.example")).rr(ptr(kQname), kCname, 60, target);
  Bytes wire = c.build();
  wire[12 + 11 + 4 + 2 + 8 + 1] -= 2;  // RDLENGTH low byte
  EXPECT_EQ(run(wire).status, Status::Invalid);
  // CNAME with bytes after its name inside RDATA.
  Msg d;
  Bytes padded = name("b.example");
  padded.push_back(0);
  d.q(name("a.example")).rr(ptr(kQname), kCname, 60, padded);
  EXPECT_EQ(run(d.build()).summary.reason, DnsReason::BadRdata);
}

TEST(DnsResponse, CnameConflicts) {
  Msg two;
  two.q(name("a.example"))
      .rr(ptr(kQname), kCname, 60, name("b.example"))
      .rr(ptr(kQname), kCname, 60, name("c.example"))
      .rr(name("c.example"), kA, 60, v4(192, 0, 2, 1));
  Result r = run(two.build());
  EXPECT_EQ(r.summary.reason, DnsReason::CnameConflict);
  EXPECT_TRUE(r.bindings.empty());
  Msg loop;
  loop.q(name("a.example"))
      .rr(ptr(kQname), kCname, 60, name("b.example"))
      .rr(name("b.example"), kCname, 60, name("A.example"));
  EXPECT_EQ(run(loop.build()).summary.reason, DnsReason::CnameConflict);
  Msg both;
  both.q(name("a.example"))
      .rr(ptr(kQname), kCname, 60, name("b.example"))
      .rr(ptr(kQname), kA, 60, v4(203, 0, 113, 1))
      .rr(name("b.example"), kA, 60, v4(192, 0, 2, 1));
  r = run(both.build());
  EXPECT_EQ(r.summary.reason, DnsReason::CnameConflict);
  EXPECT_TRUE(r.bindings.empty());
}

TEST(DnsResponse, ChainDepthIsBounded) {
  Msg m;
  m.q(name("n0.example"));
  const int depth = int(kMaxDnsChain) + 2;
  for (int i = 0; i < depth; ++i) {
    m.rr(name("n" + std::to_string(i) + ".example"), kCname, 60,
         name("n" + std::to_string(i + 1) + ".example"));
  }
  m.rr(name("n" + std::to_string(depth) + ".example"), kA, 60, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_TRUE(r.bindings.empty());
}

TEST(DnsResponse, TtlWithTopBitIsZero) {
  Msg m;
  m.q(name("a.example")).rr(ptr(kQname), kA, 0x80000010u, v4(192, 0, 2, 1));
  const Result r = run(m.build());
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(r.bindings[0].ttl, 0u);
}

TEST(DnsResponse, EveryTruncationIsInvalidAndBindsNothing) {
  Msg m;
  m.q(name("outlook.office365.com"))
      .rr(ptr(kQname), kCname, 600, name("outlook.ha.office365.com"))
      .rr(name("outlook.ha.office365.com"), kA, 50, v4(198, 51, 100, 7));
  const Bytes full = m.build();
  ASSERT_EQ(run(full).bindings.size(), 1u);
  for (size_t n = 0; n < full.size(); ++n) {
    const Result r = run(Bytes(full.begin(), full.begin() + long(n)));
    EXPECT_EQ(r.status, Status::Invalid) << n;
    EXPECT_TRUE(r.bindings.empty()) << n;
  }
}

TEST(DnsResponse, TcpFraming) {
  Msg m;
  m.q(name("a.example")).rr(ptr(kQname), kA, 60, v4(192, 0, 2, 1));
  const Bytes msg = m.build();
  Bytes framed;
  put16(framed, msg.size());
  framed.insert(framed.end(), msg.begin(), msg.end());
  for (size_t n = 0; n < framed.size(); ++n) {
    EXPECT_EQ(run(Bytes(framed.begin(), framed.begin() + long(n)), true).status, Status::NeedMore)
        << n;
  }
  Bytes two = framed;
  two.insert(two.end(), framed.begin(), framed.begin() + 5);  // the next message, partial
  const Result r = run(two, true);
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(run({0, 5, 1, 2, 3, 4, 5}, true).summary.reason, DnsReason::BadTcpLength);
}

TEST(DnsResponse, AnswersBeyondTheCapAreNotConsidered) {
  Msg m;
  m.q(name("a.example"));
  for (uint32_t i = 0; i < kMaxDnsAnswers + 10; ++i) {
    m.rr(ptr(kQname), kA, 60, v4(10, 0, uint8_t(i >> 8), uint8_t(i)));
  }
  const Result r = run(m.build());
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.bindings.size(), kMaxDnsAnswers);
}

}  // namespace
}  // namespace lbg::inspect

namespace lbg::inspect {
namespace {

std::string questionOf(const Bytes& wireName) {
  Msg m;
  m.flags = 0x0100;  // a query
  m.q(wireName);
  DnsQuestion q;
  const Bytes b = m.build();
  if (parseDnsQuestion(b, false, q) != Status::Done) return "<invalid>";
  char out[256];
  return std::string(out, questionName(q, out));
}

TEST(DnsQuestionName, DottedLowercaseWithoutRoot) {
  EXPECT_EQ(questionOf(name("Outlook.Office365.COM")), "outlook.office365.com");
  EXPECT_EQ(questionOf(name("a")), "a");
  EXPECT_EQ(questionOf(Bytes{0}), "");  // the root
  // One label holding a dot prints as a three-label name but is not one: refused (empty).
  Bytes dotted{13};
  for (char c : std::string("files.partner")) dotted.push_back(uint8_t(c));
  dotted.push_back(0);
  EXPECT_EQ(questionOf(dotted), "");
  // The longest name (253 characters) fits the buffer.
  std::string longest;
  for (int i = 0; i < 4; ++i) longest += std::string(i < 3 ? 63 : 61, 'a' + i) + (i < 3 ? "." : "");
  EXPECT_EQ(longest.size(), 253u);
  EXPECT_EQ(questionOf(name(longest)), longest);
}

TEST(DnsQuestionName, AsSentKeepsTheLettersCase) {
  Msg m;
  m.flags = 0x0100;
  m.q(name("Outlook.Office365.COM"));
  const Bytes b = m.build();
  DnsQuestion q;
  ASSERT_EQ(parseDnsQuestion(b, false, q), Status::Done);
  char out[256];
  EXPECT_EQ(std::string(out, questionNameAsSent(b, false, q, out)), "Outlook.Office365.COM");
  // Over TCP, after the two length bytes.
  Bytes framed{uint8_t(b.size() >> 8), uint8_t(b.size())};
  framed.insert(framed.end(), b.begin(), b.end());
  ASSERT_EQ(parseDnsQuestion(framed, true, q), Status::Done);
  EXPECT_EQ(std::string(out, questionNameAsSent(framed, true, q, out)), "Outlook.Office365.COM");
  // A label holding a dot is refused here too.
  Bytes dotted{3, 'a', '.', 'b', 0};
  Msg d;
  d.flags = 0x0100;
  d.q(dotted);
  const Bytes db = d.build();
  ASSERT_EQ(parseDnsQuestion(db, false, q), Status::Done);
  EXPECT_EQ(questionNameAsSent(db, false, q, out), 0u);
}

}  // namespace
}  // namespace lbg::inspect
