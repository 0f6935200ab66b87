#pragma once

// IDS rule files as part of the candidate policy (`lbgctl ids load`, `policy diff`): checked
// with the real rule parser before they are staged, stored content-addressed in the policy store
// (PolicyStore::putRules), and compared between two policies by the rules they hold.

#include <string>
#include <string_view>
#include <vector>

#include "control/diff.h"
#include "policy/base/result.h"
#include "policy/ids/rule_set.h"
#include "policy/model.h"

namespace lbg::control {

// One file as lbgctl sent it: the name it was given under and its text.
struct RulesUpload {
  std::string name;
  std::string content;
};

// What the parser made of one file: rules loaded, and each rejected rule (line, keyword).
struct RulesFileReport {
  std::string name;  // the stored name (rulesFileName())
  size_t loaded = 0;
  std::vector<ids::Rejection> rejections;
};

// The plain file name a loaded file is stored under: the last path component, with any
// character other than letters, digits, '.', '_' and '-' replaced by '_' (at most 100 chars).
std::string rulesFileName(std::string_view given);

// A file of the store's rules directory is `rulesDir`/<64 hex>-<name>: the hash part of `path`
// when it is such a file, "" for any other path (a plain file).
std::string storedRulesFileHash(const std::string& path, const std::string& rulesDir);

// HOME_NET as the engine sets it for `doc` (segment.inside; dataplane/ids/policy_ids.cc).
std::string homeNetOf(const policy::PolicyDoc& doc);

// Parses every file with the rule parser the engine uses (HOME_NET from `doc`), in one rule set
// so that a sid given twice across the files is caught too. Rules that do not load are reported,
// not fatal; an empty file, a file none of whose rules loads, or the same name twice is an error
// (nothing may be staged then). At most 64 files.
Result<std::vector<RulesFileReport>> checkRulesFiles(const std::vector<RulesUpload>& files,
                                                     const policy::PolicyDoc& doc);

// Fails when `doc` names a file of the store's rules directory whose content no longer hashes to
// its name: a committed version must enforce the rules it was approved with, or nothing.
Result<Ok> verifyStoredRules(const policy::PolicyDoc& doc, const std::string& rulesDir);

// Fills `diff.ids` (files added and removed, rule counts, sids added, removed and with a new
// revision) by reading and parsing the rule files both policies name. A file that cannot be read
// is shown with its error, never hidden.
void diffIdsRules(const policy::PolicyDoc& from, const policy::PolicyDoc& to,
                  const std::string& rulesDir, PolicyDiff& diff);

}  // namespace lbg::control
