#include "policy/ids/rule_set.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace lbg::ids {
namespace {

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

std::vector<std::pair<std::string, size_t>> LoadReport::byKeyword() const {
  std::map<std::string, size_t> counts;
  for (auto& r : rejections) ++counts[r.keyword];
  std::vector<std::pair<std::string, size_t>> out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return out;
}

std::string LoadReport::format() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "rules: %zu, loaded: %zu (%.1f%%), rejected: %zu\n", total(),
                loaded, total() ? 100.0 * double(loaded) / double(total()) : 0.0,
                rejections.size());
  out += line;
  for (auto& e : fileErrors) out += "error: " + e + "\n";
  if (!rejections.empty()) out += "rejected by keyword:\n";
  for (auto& [k, n] : byKeyword()) {
    std::snprintf(line, sizeof line, "  %-28s %6zu  %5.2f%%\n", k.c_str(), n,
                  100.0 * double(n) / double(total()));
    out += line;
  }
  return out;
}

void RuleSetBuilder::setClassifications(std::string_view text, const std::string& file) {
  std::vector<std::string> errors;
  classes_ = parseClassificationConfig(text, &errors);
  haveClasses_ = true;
  for (auto& e : errors) report_.fileErrors.push_back(file + ": " + e);
}

bool RuleSetBuilder::addClassificationFile(const std::string& path) {
  std::string text;
  if (!readFile(path, text)) {
    report_.fileErrors.push_back(path + ": cannot read");
    return false;
  }
  setClassifications(text, path);
  return true;
}

bool RuleSetBuilder::addRuleFile(const std::string& path) {
  std::string text;
  if (!readFile(path, text)) {
    report_.fileErrors.push_back(path + ": cannot read");
    return false;
  }
  addRules(text, path);
  return true;
}

void RuleSetBuilder::addRules(std::string_view text, const std::string& file) {
  int lineNo = 0;
  std::string logical;
  int firstLine = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (logical.empty()) {
      size_t k = line.find_first_not_of(" \t");
      if (k == std::string_view::npos || line[k] == '#') continue;
      firstLine = lineNo;
    }
    if (!line.empty() && line.back() == '\\') {
      logical.append(line.substr(0, line.size() - 1));
      if (!text.empty()) continue;
    } else {
      logical.append(line);
    }
    addOne(logical, file, firstLine);
    logical.clear();
  }
}

void RuleSetBuilder::addOne(std::string_view text, const std::string& file, int line) {
  ParsedRule p = parseRule(text, vars_, haveClasses_ ? &classes_ : nullptr);
  if (p.rule && !seen_.emplace(std::make_pair(p.rule->gid, p.rule->sid), true).second) {
    p.error = {"sid", "duplicate sid " + std::to_string(p.rule->sid), 1};
    p.rule.reset();
  }
  if (!p.rule) {
    report_.rejections.push_back({file, line, p.error.column, p.error.keyword, p.error.message});
    return;
  }
  p.rule->file = file;
  p.rule->line = line;
  rules_.push_back(std::move(*p.rule));
  ++report_.loaded;
}

std::shared_ptr<const RuleSet> RuleSetBuilder::build() && {
  auto set = std::make_shared<RuleSet>();
  std::unordered_map<std::string, uint16_t> ids;
  for (auto& r : rules_)
    for (auto& fb : r.flowbits) {
      fb.ids.clear();
      for (auto& n : fb.names) {
        auto [it, inserted] = ids.emplace(n, uint16_t(set->flowbitNames_.size()));
        if (inserted) set->flowbitNames_.push_back(n);
        fb.ids.push_back(it->second);
      }
    }
  set->rules_ = std::move(rules_);
  set->classes_ = std::move(classes_);
  set->report_ = std::move(report_);
  return set;
}

}  // namespace lbg::ids
