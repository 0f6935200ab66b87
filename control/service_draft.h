#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "policy/base/result.h"

namespace lbg::control {

// A service as text, before the policy parser has validated it: what `lbgctl service add` and
// the catalogue importers produce. It becomes a YAML node in the candidate, and the candidate as
// a whole is validated by policy::parsePolicyText — one validator, so an imported service can
// never be laxer than a hand-written one.
struct ServiceDraft {
  std::string name;
  std::string kind;  // cloud | lgwan-asp | security-update | infrastructure
  std::string ismapId;
  std::string ismapExpires;  // YYYY-MM-DD
  std::vector<std::string> fqdns;
  std::vector<std::string> cidrs;
  std::vector<std::string> ports;  // "tcp/443", "udp/3478-3481"
  bool intercept = false;
  std::string description;
  // Where it came from ("asp.csv", line 3), so a validation error points at the catalogue line.
  std::string originFile;
  int originLine = 0;
  bool sanitize = false;  // last: the importers and tests build drafts by position

  YAML::Node toYaml() const;
  nlohmann::json toJson() const;
  // From `service.add` arguments; unknown keys are errors.
  static Result<ServiceDraft> fromJson(const nlohmann::json& args);
};

// What an importer made of a catalogue: the services, plus entries it skipped and why (e.g. an
// M365 URL pattern with a wildcard in the middle, which the policy cannot express).
struct ImportResult {
  std::vector<ServiceDraft> services;
  std::vector<std::string> warnings;
};

}  // namespace lbg::control
