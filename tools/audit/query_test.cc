#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/telemetry/log/segment_files.h"
#include "tools/audit/audit_test_support.h"
#include "tools/audit/query.h"
#include "tools/audit/sample_log.h"

namespace lbg::audit {
namespace {

using namespace testing;
using telemetry::logfmt::RecordFields;

class Query : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    SampleLogOptions o = sampleLogIn(*dir_);
    o.events = 30000;
    o.startNs = at("2026-11-01T00:00:00Z");
    o.spanNs = 3 * 86400LL * 1000000000LL;
    o.segmentMaxBytes = 256 << 10;
    o.rareEvery = 10007;
    ASSERT_TRUE(writeSampleLog(o));
  }
  static void TearDownTestSuite() { delete dir_; }

  // The reference answer: every record read and filtered, no index.
  static uint64_t bruteForce(const QueryFilter& f) {
    uint64_t n = 0;
    auto segs = telemetry::logfmt::listSegments(dir_->path() + "/log");
    std::string buf;
    RecordFields rf;
    for (const auto& s : *segs) {
      telemetry::logfmt::readFileInto(s.log, buf);
      size_t size = buf.size() - 64, pos = 0;
      while (pos < size) {
        size_t nl = buf.find('\n', pos);
        EXPECT_TRUE(telemetry::logfmt::parseRecordFields(std::string_view(buf).substr(pos, nl - pos),
                                                         buf.size() - pos, rf));
        if (f.matches(rf)) ++n;
        pos = nl + 1;
      }
    }
    return n;
  }
  static QueryStats run(const QueryFilter& f, uint64_t& matched) {
    matched = 0;
    auto r = runQuery(dir_->path() + "/log", fixedKey().publicKey(), f,
                      [&](std::string_view line, const RecordFields& rf) {
                        EXPECT_TRUE(f.matches(rf)) << line;
                        ++matched;
                        return true;
                      });
    EXPECT_TRUE(r);
    return *r;
  }
  static ScratchDir* dir_;
};
ScratchDir* Query::dir_ = nullptr;

TEST_F(Query, RareDestinationSkipsSegmentsByIndex) {
  QueryFilter f;
  f.destIp = "203.0.113.77";
  uint64_t n;
  QueryStats st = run(f, n);
  EXPECT_EQ(n, bruteForce(f));
  EXPECT_EQ(n, 3u);  // events 7, 10014, 20021
  EXPECT_GT(st.segments, 20u);
  EXPECT_GT(st.skippedByIndex, st.segments * 3 / 4);
  EXPECT_EQ(st.untrustedIndexes, 0u);
}

TEST_F(Query, TimeRangeSkipsSegmentsBySeal) {
  QueryFilter f;
  f.fromNs = at("2026-11-02T00:00:00Z");
  f.toNs = at("2026-11-02T06:00:00Z");
  f.action = "deny";
  uint64_t n;
  QueryStats st = run(f, n);
  EXPECT_EQ(n, bruteForce(f));
  EXPECT_GT(n, 100u);
  EXPECT_GT(st.skippedByTime, st.segments / 2);
}

TEST_F(Query, EventTypeSniAndServiceFilters) {
  for (auto setter : {+[](QueryFilter& f) { f.eventType = "admin"; },
                      +[](QueryFilter& f) { f.sni = "discord.com"; },
                      +[](QueryFilter& f) { f.service = "m365-teams"; },
                      +[](QueryFilter& f) { f.reason = "quic"; },
                      +[](QueryFilter& f) { f.anyIp = "52.112.0.5"; },
                      +[](QueryFilter& f) { f.measure = "AP-CERT"; }}) {
    QueryFilter f;
    setter(f);
    uint64_t n;
    run(f, n);
    EXPECT_EQ(n, bruteForce(f));
    EXPECT_GT(n, 0u);
  }
}

// Certificate checks (AP-CERT) are found by their logged reason, detail included, through the
// index as by reading everything; the sample has each of them.
TEST_F(Query, CertificateChecksFoundByReason) {
  for (const char* reason : {"cert-probe", "cert-untrusted:probe", "cert-untrusted:probe-cache",
                             "cert-probe-timeout:probe", "cert-expired"}) {
    QueryFilter f;
    f.reason = reason;
    uint64_t n;
    run(f, n);
    EXPECT_EQ(n, bruteForce(f)) << reason;
    EXPECT_GT(n, 0u) << reason;
  }
  QueryFilter probes;
  probes.reason = "cert-probe";
  probes.service = "m365-sharepoint";
  probes.destIp = "198.51.100.66";
  uint64_t n;
  run(probes, n);
  EXPECT_EQ(n, bruteForce(probes));
  EXPECT_GT(n, 0u);
}

TEST_F(Query, AlteredIndexIsNotTrusted) {
  ScratchDir copy;
  std::filesystem::copy(dir_->path() + "/log", copy.path() + "/log");
  // Empty the Bloom filter of every index: it would now exclude everything.
  auto segs = telemetry::logfmt::listSegments(copy.path() + "/log");
  for (const auto& s : *segs) {
    std::string ix = slurp(s.index);
    size_t nl = ix.find('\n');
    std::memset(ix.data() + nl + 1, 0, ix.size() - nl - 1);
    std::ofstream(s.index, std::ios::binary | std::ios::trunc) << ix;
  }
  QueryFilter f;
  f.destIp = "203.0.113.77";
  uint64_t n = 0;
  auto r = runQuery(copy.path() + "/log", fixedKey().publicKey(), f,
                    [&](std::string_view, const RecordFields&) { return ++n, true; });
  ASSERT_TRUE(r);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(r->untrustedIndexes, r->segments);
}

TEST_F(Query, LimitStops) {
  QueryFilter f;
  f.eventType = "flow";
  f.limit = 5;
  uint64_t n;
  run(f, n);
  EXPECT_EQ(n, 5u);
}

TEST(QueryErrors, MissingDirectoryIsAnError) {
  QueryFilter f;
  auto r = runQuery("/nonexistent/lbg", fixedKey().publicKey(), f,
                    [](std::string_view, const RecordFields&) { return true; });
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace lbg::audit
