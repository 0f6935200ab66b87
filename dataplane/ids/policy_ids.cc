#include "dataplane/ids/policy_ids.h"

#include "policy/snapshot.h"

namespace lbg::ids {

std::string homeNetOf(const policy::PolicyDoc& doc) {
  std::string out = "[";
  for (size_t i = 0; i < doc.inside.size(); ++i) {
    if (i) out += ',';
    out += doc.inside[i].toString();
  }
  return out + "]";
}

Result<policy::IdsCompiled> compilePolicyIds(const policy::PolicyDoc& doc) {
  if (!doc.ids) return Error{"ids: no rules"};
  RuleSetBuilder builder(Variables::defaults(homeNetOf(doc)));
  for (const auto& file : doc.ids->rules) builder.addRuleFile(file);
  auto set = std::move(builder).build();
  if (!set->report().fileErrors.empty()) {
    return Error{"ids.rules: " + set->report().fileErrors.front()};
  }
  auto engine = Engine::create(set);
  if (!engine) return Error{"ids.rules: " + engine.error().message};
  // One report: a rule the engine refused (a pcre PCRE2 cannot compile) counts as rejected.
  auto report = std::make_shared<LoadReport>(set->report());
  for (const auto& r : engine.value()->report().rejections) {
    report->rejections.push_back(r);
    if (report->loaded > 0) --report->loaded;
  }
  return policy::IdsCompiled{std::shared_ptr<const Engine>(std::move(engine.value())),
                             std::move(report)};
}

void registerPolicyIds() { policy::setIdsCompiler(&compilePolicyIds); }

}  // namespace lbg::ids
