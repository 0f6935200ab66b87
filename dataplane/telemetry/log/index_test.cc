#include <gtest/gtest.h>

#include "dataplane/telemetry/log/record_fields.h"
#include "dataplane/telemetry/log/segment_index.h"
#include "dataplane/telemetry/log/test_support.h"

namespace lbg::telemetry::logfmt {
namespace {

bool parse(const std::string& line, RecordFields& f) {
  std::string padded = line + std::string(64, '\0');
  return parseRecordFields(std::string_view(padded.data(), line.size()), padded.size(), f);
}

TEST(RecordFields, ReadsTheSelectableFields) {
  RecordFields f;
  ASSERT_TRUE(parse(testing::flowRecord(3, testing::kBaseTime, 5, true), f));
  EXPECT_EQ(f.eventType, "flow");
  EXPECT_EQ(f.srcIp, "10.1.0.4");
  EXPECT_EQ(f.destIp, "52.96.3.1");
  EXPECT_EQ(f.destPort, 443);
  EXPECT_EQ(f.action, "deny");
  EXPECT_EQ(f.reason, "no-match");
  EXPECT_EQ(f.sni, "evil3.example");
  EXPECT_EQ(f.policyVersion, 3);
  EXPECT_EQ(f.service, "");
  EXPECT_EQ(f.timeNs, (testing::kBaseTime * 1000000 + 5) * 1000);
}

TEST(RecordFields, RejectsBrokenJson) {
  RecordFields f;
  EXPECT_FALSE(parse("{\"a\":", f));
  EXPECT_FALSE(parse("[1,2]", f));
  EXPECT_FALSE(parse("{\"a\":1} trailing", f));
  EXPECT_FALSE(parse("", f));
}

TEST(SegmentIndex, BloomHasNoFalseNegativesAndSerialises) {
  IndexBuilder b(4);
  RecordFields f;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(parse(testing::flowRecord(i, testing::kBaseTime + i, 0, i % 3 == 0), f));
    b.add(f);
  }
  SegmentIndex ix = b.finish();
  auto back = SegmentIndex::parse(ix.serialize());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->records, 500u);
  EXPECT_EQ(back->eventTypes.at("flow"), 500u);
  EXPECT_EQ(back->minNs, testing::kBaseTime * 1000000000LL);
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(parse(testing::flowRecord(i, testing::kBaseTime + i), f));
    EXPECT_TRUE(back->mayContain(TermKind::Src, f.srcIp));
  }
  EXPECT_TRUE(back->mayContain(TermKind::Sni, "evil0.example"));
  int falsePositives = 0;
  for (int i = 0; i < 1000; ++i)
    falsePositives += back->mayContain(TermKind::Src, "192.168.77." + std::to_string(i));
  EXPECT_LT(falsePositives, 50);
}

TEST(SegmentIndex, CorruptIndexIsAnError) {
  EXPECT_FALSE(SegmentIndex::parse(""));
  EXPECT_FALSE(SegmentIndex::parse("{\"format\":\"lbg-index/1\"}\n"));
  IndexBuilder b(1);
  std::string text = b.finish().serialize();
  EXPECT_FALSE(SegmentIndex::parse(text.substr(0, text.size() - 1)));
}

// A number too large for 64 bits parses as a float, which nlohmann's get<uint64_t>() cast with
// undefined behaviour (log_record_fuzz under UBSan, 2026-12-07): every field must be an integer in
// range, or the index is refused.
TEST(SegmentIndex, FieldsThatAreNotIntegersInRangeAreAnError) {
  const std::string head =
      "{\"format\":\"lbg-index/1\",\"segment\":1,\"records\":1,\"min_ns\":0,\"max_ns\":0,"
      "\"event_types\":{\"flow\":1},\"bloom_k\":7,\"bloom_bytes\":";
  const std::string bloom(8, '\x01');
  EXPECT_TRUE(SegmentIndex::parse(head + "8}\n" + bloom));
  for (const char* bad : {"33333333333333333333333333333333333333338", "8.0", "1e1", "-8", "\"8\""}) {
    EXPECT_FALSE(SegmentIndex::parse(head + bad + "}\n" + bloom)) << bad;
  }
  std::string types = head + "8}\n" + bloom;
  types.replace(types.find("\"flow\":1"), 8, "\"flow\":1e40");
  EXPECT_FALSE(SegmentIndex::parse(types));
  std::string k = head + "8}\n" + bloom;
  k.replace(k.find("\"bloom_k\":7"), 11, "\"bloom_k\":4294967303");  // 2^32 + 7: not a uint32
  EXPECT_FALSE(SegmentIndex::parse(k));
}

}  // namespace
}  // namespace lbg::telemetry::logfmt
