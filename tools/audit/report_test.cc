#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

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

// The AP-CERT figures of a period, counted from the sample's records themselves (the reference the
// report's one pass is checked against).
struct CertExpected {
  std::map<std::string, uint64_t> sniAllowed, probes;
  std::map<std::string, CertFailures> failures;
  uint64_t probeTotal = 0;
};

CertExpected certExpected(const SampleLogOptions& o, int64_t fromNs, int64_t toNs) {
  CertExpected e;
  const std::set<std::string> certReasons = {"cert-untrusted", "cert-name", "cert-expired", "pin-mismatch",
                                             "cert-weak-key", "cert-probe-timeout", "cert-probe-failed"};
  const int64_t step = o.spanNs / int64_t(o.events);
  for (uint64_t i = 0; i < o.events; ++i) {
    const int64_t t = o.startNs + int64_t(i) * step;
    if (t < fromNs || t >= toNs) continue;
    const auto j = nlohmann::json::parse(sampleEvent(o, i, t));
    if (j.value("event_type", "") != "flow" || j.value("phase", "") != "verdict") continue;
    const std::string reason = j.value("reason", ""), action = j.value("action", "");
    const std::string base = reason.substr(0, reason.find(':'));
    const std::string detail = base.size() < reason.size() ? reason.substr(base.size() + 1) : "";
    const std::string service = j["policy"]["service"].is_string() ? j["policy"]["service"].get<std::string>() : "";
    if (base == "sni" && action == "allow") ++e.sniAllowed[service];
    if (base == "cert-probe") {
      ++e.probes[service];
      ++e.probeTotal;
    }
    if (action == "deny" && certReasons.count(base)) {
      CertFailures& f = e.failures[base];
      if (detail == "probe") ++f.probe;
      else if (detail == "probe-cache") ++f.probeCache;
      else ++f.passive;
    }
  }
  return e;
}

class Report : public ::testing::Test {
 protected:
  static SampleLogOptions sampleOptions(const ScratchDir& dir) {
    SampleLogOptions o = sampleLogIn(dir);
    o.events = 12000;
    o.startNs = at("2026-10-31T12:00:00Z");
    o.spanNs = 4 * 86400LL * 1000000000LL;
    o.segmentMaxBytes = 512 << 10;
    o.rareEvery = 5003;
    return o;
  }
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    ASSERT_TRUE(writeSampleLog(sampleOptions(*dir_)));
    auto cat = loadMeasures(LBG_MEASURES_YAML);
    ASSERT_TRUE(cat) << cat.error().toString();
    catalogue_ = new MeasureCatalogue(*cat);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete catalogue_;
  }
  static int64_t fromNs() { return at("2026-11-01T00:00:00+09:00"); }
  static int64_t toNs() { return at("2026-11-04T00:00:00+09:00"); }
  static ReportData build(const std::string& lang) {
    ReportOptions ro;
    ro.fromNs = fromNs();
    ro.toNs = toNs();
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
  // The sample's deny summaries (every 1499th event): reasons, sources, a flood source on top.
  EXPECT_GT(d.ddosTotal.records, 0u);
  EXPECT_GT(d.ddosSummaryByReason.at("flood").packets, d.ddosSummaryByReason.at("rate-limit").packets);
  ASSERT_FALSE(d.topDdosSources.empty());
  EXPECT_TRUE(d.topDdosSources[0].first.starts_with("203.0.113.")) << d.topDdosSources[0].first;
  EXPECT_GT(d.certByReason.size(), 0u);
  EXPECT_FALSE(d.lostCounters.empty());
}

// AP-CERT in the sample: SNI allowances and probes per service, refusals by reason and by how they
// were found out, probe statistics; the same figures in JSON, CSV and both HTML languages.
TEST_F(Report, CertificateSectionCountsTheSamplesChecks) {
  ReportData d = build("ja");
  const CertExpected e = certExpected(sampleOptions(*dir_), fromNs(), toNs());
  // The sample has them all: not a comparison of two empty tables.
  ASSERT_GT(e.probeTotal, 10u);
  ASSERT_GT(e.failures.at("cert-untrusted").probe, 0u);
  ASSERT_GT(e.failures.at("cert-untrusted").probeCache, 0u);
  ASSERT_GT(e.failures.at("cert-untrusted").passive, 0u);
  ASSERT_GT(e.failures.at("cert-probe-timeout").probe, 0u);
  EXPECT_EQ(d.certSniAllowed, e.sniAllowed);
  EXPECT_EQ(d.certProbesByService, e.probes);
  EXPECT_EQ(d.certProbes, e.probeTotal);
  ASSERT_EQ(d.certFailByReason.size(), e.failures.size());
  CertFailures total;
  for (const auto& [reason, f] : e.failures) {
    const CertFailures& got = d.certFailByReason.at(reason);
    EXPECT_EQ(got.passive, f.passive) << reason;
    EXPECT_EQ(got.probe, f.probe) << reason;
    EXPECT_EQ(got.probeCache, f.probeCache) << reason;
    EXPECT_EQ(got.proxy, 0u) << reason;
    total.merge(f);
  }
  EXPECT_EQ(d.certFailTotal.total(), total.total());
  // The sample probes two Exchange addresses, one SharePoint impostor and one Windows Update server.
  EXPECT_EQ(d.certProbeDestsByService.at("m365-exchange"), 2u);
  EXPECT_EQ(d.certProbeDestsByService.at("m365-sharepoint"), 1u);
  const CertProbeStats ps = d.certProbeStats();
  EXPECT_EQ(ps.probes, e.probeTotal);
  EXPECT_EQ(ps.timeouts, e.failures.at("cert-probe-timeout").total());
  EXPECT_EQ(ps.refusedByProbe, total.probe);
  EXPECT_EQ(ps.refusedByProbeCache, total.probeCache);
  EXPECT_EQ(ps.refusedPassive, total.passive);
  ASSERT_FALSE(d.topCertFailDest.empty());
  EXPECT_EQ(d.topCertFailDest[0].first, "198.51.100.66 (city-my.sharepoint.com)");  // probe and cache
  EXPECT_EQ(d.topCertFailDest[0].second,
            e.failures.at("cert-untrusted").probe + e.failures.at("cert-untrusted").probeCache);

  const auto j = nlohmann::json::parse(renderJson(d, *catalogue_));
  EXPECT_EQ(j["certificate_checks"]["probe_stats"]["probes"], e.probeTotal);
  EXPECT_EQ(j["certificate_checks"]["failures"]["by_reason"]["cert-untrusted"]["probe_cache"],
            e.failures.at("cert-untrusted").probeCache);
  EXPECT_EQ(j["certificate_checks"]["sni_allowed_by_service"]["m365-exchange"], e.sniAllowed.at("m365-exchange"));
  const std::string csv = renderCsv(d, *catalogue_);
  EXPECT_NE(csv.find("\"cert_probe_stats\",\"AP-CERT\",\"プローブ数\",,," + std::to_string(e.probeTotal) + ","),
            std::string::npos);
  EXPECT_NE(csv.find("\"cert_failure_reason\",\"AP-CERT\",\"cert-probe-timeout\",,"), std::string::npos);
  const std::string ja = renderHtml(d, *catalogue_);
  const size_t s = ja.find("<section id=\"AP-CERT\"");
  ASSERT_NE(s, std::string::npos);
  const std::string section = ja.substr(s, ja.find("</section>", s) - s);
  EXPECT_NE(section.find("証明書を確認した接続先（サービス別）"), std::string::npos);
  EXPECT_NE(section.find("<td>プローブ数</td><td class=\"n\">" + std::to_string(e.probeTotal) + "</td>"),
            std::string::npos);
  EXPECT_NE(section.find("信頼できない接続先証明書"), std::string::npos);  // the reason's label
  EXPECT_EQ(section.find("この期間のデータはありません"), std::string::npos);
  const std::string en = renderHtml(build("en"), *catalogue_);
  EXPECT_NE(en.find("Destinations verified by certificate (per service)"), std::string::npos);
  EXPECT_NE(en.find("<td>Probes</td><td class=\"n\">" + std::to_string(e.probeTotal) + "</td>"), std::string::npos);
  EXPECT_NE(en.find("certificate probe unanswered within its deadline"), std::string::npos);
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
    // The guard logs ddos records: its section says that none came, not that none can come.
    const char* none = std::string_view(id) == "AP-DDOS" ? "No ddos records in this period" : "No data in this period";
    EXPECT_NE(html.substr(s, e - s).find(none), std::string::npos) << id;
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
  // The summaries themselves: records, packets and intervals per reason and per source.
  EXPECT_EQ(d->ddosTotal.records, 2u);
  EXPECT_EQ(d->ddosTotal.packets, 50020u);
  EXPECT_EQ(d->ddosTotal.firstNs, at("2026-11-02T00:59:50Z"));
  EXPECT_EQ(d->ddosTotal.lastNs, at("2026-11-02T01:00:01Z"));
  EXPECT_EQ(d->ddosSummaryByReason.at("inbound").packets, 50000u);
  EXPECT_EQ(d->ddosSummaryByReason.at("rate-limit").bytes, 1200u);
  ASSERT_EQ(d->topDdosSources.size(), 2u);
  EXPECT_EQ(d->topDdosSources[0].first, "198.18.0.1");
  EXPECT_EQ(d->ddosSources, 2u);
}

std::string certFlow(const std::string& t, const std::string& action, const std::string& reason,
                     const std::string& service, const std::string& dest, const std::string& sni) {
  return R"({"timestamp":")" + t + R"(","event_type":"flow","phase":"verdict","src_ip":"10.1.0.5","src_port":40000,"dest_ip":")" +
         dest + R"(","dest_port":443,"proto":"TCP","app_proto":"tls","action":")" + action + R"(","reason":")" + reason +
         R"(","policy":{"version":3,"service":)" + (service.empty() ? std::string("null") : "\"" + service + "\"") +
         R"(},"tls":{"sni":")" + sni + R"("},"measure":")" + (reason == "sni" || reason == "no-match" ? "AP-DEST" : "AP-CERT") +
         R"("})";
}

// AP-CERT by hand: SNI allowances and probes per service and destination, refusals by reason and
// origin (passive, probe, probe cache, lbg-proxy), top service/SNI and destinations, probe figures.
TEST(ReportCert, VerifiedDestinationsFailuresAndProbes) {
  ScratchDir dir;
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  const std::string t = "2026-11-02T01:00:00.000000Z";
  const std::string ex = "outlook.office365.com", sp = "city-my.sharepoint.com", wu = "download.windowsupdate.com";
  {
    auto w = telemetry::LogWriter::create(cfg);
    ASSERT_TRUE(w);
    for (int i = 0; i < 3; ++i) (*w)->append(certFlow(t, "allow", "sni", "m365-exchange", "52.96.88.1", ex));
    (*w)->append(certFlow(t, "allow", "sni", "windows-update", "23.32.4.10", wu));
    (*w)->append(certFlow(t, "allow", "cert-probe", "m365-exchange", "52.96.88.1", ex));
    (*w)->append(certFlow(t, "allow", "cert-probe", "m365-exchange", "52.96.88.1", ex));
    (*w)->append(certFlow(t, "allow", "cert-probe", "m365-exchange", "52.96.88.2", ex));
    (*w)->append(certFlow(t, "allow", "cert-probe", "windows-update", "203.0.113.50", wu));
    (*w)->append(certFlow(t, "deny", "cert-name", "m365-exchange", "198.18.0.7", ex));
    (*w)->append(certFlow(t, "deny", "cert-untrusted:server-flight", "m365-exchange", "198.18.0.7", ex));
    (*w)->append(certFlow(t, "deny", "cert-untrusted:probe", "m365-sharepoint", "198.51.100.66", sp));
    (*w)->append(certFlow(t, "deny", "cert-untrusted:probe-cache", "m365-sharepoint", "198.51.100.66", sp));
    (*w)->append(certFlow(t, "deny", "cert-probe-timeout:probe", "windows-update", "203.0.113.50", wu));
    (*w)->append(certFlow(t, "deny", "cert-probe-failed:probe", "windows-update", "203.0.113.51", wu));
    (*w)->append(certFlow(t, "deny", "no-match", "", "198.18.0.9", "www.dropbox.com"));  // not AP-CERT
    (*w)->append(R"({"timestamp":"2026-11-02T01:00:01.000000Z","event_type":"tls","src_ip":"10.0.0.1","src_port":5,"proto":"TCP","dest_port":443,"action":"deny","reason":"cert-name","measure":"AP-CERT","tls":{"sni":"login.microsoft.com"}})");
    (*w)->close();
  }
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  ro.lang = "en";
  auto d = buildReport(cfg.dir, fixedKey().publicKey(), ro);
  ASSERT_TRUE(d) << d.error().toString();
  EXPECT_EQ(d->certSniAllowed, (std::map<std::string, uint64_t>{{"m365-exchange", 3}, {"windows-update", 1}}));
  EXPECT_EQ(d->certProbes, 4u);
  EXPECT_EQ(d->certProbesByService, (std::map<std::string, uint64_t>{{"m365-exchange", 3}, {"windows-update", 1}}));
  EXPECT_EQ(d->certProbeDestsByService.at("m365-exchange"), 2u);
  ASSERT_EQ(d->topCertProbes.size(), 3u);
  EXPECT_EQ(d->topCertProbes[0].service, "m365-exchange");
  EXPECT_EQ(d->topCertProbes[0].destination, "52.96.88.1 (outlook.office365.com)");
  EXPECT_EQ(d->topCertProbes[0].probes, 2u);
  const CertFailures& untrusted = d->certFailByReason.at("cert-untrusted");
  EXPECT_EQ(untrusted.passive, 1u);
  EXPECT_EQ(untrusted.probe, 1u);
  EXPECT_EQ(untrusted.probeCache, 1u);
  EXPECT_EQ(d->certFailByReason.at("cert-name").passive, 1u);
  EXPECT_EQ(d->certFailByReason.at("cert-name").proxy, 1u);
  EXPECT_EQ(d->certFailByReason.size(), 4u);  // untrusted, name, probe-timeout, probe-failed
  EXPECT_EQ(d->certFailTotal.total(), 7u);
  const CertProbeStats ps = d->certProbeStats();
  EXPECT_EQ(ps.probes, 4u);
  EXPECT_EQ(ps.refusedByProbe, 3u);
  EXPECT_EQ(ps.refusedByProbeCache, 1u);
  EXPECT_EQ(ps.refusedPassive, 2u);
  EXPECT_EQ(ps.refusedByProxy, 1u);
  EXPECT_EQ(ps.timeouts, 1u);
  EXPECT_EQ(ps.failed, 1u);
  ASSERT_EQ(d->topCertFailServiceSni.size(), 4u);
  EXPECT_EQ(d->topCertFailServiceSni[0], (std::pair<std::string, uint64_t>{"m365-exchange / outlook.office365.com", 2}));
  EXPECT_EQ(d->topCertFailServiceSni[3].first, "- / login.microsoft.com");  // lbg-proxy's, no service
  ASSERT_FALSE(d->topCertFailDest.empty());
  EXPECT_EQ(d->topCertFailDest[0], (std::pair<std::string, uint64_t>{"198.18.0.7 (outlook.office365.com)", 2}));

  auto cat = loadMeasures(LBG_MEASURES_YAML);
  ASSERT_TRUE(cat) << cat.error().toString();
  const auto j = nlohmann::json::parse(renderJson(*d, *cat));
  EXPECT_EQ(j["certificate_checks"]["probe_stats"]["refused_by_probe"], 3u);
  EXPECT_EQ(j["certificate_checks"]["failures"]["by_reason"]["cert-untrusted"]["total"], 3u);
  EXPECT_EQ(j["certificate_checks"]["top_probed"][0]["probes"], 2u);
  const std::string csv = renderCsv(*d, *cat);
  EXPECT_NE(csv.find("\"cert_verified_service\",\"AP-CERT\",\"m365-exchange\",3,,3,\"2 "), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"cert_failure_reason\",\"AP-CERT\",\"cert-untrusted\",,3,,\"Passive check 1, Probe 1, "),
            std::string::npos) << csv;
  const std::string html = renderHtml(*d, *cat);
  EXPECT_NE(html.find("<td>Refused by a probe</td><td class=\"n\">3</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>Probe timeouts (cert-probe-timeout)</td><td class=\"n\">1</td>"), std::string::npos);
  EXPECT_NE(html.find("server certificate not trusted"), std::string::npos);
  ReportData ja = *d;
  ja.opt.lang = "ja";
  const std::string jaHtml = renderHtml(ja, *cat);
  EXPECT_NE(jaHtml.find("証明書の検証失敗による拒否（理由別）"), std::string::npos);
  EXPECT_NE(jaHtml.find("<td>プローブによる拒否</td><td class=\"n\">3</td>"), std::string::npos);
}

// Writes `ddos` records (one source and reason per interval) and builds the report over them.
Result<ReportData> ddosReport(ScratchDir& dir, const std::vector<std::string>& records, size_t topN = 10,
                              const std::string& lang = "ja") {
  telemetry::LogConfig cfg;
  cfg.dir = dir.path() + "/log";
  cfg.keyFile = dir.path() + "/k";
  cfg.applianceId = "gw";
  fixedKey().writePem(cfg.keyFile);
  {
    auto w = telemetry::LogWriter::create(cfg);
    if (!w) return w.error();
    for (const auto& r : records) (*w)->append(r);
    (*w)->close();
  }
  ReportOptions ro;
  ro.fromNs = at("2026-11-01T00:00:00Z");
  ro.toNs = at("2026-11-03T00:00:00Z");
  ro.tzMinutes = 0;
  ro.topN = topN;
  ro.lang = lang;
  return buildReport(cfg.dir, fixedKey().publicKey(), ro);
}

std::string ddosRecord(const std::string& t, const std::string& src, const std::string& reason, uint64_t packets,
                       const std::string& start, const std::string& end) {
  return R"({"timestamp":")" + t + R"(","event_type":"ddos","src_ip":")" + src +
         R"(","src_port":0,"dest_ip":"10.1.0.10","dest_port":0,"proto":"UDP","action":"deny","reason":")" + reason +
         R"(","ddos":{"packets":)" + std::to_string(packets) + R"(,"bytes":)" + std::to_string(packets * 60) +
         R"(,"start":")" + start + R"(","end":")" + end + R"("},"measure":"AP-DDOS"})";
}

// Several intervals of several sources: per reason and per source the records, packets and the
// span of the intervals; the top sources by packets, cut at topN; the sections in JSON/CSV/HTML.
TEST(ReportDdos, SummariesPerReasonAndTopSources) {
  ScratchDir dir;
  const std::vector<std::string> recs = {
      ddosRecord("2026-11-02T01:00:10.000000Z", "10.1.0.66", "rate-limit", 300, "2026-11-02T01:00:00.000000Z",
                 "2026-11-02T01:00:09.000000Z"),
      ddosRecord("2026-11-02T01:00:20.000000Z", "10.1.0.66", "rate-limit", 200, "2026-11-02T01:00:10.000000Z",
                 "2026-11-02T01:00:19.000000Z"),
      ddosRecord("2026-11-02T01:00:20.000000Z", "10.1.0.66", "flow-limit", 5, "2026-11-02T01:00:12.000000Z",
                 "2026-11-02T01:00:13.000000Z"),
      ddosRecord("2026-11-02T02:00:10.000000Z", "198.18.0.9", "flood", 90000, "2026-11-02T02:00:00.000000Z",
                 "2026-11-02T02:00:09.000000Z"),
      ddosRecord("2026-11-02T03:00:10.000000Z", "10.1.0.7", "table-full", 1, "2026-11-02T03:00:01.000000Z",
                 "2026-11-02T03:00:01.000000Z"),
      // Outside the period: not counted.
      ddosRecord("2026-11-04T00:00:10.000000Z", "10.1.0.99", "flood", 7, "2026-11-04T00:00:00.000000Z",
                 "2026-11-04T00:00:09.000000Z"),
  };
  auto d = ddosReport(dir, recs, 2);
  ASSERT_TRUE(d) << d.error().toString();
  EXPECT_EQ(d->ddosTotal.records, 5u);
  EXPECT_EQ(d->ddosTotal.packets, 90506u);
  const DdosSummary& rate = d->ddosSummaryByReason.at("rate-limit");
  EXPECT_EQ(rate.records, 2u);
  EXPECT_EQ(rate.packets, 500u);
  EXPECT_EQ(rate.firstNs, at("2026-11-02T01:00:00Z"));
  EXPECT_EQ(rate.lastNs, at("2026-11-02T01:00:19Z"));
  EXPECT_EQ(d->ddosSummaryByReason.at("flow-limit").packets, 5u);
  EXPECT_EQ(d->ddosSummaryByReason.at("flood").packets, 90000u);
  EXPECT_EQ(d->ddosSummaryByReason.at("table-full").records, 1u);
  EXPECT_EQ(d->ddosSummaryByReason.size(), 4u);
  EXPECT_EQ(d->ddosSources, 3u);
  ASSERT_EQ(d->topDdosSources.size(), 2u);  // topN
  EXPECT_EQ(d->topDdosSources[0].first, "198.18.0.9");
  EXPECT_EQ(d->topDdosSources[1].first, "10.1.0.66");
  EXPECT_EQ(d->topDdosSources[1].second.records, 3u);
  EXPECT_EQ(d->topDdosSources[1].second.packets, 505u);
  EXPECT_EQ(d->topDdosSources[1].second.firstNs, at("2026-11-02T01:00:00Z"));
  EXPECT_EQ(d->topDdosSources[1].second.lastNs, at("2026-11-02T01:00:19Z"));

  auto cat = loadMeasures(LBG_MEASURES_YAML);
  ASSERT_TRUE(cat) << cat.error().toString();
  const auto j = nlohmann::json::parse(renderJson(*d, *cat));
  EXPECT_EQ(j["ddos_summaries"]["total"]["packets"], 90506u);
  EXPECT_EQ(j["ddos_summaries"]["by_reason"]["rate-limit"]["records"], 2u);
  EXPECT_EQ(j["ddos_summaries"]["by_reason"]["rate-limit"]["first"], "2026-11-02T01:00:00Z");
  EXPECT_EQ(j["ddos_summaries"]["top_sources"][0]["source"], "198.18.0.9");
  const std::string csv = renderCsv(*d, *cat);
  EXPECT_NE(csv.find("\"ddos_summary_reason\",\"AP-DDOS\",\"rate-limit\",,,2,\"500 "), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"ddos_top_source\",\"AP-DDOS\",\"198.18.0.9\",,,1,\"90000 "), std::string::npos);
  const std::string html = renderHtml(*d, *cat);
  EXPECT_NE(html.find("DDoS 防御による拒否の集約記録"), std::string::npos);
  EXPECT_NE(html.find("90,000"), std::string::npos);
  EXPECT_NE(html.find("送信元の新規フロー数の上限超過"), std::string::npos);  // the reason's label
  EXPECT_EQ(html.find("この期間に ddos 記録はありません"), std::string::npos);
  auto en = ddosReport(dir, {}, 2, "en");  // the same log again (nothing appended)
  ASSERT_TRUE(en) << en.error().toString();
  const std::string enHtml = renderHtml(*en, *cat);
  EXPECT_NE(enHtml.find("Top sources of summarised denials"), std::string::npos);
  EXPECT_NE(enHtml.find("source over its new-flow rate"), std::string::npos);
}

// No ddos record in the period: the section says so in words (JSON zeros, CSV row, HTML text).
TEST(ReportDdos, NoSummariesIsStatedNotOmitted) {
  ScratchDir dir;
  auto d = ddosReport(dir, {R"({"timestamp":"2026-11-02T01:00:00.000000Z","event_type":"admin","admin":{"user":"a","action":"x","result":"ok"},"measure":"AP-PRIV"})"});
  ASSERT_TRUE(d) << d.error().toString();
  EXPECT_EQ(d->ddosTotal.records, 0u);
  EXPECT_TRUE(d->topDdosSources.empty());
  auto cat = loadMeasures(LBG_MEASURES_YAML);
  ASSERT_TRUE(cat) << cat.error().toString();
  const auto j = nlohmann::json::parse(renderJson(*d, *cat));
  EXPECT_EQ(j["ddos_summaries"]["total"]["records"], 0u);
  EXPECT_TRUE(j["ddos_summaries"]["top_sources"].empty());
  EXPECT_NE(renderCsv(*d, *cat).find("\"ddos_summary\",\"AP-DDOS\",\"なし\",,,0,"), std::string::npos);
  const std::string html = renderHtml(*d, *cat);
  const size_t section = html.find("(AP-DDOS)");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("この期間に ddos 記録はありません", section), std::string::npos);
  ReportData enData = *d;
  enData.opt.lang = "en";
  EXPECT_NE(renderHtml(enData, *cat).find("No ddos records in this period"), std::string::npos);
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

// An HA pair: each box writes its own log (its own key and hash chain). The report over both
// verifies each chain on its own, says per box which verified, sums the evidence and lists the
// boxes' events merged by time, each naming its box.
class ReportPair : public ::testing::Test {
 protected:
  // Box `id` logs a flow verdict and an admin record at each of `times` (RFC 3339, UTC).
  static std::string writeBox(const ScratchDir& dir, const std::string& id, char seed,
                              std::initializer_list<const char*> times) {
    telemetry::LogConfig cfg;
    cfg.dir = dir.path() + "/" + id;
    cfg.keyFile = dir.path() + "/" + id + ".key";
    cfg.applianceId = id;
    telemetry::logfmt::SigningKey::fromSeed(std::string(32, seed))->writePem(cfg.keyFile);
    auto w = telemetry::LogWriter::create(cfg);
    EXPECT_TRUE(w);
    for (const char* t : times) {
      (*w)->append(std::string(R"({"timestamp":")") + t +
                   R"(","event_type":"flow","phase":"verdict","action":"allow","policy":{"service":"web"}})");
      (*w)->append(std::string(R"({"timestamp":")") + t +
                   R"(","event_type":"admin","admin":{"user":"0","role":"admin","action":"ha.role","args":"active","result":"ok"}})");
    }
    (*w)->close();
    return cfg.dir;
  }
  static telemetry::logfmt::VerifyKey keyOf(char seed) {
    return telemetry::logfmt::SigningKey::fromSeed(std::string(32, seed))->publicKey();
  }
  void SetUp() override {
    a_ = writeBox(dir_, "lbg-a", 'A', {"2026-11-02T01:00:00.000000Z", "2026-11-02T03:00:00.000000Z"});
    b_ = writeBox(dir_, "lbg-b", 'B', {"2026-11-02T02:00:00.000000Z", "2026-11-02T04:00:00.000000Z",
                                       "2026-11-02T05:00:00.000000Z"});
    ro_.fromNs = at("2026-11-01T00:00:00Z");
    ro_.toNs = at("2026-11-03T00:00:00Z");
  }
  ScratchDir dir_;
  std::string a_, b_;
  ReportOptions ro_;
};

TEST_F(ReportPair, EachChainIsVerifiedOnItsOwnAndTheEventsMergedByTime) {
  auto d = buildReport({{a_, keyOf('A')}, {b_, keyOf('B')}}, ro_);
  ASSERT_TRUE(d) << d.error().toString();
  EXPECT_TRUE(d->integrityOk);
  ASSERT_EQ(d->boxes.size(), 2u);
  EXPECT_EQ(d->boxes[0].appliance, "lbg-a");
  EXPECT_EQ(d->boxes[1].appliance, "lbg-b");
  EXPECT_TRUE(d->boxes[0].ok && d->boxes[1].ok);
  EXPECT_EQ(d->boxes[0].keyId, keyOf('A').keyId());
  EXPECT_EQ(d->appliance, "lbg-a, lbg-b");
  EXPECT_EQ(d->integrityRecords, d->boxes[0].records + d->boxes[1].records);
  EXPECT_EQ(d->flows.allowed, 5u);
  EXPECT_EQ(d->adminTotal, 5u);
  std::vector<std::string> order;
  for (const auto& a : d->adminActions) order.push_back(a["appliance"].get<std::string>());
  EXPECT_EQ(order, (std::vector<std::string>{"lbg-a", "lbg-b", "lbg-a", "lbg-b", "lbg-b"}));
  const auto j = d->toJson();
  ASSERT_EQ(j["integrity"]["boxes"].size(), 2u);
  EXPECT_EQ(j["integrity"]["boxes"][1]["appliance"], "lbg-b");
  // One box alone: no per-box list (the report as before).
  auto one = buildReport(a_, keyOf('A'), ro_);
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->boxes.empty());
  EXPECT_FALSE(one->toJson()["integrity"].contains("boxes"));
  EXPECT_FALSE(one->adminActions[0].contains("appliance"));
}

TEST_F(ReportPair, ABrokenChainIsNamedWithItsBoxAndTheOtherStillVerifies) {
  const std::string seg = b_ + "/seg-0000000001.jsonl";
  std::string data = slurp(seg);
  data[data.find("allow")] = 'A';
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << data;
  auto d = buildReport({{a_, keyOf('A')}, {b_, keyOf('B')}}, ro_);
  ASSERT_TRUE(d) << d.error().toString();
  EXPECT_FALSE(d->integrityOk);
  ASSERT_EQ(d->boxes.size(), 2u);
  EXPECT_TRUE(d->boxes[0].ok);
  EXPECT_FALSE(d->boxes[1].ok);
  EXPECT_EQ(d->integrityFirstBreak.rfind("lbg-b: ", 0), 0u) << d->integrityFirstBreak;
  // A box's log checked with the other's key does not verify: the keys are the boxes' own.
  auto swapped = buildReport({{a_, keyOf('B')}, {b_, keyOf('B')}}, ro_);
  ASSERT_TRUE(swapped);
  EXPECT_FALSE(swapped->boxes[0].ok);
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
