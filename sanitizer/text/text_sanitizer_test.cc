#include "sanitizer/text/text_sanitizer.h"

#include <gtest/gtest.h>

namespace lbg::sanitizer::text {
namespace {

TEST(CsvSanitizer, FormulaCellsGetAnApostrophe) {
  FormatResult r = sanitize("name,value\n=1+2,+cmd|' /c calc'!A0\n@SUM(A1),-A1\n", "csv");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.output, "name,value\n'=1+2,'+cmd|' /c calc'!A0\n'@SUM(A1),'-A1\n");
  ASSERT_EQ(r.removed.size(), 1u);
  EXPECT_EQ(r.removed[0].count, 4u);
}

TEST(CsvSanitizer, NumbersAndQuotedCells) {
  FormatResult r = sanitize("-5,+81 3,\"=HYPERLINK(\"\"http://x\"\")\",\"a,b\"\r\n", "csv");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.output, "-5,+81 3,\"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\"\r\n");
}

TEST(CsvSanitizer, LeadingBlanksDoNotHideAFormula) {
  FormatResult r = sanitize(" \t=1+1\n", "csv");
  EXPECT_EQ(r.output, "' \t=1+1\n");
}

TEST(TextSanitizer, PlainTextUnchanged) {
  FormatResult r = sanitize("=not a formula in a text file\n", "text");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.output, "=not a formula in a text file\n");
  EXPECT_TRUE(r.removed.empty());
}

}  // namespace
}  // namespace lbg::sanitizer::text
