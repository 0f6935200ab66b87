#pragma once

#include <memory>

#include "dataplane/ids/engine.h"
#include "policy/model.h"
#include "policy/base/result.h"
#include "policy/snapshot.h"

namespace lbg::ids {

// Reads the rule files of a policy's `ids:` block (HOME_NET = segment.inside) and compiles them
// into an Engine, once per policy version. A rule that does not load is left out and reported in
// the engine's rule set (file, line, keyword: RuleSet::report()); an unreadable file, or rules the
// engine cannot compile as a whole, fail the policy: a rule set is never half-applied.
Result<policy::IdsCompiled> compilePolicyIds(const policy::PolicyDoc& doc);

// Registers compilePolicyIds() with policy::Snapshot::create() (policy/snapshot.h). Called once
// at start-up by the programs that run the dataplane.
void registerPolicyIds();

// "HOME_NET" value from segment.inside: "[10.0.0.0/8,fd00::/8]".
std::string homeNetOf(const policy::PolicyDoc& doc);

}  // namespace lbg::ids
