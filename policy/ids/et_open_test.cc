// Loads the ET Open rule set in place (../shared/corpus/et-open/rules, never copied into the repo)
// and checks that at least 90% of its rules load; prints the rejected share by keyword.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "policy/ids/rule_set.h"

namespace lbg::ids {
namespace {

TEST(EtOpen, AtLeastNinetyPercentLoad) {
  const std::filesystem::path dir = LBG_ET_OPEN_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir << " is missing (the shared corpus)";
  RuleSetBuilder builder;
  ASSERT_TRUE(builder.addClassificationFile(dir / "classification.config"));
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".rules") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 50u);
  for (auto& f : files) ASSERT_TRUE(builder.addRuleFile(f));
  auto set = std::move(builder).build();
  const LoadReport& report = set->report();
  std::cout << report.format();
  EXPECT_TRUE(report.fileErrors.empty());
  EXPECT_EQ(report.total(), 24827u);  // the README's count: no rule is silently skipped
  EXPECT_GE(double(report.loaded), 0.9 * double(report.total()));
  EXPECT_EQ(set->rules().size(), report.loaded);
  // Every rejection says where it is.
  for (auto& r : report.rejections) {
    EXPECT_GT(r.line, 0);
    EXPECT_FALSE(r.keyword.empty());
  }
}

}  // namespace
}  // namespace lbg::ids
