#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/control_api.h"
#include "policy/ids/rule_stats.h"

namespace lbg::control {

// Prometheus text exposition format 0.0.4: "# HELP", "# TYPE ... counter", "name value" per
// counter, names prefixed with `prefix` and reduced to [a-zA-Z0-9_:].
std::string renderPrometheus(const std::vector<dataplane::ControlApi::Counter>& counters,
                             std::string_view prefix = "lbg_");

// Same, for gauges the control plane adds (running policy version, pending approvals).
void appendPrometheusGauge(std::string& out, std::string_view name, std::string_view help,
                           uint64_t value);

// The IDS's per-rule counters (`lbgctl ids stats` reads the same report): totals, then
// `lbg_ids_rule_{checks,matches,cycles}_total{gid,sid,rev}` for each rule of `r.top` (the
// costliest rules verified at least once). Nothing when the running policy has no IDS.
inline constexpr size_t kPrometheusIdsRules = 1000;
void appendPrometheusIdsRules(std::string& out, const ids::RuleCostReport& r);

}  // namespace lbg::control
