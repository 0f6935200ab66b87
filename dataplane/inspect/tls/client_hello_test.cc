#include "dataplane/inspect/tls/client_hello.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::inspect {
void PrintTo(TlsReason r, std::ostream* os) {
  *os << toString(r);
}
namespace {

using testing::Bytes;
using testing::HelloBuilder;

Status parse(const Bytes& b, TlsClientHello& h) {
  return parseClientHello({b.data(), b.size()}, h);
}

TlsReason invalidReason(const Bytes& b) {
  TlsClientHello h;
  const Status st = parse(b, h);
  EXPECT_EQ(st, Status::Invalid);
  return h.reason;
}

std::string sniOf(const TlsClientHello& h) {
  return std::string(h.sni, h.sniLen);
}

HelloBuilder typical() {
  HelloBuilder b;
  b.ext(0x0a0a, {})  // GREASE
      .sni("outlook.office365.com")
      .ext(23, {})
      .alpn({"h2", "http/1.1"})
      .versions({0x1a1a, 0x0304, 0x0303})
      .ext(0x1a1a, {0x00});  // GREASE again, another value
  return b;
}

TEST(TlsClientHello, ParsesTypicalHello) {
  TlsClientHello h;
  const Bytes s = testing::stream(typical());
  ASSERT_EQ(parse(s, h), Status::Done);
  EXPECT_TRUE(h.hasSni);
  EXPECT_EQ(sniOf(h), "outlook.office365.com");
  EXPECT_FALSE(h.ech);
  ASSERT_EQ(h.alpnCount, 2);
  EXPECT_EQ(std::string(h.alpn[0], h.alpnLen[0]), "h2");
  EXPECT_EQ(std::string(h.alpn[1], h.alpnLen[1]), "http/1.1");
  EXPECT_EQ(h.legacyVersion, 0x0303);
  EXPECT_TRUE(h.offersTls13);
  EXPECT_EQ(h.helloLength, s.size() - 9);
  EXPECT_EQ(h.reason, TlsReason::None);
}

TEST(TlsClientHello, EveryPrefixNeedsMore) {
  const Bytes s = testing::stream(typical());
  for (size_t n = 0; n < s.size(); ++n) {
    TlsClientHello h;
    ASSERT_EQ(parseClientHello({s.data(), n}, h), Status::NeedMore) << "prefix " << n;
  }
}

TEST(TlsClientHello, SameResultHoweverTheRecordsAreCut) {
  const Bytes body = testing::handshake(typical().body());
  for (size_t size : {1, 2, 3, 4, 5, 7, 64, 100, 255}) {
    const Bytes s = testing::records(body, size);
    for (size_t n = 0; n < s.size(); ++n) {
      TlsClientHello h;
      ASSERT_EQ(parseClientHello({s.data(), n}, h), Status::NeedMore) << size << "/" << n;
    }
    TlsClientHello h;
    ASSERT_EQ(parse(s, h), Status::Done) << "record size " << size;
    EXPECT_EQ(sniOf(h), "outlook.office365.com");
    EXPECT_EQ(h.alpnCount, 2);
    EXPECT_TRUE(h.offersTls13);
  }
}

TEST(TlsClientHello, RandomRecordBoundaries) {
  // Seeded, bounded: records of random sizes; the result never depends on where they fall.
  const Bytes hs = testing::handshake(typical().body());
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    Bytes s;
    for (size_t off = 0; off < hs.size();) {
      const size_t n = std::min<size_t>(1 + rng() % 300, hs.size() - off);
      testing::append(s,
                      testing::records(Bytes(hs.begin() + long(off), hs.begin() + long(off + n))));
      off += n;
    }
    for (int k = 0; k < 20; ++k) {
      const size_t cut = rng() % s.size();
      TlsClientHello h;
      ASSERT_EQ(parseClientHello({s.data(), cut}, h), Status::NeedMore) << iter << "/" << cut;
    }
    TlsClientHello h;
    ASSERT_EQ(parse(s, h), Status::Done) << iter;
    EXPECT_EQ(sniOf(h), "outlook.office365.com");
    EXPECT_EQ(h.alpnCount, 2);
  }
}

TEST(TlsClientHello, LaterRecordsAfterTheHelloAreNotLookedAt) {
  Bytes s = testing::stream(typical());
  const Bytes ccs = {20, 3, 3, 0, 1, 1};
  s.insert(s.end(), ccs.begin(), ccs.end());
  s.push_back(23);  // application data, partial
  TlsClientHello h;
  EXPECT_EQ(parse(s, h), Status::Done);
}

TEST(TlsClientHello, NoExtensionsAtAll) {
  HelloBuilder b;
  b.withExtensions = false;
  TlsClientHello h;
  ASSERT_EQ(parse(testing::stream(b), h), Status::Done);
  EXPECT_FALSE(h.hasSni);
  EXPECT_EQ(h.alpnCount, 0);
}

TEST(TlsClientHello, NoSniExtension) {
  HelloBuilder b;
  b.alpn({"h2"});
  TlsClientHello h;
  ASSERT_EQ(parse(testing::stream(b), h), Status::Done);
  EXPECT_FALSE(h.hasSni);
}

TEST(TlsClientHello, RecordLayerRefusals) {
  EXPECT_EQ(invalidReason({0x17}), TlsReason::NotHandshake);
  EXPECT_EQ(invalidReason({0x15, 3, 1}), TlsReason::NotHandshake);
  EXPECT_EQ(invalidReason({0x16, 2}), TlsReason::BadRecordVersion);
  EXPECT_EQ(invalidReason({0x16, 3, 9}), TlsReason::BadRecordVersion);
  EXPECT_EQ(invalidReason({0x16, 3, 1, 0x40, 0x01}), TlsReason::RecordTooLong);
  EXPECT_EQ(invalidReason({0x16, 3, 1, 0, 0}), TlsReason::EmptyRecord);
  EXPECT_EQ(invalidReason({0x16, 3, 1, 0, 4, 2}), TlsReason::NotClientHello);
  // Handshake length 65536: more than we will ever buffer.
  EXPECT_EQ(invalidReason({0x16, 3, 1, 0, 4, 1, 1, 0, 0}), TlsReason::HandshakeTooLong);
  // Early garbage is refused before any length's worth of waiting.
  EXPECT_EQ(invalidReason({'G', 'E', 'T'}), TlsReason::NotHandshake);
}

TEST(TlsClientHello, SslV2CompatibleHello) {
  // SSL 2.0 record: 2-byte length with the top bit set, then msg type 1 (CLIENT-HELLO).
  const Bytes v2 = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
  EXPECT_EQ(invalidReason(v2), TlsReason::SslV2Hello);
}

TEST(TlsClientHello, OtherRecordTypeInsideTheHello) {
  const Bytes hs = testing::handshake(typical().body());
  Bytes s = testing::records(Bytes(hs.begin(), hs.begin() + 50));
  s.insert(s.end(), {0x15, 3, 3, 0, 2, 1, 0});  // an alert between the fragments
  EXPECT_EQ(invalidReason(s), TlsReason::InterleavedRecord);
}

TEST(TlsClientHello, RecordLongerThanTheHello) {
  // The record declares 10 more bytes than the hello: a second message hides behind it.
  Bytes hs = testing::handshake(typical().body());
  Bytes s = testing::records(hs);
  const size_t len = hs.size() + 10;
  s[3] = uint8_t(len >> 8);
  s[4] = uint8_t(len);
  EXPECT_EQ(invalidReason(s), TlsReason::TrailingData);
  // Refused as soon as both lengths are known, without waiting for the bytes.
  EXPECT_EQ(invalidReason(Bytes(s.begin(), s.begin() + 9)), TlsReason::TrailingData);
  // Same when the excess sits in a later record.
  Bytes t = testing::records(Bytes(hs.begin(), hs.begin() + 20));
  Bytes rest = testing::records(Bytes(hs.begin() + 20, hs.end()));
  rest[4] = uint8_t(rest[4] + 1);
  t.insert(t.end(), rest.begin(), rest.begin() + 5);
  EXPECT_EQ(invalidReason(t), TlsReason::TrailingData);
}

TEST(TlsClientHello, HandshakeLengthShorterThanBody) {
  // Handshake length 10 short, record consistent with it: the body no longer adds up.
  Bytes body = typical().body();
  body.resize(body.size() - 10);
  EXPECT_EQ(invalidReason(testing::records(testing::handshake(body))), TlsReason::LengthMismatch);
}

TEST(TlsClientHello, LyingLengthsInTheBody) {
  const Bytes good = typical().body();
  const size_t sidAt = 2 + 32;
  const size_t csAt = sidAt + 1 + 32;
  const size_t compAt = csAt + 2 + 6;
  const size_t extAt = compAt + 2;
  auto withByte = [&](size_t at, uint8_t v) {
    Bytes b = good;
    b[at] = v;
    return testing::records(testing::handshake(b));
  };
  EXPECT_EQ(invalidReason(withByte(0, 2)), TlsReason::BadHelloVersion);
  EXPECT_EQ(invalidReason(withByte(sidAt, 33)), TlsReason::BadSessionId);
  EXPECT_EQ(invalidReason(withByte(csAt + 1, 7)), TlsReason::BadCipherSuites);
  EXPECT_EQ(invalidReason(withByte(csAt + 1, 0)), TlsReason::BadCipherSuites);
  EXPECT_EQ(invalidReason(withByte(compAt, 0)), TlsReason::BadCompression);
  EXPECT_EQ(invalidReason(withByte(extAt + 1, uint8_t(good[extAt + 1] + 1))),
            TlsReason::LengthMismatch);
  EXPECT_EQ(invalidReason(withByte(extAt + 1, uint8_t(good[extAt + 1] - 1))),
            TlsReason::LengthMismatch);
  // First extension (GREASE, empty) claims one byte more than is left in the block.
  Bytes b = good;
  const size_t left = b.size() - (extAt + 2) - 4;
  b[extAt + 2 + 2] = uint8_t((left + 1) >> 8);
  b[extAt + 2 + 3] = uint8_t(left + 1);
  EXPECT_EQ(invalidReason(testing::records(testing::handshake(b))), TlsReason::ExtensionOverrun);
}

TEST(TlsClientHello, LyingServerNameLengths) {
  // The list length and the entry length each disagree with their container.
  Bytes sn = testing::serverNameBody({{0, "a.example"}});
  Bytes listLong = sn;
  listLong[1] += 1;
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(0, listLong))),
            TlsReason::LengthMismatch);
  Bytes nameLong = sn;
  nameLong[4] += 1;
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(0, nameLong))),
            TlsReason::LengthMismatch);
  Bytes nameShort = sn;
  nameShort[4] -= 1;  // leaves one byte that is read as the next entry's type
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(0, nameShort))),
            TlsReason::LengthMismatch);
}

TEST(TlsClientHello, TwoServerNameExtensions) {
  HelloBuilder b;
  b.sni("allowed.example.jp").sni("evil.example");
  EXPECT_EQ(invalidReason(testing::stream(b)), TlsReason::DuplicateExtension);
}

TEST(TlsClientHello, TwoNamesInOneExtension) {
  HelloBuilder b;
  b.ext(0, testing::serverNameBody({{0, "allowed.example.jp"}, {0, "evil.example"}}));
  EXPECT_EQ(invalidReason(testing::stream(b)), TlsReason::MultipleServerNames);
  HelloBuilder c;
  c.ext(0, testing::serverNameBody({{0, "allowed.example.jp"}, {1, "evil.example"}}));
  EXPECT_EQ(invalidReason(testing::stream(c)), TlsReason::UnknownNameType);
}

TEST(TlsClientHello, EmptyServerNames) {
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().sni(""))), TlsReason::EmptyServerName);
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(0, {}))), TlsReason::EmptyServerName);
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(0, {0, 0}))),
            TlsReason::EmptyServerName);
}

TEST(TlsClientHello, ServerNamesThatAreNotHostNames) {
  const std::string label63(63, 'a');
  for (const std::string& bad :
       std::vector<std::string>{"exa mple.com", "a..b", "trailing.dot.", ".leading", "1.2.3.4",
                                "x.y.z.255", std::string("nul\0.com", 8), "caf\xc3\xa9.jp",
                                "a/b.com", "a:443.com", std::string(64, 'a') + ".com",
                                label63 + "." + label63 + "." + label63 + "." + label63 + ".com"}) {
    EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().sni(bad))), TlsReason::BadServerName)
        << bad;
  }
  for (const std::string& good :
       std::vector<std::string>{"_dmarc.example.com", "xn--eckwd4c7c.jp", "A.Example.COM",
                                "localhost", "1a.2b", label63 + ".com"}) {
    TlsClientHello h;
    ASSERT_EQ(parse(testing::stream(HelloBuilder().sni(good)), h), Status::Done) << good;
    EXPECT_EQ(sniOf(h), good);  // raw bytes, case kept
  }
}

TEST(TlsClientHello, EncryptedClientHello) {
  HelloBuilder b;
  b.sni("public.example.com").ext(0xfe0d, {0x00, 0x00, 0x01, 0x00, 0x01});
  TlsClientHello h;
  ASSERT_EQ(parse(testing::stream(b), h), Status::Done);
  EXPECT_TRUE(h.ech);
  EXPECT_EQ(sniOf(h), "public.example.com");
  HelloBuilder esni;
  esni.ext(0xffce, {0x13, 0x01});
  ASSERT_EQ(parse(testing::stream(esni), h), Status::Done);
  EXPECT_TRUE(h.ech);
  EXPECT_FALSE(h.hasSni);
}

TEST(TlsClientHello, GreaseIsSkippedButNotDuplicated) {
  HelloBuilder b;
  b.ext(0x2a2a, {}).sni("a.example").ext(0x2a2a, {0});
  EXPECT_EQ(invalidReason(testing::stream(b)), TlsReason::DuplicateExtension);
}

TEST(TlsClientHello, AlpnEdges) {
  TlsClientHello h;
  ASSERT_EQ(
      parse(testing::stream(HelloBuilder().alpn({"a", "b", "c", "d", "e", std::string(40, 'x')})),
            h),
      Status::Done);
  EXPECT_EQ(h.alpnCount, 4);
  EXPECT_EQ(std::string(h.alpn[3], h.alpnLen[3]), "d");
  ASSERT_EQ(parse(testing::stream(HelloBuilder().alpn({std::string(40, 'x')})), h), Status::Done);
  EXPECT_EQ(h.alpnLen[0], 32);  // truncated, not overflowing
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().alpn({"h2", ""}))), TlsReason::BadAlpn);
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(16, {0, 0}))), TlsReason::BadAlpn);
}

TEST(TlsClientHello, SupportedVersionsEdges) {
  TlsClientHello h;
  ASSERT_EQ(parse(testing::stream(HelloBuilder().versions({0x0303})), h), Status::Done);
  EXPECT_FALSE(h.offersTls13);
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(43, {3, 3, 4, 3}))),
            TlsReason::BadSupportedVersions);
  EXPECT_EQ(invalidReason(testing::stream(HelloBuilder().ext(43, {4, 3, 4}))),
            TlsReason::LengthMismatch);
}

TEST(TlsClientHello, TooManyExtensions) {
  HelloBuilder b;
  for (uint16_t t = 0; t < 200; ++t) b.ext(uint16_t(0x5000 + t), {});
  EXPECT_EQ(invalidReason(testing::stream(b)), TlsReason::TooManyExtensions);
}

TEST(TlsClientHello, TruncatedBodyIsNeverDoneWithAName) {
  // Cut the body anywhere and wrap it in honest outer lengths: it must be refused, except at the
  // one cut that is a valid extension-less hello (which then has no name).
  const Bytes body = typical().body();
  for (size_t cut = 0; cut < body.size(); ++cut) {
    const Bytes s = testing::records(testing::handshake(Bytes(body.begin(), body.begin() + cut)));
    TlsClientHello h;
    const Status st = parse(s, h);
    if (st == Status::Done) {
      EXPECT_FALSE(h.hasSni) << cut;
      EXPECT_EQ(cut, 2 + 32 + 1 + 32 + 2 + 6 + 1 + 1u);
    } else {
      EXPECT_EQ(st, Status::Invalid) << cut;
    }
  }
}

TEST(TlsClientHello, RandomMutationsNeverYieldAnotherName) {
  // Seeded, bounded: flip bytes of a valid stream; whatever comes out, a Done must carry a name
  // that is literally present in the mutated bytes (never one assembled from elsewhere).
  const Bytes good = testing::stream(typical());
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    Bytes m = good;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = uint8_t(rng());
    TlsClientHello h;
    const Status st = parse(m, h);
    if (st != Status::Done || !h.hasSni) continue;
    const std::string name = sniOf(h);
    const std::string raw(m.begin(), m.end());
    EXPECT_NE(raw.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace lbg::inspect
