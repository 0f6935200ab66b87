#include "control/verdict_diff.h"

#include <map>

#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::control {

namespace {

using nlohmann::json;

struct Verdict {
  std::string action, reason, service, name;
};

std::string str(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
}

std::string num(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number_unsigned() ? std::to_string(j[k].get<uint64_t>()) : "?";
}

// key → verdicts in capture order (a 5-tuple can recur when a port is reused).
std::map<std::string, std::vector<Verdict>> collect(const std::vector<std::string>& lines) {
  std::map<std::string, std::vector<Verdict>> out;
  for (const auto& line : lines) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || str(j, "event_type") != telemetry::toString(telemetry::LogEventType::Flow) ||
        str(j, "phase") != "verdict")
      continue;
    const std::string key = str(j, "proto") + " " + str(j, "src_ip") + ":" + num(j, "src_port") +
                            " -> " + str(j, "dest_ip") + ":" + num(j, "dest_port");
    Verdict v{str(j, "action"), str(j, "reason"), "", ""};
    if (j.contains("policy") && j["policy"].is_object()) v.service = str(j["policy"], "service");
    if (j.contains("tls") && j["tls"].is_object()) v.name = str(j["tls"], "sni");
    if (v.name.empty() && j.contains("http") && j["http"].is_object())
      v.name = str(j["http"], "hostname");
    // A flow judged by its destination's DNS binding (dns-binding, or intercept at the SYN): the
    // bound name is why, shown like the others.
    if (v.name.empty() && j.contains("dns") && j["dns"].is_object()) v.name = str(j["dns"], "rrname");
    out[key].push_back(std::move(v));
  }
  return out;
}

}  // namespace

VerdictComparison compareVerdicts(const std::vector<std::string>& running,
                                  const std::vector<std::string>& candidate) {
  const auto a = collect(running);
  const auto b = collect(candidate);
  VerdictComparison cmp;
  std::map<std::string, bool> keys;
  for (const auto& [k, v] : a) keys[k] = true;
  for (const auto& [k, v] : b) keys[k] = true;
  static const std::vector<Verdict> kNone;
  for (const auto& [key, unused] : keys) {
    const auto& va = a.count(key) ? a.at(key) : kNone;
    const auto& vb = b.count(key) ? b.at(key) : kNone;
    const size_t n = std::max(va.size(), vb.size());
    cmp.flows += n;
    for (size_t i = 0; i < n; ++i) {
      const Verdict none{"-", "", "", ""};
      const Verdict& x = i < va.size() ? va[i] : none;
      const Verdict& y = i < vb.size() ? vb[i] : none;
      if (x.action == y.action && x.reason == y.reason && x.service == y.service) continue;
      cmp.changes.push_back(VerdictChange{key, y.name.empty() ? x.name : y.name, x.action, x.reason,
                                          x.service, y.action, y.reason, y.service});
    }
  }
  return cmp;
}

json VerdictComparison::toJson() const {
  json list = json::array();
  for (const auto& c : changes) {
    list.push_back(
        {{"flow", c.flow},
         {"name", c.name},
         {"running",
          {{"action", c.fromAction}, {"reason", c.fromReason}, {"service", c.fromService}}},
         {"candidate",
          {{"action", c.toAction}, {"reason", c.toReason}, {"service", c.toService}}}});
  }
  return {{"flows", flows}, {"changed", list}};
}

}  // namespace lbg::control
