#include <gtest/gtest.h>

#include <cstdlib>

#include "dataplane/telemetry/log/log_writer.h"
#include "tools/audit/audit_test_support.h"
#include "tools/audit/measures.h"
#include "tools/audit/report.h"
#include "tools/audit/sample_log.h"

// Golden tests: a generated log with fixed times and a fixed key gives byte-identical reports.
// LBG_UPDATE_GOLDEN=1 rewrites the files in testdata/ (review the diff before committing).
namespace lbg::audit {
namespace {

using namespace testing;

class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    SampleLogOptions o = sampleLogIn(*dir_);
    o.events = 12000;
    o.startNs = at("2026-10-31T12:00:00Z");
    o.spanNs = 4 * 86400LL * 1000000000LL;
    o.segmentMaxBytes = 512 << 10;
    o.rareEvery = 5003;
    ASSERT_TRUE(writeSampleLog(o));
    auto cat = loadMeasures(LBG_MEASURES_YAML);
    ASSERT_TRUE(cat) << cat.error().toString();
    catalogue_ = new MeasureCatalogue(*cat);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete catalogue_;
  }
  static ReportData build(const std::string& lang) {
    ReportOptions ro;
    ro.fromNs = at("2026-11-01T00:00:00+09:00");
    ro.toNs = at("2026-11-04T00:00:00+09:00");
    ro.lang = lang;
    ro.generatedNs = at("2026-11-05T10:00:00+09:00");
    auto d = buildReport(dir_->path() + "/log", fixedKey().publicKey(), ro);
    EXPECT_TRUE(d) << d.error().toString();
    return *d;
  }
  static void golden(const std::string& name, const std::string& actual) {
    std::string path = std::string(LBG_AUDIT_TESTDATA) + "/" + name;
    if (std::getenv("LBG_UPDATE_GOLDEN")) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
      return;
    }
    std::string expected = slurp(path);
    ASSERT_FALSE(expected.empty()) << "missing golden file " << path;
    EXPECT_TRUE(expected == actual) << name << " differs from the golden file; run with LBG_UPDATE_GOLDEN=1 "
                                    << "and review the diff";
  }
  static ScratchDir* dir_;
  static MeasureCatalogue* catalogue_;
};
ScratchDir* Report::dir_ = nullptr;
MeasureCatalogue* Report::catalogue_ = nullptr;

TEST_F(Report, GoldenJson) { golden("report.json", renderJson(build("ja"), *catalogue_)); }
TEST_F(Report, GoldenCsv) { golden("report.csv", renderCsv(build("ja"), *catalogue_)); }
TEST_F(Report, GoldenHtmlJapanese) { golden("report.ja.html", renderHtml(build("ja"), *catalogue_)); }
TEST_F(Report, GoldenHtmlEnglish) { golden("report.en.html", renderHtml(build("en"), *catalogue_)); }

TEST_F(Report, ContentMatchesTheLog) {
  ReportData d = build("ja");
  EXPECT_TRUE(d.integrityOk) << d.integrityFirstBreak;
  EXPECT_EQ(d.appliance, "lbg-sample-01");
  // Period: 3 local days; 12000 events over 4 days from 10-31T12Z = 10-31T21 JST.
  EXPECT_EQ(d.daily.size(), 3u);
  EXPECT_EQ(d.daily.begin()->first, "2026-11-01");
  EXPECT_GT(d.flows.allowed, d.flows.denied);
  EXPECT_GT(d.deniedByReason.at("no-match"), 0u);
  EXPECT_TRUE(d.policyInForceAtStart.is_object());  // version 1, committed before the period
  EXPECT_EQ(d.policyInForceAtStart["version"], 1);
  ASSERT_EQ(d.policyVersions.size(), 1u);  // version 2 at event 4800 (day 2)
  EXPECT_EQ(d.policyVersions[0]["approver"], "suzuki");
  EXPECT_EQ(d.policyVersions[0]["services"][0]["ismap_id"], "C21-0008-2");
  EXPECT_GT(d.adminTotal, 0u);
  EXPECT_GT(d.idsBySignature.size(), 0u);
  EXPECT_GT(d.ddosByReason.at("table-full"), 0u);
  EXPECT_GT(d.certByReason.size(), 0u);
  EXPECT_FALSE(d.lostCounters.empty());
}

TEST_F(Report, CsvOpensInSpreadsheets) {
  std::string csv = renderCsv(build("ja"), *catalogue_);
  EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(csv.find("\r\n"), std::string::npos);
  EXPECT_EQ(csv.find("\"=", 0), std::string::npos);  // no cell starts a formula
}

TEST(ReportNoData, MeasuresWithoutEventsSayNoData) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    ASSERT_TRUE(w);
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"flow","phase":"verdict","src_ip":"10.0.0.1","dest_ip":"1.2.3.4","action":"deny","reason":"no-match","policy":{"version":1,"service":null}})");
    (*w)->close();
  }
  auto cat = loadMeasures(LBG_MEASURES_YAML);
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  ro.lang = "en";
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d);
  std::string html = renderHtml(*d, *cat);
  for (const char* id : {"AP-CERT", "AP-TENANT", "AP-SANITIZE", "AP-IDS", "AP-DDOS", "AP-PRIV"}) {
    size_t s = html.find(std::string("<section id=\"") + id + "\"");
    ASSERT_NE(s, std::string::npos) << id;
    size_t e = html.find("</section>", s);
    EXPECT_NE(html.substr(s, e - s).find("No data in this period"), std::string::npos) << id;
  }
  std::string ja = renderHtml(*d, *cat);
  ro.lang = "ja";
  auto dja = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  EXPECT_NE(renderHtml(*dja, *cat).find("この期間のデータはありません"), std::string::npos);
}

// A protocol-on-port denial is a flow denial like the others (the reason table) and counts for
// the measure it names, 通信路暗号化 (AP-ENCRYPT).
TEST(ReportReasons, ProtocolMismatchCountsForEncryptionInTransit) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    ASSERT_TRUE(w);
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"flow","phase":"verdict","src_ip":"10.0.0.1","dest_ip":"1.2.3.4","action":"deny","reason":"protocol-mismatch:http","policy":{"version":1,"service":null},"measure":"AP-ENCRYPT"})");
    (*w)->close();
  }
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  ro.lang = "en";
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->deniedByReason.at("protocol-mismatch:http"), 1u);
  EXPECT_EQ(d->perMeasure.at("AP-ENCRYPT"), 1u);
  EXPECT_EQ(d->perMeasure.count("AP-DEST"), 0u);
}

// The guard's deny summaries (event_type ddos) count for AP-DDOS by reason, one per record.
TEST(ReportReasons, DenySummariesCountForDdos) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    ASSERT_TRUE(w);
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"ddos","src_ip":"198.18.0.1","src_port":0,"dest_ip":"10.1.0.10","dest_port":53,"proto":"UDP","action":"deny","reason":"inbound","ddos":{"packets":50000,"bytes":3000000,"start":"2026-11-02T00:59:50.000000Z","end":"2026-11-02T00:59:59.000000Z"},"measure":"AP-DDOS"})");
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:10.000000Z","event_type":"ddos","src_ip":"10.1.0.66","src_port":0,"dest_ip":"52.96.10.10","dest_port":443,"proto":"TCP","action":"deny","reason":"rate-limit","ddos":{"packets":20,"bytes":1200,"start":"2026-11-02T01:00:00.000000Z","end":"2026-11-02T01:00:01.000000Z"},"measure":"AP-DDOS"})");
    (*w)->close();
  }
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ddosByReason.at("inbound"), 1u);
  EXPECT_EQ(d->ddosByReason.at("rate-limit"), 1u);
  EXPECT_EQ(d->perMeasure.at("AP-DDOS"), 2u);
  EXPECT_EQ(d->perMeasure.count("AP-DEST"), 0u);
  EXPECT_EQ(d->flows.denied, 0u);  // summaries are not flows
}

TEST(ReportProxy, UpstreamCertificateRefusalsAreDenialsWithTheirReason) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    ASSERT_TRUE(w);
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"tls","src_ip":"10.0.0.1","src_port":5,"proto":"TCP","dest_port":443,"action":"deny","reason":"cert-name","measure":"AP-CERT","tls":{"sni":"login.microsoft.com"}})");
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:01.000000Z","event_type":"tls","src_ip":"10.0.0.1","src_port":6,"proto":"TCP","dest_port":443,"action":"deny","reason":"pin-mismatch","measure":"AP-CERT","tls":{"sni":"login.microsoft.com"}})");
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:02.000000Z","event_type":"http","src_ip":"10.0.0.1","src_port":7,"proto":"TCP","dest_port":443,"action":"allow","measure":"AP-TENANT","tenant_profile":"entra-v1","http":{"hostname":"login.microsoftonline.com"}})");
    (*w)->close();
  }
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->deniedByReason.at("cert-name"), 1u);
  EXPECT_EQ(d->deniedByReason.at("pin-mismatch"), 1u);
  EXPECT_EQ(d->certByReason.at("deny: cert-name"), 1u);
  EXPECT_EQ(d->tenantByAction.at("http: allow"), 1u);
}

TEST(ReportIntegrity, ABrokenLogIsReportedPlainly) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    for (int i = 0; i < 3; ++i)
      (*w)->append(R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"flow","phase":"verdict","action":"allow"})");
    (*w)->close();
  }
  std::string seg = cfg.dir + "/seg-0000000001.jsonl";
  std::string data = slurp(seg);
  data[data.find("allow")] = 'A';
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << data;
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->integrityOk);
  EXPECT_NE(d->integrityFirstBreak.find("record 1"), std::string::npos) << d->integrityFirstBreak;
}

TEST(Measures, EmbeddedCatalogueHasTheReportedMeasures) {
  auto cat = loadMeasures("");
  ASSERT_TRUE(cat) << cat.error().toString();
  for (const auto& id : reportMeasureIds()) EXPECT_NE(cat->find(id), nullptr) << id;
  EXPECT_EQ(cat->find("AP-DEST")->ja, "接続先制限");
  EXPECT_FALSE(parseMeasures("measures: [", "x"));
}

}  // namespace
}  // namespace lbg::audit
