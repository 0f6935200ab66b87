#include "control/handlers/handlers.h"

#include <map>
#include <tuple>

#include "control/ids_rules.h"
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

// `lbgctl ids load FILE...`: the files become the candidate's whole `ids.rules`. lbgctl sends
// their text (the daemon opens no path a client names); each is parsed with the engine's rule
// parser, stored content-addressed in the policy store, and the candidate names the stored
// copies, so what is committed is this text, whatever happens to the files later. A file none of
// whose rules loads is an error and the candidate is left as it was.
Outcome idsLoad(CommandContext& ctx, const Call& call) {
  if (!call.args.contains("files") || !call.args["files"].is_array())
    return err(ErrorCode::Invalid, "\"files\" must be a list of {name, content}");
  std::vector<RulesUpload> files;
  for (const auto& f : call.args["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("content") ||
        !f["content"].is_string())
      return err(ErrorCode::Invalid, "\"files\" must be a list of {name, content}");
    files.push_back({f["name"].get<std::string>(), f["content"].get<std::string>()});
  }
  auto cand = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
  if (!cand) return invalid(cand.error());
  auto checked = checkRulesFiles(files, (*cand)->doc);
  if (!checked) return invalid(checked.error());
  std::vector<std::string> paths;
  json report = json::array();
  constexpr size_t kMaxRejections = 200;  // per file, in the answer
  for (size_t i = 0; i < files.size(); ++i) {
    const RulesFileReport& r = (*checked)[i];
    // Unreferenced copies (a later step failing) are harmless: nothing names them.
    auto path = ctx.store_->putRules(r.name, files[i].content);
    if (!path) return err(ErrorCode::Internal, path.error());
    paths.push_back(*path);
    json rejected = json::array();
    for (size_t k = 0; k < r.rejections.size() && k < kMaxRejections; ++k) {
      const auto& x = r.rejections[k];
      rejected.push_back(
          {{"line", x.line}, {"column", x.column}, {"keyword", x.keyword}, {"message", x.message}});
    }
    report.push_back({{"file", files[i].name},
                      {"stored", *path},
                      {"loaded", r.loaded},
                      {"rejected", r.rejections.size()},
                      {"rejections", rejected}});
  }
  std::string what = "ids load";
  for (const auto& r : *checked) what += " " + r.name;
  Outcome out = ctx.storeCandidate(setIdsRules(ctx.candidateText(), paths, ctx.today()), what);
  if (auto* j = std::get_if<json>(&out)) (*j)["files"] = report;
  return out;
}

// `lbgctl ids test --pcap FILE [--candidate]`: which rules alert (or drop) on a capture with the
// running policy, or the candidate, replayed offline through the gateway's own pipeline
// (`lbg-gateway replay`'s code, as `policy test` does). One row per rule and flow with its count,
// most frequent first, bounded.
Outcome idsTest(CommandContext& ctx, const Call& call) {
  if (call.passedFd < 0)
    return err(ErrorCode::Invalid, "ids.test needs the capture passed as a file descriptor");
  const bool candidate = call.args.value("candidate", false);
  std::shared_ptr<const policy::Snapshot> snap;
  if (candidate) {
    auto cand = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
    if (!cand) return invalid(cand.error());
    // Numbered as the version it would become: the pipeline tells flows of its own snapshot by
    // the version, and a snapshot numbered 0 is judged differently from a committed one (flow
    // entries start at epoch 0). Compiled afresh, so the replay adds nothing to the counters of
    // the snapshot prepared for the commit.
    auto s = ctx.compile((*cand)->doc, ctx.store_->nextVersion());
    if (!s) return invalid(s.error());
    snap = *s;
  } else {
    snap = ctx.api_.current();
    if (!snap) return err(ErrorCode::Unavailable, "the dataplane runs no policy");
  }
  // As `ids` and `ids stats`: a policy without `ids:` is an answer, not an error.
  if (!snap->doc().ids)
    return json{{"enabled", false}, {"policy", candidate ? "candidate" : "running"}};
  constexpr size_t kMaxEvents = 100000;
  constexpr size_t kMaxRows = 200;
  const std::string path = "/proc/self/fd/" + std::to_string(call.passedFd);
  auto lines = ctx.api_.replayAlerts(snap, path, kMaxEvents);
  if (!lines) return invalid(lines.error());
  // (sid, rev, msg, action, flow) → count
  using Key = std::tuple<uint64_t, uint64_t, uint64_t, std::string, std::string, std::string>;
  std::map<Key, uint64_t> counts;
  for (const auto& line : *lines) {
    const json e = json::parse(line, nullptr, false);
    if (!e.is_object() || !e.contains("alert")) continue;
    const json& a = e["alert"];
    const std::string flow = e.value("proto", "") + " " + e.value("src_ip", "") + ":" +
                             std::to_string(e.value("src_port", 0u)) + " -> " +
                             e.value("dest_ip", "") + ":" +
                             std::to_string(e.value("dest_port", 0u));
    ++counts[Key{a.value("gid", uint64_t{1}), a.value("signature_id", uint64_t{0}),
                 a.value("rev", uint64_t{0}), a.value("signature", ""), a.value("action", ""),
                 flow}];
  }
  std::vector<std::pair<Key, uint64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  json out = json::array();
  for (size_t i = 0; i < rows.size() && i < kMaxRows; ++i) {
    const auto& [k, n] = rows[i];
    out.push_back({{"gid", std::get<0>(k)},
                   {"sid", std::get<1>(k)},
                   {"rev", std::get<2>(k)},
                   {"msg", std::get<3>(k)},
                   {"action", std::get<4>(k)},
                   {"flow", std::get<5>(k)},
                   {"count", n}});
  }
  return json{{"enabled", true},
              {"policy", candidate ? "candidate" : "running"},
              {"policy_version", candidate ? json(nullptr) : json(snap->version())},
              {"alerts", lines->size()},
              {"alerts_truncated", lines->size() >= kMaxEvents},
              {"rows", out},
              {"rows_truncated", rows.size() > kMaxRows}};
}

}  // namespace lbg::control::handlers
