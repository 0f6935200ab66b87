#pragma once

// The IDS rule files a replicated policy version names (issue 14, control/policy_sync/README.md
// "IDS rule files"). A version's `ids.rules` are absolute paths: the files `lbgctl ids load`
// pinned in the policy store (DIR/rules/<sha256>-<name>, content-addressed) or plain files the
// administrator put on the box. The active carries the first with their text and the second by
// their SHA-256 only; the standby stores the first after checking the text against the hash in
// the name (it never writes a path the peer names: the name is rebuilt in its own store, which
// must be the same directory, as `lbgctl backup`/`restore` already assume), and compares the
// second with its own file. Any difference refuses the version: a pair enforces one rule set or
// the commit fails on both boxes.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/base/result.h"
#include "policy/model.h"

namespace lbg::control {

class PolicyStore;

struct CarriedRulesFile {
  std::string path;    // as the version names it
  std::string sha256;  // of its text (lowercase hex)
  std::optional<std::string> content;  // for a file of the policy store only
};

// Bounds of what one push carries (the frame's body is at most 20 MiB, the version's YAML
// included): files, and the text of the stored ones together.
inline constexpr size_t kMaxCarriedRulesFiles = 256;
inline constexpr size_t kMaxCarriedRulesBytes = 16u << 20;

// The active's side: every rule file `doc` names, read from this box (a stored file checked
// against the hash in its name first). Fails when one cannot be read, no longer matches its
// name, or the files are over the bounds: such a version cannot be replicated.
Result<std::vector<CarriedRulesFile>> carriedRulesOf(const policy::PolicyDoc& doc,
                                                     const std::string& rulesDir);

nlohmann::json carriedRulesToJson(const std::vector<CarriedRulesFile>& files);
// What came from the peer (authenticated, still untrusted): shape and bounds only.
Result<std::vector<CarriedRulesFile>> carriedRulesFromJson(const nlohmann::json& j);

// The standby's side, before the version is validated (the parser wants the files there):
// stores each stored file in `store` once its text hashes to its name; checks each plain file
// here against the active's hash. The number of files stored, or why the version is refused.
Result<size_t> adoptCarriedRules(const std::vector<CarriedRulesFile>& files, PolicyStore& store);

}  // namespace lbg::control
