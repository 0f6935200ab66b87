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

}  // namespace lbg::control::handlers
