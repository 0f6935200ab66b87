#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/log_writer.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/test_support.h"
#include "dataplane/telemetry/log/verifier.h"

namespace lbg::telemetry {
namespace {

using namespace testing;
namespace fs = std::filesystem;

constexpr uint64_t kSec = 1000000000ULL;

// Sequence numbers of every record present in the directory, in file order.
std::vector<uint64_t> allSeqs(const std::string& dir, std::vector<std::string>* types = nullptr) {
  std::vector<uint64_t> seqs;
  auto segs = logfmt::listSegments(dir);
  for (const auto& s : *segs) {
    if (!s.hasLog) continue;
    for (const auto& line : readLines(s.log)) {
      auto cf = logfmt::parseChainFields(line);
      EXPECT_TRUE(cf) << line;
      if (cf) seqs.push_back(cf->seq);
      if (types) {
        size_t p = line.find("\"event_type\":\"");
        types->push_back(line.substr(p + 14, line.find('"', p + 14) - p - 14));
      }
    }
  }
  return seqs;
}

TEST(LogWriter, CreatesKeyWithPrivateMode) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), t.file("keys/log.key"));
  fs::create_directories(t.file("keys"));
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w) << w.error().toString();
  struct stat st;
  ASSERT_EQ(::stat(cfg.keyFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(fs::exists(cfg.keyFile + ".pub"));
  auto pub = logfmt::VerifyKey::loadPem(cfg.keyFile + ".pub");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->keyId(), (*w)->keyId());
}

TEST(LogWriter, RejectsBadConfig) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.applianceId = "bad id/..";
  EXPECT_FALSE(LogWriter::create(cfg));
  std::filesystem::create_directories(t.file("k2"));
  cfg = testConfig(t.file("log"), writeFixedKey(t.file("k2"), 8));
  cfg.segmentMaxBytes = 10;
  EXPECT_FALSE(LogWriter::create(cfg));
}

TEST(LogWriter, ChainRunsAcrossSizeRotatedSegments) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.segmentMaxBytes = 8 << 10;
  {
    auto w = LogWriter::create(cfg);
    ASSERT_TRUE(w);
    for (int i = 0; i < 200; ++i) ASSERT_TRUE((*w)->append(flowRecord(i, kBaseTime + i)));
    (*w)->close();
    EXPECT_EQ((*w)->written(), 200u);
    EXPECT_EQ((*w)->lost(), 0u);
  }
  auto segs = logfmt::listSegments(cfg.dir);
  ASSERT_GT(segs->size(), 5u);
  for (const auto& s : *segs) {
    EXPECT_TRUE(s.hasLog && s.hasSeal && s.hasIndex) << s.number;
    EXPECT_LE(fs::file_size(s.log), cfg.segmentMaxBytes + 1024);
  }
  auto r = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << (r.findings.empty() ? "" : r.findings[0].toString());
  EXPECT_EQ(r.recordsScanned, 200u);
  auto seqs = allSeqs(cfg.dir);
  ASSERT_EQ(seqs.size(), 200u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

TEST(LogWriter, RotatesByRecordTime) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.segmentMaxSeconds = 60;
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w);
  for (int i = 0; i < 10; ++i) {
    (*w)->append(flowRecord(i, kBaseTime + i * 30));
    (*w)->tick((kBaseTime + i * 30) * kSec);
  }
  (*w)->close();
  auto segs = logfmt::listSegments(cfg.dir);
  // 300 s of records in 60 s segments: one segment per two or three records.
  EXPECT_GE(segs->size(), 4u);
  EXPECT_TRUE(logfmt::verifyLog(cfg.dir, fixedPublicKey()).ok());
}

TEST(LogWriter, ResumesChainAfterCleanRestart) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  for (int run = 0; run < 3; ++run) {
    auto w = LogWriter::create(cfg);
    ASSERT_TRUE(w) << w.error().toString();
    for (int i = 0; i < 20; ++i) (*w)->append(flowRecord(run * 20 + i, kBaseTime + run * 20 + i));
    (*w)->close();
  }
  auto r = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << r.findings[0].toString();
  auto seqs = allSeqs(cfg.dir);
  ASSERT_EQ(seqs.size(), 60u);
  EXPECT_EQ(seqs.back(), 60u);
  EXPECT_EQ(logfmt::listSegments(cfg.dir)->size(), 3u);
}

TEST(LogWriter, ResumesAfterCrashWithUnfinishedLine) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  std::string crashed = t.file("crashed");
  {
    auto w = LogWriter::create(cfg);
    for (int i = 0; i < 15; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
    (*w)->tick((kBaseTime + 15) * kSec);  // flushed, not sealed
    // The state on disk at this moment is what a crash leaves behind.
    fs::copy(cfg.dir, crashed);
  }
  // Half a record written when the power went.
  std::string seg = crashed + "/seg-0000000001.jsonl";
  std::string data = readFile(seg);
  ASSERT_FALSE(fs::exists(crashed + "/seg-0000000001.seal"));
  writeFile(seg, data + flowRecord(99, kBaseTime + 16).substr(0, 40));
  cfg.dir = crashed;
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w) << w.error().toString();
  (*w)->append(flowRecord(15, kBaseTime + 17));
  (*w)->close();
  auto r = logfmt::verifyLog(crashed, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << r.findings[0].toString();
  std::vector<std::string> types;
  auto seqs = allSeqs(crashed, &types);
  // 15 records, then the alarm about the cut line, then the new record: no gap, no duplicate.
  ASSERT_EQ(seqs.size(), 17u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(types[15], "alarm");
  EXPECT_TRUE(fs::exists(crashed + "/seg-0000000001.seal"));
}

TEST(LogWriter, RestartDoesNotSealATamperedOpenSegment) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  std::string crashed = t.file("crashed");
  {
    auto w = LogWriter::create(cfg);
    for (int i = 0; i < 10; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
    (*w)->tick((kBaseTime + 10) * kSec);
    fs::copy(cfg.dir, crashed);
  }
  std::string seg = crashed + "/seg-0000000001.jsonl";
  std::string data = readFile(seg);
  data[data.find("10.1.0.5")] = '9';  // record 5
  writeFile(seg, data);
  cfg.dir = crashed;
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w);
  (*w)->append(flowRecord(10, kBaseTime + 11));
  (*w)->close();
  EXPECT_FALSE(fs::exists(crashed + "/seg-0000000001.seal"));
  auto r = logfmt::verifyLog(crashed, fixedPublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].segment, 1u);
  EXPECT_EQ(r.findings[0].record, 5u);
}

TEST(LogWriter, RetentionBySizeLogsItsDeletions) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.segmentMaxBytes = 8 << 10;
  cfg.retainMaxBytes = 40 << 10;
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w);
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE((*w)->append(flowRecord(i, kBaseTime + i)));
    if (i % 10 == 0) (*w)->tick((kBaseTime + i) * kSec);
  }
  (*w)->close();
  EXPECT_EQ((*w)->lost(), 0u);
  auto segs = logfmt::listSegments(cfg.dir);
  EXPECT_GT(segs->front().number, 1u);  // old segments are gone
  uint64_t total = 0;
  for (const auto& s : *segs) total += fs::file_size(s.log) + fs::file_size(s.seal) + fs::file_size(s.index);
  EXPECT_LE(total, cfg.retainMaxBytes + (16 << 10));
  auto r = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << r.findings[0].toString();
  // Every deleted segment is declared by a retention record, and the records left continue the
  // deleted ones without a gap or a duplicate.
  uint64_t declaredLastSeq = 0;
  bool declaredJustBefore = false;
  for (const auto& d : r.retained) {
    if (d.segment == segs->front().number - 1) declaredJustBefore = true;
    declaredLastSeq = std::max(declaredLastSeq, d.lastSeq);
  }
  EXPECT_TRUE(declaredJustBefore);
  auto seqs = allSeqs(cfg.dir);
  EXPECT_EQ(seqs.front(), declaredLastSeq + 1);
  for (size_t i = 1; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], seqs[i - 1] + 1);
  // Records written = flows + retention events; all present or declared deleted.
  EXPECT_EQ(seqs.back(), (*w)->written());
}

TEST(LogWriter, RetentionByAge) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.segmentMaxSeconds = 3600;
  cfg.retainMaxSeconds = 3 * 3600;
  auto w = LogWriter::create(cfg);
  for (int h = 0; h < 10; ++h) {
    for (int i = 0; i < 5; ++i) (*w)->append(flowRecord(h * 5 + i, kBaseTime + h * 3600 + i * 600));
    (*w)->tick((kBaseTime + h * 3600 + 3599) * kSec);
  }
  (*w)->tick((kBaseTime + 10 * 3600) * kSec);
  (*w)->close();
  auto r = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << r.findings[0].toString();
  for (const auto& s : r.segments) {
    if (s.sealed) EXPECT_GE(s.maxNs + 3 * 3600 * int64_t(kSec), (kBaseTime + 6 * 3600) * int64_t(kSec));
  }
  EXPECT_FALSE(r.retained.empty());
  EXPECT_EQ(r.retained.front().reason, "age");
}

TEST(LogWriter, FullDiskCountsLostAndNeverDamagesEarlierRecords) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  cfg.segmentMaxBytes = 1 << 20;
  auto w = LogWriter::create(cfg);
  ASSERT_TRUE(w);
  for (int i = 0; i < 20; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
  (*w)->tick((kBaseTime + 20) * kSec);
  uint64_t size = fs::file_size(cfg.dir + "/seg-0000000001.jsonl");
  // The file-size limit makes write() fail with EFBIG, as a full disk fails with ENOSPC.
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old;
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit lim = old;
  lim.rlim_cur = size + 1000;  // room for about one more record, then a partial write
  ::setrlimit(RLIMIT_FSIZE, &lim);
  for (int i = 20; i < 40; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
  (*w)->tick((kBaseTime + 40) * kSec);
  ::setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_GT((*w)->lost(), 0u);
  uint64_t lost = (*w)->lost();
  // The file was cut back to whole records: it still verifies.
  auto r1 = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r1.ok()) << r1.findings[0].toString();
  for (int i = 40; i < 45; ++i) EXPECT_TRUE((*w)->append(flowRecord(i, kBaseTime + i)));
  (*w)->close();
  EXPECT_EQ((*w)->lost(), lost);
  auto r = logfmt::verifyLog(cfg.dir, fixedPublicKey());
  EXPECT_TRUE(r.ok()) << r.findings[0].toString();
  std::string all = readFile(cfg.dir + "/seg-0000000001.jsonl");
  EXPECT_NE(all.find("\"kind\":\"disk-full\""), std::string::npos);
  EXPECT_NE(all.find("\"lost\":" + std::to_string(lost)), std::string::npos);
  EXPECT_EQ(allSeqs(cfg.dir).size(), 20 + (40 - 20 - lost) + 1 + 5);
}

TEST(LogWriter, RefusesNonObjectsAndKeepsLinesWhole) {
  TempDir t;
  auto cfg = testConfig(t.file("log"), writeFixedKey(t.path()));
  auto w = LogWriter::create(cfg);
  EXPECT_FALSE((*w)->append("not json"));
  EXPECT_TRUE((*w)->append("{\"timestamp\":\"2026-11-23T00:00:00.000000Z\",\n\"event_type\":\"stats\"}"));
  (*w)->close();
  EXPECT_EQ((*w)->lost(), 1u);
  auto lines = readLines(cfg.dir + "/seg-0000000001.jsonl");
  ASSERT_EQ(lines.size(), 2u);  // the alarm about the refused record, then the stats record
  EXPECT_NE(lines[0].find("log-invalid-record"), std::string::npos);
  EXPECT_TRUE(logfmt::verifyLog(cfg.dir, fixedPublicKey()).ok());
}

}  // namespace
}  // namespace lbg::telemetry
