#pragma once

#include <span>
#include <string_view>

#include "dataplane/core/pipeline_counters.h"
#include "dataplane/core/port_counters.h"
#include "dataplane/telemetry/counters.h"

namespace lbg::dataplane {

// Sections of `lbgctl stats`: counters of one concern shown together under a ja/en heading.
// A section's members come from an X-macro sub-list spliced into its module's list (e.g.
// LBG_GUARD_COUNTERS in LBG_PIPELINE_COUNTERS), so no counter name is written twice.
struct CounterSection {
  std::string_view id;     // "ddos": the key in `lbgctl stats --json`
  std::string_view title;  // "ja / en", as lbgctl's other bilingual headings
  std::span<const telemetry::CounterInfo> members;
};

inline constexpr telemetry::CounterInfo kGuardCounterInfo[] = {
    LBG_GUARD_COUNTERS(LBG_COUNTER_INFO_)};
inline constexpr telemetry::CounterInfo kHaCounterInfo[] = {
    LBG_HA_GAUGES(LBG_COUNTER_INFO_) LBG_HA_COUNTERS(LBG_COUNTER_INFO_)
        LBG_HA_SYNC_WORKER_COUNTERS(LBG_COUNTER_INFO_) LBG_HA_SYNC_LINK_COUNTERS(LBG_COUNTER_INFO_)};

inline constexpr CounterSection kCounterSections[] = {
    {"ddos", "DDoS対策 / DDoS protection (AP-DDOS)", kGuardCounterInfo},
    {"ha", "冗長化 / redundancy (HA role, flow sync)", kHaCounterInfo},
};

// The section an exported counter (its full name, prefix included) belongs to, or nullptr.
// The sections' members are worker and HA counters, which have no prefix.
inline const CounterSection* counterSection(std::string_view exportedName) {
  for (const auto& s : kCounterSections)
    for (const auto& m : s.members)
      if (m.name == exportedName) return &s;
  return nullptr;
}

}  // namespace lbg::dataplane
