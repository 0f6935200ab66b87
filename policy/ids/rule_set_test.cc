#include "policy/ids/rule_set.h"

#include <gtest/gtest.h>

namespace lbg::ids {
namespace {

TEST(IdsRuleSet, LoadsGoodRulesAndReportsTheRest) {
  RuleSetBuilder b;
  b.addRules(
      "# a comment\n"
      "\n"
      "alert tcp any any -> any any (content:\"a\"; flowbits:set,x; sid:1;)\n"
      "alert tcp any any -> any any (ja3_hash; sid:2;)\n"
      "alert tcp any any -> any any (content:\"b\"; \\\n"
      "  flowbits:isset,x; flowbits:set,y; sid:3;)\n"
      "alert tcp any any -> any any (content:\"c\"; sid:1;)\n"
      "alert smtp any any -> any any (sid:5;)\r\n"
      "alert tcp any any -> any any (stream_size:server,>,3; sid:6;)\n"
      "alert tcp any any -> any any (stream_size:server,>,4; sid:7;)\n",
      "test.rules");
  auto set = std::move(b).build();
  const auto& report = set->report();
  EXPECT_EQ(report.loaded, 2u);
  ASSERT_EQ(report.rejections.size(), 5u);
  EXPECT_EQ(report.total(), 7u);
  EXPECT_EQ(report.rejections[0].file, "test.rules");
  EXPECT_EQ(report.rejections[0].line, 4);
  EXPECT_EQ(report.rejections[0].keyword, "ja3_hash");
  EXPECT_EQ(report.rejections[1].line, 7);  // after a continued rule, lines still count
  EXPECT_EQ(report.rejections[1].keyword, "sid");
  EXPECT_EQ(report.rejections[1].message, "duplicate sid 1");
  auto byKeyword = report.byKeyword();
  ASSERT_EQ(byKeyword.size(), 4u);
  EXPECT_EQ(byKeyword[0], (std::pair<std::string, size_t>{"stream_size", 2}));
  EXPECT_NE(report.format().find("rules: 7, loaded: 2 (28.6%), rejected: 5"), std::string::npos);
  // Flowbit names are numbered once across the set.
  ASSERT_EQ(set->rules().size(), 2u);
  EXPECT_EQ(set->flowbitNames(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(set->rules()[0].flowbits[0].ids, std::vector<uint16_t>{0});
  EXPECT_EQ(set->rules()[1].flowbits[0].ids, std::vector<uint16_t>{0});
  EXPECT_EQ(set->rules()[1].flowbits[1].ids, std::vector<uint16_t>{1});
}

TEST(IdsRuleSet, UnreadableFileIsAFileError) {
  RuleSetBuilder b;
  EXPECT_FALSE(b.addRuleFile("/nonexistent/x.rules"));
  auto set = std::move(b).build();
  EXPECT_EQ(set->report().fileErrors.size(), 1u);
}

}  // namespace
}  // namespace lbg::ids
