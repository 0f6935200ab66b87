#include <gtest/gtest.h>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/seal.h"
#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt {
namespace {

TEST(Chain, AppendAndParseRoundTrip) {
  std::string out;
  ChainFields f{42, hashLine("previous")};
  ASSERT_TRUE(appendChained(R"({"timestamp":"x","event_type":"flow"})", f, out));
  ASSERT_EQ(out.back(), '\n');
  std::string_view line(out.data(), out.size() - 1);
  EXPECT_EQ(line.substr(0, 36), R"({"timestamp":"x","event_type":"flow")");
  auto parsed = parseChainFields(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->seq, 42u);
  EXPECT_EQ(parsed->prev, f.prev);
}

TEST(Chain, EmptyObjectTakesNoComma) {
  std::string out;
  ASSERT_TRUE(appendChained("{}", ChainFields{1, genesisHash("a")}, out));
  EXPECT_EQ(out.substr(0, 12), R"({"lbg_seq":1)");
  EXPECT_TRUE(parseChainFields(std::string_view(out).substr(0, out.size() - 1)));
}

TEST(Chain, RejectsNonObjects) {
  std::string out;
  EXPECT_FALSE(appendChained("[1]", ChainFields{}, out));
  EXPECT_FALSE(appendChained("", ChainFields{}, out));
  EXPECT_TRUE(out.empty());
}

TEST(Chain, DamagedTailIsNotAChainedRecord) {
  std::string out;
  appendChained(R"({"a":1})", ChainFields{7, genesisHash("a")}, out);
  std::string line = out.substr(0, out.size() - 1);
  for (size_t i = line.size() - 80; i < line.size(); ++i) {
    std::string bad = line;
    bad[i] = bad[i] == 'X' ? 'Y' : 'X';
    EXPECT_FALSE(parseChainFields(bad)) << i;
  }
  EXPECT_FALSE(parseChainFields(R"({"lbg_seq":07,"lbg_prev":"00"})"));
}

TEST(Chain, GenesisDependsOnAppliance) { EXPECT_NE(genesisHash("a"), genesisHash("b")); }

TEST(TimeFormat, RoundTripAndOffsets) {
  auto t = parseRfc3339("2026-11-23T12:00:00.123456Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatRfc3339(*t), "2026-11-23T12:00:00.123456Z");
  EXPECT_EQ(formatRfc3339(*t, 9 * 60), "2026-11-23T21:00:00.123456+09:00");
  EXPECT_EQ(parseRfc3339("2026-11-23T21:00:00.123456+09:00"), t);
  EXPECT_EQ(parseRfc3339("2026-11-23"), parseRfc3339("2026-11-23T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-11-23T25:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-11-23T12:00:00"));
  EXPECT_FALSE(parseRfc3339("garbage"));
  EXPECT_EQ(parseUtcOffset("-05:30"), -330);
  EXPECT_FALSE(parseUtcOffset("+9"));
}

Seal sampleSeal() {
  Seal s;
  s.appliance = "gw1";
  s.segment = 3;
  s.firstSeq = 10;
  s.lastSeq = 19;
  s.records = 10;
  s.bytes = 4000;
  s.chainPrev = hashLine("a");
  s.chainLast = hashLine("b");
  s.minNs = *parseRfc3339("2026-11-23T00:00:00Z");
  s.maxNs = *parseRfc3339("2026-11-23T00:59:00Z");
  s.sealedNs = s.maxNs;
  return s;
}

TEST(Seal, SignParseVerify) {
  auto key = SigningKey::fromSeed(std::string(32, 'k'));
  ASSERT_TRUE(key);
  Seal s = sampleSeal();
  std::string text = s.serialize(*key);
  auto parsed = Seal::parse(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->verify(key->publicKey()));
  EXPECT_EQ(parsed->records, 10u);
  EXPECT_EQ(parsed->keyId, key->keyId());

  auto other = SigningKey::fromSeed(std::string(32, 'o'));
  EXPECT_FALSE(parsed->verify(other->publicKey()));

  // Any change to a signed line breaks the signature (or the parse).
  std::string changed = text;
  changed.replace(changed.find("records=10"), 10, "records=11");
  changed.replace(changed.find("last_seq=19"), 11, "last_seq=20");
  auto p2 = Seal::parse(changed);
  ASSERT_TRUE(p2);
  EXPECT_FALSE(p2->verify(key->publicKey()));
}

TEST(Seal, ParseErrorsNameTheLine) {
  auto key = SigningKey::fromSeed(std::string(32, 'k'));
  Seal s = sampleSeal();
  std::string text = s.serialize(*key);
  std::string bad = text;
  bad.replace(bad.find("segment=3"), 9, "segment=x");
  auto p = Seal::parse(bad);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().line, 3);
  EXPECT_FALSE(Seal::parse(text.substr(0, text.size() / 2)));
  EXPECT_FALSE(Seal::parse(text + "extra\n"));
  EXPECT_FALSE(Seal::parse(""));
}

}  // namespace
}  // namespace lbg::telemetry::logfmt
