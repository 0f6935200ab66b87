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

Result<std::shared_ptr<const Engine>> compilePolicyIds(const policy::PolicyDoc& doc) {
  if (!doc.ids) return Error{"ids: no rules"};
  RuleSetBuilder builder(Variables::defaults(homeNetOf(doc)));
  for (const auto& file : doc.ids->rules) builder.addRuleFile(file);
  auto set = std::move(builder).build();
  if (!set->report().fileErrors.empty()) {
    return Error{"ids.rules: " + set->report().fileErrors.front()};
  }
  auto engine = Engine::create(set);
  if (!engine) return Error{"ids.rules: " + engine.error().message};
  return std::shared_ptr<const Engine>(std::move(engine.value()));
}

void registerPolicyIds() { policy::setIdsCompiler(&compilePolicyIds); }

}  // namespace lbg::ids
