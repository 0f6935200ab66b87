#include "policy/fqdn.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::policy {
namespace {

TEST(NormalizeFqdn, LowercasesAndStripsOneTrailingDot) {
  EXPECT_EQ(normalizeFqdn("Outlook.Office365.COM"), "outlook.office365.com");
  EXPECT_EQ(normalizeFqdn("example.com."), "example.com");
  EXPECT_EQ(normalizeFqdn("example.com.."), std::nullopt);
  EXPECT_EQ(normalizeFqdn("_dmarc.example.com"), "_dmarc.example.com");
  EXPECT_EQ(normalizeFqdn("xn--eckwd4c7c.xn--zckzah"), "xn--eckwd4c7c.xn--zckzah");
  EXPECT_EQ(normalizeFqdn("localhost"), "localhost");
}

TEST(NormalizeFqdn, RejectsGarbage) {
  for (const char* bad : {"", ".", "..", ".example.com", "a..b", "exa mple.com", "ex*ample.com",
                          "*.example.com", "-a.example.com", "a-.example.com", "例え.jp", "a/b.com",
                          "1.2.3.4", "10.0.0.1.", "a.123"}) {
    EXPECT_EQ(normalizeFqdn(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(normalizeFqdn(std::string("exa\0mple.com", 12)), std::nullopt);
  EXPECT_EQ(normalizeFqdn(std::string("example.com\0", 12)), std::nullopt);
}

TEST(NormalizeFqdn, LabelAndNameLimits) {
  const std::string l63(63, 'a');
  const std::string l64(64, 'a');
  EXPECT_TRUE(normalizeFqdn(l63 + ".com"));
  EXPECT_FALSE(normalizeFqdn(l64 + ".com"));
  // 4 labels of 63 + 3 dots = 255 > 253; trim to exactly 253.
  std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  ASSERT_EQ(n253.size(), 253u);
  EXPECT_TRUE(normalizeFqdn(n253));
  EXPECT_TRUE(normalizeFqdn(n253 + "."));  // the trailing dot does not count
  EXPECT_FALSE(normalizeFqdn(n253 + "b"));
  EXPECT_FALSE(normalizeFqdn(n253 + "b."));
}

TEST(NormalizeFqdnInto, MatchesAllocatingForm) {
  char buf[kMaxFqdnLength];
  const size_t n = normalizeFqdnInto("WWW.Example.COM.", buf);
  EXPECT_EQ(std::string(buf, n), "www.example.com");
  EXPECT_EQ(normalizeFqdnInto("bad..name", buf), 0u);
}

TEST(NormalizeFqdnPattern, WildcardOnlyAsWholeFirstLabelAboveTwoLabels) {
  EXPECT_EQ(normalizeFqdnPattern("*.SharePoint.com."), "*.sharepoint.com");
  EXPECT_EQ(normalizeFqdnPattern("*.lg.jp"), "*.lg.jp");
  EXPECT_EQ(normalizeFqdnPattern("exact.example.com"), "exact.example.com");
  for (const char* bad :
       {"*", "*.", "*.com", "*.jp", "**.example.com", "a*.example.com", "*a.example.com",
        "a.*.example.com", "*.*.example.com", "*example.com", "*..example.com"}) {
    EXPECT_EQ(normalizeFqdnPattern(bad), std::nullopt) << bad;
  }
}

TEST(FqdnPatternMatches, ExactAndWildcardBoundaries) {
  EXPECT_TRUE(fqdnPatternMatches("example.com", "example.com"));
  EXPECT_FALSE(fqdnPatternMatches("example.com", "a.example.com"));
  EXPECT_TRUE(fqdnPatternMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(fqdnPatternMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(fqdnPatternMatches("*.example.com", "example.com"));
  EXPECT_FALSE(fqdnPatternMatches("*.example.com", "badexample.com"));
  EXPECT_FALSE(fqdnPatternMatches("*.example.com", "a.badexample.com"));
  EXPECT_FALSE(fqdnPatternMatches("*.example.com", ".example.com"));
  EXPECT_FALSE(fqdnPatternMatches("*.example.com", "example.com.evil"));
}

}  // namespace
}  // namespace lbg::policy
