#include "sanitizer/archive/zip_archive.h"

#include <gtest/gtest.h>
#include <zip.h>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/core/engine.h"
#include "sanitizer/testing/independent_scan.h"

namespace lbg::sanitizer {
namespace {

std::string makeZip(const std::vector<std::pair<std::string, std::string>>& members) {
  ZipWriter writer;
  for (const auto& [name, data] : members) writer.add(name, data);
  std::string out, reason;
  EXPECT_TRUE(writer.finish(&out, &reason)) << reason;
  return out;
}

// Written with libzip directly: encrypted members and hostile names that our writer never makes.
std::string makeRawZip(const std::vector<std::pair<std::string, std::string>>& members, const char* password) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* sink = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(sink);
  zip_t* za = zip_open_from_source(sink, ZIP_TRUNCATE, &error);
  for (const auto& [name, data] : members) {
    zip_source_t* s = zip_source_buffer(za, data.data(), data.size(), 0);
    zip_int64_t idx = zip_file_add(za, name.c_str(), s, 0);
    if (password != nullptr) zip_file_set_encryption(za, static_cast<zip_uint64_t>(idx), ZIP_EM_AES_256, password);
  }
  zip_close(za);
  zip_source_open(sink);
  zip_source_seek(sink, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(sink);
  zip_source_seek(sink, 0, SEEK_SET);
  std::string out(static_cast<size_t>(size), '\0');
  zip_source_read(sink, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(sink);
  zip_source_free(sink);
  zip_error_fini(&error);
  return out;
}

std::unique_ptr<Engine> engine(EngineConfig config = {}) {
  auto created = Engine::create(config);
  return created.ok() ? std::move(created).value() : nullptr;
}

TEST(ZipArchive, MembersAreSanitizedAndBlockedOnesLeftOut) {
  std::string docm = testing::readFile(std::string(LBG_CORPUS_DIR) + "/office/oleform/oleform-PR314.docm");
  std::string zip = makeZip({{"docs/report.docm", docm},
                             {"readme.txt", "hello\n"},
                             {"tool.exe", std::string("MZ") + std::string(64, '\0')},
                             {"data.csv", "a,=1+2\n"}});
  Outcome out = engine()->sanitize(zip, "bundle.zip", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.outputType, "zip");
  std::vector<std::string> names = testing::zipNames(out.output);
  EXPECT_EQ(names, (std::vector<std::string>{"docs/report.docx", "readme.txt", "data.csv"}));
  EXPECT_TRUE(testing::scanOoxml(testing::zipRead(out.output, "docs/report.docx")).empty());
  EXPECT_EQ(testing::zipRead(out.output, "data.csv"), "a,'=1+2\n");
  bool exeReported = false, vbaReported = false;
  for (const auto& item : out.report.removed) {
    exeReported = exeReported || (item.kind == "blocked-member:type-blocked:exe" && item.location == "tool.exe");
    vbaReported = vbaReported || (item.kind == "vbaProject" && item.location.rfind("docs/report.docm/", 0) == 0);
  }
  EXPECT_TRUE(exeReported);
  EXPECT_TRUE(vbaReported);
}

TEST(ZipArchive, NestingBeyondTheDepthLimitBlocks) {
  std::string inner = makeZip({{"a.txt", "x\n"}});
  for (int i = 0; i < 4; ++i) inner = makeZip({{"level" + std::to_string(i) + ".zip", inner}});
  Outcome out = engine()->sanitize(inner, "deep.zip", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "limit:archive-depth");
  // Within the limit it passes.
  std::string shallow = makeZip({{"in.zip", makeZip({{"a.txt", "x\n"}})}});
  EXPECT_EQ(engine()->sanitize(shallow, "ok.zip", Mode::Rebuild).report.verdict, Verdict::Sanitized);
}

TEST(ZipArchive, CompressionBombBlocks) {
  std::string bomb = makeZip({{"zeros.txt", std::string(64u << 20, 'a')}});
  ASSERT_LT(bomb.size(), 1u << 20);
  Outcome out = engine()->sanitize(bomb, "bomb.zip", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "limit:zip-ratio");
  EngineConfig small;
  small.maxExpandedBytes = 1 << 20;
  small.maxCompressionRatio = 1e9;
  Outcome capped = engine(small)->sanitize(bomb, "bomb.zip", Mode::Rebuild);
  EXPECT_EQ(capped.report.reason, "limit:expanded-size");
}

TEST(ZipArchive, TooManyMembersBlocks) {
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 30; ++i) members.push_back({"f" + std::to_string(i) + ".txt", "x\n"});
  EngineConfig config;
  config.maxArchiveMembers = 10;
  Outcome out = engine(config)->sanitize(makeZip(members), "many.zip", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "limit:zip-members");
}

TEST(ZipArchive, EncryptedMemberBlocks) {
  Outcome out = engine()->sanitize(makeRawZip({{"a.txt", "secret\n"}}, "pw"), "e.zip", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "encrypted");
}

TEST(ZipArchive, PathTraversalBlocks) {
  for (const char* name : {"../evil.txt", "a/../../evil.txt", "C:\\evil.txt"}) {
    Outcome out = engine()->sanitize(makeRawZip({{name, "x\n"}}, nullptr), "slip.zip", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << name;
    EXPECT_EQ(out.report.reason, "unsafe-path") << name;
  }
}

TEST(ZipArchive, OnlyBlockedMembersMeansBlocked) {
  Outcome out = engine()->sanitize(makeZip({{"a.exe", std::string("MZ") + std::string(64, '\0')}}), "x.zip",
                                   Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "no-content-left");
}

TEST(ZipArchive, CorruptArchivesBlockNeverCrash) {
  std::string zip = makeZip({{"a.txt", std::string(5000, 'q') + "\n"}, {"b.txt", "b\n"}});
  for (size_t cut = 4; cut < zip.size(); cut += 17) {
    Outcome out = engine()->sanitize(zip.substr(0, cut), "t.zip", Mode::Rebuild);
    // Any cut loses the end-of-central-directory record.
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << cut;
  }
  std::string flipped = zip;
  for (size_t i = 40; i < 80; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0xFF);
  EXPECT_EQ(engine()->sanitize(flipped, "c.zip", Mode::Rebuild).report.verdict, Verdict::Blocked);
}

// Deflated members are inflated by libdeflate from the raw stream (zip_io.cc): the CRC and the
// declared size are checked by us, not by libzip.
TEST(ZipReader, DeflatedMemberIsCheckedForCrcAndSize) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + "\n";
  const std::string zip = makeZip({{"a.txt", text}});
  std::string reason, out;
  auto reader = ZipReader::open(zip, FormatLimits{}, &reason);
  ASSERT_NE(reader, nullptr) << reason;
  ASSERT_TRUE(reader->read(reader->entries().at(0), &out, &reason)) << reason;
  EXPECT_EQ(out, text);
  // A byte of the compressed data flipped (the local header is 30 bytes + the name): the stream
  // no longer inflates to the same bytes.
  std::string damaged = zip;
  damaged[30 + 5 + 40] = static_cast<char>(damaged[30 + 5 + 40] ^ 0x55);
  reader = ZipReader::open(damaged, FormatLimits{}, &reason);
  ASSERT_NE(reader, nullptr) << reason;
  EXPECT_FALSE(reader->read(reader->entries().at(0), &out, &reason));
  EXPECT_EQ(reason, "parse-error");
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace lbg::sanitizer
