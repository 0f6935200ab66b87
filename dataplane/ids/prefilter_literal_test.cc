#include "dataplane/ids/prefilter_literal.h"

#include <gtest/gtest.h>

namespace lbg::ids {
namespace {

TEST(IdsPrefilterLiteral, KeptWholeUnlessItEndsInACommonWord) {
  EXPECT_EQ(PrefilterLiteral::choose("cmd.exe /c whoami"), "cmd.exe /c whoami");
  EXPECT_EQ(PrefilterLiteral::choose("|4d 5a|"), "|4d 5a|");
  EXPECT_EQ(PrefilterLiteral::choose("MZ"), "MZ");  // shorter than a tail
}

TEST(IdsPrefilterLiteral, CommonEndingIsCutToTheLongestPrefixWithoutOne) {
  // "...Information": "tion", "atio", ..., "nfor", " inf" are all inside " information ";
  // "g In" is not (it spans two words).
  EXPECT_EQ(PrefilterLiteral::choose("Update Billing Information"), "Update Billing In");
  // Case-insensitive, markup as much as words.
  EXPECT_EQ(PrefilterLiteral::choose(">AnonyMous SHell</DIV>"), ">AnonyMous SHell</D");
  EXPECT_EQ(PrefilterLiteral::choose(";if(ndsj===undefined){function"),
            ";if(ndsj===undefined){fun");
}

TEST(IdsPrefilterLiteral, NeverShorterThanTheMinimumNorLonger) {
  // Every prefix of 6 or more bytes ends in a common word's bytes: kept whole.
  EXPECT_EQ(PrefilterLiteral::choose("document"), "document");
  for (std::string_view lit : {"t';return", "window.location", "<title>Error", "Username"}) {
    const std::string_view p = PrefilterLiteral::choose(lit);
    EXPECT_GE(p.size(), std::min(lit.size(), PrefilterLiteral::kMinLength)) << lit;
    EXPECT_EQ(lit.substr(0, p.size()), p) << lit;
    if (p.size() < lit.size()) {
      EXPECT_FALSE(PrefilterLiteral::commonTail(p.substr(p.size() - PrefilterLiteral::kTail)))
          << lit;
    }
  }
}

TEST(IdsPrefilterLiteral, CommonTailsAreInsideOneWordOrAtItsEdge) {
  EXPECT_TRUE(PrefilterLiteral::commonTail("tion"));
  EXPECT_TRUE(PrefilterLiteral::commonTail("TION"));
  EXPECT_TRUE(PrefilterLiteral::commonTail(" the"));
  EXPECT_TRUE(PrefilterLiteral::commonTail("div>"));
  EXPECT_FALSE(PrefilterLiteral::commonTail("e th"));  // across two words
  EXPECT_FALSE(PrefilterLiteral::commonTail("|4d|"));
}

}  // namespace
}  // namespace lbg::ids
