#include <algorithm>
#include <cstdio>
#include <sstream>

#include "dataplane/telemetry/log/time_format.h"
#include "tools/audit/i18n.h"
#include "tools/audit/report.h"

namespace lbg::audit {

using nlohmann::json;
using telemetry::MeasureId;

namespace {

std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

std::string num(uint64_t n) {
  std::string s = std::to_string(n), o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) o.push_back(',');
    o.push_back(s[i]);
  }
  return o;
}

std::string jstr(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Record timestamps are UTC; the report shows them in the chosen local offset.
std::string localTime(const std::string& ts, int tz) {
  auto t = telemetry::logfmt::parseRfc3339(ts);
  return t ? telemetry::logfmt::formatRfc3339(*t, tz, false) : ts;
}

// A listed event's local time; with several boxes' logs, the box that logged it after it.
std::string eventTime(const json& a, int tz) {
  const std::string t = localTime(jstr(a, "timestamp"), tz);
  return a.contains("appliance") ? t + " (" + jstr(a, "appliance") + ")" : t;
}

std::string measureName(const MeasureCatalogue& cat, const std::string& id, const std::string& lang) {
  const Measure* m = cat.find(id);
  if (m == nullptr) return id;
  return lang == "en" ? m->en : m->ja;
}

std::string measureLevel(const MeasureCatalogue& cat, const std::string& id) {
  const Measure* m = cat.find(id);
  if (m == nullptr) return "";
  std::string s;
  for (const char* c : {"A", "B", "C"}) {
    auto it = m->level.find(c);
    if (!s.empty()) s += " / ";
    s += std::string(c) + ":" + (it == m->level.end() ? "-" : it->second);
  }
  return s;
}

// ---- SVG charts: plain shapes and text, no script, so the file renders anywhere. ----

std::string dailyChart(const ReportData& d, const std::string& lang) {
  const int W = 720, H = 240, left = 60, right = 10, top = 20, bottom = 40;
  uint64_t maxV = 1;
  for (const auto& [day, c] : d.daily) maxV = std::max(maxV, c.allowed + c.denied);
  size_t n = std::max<size_t>(d.daily.size(), 1);
  double slot = double(W - left - right) / double(n);
  double bw = std::max(1.0, slot * 0.7);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " << W << " " << H
    << "\" width=\"" << W << "\" height=\"" << H << "\" role=\"img\" aria-label=\""
    << esc(tr(lang, "daily")) << "\">";
  o << "<line x1=\"" << left << "\" y1=\"" << H - bottom << "\" x2=\"" << W - right << "\" y2=\""
    << H - bottom << "\" stroke=\"#444\"/>";
  for (int i = 0; i <= 4; ++i) {
    double y = H - bottom - (H - top - bottom) * i / 4.0;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.0f", y);
    o << "<line x1=\"" << left << "\" y1=\"" << buf << "\" x2=\"" << W - right << "\" y2=\"" << buf
      << "\" stroke=\"#ddd\"/><text x=\"" << left - 4 << "\" y=\"" << buf
      << "\" font-size=\"10\" text-anchor=\"end\">" << num(maxV * i / 4) << "</text>";
  }
  size_t i = 0;
  size_t labelEvery = std::max<size_t>(1, n / 10);
  for (const auto& [day, c] : d.daily) {
    double x = left + slot * double(i) + (slot - bw) / 2;
    double ha = double(H - top - bottom) * double(c.allowed) / double(maxV);
    double hd = double(H - top - bottom) * double(c.denied) / double(maxV);
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2e7d32\"/>"
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c62828\"/>",
                  x, H - bottom - ha, bw, ha, x, H - bottom - ha - hd, bw, hd);
    o << buf;
    if (i % labelEvery == 0) {
      std::snprintf(buf, sizeof(buf), "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">",
                    x + bw / 2, H - bottom + 14);
      o << buf << esc(day.substr(5)) << "</text>";
    }
    ++i;
  }
  o << "<rect x=\"" << left << "\" y=\"" << H - 16 << "\" width=\"10\" height=\"10\" fill=\"#2e7d32\"/>"
    << "<text x=\"" << left + 14 << "\" y=\"" << H - 7 << "\" font-size=\"11\">" << esc(tr(lang, "allowed"))
    << "</text><rect x=\"" << left + 90 << "\" y=\"" << H - 16
    << "\" width=\"10\" height=\"10\" fill=\"#c62828\"/><text x=\"" << left + 104 << "\" y=\"" << H - 7
    << "\" font-size=\"11\">" << esc(tr(lang, "denied")) << "</text></svg>";
  return o.str();
}

std::string barChart(const std::vector<std::pair<std::string, uint64_t>>& rows, const std::string& label) {
  const int W = 720, rowH = 22, left = 220, right = 80;
  int H = int(rows.size()) * rowH + 10;
  uint64_t maxV = 1;
  for (const auto& [k, v] : rows) maxV = std::max(maxV, v);
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " << W << " " << H
    << "\" width=\"" << W << "\" height=\"" << H << "\" role=\"img\" aria-label=\"" << esc(label) << "\">";
  int y = 5;
  for (const auto& [k, v] : rows) {
    double w = double(W - left - right) * double(v) / double(maxV);
    char buf[200];
    std::snprintf(buf, sizeof(buf), "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#c62828\"/>",
                  left, y + 3, w, rowH - 6);
    o << "<text x=\"" << left - 6 << "\" y=\"" << y + 15 << "\" font-size=\"11\" text-anchor=\"end\">"
      << esc(k.size() > 34 ? k.substr(0, 33) + "…" : k) << "</text>" << buf;
    std::snprintf(buf, sizeof(buf), "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">", left + w + 4, y + 15);
    o << buf << num(v) << "</text>";
    y += rowH;
  }
  o << "</svg>";
  return o.str();
}

template <class Map>
std::vector<std::pair<std::string, uint64_t>> sortedByCount(const Map& m, size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

class Html {
 public:
  explicit Html(const std::string& lang) : lang_(lang) {}
  const char* t(const char* k) const { return tr(lang_, k); }
  void raw(const std::string& s) { o_ << s; }
  void h2(const std::string& id, const std::string& text) {
    o_ << "<section id=\"" << esc(id) << "\"><h2>" << esc(text) << "</h2>\n";
  }
  void endSection() { o_ << "</section>\n"; }
  void h3(const std::string& text) { o_ << "<h3>" << esc(text) << "</h3>\n"; }
  void p(const std::string& text, const char* cls = nullptr) {
    o_ << "<p" << (cls ? std::string(" class=\"") + cls + "\"" : "") << ">" << esc(text) << "</p>\n";
  }
  void noData() { p(t("no_data"), "nodata"); }
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
             const std::vector<bool>& numeric = {}) {
    o_ << "<table><thead><tr>";
    for (const auto& h : head) o_ << "<th>" << esc(h) << "</th>";
    o_ << "</tr></thead><tbody>\n";
    for (const auto& r : rows) {
      o_ << "<tr>";
      for (size_t i = 0; i < r.size(); ++i)
        // An empty cell reads as "not recorded" (a service without an ISMAP id), not as a gap in
        // the page: the auditor sees a dash.
        o_ << (i < numeric.size() && numeric[i] ? "<td class=\"n\">" : "<td>")
           << (r[i].empty() ? std::string("\u2014") : esc(r[i])) << "</td>";
      o_ << "</tr>\n";
    }
    o_ << "</tbody></table>\n";
  }
  template <class Map>
  void countTable(const char* keyHead, const Map& m, size_t n = 1000) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : sortedByCount(m, n)) rows.push_back({k.empty() ? "-" : k, num(v)});
    table({t(keyHead), t("count")}, rows, {false, true});
  }
  std::string str() const { return o_.str(); }

 private:
  std::string lang_;
  std::ostringstream o_;
};

constexpr const char* kCss = R"(
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Yu Gothic",sans-serif;color:#222;margin:24px;max-width:1000px;font-size:13px;line-height:1.5}
h1{font-size:20px;border-bottom:3px solid #1a4d8f;padding-bottom:6px}
h2{font-size:16px;background:#1a4d8f;color:#fff;padding:4px 8px;margin-top:28px}
h3{font-size:14px;border-left:4px solid #1a4d8f;padding-left:6px}
table{border-collapse:collapse;margin:6px 0 12px;min-width:50%}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef2f8}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1b5e20;font-weight:bold}.broken{color:#b71c1c;font-weight:bold}
.nodata{color:#555;font-style:italic;background:#f4f4f4;padding:6px}
.meta td:first-child{background:#eef2f8;width:14em}
.chart{max-width:100%;height:auto}
section{page-break-inside:auto}
h2,h3{page-break-after:avoid}
@page{size:A4;margin:14mm}
@media print{body{margin:0}}
)";

}  // namespace

std::string renderJson(const ReportData& d, const MeasureCatalogue& cat) {
  json j = d.toJson();
  json measures = json::array();
  for (const auto& id : reportMeasureIds()) {
    auto it = d.perMeasure.find(id);
    uint64_t n = it == d.perMeasure.end() ? 0 : it->second;
    if (id == measureIdText(MeasureId::Log)) n += 0;
    measures.push_back({{"id", id},
                        {"name", measureName(cat, id, d.opt.lang)},
                        {"level", measureLevel(cat, id)},
                        {"events", n},
                        {"no_data", n == 0 && id != measureIdText(MeasureId::Log)}});
  }
  j["measures"] = measures;
  j["lang"] = d.opt.lang;
  return j.dump(2) + "\n";
}

template <class Row>
static void certCsvRows(const ReportData& d, Row& row);

std::string renderCsv(const ReportData& d, const MeasureCatalogue& cat) {
  const std::string& L = d.opt.lang;
  std::ostringstream o;
  o << "\xEF\xBB\xBF";  // UTF-8 BOM: spreadsheets then read Japanese text correctly
  auto field = [](std::string s) {
    // A cell starting with = + - @ would run as a formula in a spreadsheet: neutralise it.
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') &&
        s != "-")
      s = "'" + s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  auto row = [&](const std::string& section, const std::string& measure, const std::string& item,
                 const std::string& allowed, const std::string& denied, const std::string& count,
                 const std::string& detail) {
    o << field(section) << ',' << field(measure) << ',' << field(item) << ',' << allowed << ','
      << denied << ',' << count << ',' << field(detail) << "\r\n";
  };
  o << field(tr(L, "section")) << ',' << field(tr(L, "measure")) << ',' << field(tr(L, "item")) << ','
    << field(tr(L, "allowed")) << ',' << field(tr(L, "denied")) << ',' << field(tr(L, "count")) << ','
    << field(tr(L, "detail")) << "\r\n";
  json j = d.toJson();
  row("meta", "", tr(L, "appliance"), "", "", "", d.appliance);
  row("meta", "", tr(L, "period"), "", "", "",
      jstr(j["period"], "from") + " / " + jstr(j["period"], "to"));
  row("meta", "", tr(L, "generated"), "", "", "", jstr(j, "generated_at"));
  row("meta", "", tr(L, "key"), "", "", "", d.keyId);
  row("integrity", measureIdText(MeasureId::Log), tr(L, "integrity"), "", "", std::to_string(d.integrityRecords),
      d.integrityOk ? tr(L, "ok") : std::string(tr(L, "broken")) + ": " + d.integrityFirstBreak);
  for (const auto& b : d.boxes)  // several logs: each box's chain
    row("integrity_box", measureIdText(MeasureId::Log), std::string(tr(L, "integrity")) + ": " + b.appliance, "",
        "", std::to_string(b.records), b.ok ? tr(L, "ok") : std::string(tr(L, "broken")) + ": " + b.firstBreak);
  for (const auto& id : reportMeasureIds()) {
    auto it = d.perMeasure.find(id);
    uint64_t n = it == d.perMeasure.end() ? 0 : it->second;
    row("measure", id, measureName(cat, id, L), "", "", std::to_string(n),
        n == 0 && id != measureIdText(MeasureId::Log) ? tr(L, "no_data") : "");
  }
  for (const auto& [svc, c] : d.byService)
    row("service", measureIdText(MeasureId::Dest), svc.empty() ? tr(L, "no_service") : svc, std::to_string(c.allowed),
        std::to_string(c.denied), "", "");
  for (const auto& [r, n] : d.deniedByReason) row("denied_reason", measureIdText(MeasureId::Dest), r, "", "", std::to_string(n), "");
  for (const auto& [day, c] : d.daily)
    row("daily", measureIdText(MeasureId::Dest), day, std::to_string(c.allowed), std::to_string(c.denied), "", "");
  for (const auto& [k, n] : d.topDeniedDest) row("top_denied_destination", measureIdText(MeasureId::Dest), k, "", "", std::to_string(n), "");
  for (const auto& [k, n] : d.topDeniedSrc) row("top_denied_source", measureIdText(MeasureId::Dest), k, "", "", std::to_string(n), "");
  auto policyRows = [&](const json& p) {
    row("policy", measureIdText(MeasureId::Procedure), jstr(p, "version"), "", "", "",
        localTime(jstr(p, "timestamp"), d.opt.tzMinutes) + " " + tr(L, "author") + "=" + jstr(p, "author") +
            " " + tr(L, "approver") + "=" + jstr(p, "approver") + " " + jstr(p, "message"));
    for (const auto& s : p["services"])
      row("service_ismap", measureIdText(MeasureId::Dest), jstr(s, "name"), "", "", "",
          jstr(s, "kind") + " ISMAP " + jstr(s, "ismap_id") + " " + jstr(s, "ismap_expires"));
  };
  if (d.policyInForceAtStart.is_object()) policyRows(d.policyInForceAtStart);
  for (const auto& p : d.policyVersions) policyRows(p);
  for (const auto& [k, n] : d.certByReason) row("certificate", measureIdText(MeasureId::Cert), k, "", "", std::to_string(n), "");
  certCsvRows(d, row);
  for (const auto& [k, n] : d.tenantByAction) row("tenant", measureIdText(MeasureId::Tenant), k, "", "", std::to_string(n), "");
  for (const auto& [k, n] : d.fileByResult) row("sanitization", measureIdText(MeasureId::Sanitize), k, "", "", std::to_string(n), "");
  for (const auto& [k, n] : d.idsBySignature) row("ids", measureIdText(MeasureId::Ids), k, "", "", std::to_string(n), "");
  for (const auto& [k, n] : d.ddosByReason) row("ddos", measureIdText(MeasureId::Ddos), k, "", "", std::to_string(n), "");
  // The guard's deny summaries: "none" stated, so an empty period is not a missing row.
  auto span = [&](const DdosSummary& s) {
    return (s.firstNs ? telemetry::logfmt::formatRfc3339(s.firstNs, d.opt.tzMinutes, false) : "") + ".." +
           (s.lastNs ? telemetry::logfmt::formatRfc3339(s.lastNs, d.opt.tzMinutes, false) : "");
  };
  auto ddosNote = [&](const DdosSummary& s) {
    return std::to_string(s.packets) + " " + tr(L, "packets") + ", " + span(s);
  };
  if (d.ddosTotal.records == 0) {
    row("ddos_summary", measureIdText(MeasureId::Ddos), tr(L, "none"), "", "", "0", tr(L, "ddos_none"));
  } else {
    row("ddos_summary", measureIdText(MeasureId::Ddos), "total", "", "", std::to_string(d.ddosTotal.records),
        ddosNote(d.ddosTotal));
    for (const auto& [k, s] : d.ddosSummaryByReason)
      row("ddos_summary_reason", measureIdText(MeasureId::Ddos), k, "", "", std::to_string(s.records), ddosNote(s));
    for (const auto& [k, s] : d.topDdosSources)
      row("ddos_top_source", measureIdText(MeasureId::Ddos), k, "", "", std::to_string(s.records), ddosNote(s));
  }
  for (const auto& a : d.adminActions)
    row("admin", measureIdText(MeasureId::Priv), eventTime(a, d.opt.tzMinutes), "", "", "",
        jstr(a, "user") + " (" + jstr(a, "role") + ") " + jstr(a, "action") + " " + jstr(a, "args") + " → " +
            jstr(a, "result"));
  for (const auto& [k, n] : d.alarmsByKind) row("alarm", measureIdText(MeasureId::Log), k, "", "", std::to_string(n), "");
  row("writer_lost", measureIdText(MeasureId::Log), tr(L, "writer_lost"), "", "", std::to_string(d.writerLost), "");
  for (const auto& [k, n] : d.lostCounters) row("lost_counter", measureIdText(MeasureId::Log), k, "", "", std::to_string(n), "");
  for (const auto& r : d.retained)
    row("retention", measureIdText(MeasureId::Log), "segment " + std::to_string(r.segment), "", "", std::to_string(r.records),
        "seq " + std::to_string(r.firstSeq) + ".." + std::to_string(r.lastSeq) + " " + r.reason);
  return o.str();
}

namespace {

std::string serviceName(const std::string& svc, const std::string& lang) {
  return svc.empty() ? tr(lang, "no_service") : svc;
}

std::string reasonLabel(const std::string& name, const std::string& lang) {
  const telemetry::ReasonInfo* info = telemetry::findReason(name);
  return info == nullptr ? name : name + " (" + std::string(lang == "en" ? info->en : info->ja) + ")";
}

// Every service seen allowed by SNI or probed, in name order.
std::vector<std::string> certServices(const ReportData& d) {
  std::map<std::string, bool> names;
  for (const auto& [k, n] : d.certSniAllowed) names[k] = true;
  for (const auto& [k, n] : d.certProbesByService) names[k] = true;
  std::vector<std::string> v;
  for (const auto& [k, b] : names) v.push_back(k);
  return v;
}

uint64_t valueOr0(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

// AP-CERT rows of the CSV: verified destinations, refusals by reason and origin, probe figures.
template <class Row>
static void certCsvRows(const ReportData& d, Row& row) {
  const std::string& L = d.opt.lang;
  const std::string& id = measureIdText(MeasureId::Cert);
  for (const auto& svc : certServices(d))
    row("cert_verified_service", id, serviceName(svc, L), std::to_string(valueOr0(d.certSniAllowed, svc)), "",
        std::to_string(valueOr0(d.certProbesByService, svc)),
        std::to_string(valueOr0(d.certProbeDestsByService, svc)) + " " + tr(L, "probed_destinations"));
  for (const auto& r : d.topCertProbes)
    row("cert_probe_destination", id, serviceName(r.service, L) + " " + r.destination, "", "",
        std::to_string(r.probes), "");
  auto origins = [&](const CertFailures& c) {
    return std::string(tr(L, "passive")) + " " + std::to_string(c.passive) + ", " + tr(L, "probe") + " " +
           std::to_string(c.probe) + ", " + tr(L, "probe_cache") + " " + std::to_string(c.probeCache) + ", " +
           tr(L, "proxy") + " " + std::to_string(c.proxy);
  };
  for (const auto& [k, c] : d.certFailByReason)
    row("cert_failure_reason", id, k, "", std::to_string(c.total()), "", origins(c));
  for (const auto& [k, n] : d.topCertFailServiceSni)
    row("cert_failure_service_sni", id, k, "", std::to_string(n), "", "");
  for (const auto& [k, n] : d.topCertFailDest) row("cert_failure_destination", id, k, "", std::to_string(n), "", "");
  const CertProbeStats ps = d.certProbeStats();
  for (const auto& [key, n] : std::vector<std::pair<const char*, uint64_t>>{
           {"probes", ps.probes},
           {"refused_by_probe", ps.refusedByProbe},
           {"refused_by_probe_cache", ps.refusedByProbeCache},
           {"refused_passive", ps.refusedPassive},
           {"refused_by_proxy", ps.refusedByProxy},
           {"probe_timeouts", ps.timeouts},
           {"probe_failed", ps.failed}})
    row("cert_probe_stats", id, tr(L, key), "", "", std::to_string(n), "");
}

// AP-CERT: destinations verified per service (flows allowed by SNI, the appliance's probes),
// refusals by reason and by how the certificate was seen, per service/SNI and destination, and
// the probe figures. A period without any AP-CERT record or SNI allowance says "no data".
static void certSection(Html& h, const ReportData& d, const MeasureCatalogue& cat) {
  const std::string& L = d.opt.lang;
  const std::string& id = measureIdText(MeasureId::Cert);
  h.h2(id, measureName(cat, id, L) + " (" + id + ")");
  if (d.certByReason.empty() && d.certSniAllowed.empty() && d.certProbes == 0 && d.certFailTotal.total() == 0) {
    h.noData();
    h.endSection();
    return;
  }
  h.h3(tr(L, "cert_verified"));
  h.p(tr(L, "cert_verified_note"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& svc : certServices(d))
    rows.push_back({serviceName(svc, L), num(valueOr0(d.certSniAllowed, svc)), num(valueOr0(d.certProbesByService, svc)),
                    num(valueOr0(d.certProbeDestsByService, svc))});
  if (rows.empty()) h.p(tr(L, "none"));
  else h.table({tr(L, "service"), tr(L, "sni_allowed"), tr(L, "probes"), tr(L, "probed_destinations")}, rows,
               {false, true, true, true});
  h.h3(tr(L, "cert_top_probed"));
  rows.clear();
  for (const auto& r : d.topCertProbes) rows.push_back({serviceName(r.service, L), r.destination, num(r.probes)});
  if (rows.empty()) h.p(tr(L, "none"));
  else h.table({tr(L, "service"), tr(L, "destination"), tr(L, "probes")}, rows, {false, false, true});

  h.h3(tr(L, "cert_failures"));
  if (d.certFailTotal.total() == 0) {
    h.p(tr(L, "none"));
  } else {
    rows.clear();
    auto cells = [&](std::string label, const CertFailures& c) {
      return std::vector<std::string>{std::move(label), num(c.passive), num(c.probe), num(c.probeCache), num(c.proxy),
                                      num(c.total())};
    };
    for (const auto& [k, c] : d.certFailByReason) rows.push_back(cells(reasonLabel(k, L), c));
    rows.push_back(cells(tr(L, "total"), d.certFailTotal));
    h.table({tr(L, "reason"), tr(L, "passive"), tr(L, "probe"), tr(L, "probe_cache"), tr(L, "proxy"), tr(L, "total")},
            rows, {false, true, true, true, true, true});
    h.h3(tr(L, "cert_fail_service_sni"));
    rows.clear();
    for (const auto& [k, n] : d.topCertFailServiceSni) rows.push_back({k, num(n)});
    h.table({tr(L, "service_sni"), tr(L, "count")}, rows, {false, true});
    h.h3(tr(L, "cert_fail_dest"));
    rows.clear();
    for (const auto& [k, n] : d.topCertFailDest) rows.push_back({k, num(n)});
    h.table({tr(L, "destination"), tr(L, "count")}, rows, {false, true});
  }

  h.h3(tr(L, "cert_probe_stats"));
  const CertProbeStats ps = d.certProbeStats();
  h.table({tr(L, "item"), tr(L, "count")},
          {{tr(L, "probes"), num(ps.probes)},
           {tr(L, "refused_by_probe"), num(ps.refusedByProbe)},
           {tr(L, "refused_by_probe_cache"), num(ps.refusedByProbeCache)},
           {tr(L, "refused_passive"), num(ps.refusedPassive)},
           {tr(L, "refused_by_proxy"), num(ps.refusedByProxy)},
           {tr(L, "probe_timeouts"), num(ps.timeouts)},
           {tr(L, "probe_failed"), num(ps.failed)}},
          {false, true});
  h.h3(tr(L, "cert_evidence"));
  if (d.certByReason.empty()) h.p(tr(L, "none"));
  else h.countTable("reason", d.certByReason);
  h.endSection();
}

// AP-DDOS: the guard's deny summaries (per reason, top sources, their intervals), then every record
// counted for the measure by reason. No summaries is said in words: an auditor sees "none".
static void ddosSection(Html& h, const ReportData& d, const MeasureCatalogue& cat) {
  const std::string& L = d.opt.lang;
  const int tz = d.opt.tzMinutes;
  const std::string& id = measureIdText(MeasureId::Ddos);
  h.h2(id, measureName(cat, id, L) + " (" + id + ")");
  h.h3(tr(L, "ddos_summaries"));
  auto when = [&](int64_t ns) { return ns == 0 ? std::string() : telemetry::logfmt::formatRfc3339(ns, tz, false); };
  if (d.ddosTotal.records == 0) {
    h.p(tr(L, "ddos_none"), "nodata");
  } else {
    h.p(tr(L, "ddos_note"));
    h.table({tr(L, "records"), tr(L, "packets"), tr(L, "sources"), tr(L, "first"), tr(L, "last")},
            {{num(d.ddosTotal.records), num(d.ddosTotal.packets), num(d.ddosSources), when(d.ddosTotal.firstNs),
              when(d.ddosTotal.lastNs)}},
            {true, true, true, false, false});
    h.h3(tr(L, "ddos_by_reason"));
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, s] : d.ddosSummaryByReason) {
      const telemetry::ReasonInfo* info = telemetry::findReason(k);
      std::string label = k;
      if (info != nullptr) label += " (" + std::string(L == "en" ? info->en : info->ja) + ")";
      rows.push_back({label, num(s.records), num(s.packets), when(s.firstNs), when(s.lastNs)});
    }
    h.table({tr(L, "reason"), tr(L, "records"), tr(L, "packets"), tr(L, "first"), tr(L, "last")}, rows,
            {false, true, true, false, false});
    h.h3(tr(L, "ddos_top_sources"));
    rows.clear();
    for (const auto& [k, s] : d.topDdosSources)
      rows.push_back({k, num(s.records), num(s.packets), when(s.firstNs), when(s.lastNs)});
    h.table({tr(L, "source"), tr(L, "records"), tr(L, "packets"), tr(L, "first"), tr(L, "last")}, rows,
            {false, true, true, false, false});
  }
  h.h3(tr(L, "ddos_evidence"));
  if (d.ddosByReason.empty()) h.p(tr(L, "none"));
  else h.countTable("reason", d.ddosByReason);
  h.endSection();
}

std::string renderHtml(const ReportData& d, const MeasureCatalogue& cat) {
  const std::string& L = d.opt.lang;
  Html h(L);
  json j = d.toJson();
  int tz = d.opt.tzMinutes;
  h.raw("<!DOCTYPE html>\n<html lang=\"" + std::string(L == "en" ? "en" : "ja") +
        "\"><head><meta charset=\"utf-8\"><title>" + esc(tr(L, "title")) + "</title><style>" + kCss +
        "</style></head><body>\n");
  h.raw("<h1>" + esc(tr(L, "title")) + "</h1>\n<p>" + esc(tr(L, "subtitle")) + "</p>\n");
  h.raw("<table class=\"meta\"><tbody>");
  auto meta = [&](const char* k, const std::string& v) {
    h.raw("<tr><td>" + esc(tr(L, k)) + "</td><td>" + esc(v) + "</td></tr>");
  };
  meta("appliance", d.appliance);
  meta("period", jstr(j["period"], "from") + " – " + jstr(j["period"], "to"));
  meta("tz", "UTC" + telemetry::logfmt::formatUtcOffset(tz));
  meta("generated", jstr(j, "generated_at"));
  meta("key", d.keyId);
  h.raw("</tbody></table>\n");

  // Summary: integrity and one line per measure.
  h.h2("summary", tr(L, "summary"));
  if (d.integrityOk)
    h.p(std::string(tr(L, "integrity")) + ": " + tr(L, "integrity_ok"), "ok");
  else
    h.p(std::string(tr(L, "integrity")) + ": " + tr(L, "integrity_broken") + d.integrityFirstBreak, "broken");
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& id : reportMeasureIds()) {
      auto it = d.perMeasure.find(id);
      uint64_t n = it == d.perMeasure.end() ? 0 : it->second;
      rows.push_back({id, measureName(cat, id, L), measureLevel(cat, id),
                      n == 0 && id != measureIdText(MeasureId::Log) ? tr(L, "no_data") : num(n)});
    }
    h.table({"ID", tr(L, "measure"), tr(L, "level"), tr(L, "events")}, rows, {false, false, false, true});
  }
  h.p(std::string(tr(L, "records_period")) + ": " + num(d.records));
  h.endSection();

  auto sectionHead = [&](const std::string& id) {
    h.h2(id, measureName(cat, id, L) + " (" + id + ")");
  };

  // AP-DEST
  sectionHead(measureIdText(MeasureId::Dest));
  if (d.flows.allowed + d.flows.denied == 0) {
    h.noData();
  } else {
    h.table({tr(L, "allowed"), tr(L, "denied")}, {{num(d.flows.allowed), num(d.flows.denied)}}, {true, true});
    h.h3(tr(L, "daily"));
    h.raw(dailyChart(d, L));
    {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [day, c] : d.daily) rows.push_back({day, num(c.allowed), num(c.denied)});
      h.table({tr(L, "date"), tr(L, "allowed"), tr(L, "denied")}, rows, {false, true, true});
    }
    h.h3(tr(L, "flows_by_service"));
    {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [svc, c] : d.byService)
        rows.push_back({svc.empty() ? tr(L, "no_service") : svc, num(c.allowed), num(c.denied)});
      h.table({tr(L, "service"), tr(L, "allowed"), tr(L, "denied")}, rows, {false, true, true});
    }
    h.h3(tr(L, "denials_by_reason"));
    if (d.deniedByReason.empty()) {
      h.p(tr(L, "none"));
    } else {
      h.raw(barChart(sortedByCount(d.deniedByReason, 12), tr(L, "denials_by_reason")));
      h.countTable("reason", d.deniedByReason);
    }
    h.h3(tr(L, "top_denied_dest"));
    {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [k, n] : d.topDeniedDest) rows.push_back({k, num(n)});
      h.table({tr(L, "destination"), tr(L, "count")}, rows, {false, true});
    }
    h.h3(tr(L, "top_denied_src"));
    {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [k, n] : d.topDeniedSrc) rows.push_back({k, num(n)});
      h.table({tr(L, "source"), tr(L, "count")}, rows, {false, true});
    }
  }
  h.endSection();

  // Policy versions and approvals (AP-PROCEDURE), with the allowed services and their ISMAP ids.
  h.h2(measureIdText(MeasureId::Procedure), std::string(tr(L, "policy")) + " (" + measureIdText(MeasureId::Procedure) + ")");
  h.p(tr(L, "procedure_note"));
  auto policyTable = [&](const std::vector<json>& ps) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : ps)
      rows.push_back({localTime(jstr(p, "timestamp"), tz), jstr(p, "version"), jstr(p, "author"),
                      jstr(p, "approver"), jstr(p, "message")});
    h.table({tr(L, "time"), tr(L, "version"), tr(L, "author"), tr(L, "approver"), tr(L, "message")}, rows);
  };
  const json* latest = nullptr;
  h.h3(tr(L, "policy_at_start"));
  if (d.policyInForceAtStart.is_object()) {
    policyTable({d.policyInForceAtStart});
    latest = &d.policyInForceAtStart;
  } else {
    h.p(tr(L, "none"));
  }
  h.h3(tr(L, "policy_commits"));
  if (d.policyVersions.empty()) {
    h.noData();
  } else {
    policyTable(d.policyVersions);
    latest = &d.policyVersions.back();
  }
  h.h3(tr(L, "allowed_services"));
  if (latest == nullptr || (*latest)["services"].empty()) {
    h.noData();
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : (*latest)["services"])
      rows.push_back({jstr(s, "name"), jstr(s, "kind"), jstr(s, "ismap_id"), jstr(s, "ismap_expires")});
    h.table({tr(L, "service"), tr(L, "kind"), tr(L, "ismap_id"), tr(L, "ismap_expires")}, rows);
  }
  h.endSection();

  auto simple = [&](const std::string& id, const std::map<std::string, uint64_t>& m, const char* keyHead) {
    sectionHead(id);
    if (m.empty()) h.noData();
    else h.countTable(keyHead, m);
    h.endSection();
  };
  certSection(h, d, cat);
  simple(measureIdText(MeasureId::Tenant), d.tenantByAction, "action");
  simple(measureIdText(MeasureId::Sanitize), d.fileByResult, "result");

  sectionHead(measureIdText(MeasureId::Ids));
  if (d.idsBySignature.empty()) {
    h.noData();
  } else {
    h.countTable("action", d.idsByAction);
    h.countTable("signature", d.idsBySignature, d.opt.topN);
  }
  h.endSection();
  ddosSection(h, d, cat);

  sectionHead(measureIdText(MeasureId::Priv));
  if (d.adminTotal == 0) {
    h.noData();
  } else {
    h.countTable("action", d.adminByResult);
    h.h3(tr(L, "admin_actions"));
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : d.adminActions)
      rows.push_back({eventTime(a, tz), jstr(a, "user"), jstr(a, "role"), jstr(a, "action"),
                      jstr(a, "args"), jstr(a, "result")});
    h.table({tr(L, "time"), tr(L, "user"), tr(L, "role"), tr(L, "action"), tr(L, "detail"), tr(L, "result")}, rows);
    if (d.adminTotal > d.adminActions.size()) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), tr(L, "shown_first"), d.adminActions.size());
      h.p(std::string(buf) + " / " + num(d.adminTotal));
    }
  }
  h.endSection();

  sectionHead(measureIdText(MeasureId::Log));
  h.h3(tr(L, "integrity"));
  h.table({tr(L, "item"), tr(L, "value")},
          {{tr(L, "result"), d.integrityOk ? tr(L, "integrity_ok") : std::string(tr(L, "integrity_broken")) + d.integrityFirstBreak},
           {tr(L, "segments"), num(d.integritySegments)},
           {tr(L, "records_verified"), num(d.integrityRecords)},
           {tr(L, "key"), d.keyId}});
  if (!d.boxes.empty()) {  // several logs: each box's chain verified on its own
    h.h3(tr(L, "integrity_boxes"));
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : d.boxes)
      rows.push_back({b.appliance, b.ok ? tr(L, "integrity_ok") : std::string(tr(L, "integrity_broken")) + b.firstBreak,
                      num(b.segments), num(b.records), b.keyId});
    h.table({tr(L, "appliance"), tr(L, "result"), tr(L, "segments"), tr(L, "records_verified"), tr(L, "key")}, rows);
  }
  if (!d.integrityNotes.empty()) {
    h.h3(tr(L, "notes"));
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : d.integrityNotes) rows.push_back({n});
    h.table({tr(L, "detail")}, rows);
  }
  h.h3(tr(L, "retained_segments"));
  if (d.retained.empty()) {
    h.p(tr(L, "none"));
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : d.retained)
      rows.push_back({std::to_string(r.segment), std::to_string(r.firstSeq) + ".." + std::to_string(r.lastSeq),
                      num(r.records), r.reason});
    h.table({"segment", "seq", tr(L, "count"), tr(L, "reason")}, rows);
  }
  h.h3(tr(L, "alarms"));
  if (d.alarms.empty()) {
    h.p(tr(L, "none"));
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : d.alarms)
      rows.push_back({eventTime(a, tz), jstr(a, "kind"), jstr(a, "detail")});
    h.table({tr(L, "time"), tr(L, "kind"), tr(L, "detail")}, rows);
  }
  h.h3(tr(L, "lost_counters"));
  {
    std::vector<std::vector<std::string>> rows{{tr(L, "writer_lost"), num(d.writerLost)}};
    for (const auto& [k, n] : d.lostCounters) rows.push_back({k, num(n)});
    h.table({tr(L, "item"), tr(L, "count")}, rows, {false, true});
  }
  h.h3(tr(L, "event_types"));
  h.countTable("kind", d.eventTypes);
  h.endSection();
  h.raw("</body></html>\n");
  return h.str();
}

}  // namespace lbg::audit
