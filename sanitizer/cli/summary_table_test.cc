#include "sanitizer/cli/summary_table.h"

#include <gtest/gtest.h>

namespace lbg::sanitizer::cli {
namespace {

TEST(SummaryTable, WideCharactersCountTwoColumns) {
  EXPECT_EQ(displayWidth("abc"), 3u);
  EXPECT_EQ(displayWidth("判定"), 4u);
  EXPECT_EQ(displayWidth("無害化 sanitized"), 16u);
}

TEST(SummaryTable, ColumnsLineUp) {
  std::string t = renderTable({{"ファイル", "x"}, {"a.docx", "遮断"}});
  EXPECT_EQ(t,
            "+----------+------+\n"
            "| ファイル | x    |\n"
            "+----------+------+\n"
            "| a.docx   | 遮断 |\n"
            "+----------+------+\n");
}

}  // namespace
}  // namespace lbg::sanitizer::cli
