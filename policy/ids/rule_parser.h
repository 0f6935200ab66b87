#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ids/header.h"
#include "policy/ids/rule.h"

namespace lbg::ids {

struct Classification {
  std::string name;
  std::string description;
  int priority = 3;
};
using Classifications = std::map<std::string, Classification, std::less<>>;

// Reads classification.config (`config classification: name,description,priority` lines).
// Malformed lines are reported in `errors` as "line N: why" and skipped.
Classifications parseClassificationConfig(std::string_view text, std::vector<std::string>* errors);

// Why a rule was not loaded: the keyword at fault ("header", "sid", an unsupported keyword...),
// the reason, and the 1-based column of the keyword in the rule's text.
struct RuleError {
  std::string keyword;
  std::string message;
  int column = 0;
};

struct ParsedRule {
  std::optional<Rule> rule;
  RuleError error;  // meaningful when !rule
};

// Parses one rule (a single logical line, without the trailing newline). `classes` may be null:
// then any classtype is accepted and priority defaults to 3. Flowbit ids are left unassigned.
ParsedRule parseRule(std::string_view text, const Variables& vars, const Classifications* classes);

}  // namespace lbg::ids
