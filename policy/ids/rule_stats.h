#pragma once

// What the IDS engine measured per rule (dataplane/ids/ counts; `lbgctl ids stats` and the
// control API show it). Plain data: control/ reads it without linking the engine.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lbg::ids {

// One rule's cost in an engine: candidates verified (its fast pattern hit, or it is tried on every
// scan), full matches, and the time its verifications took (CPU time-stamp counter cycles on
// x86, else nanoseconds).
struct RuleStats {
  uint64_t checks = 0;
  uint64_t matches = 0;
  uint64_t cycles = 0;
};

struct RuleCost {
  uint32_t gid = 1, sid = 0, rev = 1;
  std::string msg;
  RuleStats stats;
};

// The running engine's rules by cost: totals over every rule, and the costliest rules (those
// verified at least once, by cycles, then checks). Counters belong to one compiled engine, i.e.
// one policy version: a commit starts them from zero.
struct RuleCostReport {
  bool enabled = false;  // the running policy has an IDS
  uint64_t policyVersion = 0;
  size_t rules = 0;         // rules compiled
  size_t rulesChecked = 0;  // verified at least once
  size_t rulesMatched = 0;  // matched at least once
  RuleStats total;
  std::vector<RuleCost> top;
};

}  // namespace lbg::ids
