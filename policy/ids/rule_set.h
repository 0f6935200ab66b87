#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ids/rule_parser.h"

namespace lbg::ids {

// A rule that did not load: where it is and the keyword at fault.
struct Rejection {
  std::string file;
  int line = 0;    // 1-based; the first line of a rule continued with '\'
  int column = 0;  // 1-based in the rule's logical line
  std::string keyword;
  std::string message;
};

// What a load did: every rule line is either loaded or rejected (never half-applied).
struct LoadReport {
  size_t loaded = 0;
  std::vector<Rejection> rejections;
  std::vector<std::string> fileErrors;  // unreadable files, bad classification lines

  size_t total() const { return loaded + rejections.size(); }
  // Rejected rules per keyword, most frequent first.
  std::vector<std::pair<std::string, size_t>> byKeyword() const;
  // Human-readable report: totals, then the rejected share by keyword.
  std::string format() const;
};

// The immutable compiled rule set. Flowbit names are numbered densely (Flowbit::ids).
class RuleSet {
 public:
  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<std::string>& flowbitNames() const { return flowbitNames_; }
  const Classifications& classifications() const { return classes_; }
  const LoadReport& report() const { return report_; }

 private:
  friend class RuleSetBuilder;
  std::vector<Rule> rules_;
  std::vector<std::string> flowbitNames_;
  Classifications classes_;
  LoadReport report_;
};

class RuleSetBuilder {
 public:
  explicit RuleSetBuilder(Variables vars = Variables::defaults()) : vars_(std::move(vars)) {}

  // classification.config text; call before adding rules so classtypes are checked.
  void setClassifications(std::string_view text, const std::string& file);
  bool addClassificationFile(const std::string& path);
  // Rules text: one rule per line ('\' continues a line), '#' comments and blank lines skipped.
  void addRules(std::string_view text, const std::string& file);
  bool addRuleFile(const std::string& path);

  std::shared_ptr<const RuleSet> build() &&;

 private:
  void addOne(std::string_view text, const std::string& file, int line);

  Variables vars_;
  Classifications classes_;
  bool haveClasses_ = false;
  std::vector<Rule> rules_;
  std::map<std::pair<uint32_t, uint32_t>, bool> seen_;  // (gid, sid)
  LoadReport report_;
};

}  // namespace lbg::ids
