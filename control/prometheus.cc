#include "control/prometheus.h"

namespace lbg::control {

namespace {

std::string metricName(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    out += ok ? c : '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

// HELP text escapes backslash and newline only (exposition format spec).
std::string helpText(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append(std::string& out, const std::string& name, std::string_view help, const char* type,
            uint64_t v) {
  out += "# HELP " + name + " " + helpText(help) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
  out += name + " " + std::to_string(v) + "\n";
}

}  // namespace

std::string renderPrometheus(const std::vector<dataplane::ControlApi::Counter>& counters,
                             std::string_view prefix) {
  std::string out;
  for (const auto& c : counters) {
    if (c.gauge) {
      append(out, metricName(prefix, c.name), c.help, "gauge", c.value);
      continue;
    }
    // Counters are monotonic totals: the `_total` suffix is the convention for that type.
    std::string name = metricName(prefix, c.name);
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0) name += "_total";
    append(out, name, c.help, "counter", c.value);
  }
  return out;
}

void appendPrometheusGauge(std::string& out, std::string_view name, std::string_view help,
                           uint64_t value) {
  append(out, metricName("", name), help, "gauge", value);
}

void appendPrometheusIdsRules(std::string& out, const ids::RuleCostReport& r) {
  if (!r.enabled) return;
  appendPrometheusGauge(out, "lbg_ids_rules", "IDS rules compiled in the running policy", r.rules);
  appendPrometheusGauge(out, "lbg_ids_rules_checked",
                        "IDS rules verified at least once since the running policy's commit",
                        r.rulesChecked);
  appendPrometheusGauge(out, "lbg_ids_rules_matched",
                        "IDS rules that matched at least once since the running policy's commit",
                        r.rulesMatched);
  struct Family {
    const char* name;
    const char* help;
    uint64_t ids::RuleStats::*field;
  };
  static constexpr Family kFamilies[3] = {
      {"lbg_ids_rule_checks_total", "verifications of the rule (its fast pattern hit)",
       &ids::RuleStats::checks},
      {"lbg_ids_rule_matches_total", "full matches of the rule (alerts before thresholds)",
       &ids::RuleStats::matches},
      {"lbg_ids_rule_cycles_total", "CPU cycles spent verifying the rule",
       &ids::RuleStats::cycles}};
  for (const Family& f : kFamilies) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " counter\n";
    for (const auto& c : r.top) {
      out += std::string(f.name) + "{gid=\"" + std::to_string(c.gid) + "\",sid=\"" +
             std::to_string(c.sid) + "\",rev=\"" + std::to_string(c.rev) + "\"} " +
             std::to_string(c.stats.*f.field) + "\n";
    }
  }
}

}  // namespace lbg::control
