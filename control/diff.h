#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/model.h"

namespace lbg::control {

// What a commit would change, in terms an approver can judge: settings, and per service the
// names, prefixes and ports added or removed (not a line diff of YAML).
struct PolicyDiff {
  struct Setting {
    std::string key;  // "defaults.deny", "segment.inside", ...
    std::string from, to;
  };
  struct ServiceChange {
    std::string name;
    std::string change;  // "added" | "removed" | "changed"
    // For "changed" (and the full content for added/removed): field → items.
    std::vector<std::pair<std::string, std::vector<std::string>>> added, removed;
    std::vector<Setting> fields;  // kind, ismap, intercept, description
  };
  std::vector<Setting> settings;
  std::vector<ServiceChange> services;

  bool empty() const { return settings.empty() && services.empty(); }
  nlohmann::json toJson() const;
  // "+ service foo\n  + fqdn a.example.com\n~ defaults.deny: drop → reset\n" (for lbgctl).
  std::string toText() const;
};

PolicyDiff diffPolicies(const policy::PolicyDoc& from, const policy::PolicyDoc& to);

}  // namespace lbg::control
