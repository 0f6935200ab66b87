#include "control/handlers/handlers.h"

#include "policy/ids/rule_set.h"
#include "policy/snapshot.h"

namespace lbg::control::handlers {

using nlohmann::json;

// `lbgctl ids`: the running policy's IDS rules, loaded and rejected (by keyword, then each
// rejected rule with its file, line and keyword, bounded).
Outcome ids(CommandContext& ctx, const Call& /*call*/) {
  const auto cur = ctx.api_.current();
  if (!cur || !cur->doc().ids) return json{{"enabled", false}};
  const policy::IdsSpec& spec = *cur->doc().ids;
  json out{{"enabled", true},
           {"policy_version", cur->version()},
           {"mode", policy::toString(spec.mode)},
           {"on_fault", policy::toString(spec.onFault)},
           {"files", spec.rules}};
  const lbg::ids::LoadReport* r = cur->idsReport();
  if (r == nullptr) return out;
  out["loaded"] = r->loaded;
  out["rejected"] = r->rejections.size();
  json byKeyword = json::array();
  for (const auto& [keyword, n] : r->byKeyword()) byKeyword.push_back({{"keyword", keyword}, {"rules", n}});
  out["rejected_by_keyword"] = byKeyword;
  constexpr size_t kMaxRows = 200;
  json rows = json::array();
  for (size_t i = 0; i < r->rejections.size() && i < kMaxRows; ++i) {
    const auto& x = r->rejections[i];
    rows.push_back({{"file", x.file}, {"line", x.line}, {"column", x.column},
                    {"keyword", x.keyword}, {"message", x.message}});
  }
  out["rejections"] = rows;
  out["rejections_truncated"] = r->rejections.size() > kMaxRows;
  return out;
}

// `lbgctl ids stats [--limit N]`: what each rule of the running IDS cost since its policy version
// was committed (the engine's counters, summed over the workers): totals, then the costliest
// rules with their checks (verifications after a prefilter hit), matches and time.
Outcome idsStats(CommandContext& ctx, const Call& call) {
  constexpr uint64_t kMaxLimit = 1000;
  uint64_t limit = 20;
  if (call.args.contains("limit")) {
    auto l = argUint(call.args, "limit");
    if (!l || *l == 0 || *l > kMaxLimit)
      return err(ErrorCode::Invalid, "\"limit\" must be 1.." + std::to_string(kMaxLimit));
    limit = *l;
  }
  const lbg::ids::RuleCostReport r = ctx.api_.idsRuleCosts(size_t(limit));
  if (!r.enabled) return json{{"enabled", false}};
  auto perCheck = [](const lbg::ids::RuleStats& s) {
    return s.checks ? s.cycles / s.checks : 0;
  };
  json top = json::array();
  for (const auto& c : r.top) {
    top.push_back({{"gid", c.gid}, {"sid", c.sid}, {"rev", c.rev}, {"msg", c.msg},
                   {"checks", c.stats.checks}, {"matches", c.stats.matches},
                   {"cycles", c.stats.cycles}, {"cycles_per_check", perCheck(c.stats)}});
  }
  return json{{"enabled", true},
              {"policy_version", r.policyVersion},
              {"rules", r.rules},
              {"rules_checked", r.rulesChecked},
              {"rules_matched", r.rulesMatched},
              {"checks", r.total.checks},
              {"matches", r.total.matches},
              {"cycles", r.total.cycles},
              {"rules_by_cost", top}};
}

}  // namespace lbg::control::handlers
