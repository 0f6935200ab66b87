#include "control/handlers/handlers.h"

#include <algorithm>

#include "control/ismap.h"
#include "policy/snapshot.h"

namespace lbg::control::handlers {

using nlohmann::json;

namespace {

// Dotted-path lookup in a flow row: "tls.sni", "policy.service".
const json* lookup(const json& row, const std::string& path) {
  const json* cur = &row;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string key = path.substr(start, dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    start = dot + 1;
  }
  return cur;
}

}  // namespace

Outcome whoami(CommandContext& /*ctx*/, const Call& call) {
  const Caller& c = call.caller;
  return json{{"user", c.label}, {"uid", c.id.uid}, {"role", toString(*c.role)}};
}

Outcome status(CommandContext& ctx, const Call& call) {
  const Caller& c = call.caller;
  const auto cur = ctx.api_.current();
  const auto run = ctx.store_->running();
  size_t pending = 0;
  for (const auto& h : ctx.store_->history()) pending += h.state == VersionState::Pending;
  const auto cand = ctx.store_->candidate();
  json problems = json::array();
  for (const auto& p : ctx.problems_) problems.push_back(p.toString());
  json expiring = json::array();
  if (auto rc = ctx.runningCandidate()) {
    for (const auto& e : expiringServices((*rc)->doc, ctx.today(), ctx.config_.ismapWarnDays))
      expiring.push_back(e.name);
  }
  return json{{"user", c.label},
              {"role", toString(*c.role)},
              {"dataplane_version", cur ? json(cur->version()) : json(nullptr)},
              {"running_version", run ? json(run->meta.version) : json(nullptr)},
              {"in_sync", cur && run && cur->version() == run->meta.version},
              {"pending", pending},
              {"candidate_changed", cand.has_value() && (!run || *cand != run->yaml)},
              {"ismap_expiring", expiring},
              {"problems", problems}};
}

// Every counter in declaration order; those the dataplane groups carry their section's id, and
// `sections` lists each section once (first-seen order) with its ja/en heading.
Outcome stats(CommandContext& ctx, const Call& /*call*/) {
  json list = json::array();
  json sections = json::array();
  for (const auto& c : ctx.counters()) {
    json row = {{"name", c.name}, {"help", c.help}, {"value", c.value}};
    if (!c.section.empty()) {
      row["section"] = c.section;
      const bool seen = std::any_of(sections.begin(), sections.end(),
                                    [&](const json& s) { return s["id"] == c.section; });
      if (!seen) sections.push_back({{"id", c.section}, {"title", c.sectionTitle}});
    }
    list.push_back(std::move(row));
  }
  return json{{"counters", list}, {"sections", sections}};
}

Outcome flows(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  size_t limit = 100;
  if (args.contains("limit")) {
    auto l = argUint(args, "limit");
    if (!l || *l == 0 || *l > ctx.config_.maxFlowRows) {
      return err(ErrorCode::Invalid,
                 "\"limit\" must be 1.." + std::to_string(ctx.config_.maxFlowRows));
    }
    limit = *l;
  }
  std::vector<std::pair<std::string, std::string>> filters;
  if (args.contains("filter")) {
    if (!args["filter"].is_object())
      return err(ErrorCode::Invalid, "\"filter\" must map field names to values");
    for (auto it = args["filter"].begin(); it != args["filter"].end(); ++it) {
      if (!it->is_string() && !it->is_number())
        return err(ErrorCode::Invalid, "filter values are strings or numbers");
      filters.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  // Filters run over the full table the dataplane hands out (bounded by maxFlowRows), then
  // the result is cut to `limit`.
  json rows = json::array();
  size_t scanned = 0;
  for (const auto& line : ctx.api_.flows(filters.empty() ? limit : ctx.config_.maxFlowRows)) {
    ++scanned;
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded()) continue;
    bool match = true;
    for (const auto& [k, v] : filters) {
      const json* f = lookup(row, k);
      if (!f || (f->is_string() ? f->get<std::string>() : f->dump()) != v) match = false;
    }
    if (!match) continue;
    rows.push_back(std::move(row));
    if (rows.size() >= limit) break;
  }
  return json{{"flows", rows}, {"scanned", scanned}};
}

Outcome reload(CommandContext& ctx, const Call& /*call*/) {
  auto roles = Roles::load(ctx.config_.rolesFile);
  if (!roles) return invalid(roles.error());  // the old roles stay in force
  // Re-verify the store from disk (e.g. after a file-level restore by the administrator).
  if (auto r = ctx.store_->reload(); !r) return err(ErrorCode::Internal, r.error());
  ctx.roles_ = std::move(*roles);
  ctx.problems_ = ctx.store_->problems();
  json out = {{"roles", ctx.roles_.size()}, {"problems", json::array()}};
  for (const auto& p : ctx.problems_) out["problems"].push_back(p.toString());
  const auto run = ctx.store_->running();
  const auto cur = ctx.api_.current();
  if (run && (!cur || cur->version() != run->meta.version)) {
    auto c = ctx.validated(run->yaml, "version " + std::to_string(run->meta.version), ctx.today());
    if (!c) return invalid(c.error());
    auto snap = ctx.compile((*c)->doc, run->meta.version);
    if (!snap) return invalid(snap.error());
    if (auto p = ctx.api_.publish(*snap); !p) return err(ErrorCode::Unavailable, p.error());
  }
  out["version"] = run ? json(run->meta.version) : json(nullptr);
  return out;
}

}  // namespace lbg::control::handlers
