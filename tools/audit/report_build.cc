#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "tools/audit/query.h"
#include "tools/audit/report.h"

namespace lbg::audit {

using telemetry::logfmt::RecordFields;
using nlohmann::json;

using telemetry::LogEventType;
using telemetry::MeasureId;
using telemetry::Reason;

const std::string& measureIdText(MeasureId m) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& info : telemetry::kMeasures) v.emplace_back(info.name);
    return v;
  }();
  return names[static_cast<size_t>(m)];
}

const std::vector<std::string>& reportMeasureIds() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v;
    for (MeasureId m : {MeasureId::Dest, MeasureId::Encrypt, MeasureId::Cert, MeasureId::Tenant, MeasureId::Sanitize, MeasureId::Ids,
                        MeasureId::Ddos, MeasureId::Priv, MeasureId::Log})
      v.push_back(measureIdText(m));
    return v;
  }();
  return ids;
}

namespace {

bool is(const std::string& eventType, LogEventType t) { return eventType == telemetry::toString(t); }

bool reasonOfMeasure(const std::string& r, MeasureId m) {
  const telemetry::ReasonInfo* info = telemetry::findReason(r);
  return info != nullptr && info->measure == m;
}

bool isDdosReason(const std::string& r) {
  for (std::string_view name : telemetry::kDdosReasonNames)
    if (r == name) return true;
  for (std::string_view prefix : telemetry::kDdosReasonPrefixes)
    if (r.starts_with(prefix)) return true;
  return reasonOfMeasure(r, MeasureId::Ddos);
}

bool isCertReason(const std::string& r) {
  return r.starts_with(telemetry::kCertReasonPrefix) || reasonOfMeasure(r, MeasureId::Cert);
}

const std::string& defaultMeasure(const std::string& type) {
  static const std::string kNone;
  auto t = telemetry::eventTypeFromString(type);
  return t ? measureIdText(telemetry::defaultMeasure(*t)) : kNone;
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

void DdosSummary::add(uint64_t pkts, uint64_t byts, int64_t startNs, int64_t endNs) {
  ++records;
  packets += pkts;
  bytes += byts;
  if (startNs > 0 && (firstNs == 0 || startNs < firstNs)) firstNs = startNs;
  if (endNs > 0 && endNs > lastNs) lastNs = endNs;
}

void DdosSummary::merge(const DdosSummary& o) {
  records += o.records;
  packets += o.packets;
  bytes += o.bytes;
  if (o.firstNs > 0 && (firstNs == 0 || o.firstNs < firstNs)) firstNs = o.firstNs;
  if (o.lastNs > lastNs) lastNs = o.lastNs;
}

void CertFailures::merge(const CertFailures& o) {
  passive += o.passive;
  probe += o.probe;
  probeCache += o.probeCache;
  proxy += o.proxy;
}

namespace {

template <class M>
void addAll(M& into, const M& from) {
  for (const auto& [k, v] : from) into[k] += v;
}

void addCounts(std::map<std::string, Counts>& into, const std::map<std::string, Counts>& from) {
  for (const auto& [k, c] : from) {
    Counts& t = into[k];
    t.allowed += c.allowed;
    t.denied += c.denied;
  }
}

// AP-CERT lists cut to topN only once the whole log is read.
struct CertTops {
  std::unordered_map<std::string, uint64_t> probeDest;       // "service\tip (sni)" → probes
  std::unordered_map<std::string, uint64_t> failServiceSni;  // "service / sni" → refusals
  std::unordered_map<std::string, uint64_t> failDest;        // "ip (sni)" → refusals

  void merge(const CertTops& o) {
    addAll(probeDest, o.probeDest);
    addAll(failServiceSni, o.failServiceSni);
    addAll(failDest, o.failDest);
  }
};

// The evidence of one segment. Segments are read in parallel (by the verifier's threads) and
// their partials merged in segment order, so lists keep log order and the report stays the same
// whatever the thread timing.
struct Partial {
  ReportData d;  // counters only; integrity and periods are filled by buildReport
  std::unordered_map<std::string, uint64_t> deniedDest, deniedSrc;
  std::unordered_map<std::string, DdosSummary> ddosSrc;
  CertTops cert;
  std::map<int64_t, Counts> daily;  // local day index → counts
  std::optional<json> lastPolicyBefore;  // the last policy commit before the period
  std::string key;                       // scratch, keeps its capacity

  void add(const ReportOptions& opt, std::string_view line, const RecordFields& f);
  void addCert(const RecordFields& f, bool fromProxy);
  void addSegment(const ReportOptions& opt, std::string_view data);
  void mergeInto(ReportData& out, std::unordered_map<std::string, uint64_t>& dest,
                 std::unordered_map<std::string, uint64_t>& src,
                 std::unordered_map<std::string, DdosSummary>& ddosSources, CertTops& certTops,
                 std::map<int64_t, Counts>& days, std::optional<json>& policyBefore) const;
};

constexpr int64_t kDayNs = 86400LL * 1000000000LL;

void Partial::addSegment(const ReportOptions& opt, std::string_view data) {
  // `data` is followed by at least 64 readable bytes (simdjson reads ahead).
  RecordFields rf;
  size_t pos = 0;
  const size_t size = data.size();
  while (pos < size) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + pos, '\n', size - pos));
    size_t end = nl ? size_t(nl - data.data()) : size;
    std::string_view line(data.data() + pos, end - pos);
    size_t start = pos;
    pos = end + 1;
    if (!parseRecordFields(line, size + 64 - start, rf)) continue;
    add(opt, line, rf);
  }
}

void Partial::add(const ReportOptions& opt, std::string_view line, const RecordFields& f) {
  if (f.timeNs < opt.fromNs) {
    if (is(f.eventType, LogEventType::Policy)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object()) lastPolicyBefore = policySummary(j);
    }
    return;
  }
  if (f.timeNs >= opt.toNs) return;
  ++d.records;
  ++d.eventTypes[f.eventType];
  const std::string& measure = f.measure.empty() ? defaultMeasure(f.eventType) : f.measure;
  if (!measure.empty()) ++d.perMeasure[measure];
  if (is(f.eventType, LogEventType::Flow)) {
    if (f.phase == "end") {
      ++d.flowEnds;
      if (f.bytesToServer > 0) d.bytesToServer += uint64_t(f.bytesToServer);
      if (f.bytesToClient > 0) d.bytesToClient += uint64_t(f.bytesToClient);
      return;
    }
    bool deny = f.action == "deny";
    bool allow = f.action == "allow";
    // Days are local days: an auditor in Japan reads 00:00-24:00 JST. Named at the end.
    int64_t local = f.timeNs + int64_t(opt.tzMinutes) * 60 * 1000000000LL;
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
      const std::string& name = !f.sni.empty() ? f.sni : f.hostname;
      key.assign(f.destIp);
      if (!name.empty()) key.append(" (").append(name).append(")");
      if (auto it = deniedDest.find(key); it != deniedDest.end()) ++it->second;
      else deniedDest.emplace(key, 1);
      if (auto it = deniedSrc.find(f.srcIp); it != deniedSrc.end()) ++it->second;
      else deniedSrc.emplace(f.srcIp, 1);
    }
    if (!f.appProto.empty()) ++d.appProto[f.appProto];
    if (isCertReason(f.reason) || f.measure == measureIdText(MeasureId::Cert))
      ++d.certByReason[f.action + ": " + f.reason];
    addCert(f, false);
    if (f.measure == measureIdText(MeasureId::Tenant) || reasonOfMeasure(f.reason, MeasureId::Tenant))
      ++d.tenantByAction[f.action + ": " + f.reason];
    if (isDdosReason(f.reason)) {
      ++d.ddosByReason[f.reason];
      if (measure != measureIdText(MeasureId::Ddos)) ++d.perMeasure[measureIdText(MeasureId::Ddos)];
    }
    return;
  }
  if (is(f.eventType, LogEventType::Dns)) {
    ++d.dnsBindings;
    return;
  }
  // Rare events: parse in full.
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return;
  if (is(f.eventType, LogEventType::Admin)) {
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
  } else if (is(f.eventType, LogEventType::Policy)) {
    d.policyVersions.push_back(policySummary(j));
  } else if (is(f.eventType, LogEventType::Alert)) {
    const json& a = j.contains("alert") && j["alert"].is_object() ? j["alert"] : json::object();
    ++d.idsBySignature[str(a, "signature")];
    ++d.idsByAction[str(a, "action")];
  } else if (is(f.eventType, LogEventType::FileInfo)) {
    const json& fi = j.contains("fileinfo") && j["fileinfo"].is_object() ? j["fileinfo"] : json::object();
    std::string result = str(fi, "result");
    if (result.empty()) result = str(fi, "state");
    if (result.empty()) result = f.action;
    ++d.fileByResult[result.empty() ? "-" : result];
  } else if (is(f.eventType, LogEventType::Alarm)) {
    const json& a = j.contains("alarm") && j["alarm"].is_object() ? j["alarm"] : json::object();
    std::string kind = str(a, "kind");
    ++d.alarmsByKind[kind];
    if (a.contains("lost") && a["lost"].is_number_unsigned()) d.writerLost += a["lost"].get<uint64_t>();
    if (isDdosReason(kind)) ++d.ddosByReason[kind];
    if (d.alarms.size() < opt.maxListed)
      d.alarms.push_back({{"timestamp", f.timestamp}, {"kind", kind}, {"detail", str(a, "detail")}});
  } else if (is(f.eventType, LogEventType::Ddos)) {
    // The guard's deny summaries: one record per source and reason per interval (its packet
    // count inside), every one of them evidence of AP-DDOS whatever its reason.
    const std::string& reason = f.reason.empty() ? std::string("-") : f.reason;
    ++d.ddosByReason[reason];
    const json& s = j.contains("ddos") && j["ddos"].is_object() ? j["ddos"] : json::object();
    auto u64 = [&](const char* k) {
      auto it = s.find(k);
      return it != s.end() && it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(0);
    };
    auto when = [&](const char* k) {
      auto t = telemetry::logfmt::parseRfc3339(str(s, k));
      return t ? *t : int64_t(0);
    };
    const uint64_t pkts = u64("packets"), byts = u64("bytes");
    const int64_t start = when("start"), end = when("end");
    d.ddosTotal.add(pkts, byts, start, end);
    d.ddosSummaryByReason[reason].add(pkts, byts, start, end);
    ddosSrc[f.srcIp.empty() ? "-" : f.srcIp].add(pkts, byts, start, end);
  } else if (is(f.eventType, LogEventType::Retention)) {
    ++d.retentionEvents;
  } else if (is(f.eventType, LogEventType::Stats)) {
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
  if (f.measure == measureIdText(MeasureId::Tenant) && !is(f.eventType, LogEventType::Flow)) ++d.tenantByAction[f.eventType + ": " + f.action];
  // lbg-proxy's refusals (upstream certificate, names, policy) are denials like the gateway's.
  if ((is(f.eventType, LogEventType::Tls) || is(f.eventType, LogEventType::Http)) && f.action == "deny") {
    ++d.deniedByReason[f.reason.empty() ? "-" : f.reason];
    if (isCertReason(f.reason) || f.reason == "pin-mismatch" || f.measure == measureIdText(MeasureId::Cert))
      ++d.certByReason[f.action + ": " + f.reason];
    if (is(f.eventType, LogEventType::Tls)) addCert(f, true);
  }
}

// AP-CERT from one verdict (gateway flow or lbg-proxy tls record): an allowance by SNI, a probe
// connection, or a refusal of a certificate reason. Names come from the vocabulary; the details
// after ':' are the ones the gateway writes (pipeline_probe.cc, pipeline_cert.cc).
void Partial::addCert(const RecordFields& f, bool fromProxy) {
  const telemetry::ReasonInfo* info = telemetry::findReason(f.reason);
  if (info == nullptr) return;
  auto destination = [&]() {
    std::string k = f.destIp.empty() ? std::string("-") : f.destIp;
    if (!f.sni.empty()) k.append(" (").append(f.sni).append(")");
    return k;
  };
  if (!fromProxy && info->reason == Reason::Sni) {
    if (f.action == "allow") ++d.certSniAllowed[f.service];
    return;
  }
  if (info->measure != MeasureId::Cert) return;
  if (!fromProxy && info->reason == Reason::CertProbe) {
    ++d.certProbes;
    ++d.certProbesByService[f.service];
    ++cert.probeDest[f.service + "\t" + destination()];
    return;
  }
  if (f.action != "deny") return;
  const size_t colon = f.reason.find(':');
  const std::string_view detail =
      colon == std::string::npos ? std::string_view() : std::string_view(f.reason).substr(colon + 1);
  CertFailures one;
  if (fromProxy) one.proxy = 1;
  else if (detail == "probe") one.probe = 1;
  else if (detail == "probe-cache") one.probeCache = 1;
  else one.passive = 1;  // "" or "server-flight": the server's own Certificate message
  d.certFailByReason[std::string(info->name)].merge(one);
  d.certFailTotal.merge(one);
  ++cert.failServiceSni[(f.service.empty() ? std::string("-") : f.service) + " / " +
                        (f.sni.empty() ? std::string("-") : f.sni)];
  ++cert.failDest[destination()];
}

void Partial::mergeInto(ReportData& o, std::unordered_map<std::string, uint64_t>& dest,
                        std::unordered_map<std::string, uint64_t>& src,
                        std::unordered_map<std::string, DdosSummary>& ddosSources, CertTops& certTops,
                        std::map<int64_t, Counts>& days, std::optional<json>& policyBefore) const {
  o.records += d.records;
  addAll(o.eventTypes, d.eventTypes);
  addAll(o.perMeasure, d.perMeasure);
  o.flows.allowed += d.flows.allowed;
  o.flows.denied += d.flows.denied;
  addCounts(o.byService, d.byService);
  addAll(o.deniedByReason, d.deniedByReason);
  addAll(o.appProto, d.appProto);
  o.flowEnds += d.flowEnds;
  o.bytesToServer += d.bytesToServer;
  o.bytesToClient += d.bytesToClient;
  o.dnsBindings += d.dnsBindings;
  addAll(o.certByReason, d.certByReason);
  addAll(o.certSniAllowed, d.certSniAllowed);
  addAll(o.certProbesByService, d.certProbesByService);
  o.certProbes += d.certProbes;
  for (const auto& [k, c] : d.certFailByReason) o.certFailByReason[k].merge(c);
  o.certFailTotal.merge(d.certFailTotal);
  certTops.merge(cert);
  addAll(o.tenantByAction, d.tenantByAction);
  addAll(o.fileByResult, d.fileByResult);
  addAll(o.idsBySignature, d.idsBySignature);
  addAll(o.idsByAction, d.idsByAction);
  addAll(o.ddosByReason, d.ddosByReason);
  o.ddosTotal.merge(d.ddosTotal);
  for (const auto& [k, s] : d.ddosSummaryByReason) o.ddosSummaryByReason[k].merge(s);
  for (const auto& [k, s] : ddosSrc) ddosSources[k].merge(s);
  addAll(o.adminByResult, d.adminByResult);
  o.adminTotal += d.adminTotal;
  // Listed in full here, cut to maxListed once every log is merged (buildReport).
  o.adminActions.insert(o.adminActions.end(), d.adminActions.begin(), d.adminActions.end());
  o.policyVersions.insert(o.policyVersions.end(), d.policyVersions.begin(), d.policyVersions.end());
  addAll(o.alarmsByKind, d.alarmsByKind);
  o.alarms.insert(o.alarms.end(), d.alarms.begin(), d.alarms.end());
  o.writerLost += d.writerLost;
  for (const auto& [k, v] : d.lostCounters) o.lostCounters[k] = v;  // later segments are newer
  o.retentionEvents += d.retentionEvents;
  addAll(dest, deniedDest);
  addAll(src, deniedSrc);
  for (const auto& [day, c] : daily) {
    Counts& t = days[day];
    t.allowed += c.allowed;
    t.denied += c.denied;
  }
  if (lastPolicyBefore) policyBefore = lastPolicyBefore;
}

}  // namespace

namespace {

// One box's log read once: its chain verified and its segments' evidence, in segment order.
struct LogRead {
  telemetry::logfmt::VerifyResult verified;
  std::map<uint64_t, std::unique_ptr<Partial>> parts;
};

Result<LogRead> readLog(const LogSource& log, const ReportOptions& opt) {
  // One read of the log: the verifier hands every segment it reads (on its threads) to the
  // evidence pass before dropping the bytes.
  LogRead r;
  std::mutex mu;
  telemetry::logfmt::VerifyOptions vo;
  vo.onSegmentData = [&](uint64_t segment, std::string_view data) {
    auto p = std::make_unique<Partial>();
    p->addSegment(opt, data);
    std::lock_guard<std::mutex> lock(mu);
    r.parts[segment] = std::move(p);
  };
  r.verified = telemetry::logfmt::verifyLog(log.dir, log.key, vo);

  // Segments the verifier did not read (a seal that does not verify): their records are still
  // evidence, reported beside the integrity failure.
  auto listed = telemetry::logfmt::listSegments(log.dir);
  if (!listed) return listed.error();
  std::string buf;
  for (const auto& f : *listed) {
    if (!f.hasLog || r.parts.count(f.number)) continue;
    if (!telemetry::logfmt::readFileInto(f.log, buf, 64)) continue;
    auto p = std::make_unique<Partial>();
    p->addSegment(opt, std::string_view(buf.data(), buf.size() - 64));
    r.parts[f.number] = std::move(p);
  }
  return r;
}

int64_t timeOf(const json& item) {
  auto t = telemetry::logfmt::parseRfc3339(str(item, "timestamp"));
  return t ? *t : std::numeric_limits<int64_t>::min();
}

// Several boxes: their events in time order (a stable sort: one box's equal times keep log order).
void byTime(std::vector<json>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const json& a, const json& b) { return timeOf(a) < timeOf(b); });
}

}  // namespace

Result<ReportData> buildReport(const std::string& dir, const telemetry::logfmt::VerifyKey& key,
                               const ReportOptions& opt) {
  return buildReport(std::vector<LogSource>{{dir, key}}, opt);
}

Result<ReportData> buildReport(const std::vector<LogSource>& logs, const ReportOptions& opt) {
  if (opt.toNs <= opt.fromNs) return Error{"report: --to must be after --from"};
  if (logs.empty()) return Error{"report: no log given"};
  const bool several = logs.size() > 1;
  ReportData d;
  d.opt = opt;
  d.integrityOk = true;

  std::unordered_map<std::string, uint64_t> deniedDest, deniedSrc;
  std::unordered_map<std::string, DdosSummary> ddosSources;
  CertTops certTops;
  std::map<int64_t, Counts> daily;
  std::optional<json> policyBefore;
  std::map<std::string, uint64_t> lostCounters;  // each box's latest, summed over the boxes
  for (const LogSource& log : logs) {
    auto read = readLog(log, opt);
    if (!read) return read.error();
    const auto& vr = read->verified;
    // A log whose segments are all open (a box killed before its first seal) names no appliance
    // yet: its directory stands for it.
    const std::string appliance = vr.appliance.empty() && several ? log.dir : vr.appliance;
    const std::string breakText =
        vr.ok() ? "" : (several ? appliance + ": " : "") + vr.findings[0].toString();
    d.boxes.push_back({log.dir, appliance, log.key.keyId(), vr.ok(), breakText, vr.segments.size(),
                       vr.recordsScanned, vr.bytesScanned});
    d.appliance += (d.appliance.empty() ? "" : ", ") + appliance;
    d.keyId += (d.keyId.empty() ? "" : ", ") + log.key.keyId();
    if (!vr.ok() && d.integrityOk) d.integrityFirstBreak = breakText;
    d.integrityOk = d.integrityOk && vr.ok();
    d.integritySegments += vr.segments.size();
    d.integrityRecords += vr.recordsScanned;
    d.integrityScannedBytes += vr.bytesScanned;
    for (const auto& n : vr.notes) d.integrityNotes.push_back(several ? appliance + ": " + n : n);
    d.retained.insert(d.retained.end(), vr.retained.begin(), vr.retained.end());

    const size_t admin0 = d.adminActions.size(), alarms0 = d.alarms.size(),
                 policies0 = d.policyVersions.size();
    std::optional<json> boxPolicyBefore;
    d.lostCounters.clear();
    for (const auto& [n, p] : read->parts)
      p->mergeInto(d, deniedDest, deniedSrc, ddosSources, certTops, daily, boxPolicyBefore);
    addAll(lostCounters, d.lostCounters);
    if (boxPolicyBefore && (!policyBefore || timeOf(*boxPolicyBefore) > timeOf(*policyBefore))) {
      policyBefore = boxPolicyBefore;
    }
    if (several) {  // which box said it
      for (size_t i = admin0; i < d.adminActions.size(); ++i) d.adminActions[i]["appliance"] = appliance;
      for (size_t i = alarms0; i < d.alarms.size(); ++i) d.alarms[i]["appliance"] = appliance;
      for (size_t i = policies0; i < d.policyVersions.size(); ++i) d.policyVersions[i]["appliance"] = appliance;
    }
  }
  d.lostCounters = std::move(lostCounters);
  if (several) {
    byTime(d.adminActions);
    byTime(d.alarms);
    byTime(d.policyVersions);
  } else {
    d.boxes.clear();  // one log: the fields above say it all
  }
  if (d.adminActions.size() > opt.maxListed) d.adminActions.resize(opt.maxListed);
  if (d.alarms.size() > opt.maxListed) d.alarms.resize(opt.maxListed);
  if (policyBefore) d.policyInForceAtStart = *policyBefore;
  for (const auto& [day, c] : daily)
    d.daily[telemetry::logfmt::formatRfc3339(day * kDayNs, 0, false).substr(0, 10)] = c;
  d.topDeniedDest = top(deniedDest, opt.topN);
  d.topDeniedSrc = top(deniedSrc, opt.topN);
  // Sources summarised most: packets descending, then records, then address (deterministic).
  d.ddosSources = ddosSources.size();
  d.topDdosSources.assign(ddosSources.begin(), ddosSources.end());
  std::sort(d.topDdosSources.begin(), d.topDdosSources.end(), [](const auto& a, const auto& b) {
    if (a.second.packets != b.second.packets) return a.second.packets > b.second.packets;
    if (a.second.records != b.second.records) return a.second.records > b.second.records;
    return a.first < b.first;
  });
  if (d.topDdosSources.size() > opt.topN) d.topDdosSources.resize(opt.topN);
  // AP-CERT: distinct destinations probed per service, then the most probed, cut at topN.
  for (const auto& [k, n] : certTops.probeDest) ++d.certProbeDestsByService[k.substr(0, k.find('\t'))];
  for (const auto& [k, n] : top(certTops.probeDest, opt.topN)) {
    const size_t tab = k.find('\t');
    d.topCertProbes.push_back({k.substr(0, tab), k.substr(tab + 1), n});
  }
  d.topCertFailServiceSni = top(certTops.failServiceSni, opt.topN);
  d.topCertFailDest = top(certTops.failDest, opt.topN);
  return d;
}

CertProbeStats ReportData::certProbeStats() const {
  CertProbeStats s;
  s.probes = certProbes;
  s.refusedByProbe = certFailTotal.probe;
  s.refusedByProbeCache = certFailTotal.probeCache;
  s.refusedPassive = certFailTotal.passive;
  s.refusedByProxy = certFailTotal.proxy;
  auto total = [&](Reason r) {
    auto it = certFailByReason.find(std::string(telemetry::reasonInfo(r).name));
    return it == certFailByReason.end() ? uint64_t(0) : it->second.total();
  };
  s.timeouts = total(Reason::CertProbeTimeout);
  s.failed = total(Reason::CertProbeFailed);
  return s;
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
  auto when = [&](int64_t ns) {
    return ns == 0 ? json(nullptr) : json(telemetry::logfmt::formatRfc3339(ns, opt.tzMinutes, false));
  };
  auto summary = [&](const DdosSummary& s) {
    return json{{"records", s.records}, {"packets", s.packets}, {"bytes", s.bytes},
                {"first", when(s.firstNs)}, {"last", when(s.lastNs)}};
  };
  json ddosReasons = json::object();
  for (const auto& [k, s] : ddosSummaryByReason) ddosReasons[k] = summary(s);
  json ddosTop = json::array();
  for (const auto& [k, s] : topDdosSources) {
    json row = summary(s);
    row["source"] = k;
    ddosTop.push_back(std::move(row));
  }
  auto failures = [](const CertFailures& c) {
    return json{{"passive", c.passive}, {"probe", c.probe}, {"probe_cache", c.probeCache},
                {"proxy", c.proxy}, {"total", c.total()}};
  };
  auto perService = [](const std::map<std::string, uint64_t>& m) {
    json o = json::object();
    for (const auto& [k, n] : m) o[k.empty() ? "-" : k] = n;
    return o;
  };
  json certFailReasons = json::object();
  for (const auto& [k, c] : certFailByReason) certFailReasons[k] = failures(c);
  json certProbed = json::array();
  for (const auto& r : topCertProbes)
    certProbed.push_back({{"service", r.service.empty() ? "-" : r.service},
                          {"destination", r.destination},
                          {"probes", r.probes}});
  const CertProbeStats ps = certProbeStats();
  const json probeStats = {{"probes", ps.probes},
                           {"refused_by_probe", ps.refusedByProbe},
                           {"refused_by_probe_cache", ps.refusedByProbeCache},
                           {"refused_passive", ps.refusedPassive},
                           {"refused_by_proxy", ps.refusedByProxy},
                           {"timeouts", ps.timeouts},
                           {"failed", ps.failed}};
  json retainedJson = json::array();
  for (const auto& r : retained)
    retainedJson.push_back({{"segment", r.segment},
                            {"first_seq", r.firstSeq},
                            {"last_seq", r.lastSeq},
                            {"records", r.records},
                            {"reason", r.reason}});
  json j = {
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
      {"certificate_checks",
       {{"sni_allowed_by_service", perService(certSniAllowed)},
        {"probes_by_service", perService(certProbesByService)},
        {"probed_destinations_by_service", perService(certProbeDestsByService)},
        {"top_probed", certProbed},
        {"failures",
         {{"total", failures(certFailTotal)},
          {"by_reason", certFailReasons},
          {"top_service_sni", pairs(topCertFailServiceSni)},
          {"top_destinations", pairs(topCertFailDest)}}},
        {"probe_stats", probeStats}}},
      {"tenant", tenantByAction},
      {"sanitization", fileByResult},
      {"ids", {{"by_signature", idsBySignature}, {"by_action", idsByAction}}},
      {"ddos", ddosByReason},
      {"ddos_summaries",
       {{"total", summary(ddosTotal)},
        {"sources", ddosSources},
        {"by_reason", ddosReasons},
        {"top_sources", ddosTop}}},
      {"admin", {{"total", adminTotal}, {"by_action_result", adminByResult}, {"actions", adminActions}}},
      {"policy", {{"in_force_at_start", policyInForceAtStart}, {"commits", policyVersions}}},
      {"log",
       {{"alarms_by_kind", alarmsByKind},
        {"alarms", alarms},
        {"writer_lost", writerLost},
        {"lost_counters", lostCounters},
        {"retention_events", retentionEvents}}},
  };
  if (!boxes.empty()) {  // several logs: each box's chain on its own
    json b = json::array();
    for (const auto& x : boxes)
      b.push_back({{"appliance", x.appliance},
                   {"dir", x.dir},
                   {"key_id", x.keyId},
                   {"ok", x.ok},
                   {"first_break", x.firstBreak},
                   {"segments", x.segments},
                   {"records_verified", x.records}});
    j["integrity"]["boxes"] = b;
  }
  return j;
}

}  // namespace lbg::audit
