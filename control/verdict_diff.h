#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lbg::control {

// One flow whose verdict differs between two replays of the same capture (`lbgctl policy test`).
struct VerdictChange {
  std::string flow;                                 // "TCP 10.0.0.5:50123 -> 52.96.1.1:443"
  std::string name;                                 // SNI or Host if seen
  std::string fromAction, fromReason, fromService;  // running policy ("-" if no verdict)
  std::string toAction, toReason, toService;        // candidate policy
};

struct VerdictComparison {
  size_t flows = 0;  // distinct verdict events seen in either replay
  std::vector<VerdictChange> changes;
  nlohmann::json toJson() const;
};

// Pairs the verdict events (event_type flow, phase verdict) of two replays by 5-tuple and
// occurrence, and lists those whose action, reason or matched service differ. Lines that are not
// verdict events are ignored; malformed lines are counted as errors by the caller's replay.
VerdictComparison compareVerdicts(const std::vector<std::string>& running,
                                  const std::vector<std::string>& candidate);

}  // namespace lbg::control
