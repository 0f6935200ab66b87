// Runs the real lbg-sanitize binary: exit codes, output names, the JSON report.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "sanitizer/testing/independent_scan.h"

namespace {

namespace fs = std::filesystem;

int runCli(const std::string& args) {
  std::string cmd = std::string(LBG_SANITIZE_PATH) + " " + args + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lbg-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string corpus(const std::string& rel) { return std::string(LBG_CORPUS_DIR) + "/office/" + rel; }
  fs::path dir_;
};

TEST_F(CliTest, AllSanitizedExitsZero) {
  std::string out = (dir_ / "out").string();
  std::string report = (dir_ / "report.json").string();
  EXPECT_EQ(runCli(corpus("oleform/oleform-PR314.docm") + " " + corpus("msodde/dde-in-csv.csv") + " --out " + out +
                   " --report " + report),
            0);
  EXPECT_TRUE(fs::exists(out + "/oleform-PR314.docx"));
  EXPECT_TRUE(fs::exists(out + "/dde-in-csv.csv"));
  EXPECT_TRUE(lbg::sanitizer::testing::scanOoxml(lbg::sanitizer::testing::readFile(out + "/oleform-PR314.docx")).empty());
  auto j = nlohmann::json::parse(lbg::sanitizer::testing::readFile(report));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["verdict"], "sanitized");
  EXPECT_EQ(j[0]["output_type"], "docx");
}

TEST_F(CliTest, AnyBlockedExitsOneAndWritesNothingForIt) {
  std::string out = (dir_ / "out").string();
  EXPECT_EQ(runCli(corpus("msodde/harmless-clean.docx") + " " + corpus("encrypted/encrypted.docx") + " --out " + out),
            1);
  EXPECT_TRUE(fs::exists(out + "/harmless-clean.docx"));
  EXPECT_FALSE(fs::exists(out + "/encrypted.docx"));
}

TEST_F(CliTest, TextModeWritesTxt) {
  std::string out = (dir_ / "out").string();
  EXPECT_EQ(runCli(corpus("msodde/harmless-clean.docx") + " --mode text --out " + out), 0);
  EXPECT_TRUE(fs::exists(out + "/harmless-clean.txt"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(runCli(""), 2);
  EXPECT_EQ(runCli(corpus("basic/text")), 2);  // no --out
  EXPECT_EQ(runCli(corpus("basic/text") + " --out " + dir_.string() + " --mode bogus"), 2);
  EXPECT_EQ(runCli("--no-such-option"), 2);
}

}  // namespace
