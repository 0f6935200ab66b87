#include <algorithm>
#include <unordered_map>

#include "dataplane/telemetry/log/time_format.h"
#include "tools/audit/query.h"
#include "tools/audit/report.h"

namespace lbg::audit {

using telemetry::logfmt::RecordFields;
using nlohmann::json;

const std::vector<std::string>& reportMeasureIds() {
  static const std::vector<std::string> ids = {"AP-DEST", "AP-CERT", "AP-TENANT", "AP-SANITIZE",
                                               "AP-IDS",  "AP-DDOS", "AP-PRIV",   "AP-LOG"};
  return ids;
}

namespace {

bool isDdosReason(const std::string& r) {
  return r == "table-full" || r == "rate-limit" || r == "syn-flood" || r.rfind("flood", 0) == 0 ||
         r.rfind("ddos", 0) == 0;
}

const std::string& defaultMeasure(const std::string& type) {
  static const std::string kDest = "AP-DEST", kIds = "AP-IDS", kSan = "AP-SANITIZE", kPriv = "AP-PRIV",
                           kProc = "AP-PROCEDURE", kLog = "AP-LOG", kNone;
  if (type == "flow" || type == "dns") return kDest;
  if (type == "alert") return kIds;
  if (type == "fileinfo") return kSan;
  if (type == "admin") return kPriv;
  if (type == "policy") return kProc;
  if (type == "alarm" || type == "retention" || type == "stats") return kLog;
  return kNone;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::vector<std::pair<std::string, uint64_t>> top(const std::unordered_map<std::string, uint64_t>& m,
                                                  size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
  // Count descending, then name: the same log always gives the same report.
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

json policySummary(const json& rec) {
  const json& p = rec.contains("policy") && rec["policy"].is_object() ? rec["policy"] : json::object();
  json out = {{"timestamp", str(rec, "timestamp")},
              {"version", p.value("version", json())},
              {"hash", str(p, "hash")},
              {"author", str(p, "author")},
              {"approver", str(p, "approver")},
              {"message", str(p, "message")},
              {"services", json::array()}};
  if (p.contains("services") && p["services"].is_array()) {
    for (const auto& s : p["services"]) {
      if (!s.is_object()) continue;
      json ismap = s.contains("ismap") && s["ismap"].is_object() ? s["ismap"] : json::object();
      out["services"].push_back({{"name", str(s, "name")},
                                 {"kind", str(s, "kind")},
                                 {"ismap_id", str(ismap, "id")},
                                 {"ismap_expires", str(ismap, "expires")}});
    }
  }
  return out;
}

}  // namespace

Result<ReportData> buildReport(const std::string& dir, const telemetry::logfmt::VerifyKey& key,
                               const ReportOptions& opt) {
  if (opt.toNs <= opt.fromNs) return Error{"report: --to must be after --from"};
  ReportData d;
  d.opt = opt;
  d.keyId = key.keyId();

  auto vr = telemetry::logfmt::verifyLog(dir, key);
  d.appliance = vr.appliance;
  d.integrityOk = vr.ok();
  if (!vr.ok()) d.integrityFirstBreak = vr.findings[0].toString();
  d.integritySegments = vr.segments.size();
  d.integrityRecords = vr.recordsScanned;
  d.integrityScannedBytes = vr.bytesScanned;
  d.integrityNotes = vr.notes;
  d.retained = vr.retained;

  // The policy in force when the period starts: the last commit before it.
  QueryFilter before;
  before.eventType = "policy";
  before.toNs = opt.fromNs - 1;
  auto pr = runQuery(dir, key, before, [&](std::string_view line, const RecordFields&) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) d.policyInForceAtStart = policySummary(j);
    return true;
  });
  if (!pr) return pr.error();

  std::unordered_map<std::string, uint64_t> deniedDest, deniedSrc;
  std::map<int64_t, Counts> daily;
  constexpr int64_t kDayNs = 86400LL * 1000000000LL;
  QueryFilter period;
  period.fromNs = opt.fromNs;
  period.toNs = opt.toNs - 1;
  const int64_t tzNs = int64_t(opt.tzMinutes) * 60 * 1000000000LL;
  auto r = runQuery(dir, key, period, [&](std::string_view line, const RecordFields& f) {
    ++d.records;
    ++d.eventTypes[f.eventType];
    const std::string& measure = f.measure.empty() ? defaultMeasure(f.eventType) : f.measure;
    if (!measure.empty()) ++d.perMeasure[measure];
    if (f.eventType == "flow") {
      if (f.phase == "end") {
        ++d.flowEnds;
        if (f.bytesToServer > 0) d.bytesToServer += uint64_t(f.bytesToServer);
        if (f.bytesToClient > 0) d.bytesToClient += uint64_t(f.bytesToClient);
        return true;
      }
      bool deny = f.action == "deny";
      bool allow = f.action == "allow";
      // Days are local days: an auditor in Japan reads 00:00-24:00 JST. Named at the end.
      int64_t local = f.timeNs + tzNs;
      int64_t dayIndex = local >= 0 ? local / kDayNs : (local - kDayNs + 1) / kDayNs;
      Counts& dc = daily[dayIndex];
      Counts& sc = d.byService[f.service];
      if (allow) {
        ++d.flows.allowed;
        ++dc.allowed;
        ++sc.allowed;
      } else if (deny) {
        ++d.flows.denied;
        ++dc.denied;
        ++sc.denied;
        ++d.deniedByReason[f.reason.empty() ? "-" : f.reason];
        std::string name = !f.sni.empty() ? f.sni : f.hostname;
        ++deniedDest[name.empty() ? f.destIp : f.destIp + " (" + name + ")"];
        ++deniedSrc[f.srcIp];
      }
      if (!f.appProto.empty()) ++d.appProto[f.appProto];
      if (f.reason.rfind("cert", 0) == 0 || f.measure == "AP-CERT")
        ++d.certByReason[f.action + ": " + f.reason];
      if (f.measure == "AP-TENANT") ++d.tenantByAction[f.action + ": " + f.reason];
      if (isDdosReason(f.reason)) {
        ++d.ddosByReason[f.reason];
        if (measure != "AP-DDOS") ++d.perMeasure["AP-DDOS"];
      }
      return true;
    }
    if (f.eventType == "dns") {
      ++d.dnsBindings;
      return true;
    }
    // Rare events: parse in full.
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return true;
    if (f.eventType == "admin") {
      ++d.adminTotal;
      const json& a = j.contains("admin") && j["admin"].is_object() ? j["admin"] : json::object();
      ++d.adminByResult[str(a, "action") + ": " + str(a, "result")];
      if (d.adminActions.size() < opt.maxListed)
        d.adminActions.push_back({{"timestamp", f.timestamp},
                                  {"user", str(a, "user")},
                                  {"role", str(a, "role")},
                                  {"action", str(a, "action")},
                                  {"args", str(a, "args")},
                                  {"result", str(a, "result")}});
    } else if (f.eventType == "policy") {
      d.policyVersions.push_back(policySummary(j));
    } else if (f.eventType == "alert") {
      const json& a = j.contains("alert") && j["alert"].is_object() ? j["alert"] : json::object();
      ++d.idsBySignature[str(a, "signature")];
      ++d.idsByAction[str(a, "action")];
    } else if (f.eventType == "fileinfo") {
      const json& fi = j.contains("fileinfo") && j["fileinfo"].is_object() ? j["fileinfo"] : json::object();
      std::string result = str(fi, "result");
      if (result.empty()) result = str(fi, "state");
      if (result.empty()) result = f.action;
      ++d.fileByResult[result.empty() ? "-" : result];
    } else if (f.eventType == "alarm") {
      const json& a = j.contains("alarm") && j["alarm"].is_object() ? j["alarm"] : json::object();
      std::string kind = str(a, "kind");
      ++d.alarmsByKind[kind];
      if (a.contains("lost") && a["lost"].is_number_unsigned()) d.writerLost += a["lost"].get<uint64_t>();
      if (isDdosReason(kind)) ++d.ddosByReason[kind];
      if (d.alarms.size() < opt.maxListed)
        d.alarms.push_back({{"timestamp", f.timestamp}, {"kind", kind}, {"detail", str(a, "detail")}});
    } else if (f.eventType == "retention") {
      ++d.retentionEvents;
    } else if (f.eventType == "stats") {
      // Counters are cumulative: the latest value of each lost/drop counter is the period's.
      std::function<void(const json&, const std::string&)> walk = [&](const json& o, const std::string& prefix) {
        for (auto it = o.begin(); it != o.end(); ++it) {
          std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
          if (it->is_object()) walk(*it, name);
          else if (it->is_number_unsigned() &&
                   (name.find("lost") != std::string::npos || name.find("drop") != std::string::npos ||
                    name.find("full") != std::string::npos))
            d.lostCounters[name] = it->get<uint64_t>();
        }
      };
      if (j.contains("stats") && j["stats"].is_object()) walk(j["stats"], "");
    }
    if (f.measure == "AP-TENANT" && f.eventType != "flow") ++d.tenantByAction[f.eventType + ": " + f.action];
    return true;
  });
  if (!r) return r.error();
  for (const auto& [day, c] : daily)
    d.daily[telemetry::logfmt::formatRfc3339(day * kDayNs, 0, false).substr(0, 10)] = c;
  d.topDeniedDest = top(deniedDest, opt.topN);
  d.topDeniedSrc = top(deniedSrc, opt.topN);
  return d;
}

json ReportData::toJson() const {
  auto counts = [](const std::map<std::string, Counts>& m) {
    json o = json::object();
    for (const auto& [k, c] : m) o[k.empty() ? "-" : k] = {{"allowed", c.allowed}, {"denied", c.denied}};
    return o;
  };
  auto pairs = [](const std::vector<std::pair<std::string, uint64_t>>& v) {
    json a = json::array();
    for (const auto& [k, n] : v) a.push_back({{"name", k}, {"count", n}});
    return a;
  };
  json retainedJson = json::array();
  for (const auto& r : retained)
    retainedJson.push_back({{"segment", r.segment},
                            {"first_seq", r.firstSeq},
                            {"last_seq", r.lastSeq},
                            {"records", r.records},
                            {"reason", r.reason}});
  return {
      {"format", "lbg-audit-report/1"},
      {"appliance", appliance},
      {"key_id", keyId},
      {"period",
       {{"from", telemetry::logfmt::formatRfc3339(opt.fromNs, opt.tzMinutes, false)},
        {"to", telemetry::logfmt::formatRfc3339(opt.toNs, opt.tzMinutes, false)},
        {"utc_offset", telemetry::logfmt::formatUtcOffset(opt.tzMinutes)}}},
      {"generated_at", telemetry::logfmt::formatRfc3339(opt.generatedNs, opt.tzMinutes, false)},
      {"integrity",
       {{"ok", integrityOk},
        {"first_break", integrityFirstBreak},
        {"segments", integritySegments},
        {"records_verified", integrityRecords},
        {"notes", integrityNotes},
        {"retained_segments", retainedJson}}},
      {"records", records},
      {"event_types", eventTypes},
      {"per_measure", perMeasure},
      {"flows",
       {{"allowed", flows.allowed},
        {"denied", flows.denied},
        {"by_service", counts(byService)},
        {"denied_by_reason", deniedByReason},
        {"daily", counts(daily)},
        {"top_denied_destinations", pairs(topDeniedDest)},
        {"top_denied_sources", pairs(topDeniedSrc)},
        {"app_proto", appProto},
        {"ended", flowEnds},
        {"bytes_toserver", bytesToServer},
        {"bytes_toclient", bytesToClient},
        {"dns_bindings", dnsBindings}}},
      {"certificate", certByReason},
      {"tenant", tenantByAction},
      {"sanitization", fileByResult},
      {"ids", {{"by_signature", idsBySignature}, {"by_action", idsByAction}}},
      {"ddos", ddosByReason},
      {"admin", {{"total", adminTotal}, {"by_action_result", adminByResult}, {"actions", adminActions}}},
      {"policy", {{"in_force_at_start", policyInForceAtStart}, {"commits", policyVersions}}},
      {"log",
       {{"alarms_by_kind", alarmsByKind},
        {"alarms", alarms},
        {"writer_lost", writerLost},
        {"lost_counters", lostCounters},
        {"retention_events", retentionEvents}}},
  };
}

}  // namespace lbg::audit
