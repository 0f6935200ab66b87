#include <gtest/gtest.h>

#include <filesystem>

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/log_writer.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/test_support.h"
#include "dataplane/telemetry/log/verifier.h"

// Every kind of tampering the issue names is detected, and located exactly (segment, record,
// reason). The log: segments of ~16 records each, all sealed.
namespace lbg::telemetry {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class Tamper : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = testConfig(t_.file("log"), writeFixedKey(t_.path()));
    cfg.segmentMaxBytes = 8 << 10;
    dir_ = cfg.dir;
    auto w = LogWriter::create(cfg);
    ASSERT_TRUE(w);
    for (int i = 0; i < 100; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
    (*w)->close();
    auto clean = logfmt::verifyLog(dir_, fixedPublicKey());
    ASSERT_TRUE(clean.ok());
    ASSERT_GE(clean.segments.size(), 4u);
    seg2_ = dir_ + "/seg-0000000002.jsonl";
    lines_ = readLines(seg2_);
    ASSERT_GE(lines_.size(), 10u);
    firstSeq2_ = clean.segments[1].firstSeq;
  }
  void writeLines(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    writeFile(seg2_, s);
  }
  logfmt::VerifyFinding first() {
    auto r = logfmt::verifyLog(dir_, fixedPublicKey());
    EXPECT_FALSE(r.ok());
    return r.findings.empty() ? logfmt::VerifyFinding{} : r.findings[0];
  }

  TempDir t_;
  std::string dir_, seg2_;
  std::vector<std::string> lines_;
  uint64_t firstSeq2_ = 0;
};

TEST_F(Tamper, OneByteChangedInARecord) {
  std::string data = readFile(seg2_);
  size_t lineStart = 0;
  for (int i = 0; i < 4; ++i) lineStart = data.find('\n', lineStart) + 1;  // record 5
  size_t pos = data.find("\"dest_port\":443", lineStart) + 12;
  data[pos] = '5';  // 443 -> 543
  writeFile(seg2_, data);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 5u);
  EXPECT_EQ(f.seq, firstSeq2_ + 4);
  EXPECT_NE(f.reason.find("altered"), std::string::npos) << f.reason;
}

TEST_F(Tamper, OneByteChangedInTheLastRecordOfASegment) {
  auto lines = lines_;
  lines.back()[lines.back().find("TCP")] = 'U';
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, lines.size());
  EXPECT_NE(f.reason.find("altered"), std::string::npos) << f.reason;
}

TEST_F(Tamper, ChainFieldChanged) {
  auto lines = lines_;
  std::string& l = lines[6];  // record 7: its lbg_prev
  l[l.size() - 5] = l[l.size() - 5] == 'a' ? 'b' : 'a';
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 7u);
}

TEST_F(Tamper, RecordDeleted) {
  auto lines = lines_;
  lines.erase(lines.begin() + 5);  // record 6
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 6u);
  EXPECT_EQ(f.seq, firstSeq2_ + 5);
  EXPECT_NE(f.reason.find("deleted"), std::string::npos) << f.reason;
}

TEST_F(Tamper, TwoRecordsReordered) {
  auto lines = lines_;
  std::swap(lines[2], lines[3]);  // records 3 and 4
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 3u);
  EXPECT_NE(f.reason.find("out of order"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("at record 4"), std::string::npos) << f.reason;
}

TEST_F(Tamper, SegmentTruncatedAtARecordBoundary) {
  auto lines = lines_;
  lines.resize(lines.size() - 3);
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, lines.size() + 1);
  EXPECT_NE(f.reason.find("truncated"), std::string::npos) << f.reason;
}

TEST_F(Tamper, SegmentTruncatedMidRecord) {
  std::string data = readFile(seg2_);
  writeFile(seg2_, data.substr(0, data.size() - 100));
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, lines_.size());
  EXPECT_NE(f.reason.find("incomplete"), std::string::npos) << f.reason;
}

TEST_F(Tamper, WholeSegmentDropped) {
  for (const char* ext : {".jsonl", ".seal", ".idx"}) fs::remove(dir_ + "/seg-0000000002" + ext);
  auto f = first();
  EXPECT_EQ(f.segment, 3u);
  EXPECT_EQ(f.record, 0u);
  EXPECT_NE(f.reason.find("segment 2 missing"), std::string::npos) << f.reason;
}

TEST_F(Tamper, FirstSegmentDroppedWithoutRetention) {
  for (const char* ext : {".jsonl", ".seal", ".idx"}) fs::remove(dir_ + "/seg-0000000001" + ext);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_NE(f.reason.find("without a retention record"), std::string::npos) << f.reason;
}

TEST_F(Tamper, SegmentReplacedByOneFromAnotherAppliance) {
  TempDir other;
  auto cfg = testConfig(other.file("log"), writeFixedKey(other.path(), 9));
  cfg.applianceId = "lbg-other-02";
  cfg.segmentMaxBytes = 8 << 10;
  {
    auto w = LogWriter::create(cfg);
    for (int i = 0; i < 60; ++i) (*w)->append(flowRecord(i, kBaseTime + i));
    (*w)->close();
  }
  for (const char* ext : {".jsonl", ".seal", ".idx"})
    fs::copy_file(cfg.dir + "/seg-0000000002" + ext, dir_ + "/seg-0000000002" + ext,
                  fs::copy_options::overwrite_existing);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 0u);
  EXPECT_NE(f.reason.find("signature invalid"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("lbg-other-02"), std::string::npos) << f.reason;
}

TEST_F(Tamper, SealEditedToMatchATruncation) {
  std::string seal = readFile(dir_ + "/seg-0000000002.seal");
  seal.replace(seal.find("records="), 8, "records=1");  // records=N -> records=1N
  writeFile(dir_ + "/seg-0000000002.seal", seal);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, 0u);
}

TEST_F(Tamper, RecordAppendedToASealedSegment) {
  auto lines = lines_;
  lines.push_back(lines.back());
  writeLines(lines);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_EQ(f.record, lines.size());
}

TEST_F(Tamper, IndexAltered) {
  std::string ix = readFile(dir_ + "/seg-0000000002.idx");
  ix[ix.size() - 1] ^= 1;
  writeFile(dir_ + "/seg-0000000002.idx", ix);
  auto f = first();
  EXPECT_EQ(f.segment, 2u);
  EXPECT_NE(f.reason.find("index altered"), std::string::npos);
}

TEST_F(Tamper, WrongKeyFailsEverySeal) {
  auto r = logfmt::verifyLog(dir_, fixedPublicKey(3));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].segment, 1u);
}

TEST_F(Tamper, TimeRangeSkipsHashingButNotSeals) {
  logfmt::VerifyOptions opt;
  opt.fromNs = (kBaseTime + 90) * 1000000000LL;
  auto r = logfmt::verifyLog(dir_, fixedPublicKey(), opt);
  EXPECT_TRUE(r.ok());
  EXPECT_LT(r.recordsScanned, 40u);
  // A change in a segment outside the range is not hashed, but a dropped one still shows.
  for (const char* ext : {".jsonl", ".seal", ".idx"}) fs::remove(dir_ + "/seg-0000000002" + ext);
  EXPECT_FALSE(logfmt::verifyLog(dir_, fixedPublicKey(), opt).ok());
}

// The open segment and the newest segments: the signed checkpoint is the witness (no syslog).
class TamperHead : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = testConfig(t_.file("log"), writeFixedKey(t_.path()));
    cfg_.segmentMaxBytes = 8 << 10;
    cfg_.checkpointMillis = 0;  // a checkpoint at every tick
    w_ = std::move(*LogWriter::create(cfg_));
    for (int i = 0; i < 100; ++i) w_->append(flowRecord(i, kBaseTime + i));
    w_->tick((kBaseTime + 100) * 1000000000ULL);  // flushed and checkpointed; segment stays open
    auto r = logfmt::verifyLog(cfg_.dir, fixedPublicKey());
    ASSERT_TRUE(r.ok()) << r.findings[0].toString();
    open_ = r.segments.back();
    ASSERT_FALSE(open_.sealed);
    ASSERT_GE(open_.records, 4u);
    ASSERT_GE(r.segments.size(), 4u);
  }
  std::string segPath(uint64_t n, const char* ext) {
    return cfg_.dir + "/" + logfmt::segmentBaseName(n) + ext;
  }
  logfmt::VerifyFinding first() {
    auto r = logfmt::verifyLog(cfg_.dir, fixedPublicKey());
    EXPECT_FALSE(r.ok());
    return r.findings.empty() ? logfmt::VerifyFinding{} : r.findings[0];
  }

  TempDir t_;
  LogConfig cfg_;
  std::unique_ptr<LogWriter> w_;
  logfmt::SegmentStatus open_;
};

TEST_F(TamperHead, OpenSegmentTruncatedAtARecordBoundary) {
  auto lines = readLines(segPath(open_.number, ".jsonl"));
  lines.resize(lines.size() - 2);
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  writeFile(segPath(open_.number, ".jsonl"), s);
  auto f = first();
  EXPECT_EQ(f.segment, open_.number);
  EXPECT_EQ(f.record, lines.size() + 1);
  EXPECT_EQ(f.seq, open_.lastSeq - 1);
  EXPECT_NE(f.reason.find("truncated at its end"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("up to seq " + std::to_string(open_.lastSeq)), std::string::npos) << f.reason;
}

TEST_F(TamperHead, OpenSegmentTruncatedMidRecord) {
  std::string data = readFile(segPath(open_.number, ".jsonl"));
  writeFile(segPath(open_.number, ".jsonl"), data.substr(0, data.size() - 50));
  auto f = first();
  EXPECT_EQ(f.segment, open_.number);
  EXPECT_EQ(f.record, open_.records);  // the cut record
  EXPECT_NE(f.reason.find("truncated at its end"), std::string::npos) << f.reason;
}

TEST_F(TamperHead, OpenSegmentEmptied) {
  writeFile(segPath(open_.number, ".jsonl"), "");
  auto f = first();
  EXPECT_EQ(f.segment, open_.number);
  EXPECT_EQ(f.record, 1u);
  EXPECT_NE(f.reason.find("truncated at its end"), std::string::npos) << f.reason;
}

TEST_F(TamperHead, NewestSegmentDeleted) {
  fs::remove(segPath(open_.number, ".jsonl"));
  auto f = first();
  EXPECT_EQ(f.segment, open_.number);
  EXPECT_EQ(f.seq, open_.lastSeq);
  EXPECT_NE(f.reason.find("newest segment " + std::to_string(open_.number) + " deleted"), std::string::npos)
      << f.reason;
}

TEST_F(TamperHead, NewestSegmentsDeletedAfterClose) {
  w_->close();  // all sealed; the checkpoint names the last sealed segment
  auto r = logfmt::verifyLog(cfg_.dir, fixedPublicKey());
  ASSERT_TRUE(r.ok());
  const uint64_t last = r.segments.back().number;
  for (uint64_t n : {last, last - 1})
    for (const char* ext : {".jsonl", ".seal", ".idx"}) fs::remove(segPath(n, ext));
  auto f = first();
  EXPECT_EQ(f.segment, last);
  EXPECT_NE(f.reason.find("newest segments " + std::to_string(last - 1) + ".." + std::to_string(last) +
                          " deleted"),
            std::string::npos)
      << f.reason;
}

TEST_F(TamperHead, CheckpointDeletedOrForged) {
  const std::string cp = logfmt::checkpointPath(cfg_.dir);
  std::string text = readFile(cp);
  fs::remove(cp);
  EXPECT_NE(first().reason.find("checkpoint file missing"), std::string::npos);
  // An attacker rewrites the checkpoint to match a truncation: the signature no longer verifies.
  text.insert(text.find("last_seq=") + 9, "9");
  writeFile(cp, text);
  auto f = first();
  EXPECT_TRUE(f.reason.find("checkpoint signature invalid") != std::string::npos ||
              f.reason.find("checkpoint unreadable") != std::string::npos)
      << f.reason;
}

TEST_F(TamperHead, DeletionWhileStoppedIsAlarmedAfterRestart) {
  w_.reset();  // close(): sealed, checkpoint written
  auto r = logfmt::verifyLog(cfg_.dir, fixedPublicKey());
  ASSERT_TRUE(r.ok());
  const auto last = r.segments.back();
  for (const char* ext : {".jsonl", ".seal", ".idx"}) fs::remove(segPath(last.number, ext));
  {
    auto w = LogWriter::create(cfg_);
    ASSERT_TRUE(w);
    EXPECT_GE((*w)->alarmsRaised(), 1u);
    (*w)->append(flowRecord(500, kBaseTime + 500));
    (*w)->close();
  }
  // The gap stays visible (the deleted number is not reused) and the chain says what is missing.
  auto after = logfmt::verifyLog(cfg_.dir, fixedPublicKey());
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.findings[0].reason.find("segment " + std::to_string(last.number) + " missing"),
            std::string::npos)
      << after.findings[0].toString();
  std::string all;
  for (const auto& st : after.segments) all += readFile(cfg_.dir + "/" + st.file);
  EXPECT_NE(all.find("\"kind\":\"log-tail-missing\""), std::string::npos);
  EXPECT_NE(all.find("records seq " + std::to_string(last.firstSeq) + ".." + std::to_string(last.lastSeq)),
            std::string::npos);
}

}  // namespace
}  // namespace lbg::telemetry
