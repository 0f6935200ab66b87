// LZH archives built in the test (levels 0, 1, 2; stored and real -lh5- data) through the engine:
// members sanitized one by one, a ZIP written, the same limits as ZIP, and every malformed or
// hostile variant blocked.
#include "sanitizer/archive/lzh_archive.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sanitizer/archive/lzh_test_util.h"
#include "sanitizer/core/engine.h"
#include "sanitizer/testing/independent_scan.h"

namespace lbg::sanitizer {
namespace {

using testing::LzhMember;
using testing::makeLzh;

std::unique_ptr<Engine> engine(EngineConfig config = {}) {
  auto created = Engine::create(config);
  return created.ok() ? std::move(created).value() : nullptr;
}

bool reported(const Report& r, const std::string& kind, const std::string& location = "") {
  return std::any_of(r.removed.begin(), r.removed.end(), [&](const RemovedItem& i) {
    return i.kind == kind && (location.empty() || i.location == location);
  });
}

TEST(LzhArchive, EveryHeaderLevelMembersSanitizedWrittenAsZip) {
  std::string docm = testing::readFile(std::string(LBG_CORPUS_DIR) + "/office/oleform/oleform-PR314.docm");
  ASSERT_FALSE(docm.empty());
  // "報告書.txt" in Shift_JIS, as Japanese LHA tools write names.
  const std::string sjisName = "\x95\xf1\x8d\x90\x8f\x91.txt";
  for (int level : {0, 1, 2}) {
    std::string lzh = makeLzh({
        {"docs\\report.docm", docm, "-lh0-", "", level},
        {sjisName, "hello\n", "-lh0-", "", level},
        {"tool.exe", std::string("MZ") + std::string(64, '\0'), "-lh0-", "", level},
        {"data.csv", "a,=1+2\n", "-lh5-", testing::lh5Text("a,=1+2\n"), level},
    });
    Outcome out = engine()->sanitize(lzh, "bundle.lzh", Mode::Rebuild);
    ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << "level " << level << ": " << out.report.reason;
    EXPECT_EQ(out.report.detectedType, "lzh");
    EXPECT_EQ(out.report.outputType, "zip");
    EXPECT_EQ(testing::zipNames(out.output),
              (std::vector<std::string>{"docs/report.docx", "報告書.txt", "data.csv"}))
        << "level " << level;
    EXPECT_TRUE(testing::scanOoxml(testing::zipRead(out.output, "docs/report.docx")).empty());
    EXPECT_EQ(testing::zipRead(out.output, "報告書.txt"), "hello\n");
    EXPECT_EQ(testing::zipRead(out.output, "data.csv"), "a,'=1+2\n");
    EXPECT_TRUE(reported(out.report, "blocked-member:type-blocked:exe", "tool.exe"));
    EXPECT_TRUE(reported(out.report, "archive-format"));
    bool vba = std::any_of(out.report.removed.begin(), out.report.removed.end(), [](const RemovedItem& i) {
      return i.kind == "vbaProject" && i.location.rfind("docs/report.docm/", 0) == 0;
    });
    EXPECT_TRUE(vba) << "level " << level;
  }
}

TEST(LzhArchive, CompressionBombAndSizeLimitsBlock) {
  // 2 blocks, 14 bytes of -lh5- data, 33.5 MB of spaces.
  std::string plain;
  std::string packed = testing::lh5Spaces(2, &plain);
  ASSERT_LT(packed.size(), 20u);
  std::string bomb = makeLzh({{"spaces.txt", plain, "-lh5-", packed, 2}});
  Outcome out = engine()->sanitize(bomb, "bomb.lzh", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "limit:lzh-ratio");
  // With the ratio allowed, the expansion budget stops it.
  EngineConfig small;
  small.maxExpandedBytes = 1 << 20;
  small.maxCompressionRatio = 1e9;
  EXPECT_EQ(engine(small)->sanitize(bomb, "bomb.lzh", Mode::Rebuild).report.reason, "limit:expanded-size");
  // A header that understates the length (10 bytes for a 33 MB stream): the decoder stops at the
  // declared length, so nothing past it is ever produced.
  std::string liar = makeLzh({{"spaces.txt", std::string(10, ' '), "-lh5-", packed, 1}});
  Outcome cut = engine()->sanitize(liar, "liar.lzh", Mode::Rebuild);
  ASSERT_EQ(cut.report.verdict, Verdict::Sanitized) << cut.report.reason;
  EXPECT_EQ(testing::zipRead(cut.output, "spaces.txt"), std::string(10, ' '));
  // One that overstates it (the stored data is shorter than declared) is malformed.
  std::string over = makeLzh({{"a.txt", "abc\n"}});
  over[11] = 9;  // original size 4 -> 9
  over[1] = static_cast<char>(over[1] + 5);  // keep the level-0 header checksum valid
  EXPECT_EQ(engine()->sanitize(over, "over.lzh", Mode::Rebuild).report.reason, "parse-error");
}

TEST(LzhArchive, MemberCountAndDepthLimitsBlock) {
  std::vector<LzhMember> many;
  for (int i = 0; i < 12; ++i) many.push_back({"f" + std::to_string(i) + ".txt", "x\n"});
  EngineConfig config;
  config.maxArchiveMembers = 10;
  Outcome out = engine(config)->sanitize(makeLzh(many), "many.lzh", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_TRUE(out.report.reason == "limit:archive-members" || out.report.reason == "limit:zip-members")
      << out.report.reason;
  // LZH in LZH in LZH ... beyond the depth limit.
  std::string inner = makeLzh({{"a.txt", "x\n"}});
  for (int i = 0; i < 4; ++i) inner = makeLzh({{"level" + std::to_string(i) + ".lzh", inner}});
  EXPECT_EQ(engine()->sanitize(inner, "deep.lzh", Mode::Rebuild).report.reason, "limit:archive-depth");
  std::string shallow = makeLzh({{"in.lzh", makeLzh({{"a.txt", "x\n"}})}});
  Outcome ok = engine()->sanitize(shallow, "ok.lzh", Mode::Rebuild);
  ASSERT_EQ(ok.report.verdict, Verdict::Sanitized) << ok.report.reason;
  EXPECT_EQ(testing::zipNames(ok.output), std::vector<std::string>{"in.zip"});
}

TEST(LzhArchive, UnsupportedMethodsBlock) {
  for (const char* method : {"-pm2-", "-lh9-", "-lhx-", "-lk7-"}) {
    std::string lzh = makeLzh({{"a.txt", "x\n", method, "x\n"}});
    Outcome out = engine()->sanitize(lzh, "m.lzh", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << method;
    // lhasa itself refuses some headers it has no decoder for (parse-error).
    EXPECT_TRUE(out.report.reason == "unsupported:lzh-method" || out.report.reason == "parse-error") << method;
  }
  std::string pmarc = makeLzh({{"a.txt", "x\n", "-pm2-", "x\n"}});
  EXPECT_EQ(engine()->sanitize(pmarc, "p.lzh", Mode::Rebuild).report.reason, "unsupported:lzh-method");
}

TEST(LzhArchive, MalformedArchivesBlockNeverCrash) {
  std::string good = makeLzh({{"a.txt", std::string(3000, 'q') + "\n"}, {"b.txt", "b\n", "-lh5-", testing::lh5Text("b\n"), 1}});
  ASSERT_EQ(engine()->sanitize(good, "g.lzh", Mode::Rebuild).report.verdict, Verdict::Sanitized);
  for (size_t cut = 7; cut + 1 < good.size(); cut += 13) {
    Outcome out = engine()->sanitize(good.substr(0, cut), "t.lzh", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << cut;
    EXPECT_TRUE(out.output.empty());
  }
  // Stored data changed after the CRC was computed.
  std::string crc = good;
  crc[40] = static_cast<char>(crc[40] ^ 1);
  EXPECT_EQ(engine()->sanitize(crc, "crc.lzh", Mode::Rebuild).report.reason, "parse-error");
  // Header checksum broken (level 0/1).
  std::string sum = good;
  sum[1] = static_cast<char>(sum[1] + 1);
  EXPECT_EQ(engine()->sanitize(sum, "sum.lzh", Mode::Rebuild).report.verdict, Verdict::Blocked);
  // Another file appended after the end marker.
  EXPECT_EQ(engine()->sanitize(good + "MZ trailing", "trail.lzh", Mode::Rebuild).report.reason, "parse-error");
  // Absolute path.
  Outcome abs = engine()->sanitize(makeLzh({{"/etc/cron.d/x", "x\n", "-lh0-", "", 2}}), "abs.lzh", Mode::Rebuild);
  if (abs.report.verdict == Verdict::Sanitized) {
    for (const auto& name : testing::zipNames(abs.output)) EXPECT_NE(name.front(), '/') << name;
  } else {
    EXPECT_EQ(abs.report.reason, "unsafe-path");
  }
  // Only blocked members: nothing left.
  Outcome none = engine()->sanitize(makeLzh({{"a.exe", std::string("MZ") + std::string(64, '\0')}}), "x.lzh",
                                    Mode::Rebuild);
  EXPECT_EQ(none.report.reason, "no-content-left");
}

TEST(LzhArchive, ParentDirectoryNamesNeverEscape) {
  // lhasa folds ".." in paths; whatever it leaves must pass our own name check or block.
  Outcome out = engine()->sanitize(makeLzh({{"..\\..\\evil.txt", "x\n"}}), "slip.lzh", Mode::Rebuild);
  if (out.report.verdict == Verdict::Sanitized) {
    for (const auto& name : testing::zipNames(out.output)) EXPECT_EQ(name.find(".."), std::string::npos) << name;
  } else {
    EXPECT_EQ(out.report.reason, "unsafe-path");
  }
}

}  // namespace
}  // namespace lbg::sanitizer
