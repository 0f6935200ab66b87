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
  // The IDS rule files (`ids.rules`) by what they hold; filled by diffIdsRules()
  // (control/ids_rules.h, which reads the files), not by diffPolicies().
  struct IdsRules {
    struct File {
      std::string path;
      std::string name;    // file name without the store's hash prefix
      std::string sha256;  // of the content ("" when unreadable)
      size_t rules = 0;    // rules that load
      std::string error;   // why it could not be read
    };
    std::vector<File> added, removed;
    size_t rulesFrom = 0, rulesTo = 0;
    // "sid" (or "gid:sid" for gid != 1), ordered; at most kMaxSids each, the totals beside.
    std::vector<std::string> sidsAdded, sidsRemoved, sidsRevised;
    size_t sidsAddedTotal = 0, sidsRemovedTotal = 0, sidsRevisedTotal = 0;
    static constexpr size_t kMaxSids = 500;
    bool empty() const {
      return added.empty() && removed.empty() && sidsAddedTotal == 0 && sidsRemovedTotal == 0 &&
             sidsRevisedTotal == 0;
    }
  };
  std::vector<Setting> settings;
  std::vector<ServiceChange> services;
  IdsRules ids;

  bool empty() const { return settings.empty() && services.empty() && ids.empty(); }
  nlohmann::json toJson() const;
  // "+ service foo\n  + fqdn a.example.com\n~ defaults.deny: drop → reset\n" (for lbgctl).
  std::string toText() const;
};

PolicyDiff diffPolicies(const policy::PolicyDoc& from, const policy::PolicyDoc& to);

}  // namespace lbg::control
