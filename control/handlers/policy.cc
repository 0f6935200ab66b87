#include "control/handlers/handlers.h"

#include "control/diff.h"
#include "control/ids_rules.h"
#include "control/sha256.h"
#include "control/verdict_diff.h"
#include "policy/snapshot.h"

namespace lbg::control::handlers {

using nlohmann::json;

Outcome policyCandidate(CommandContext& ctx, const Call& /*call*/) {
  return json{{"yaml", ctx.candidateText()}, {"saved", ctx.store_->candidate().has_value()}};
}

Outcome policyDiscard(CommandContext& ctx, const Call& /*call*/) {
  if (auto d = ctx.store_->discardCandidate(); !d) return err(ErrorCode::Internal, d.error());
  return json{{"discarded", true}};
}

Outcome policyLoad(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  const std::string file = argOptString(args, "file").value_or("policy.yaml");
  return ctx.storeCandidate(validateCandidate(*content, file, ctx.today()), "loaded " + file);
}

Outcome policyDiff(CommandContext& ctx, const Call& /*call*/) {
  auto cand = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
  if (!cand) return invalid(cand.error());
  const policy::PolicyDoc none;
  ValidationCache::Ptr run;
  if (ctx.store_->running()) {
    auto doc = ctx.runningCandidate();
    if (!doc) return invalid(doc.error());
    run = *doc;
  }
  PolicyDiff d = diffPolicies(run ? run->doc : none, (*cand)->doc);
  diffIdsRules(run ? run->doc : none, (*cand)->doc, ctx.store_->rulesDir(), d);
  return json{{"running",
               ctx.store_->running() ? json(ctx.store_->running()->meta.version) : json(nullptr)},
              {"diff", d.toJson()},
              {"text", d.toText()}};
}

Outcome policyValidate(CommandContext& ctx, const Call& /*call*/) {
  auto cand = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
  if (!cand) return invalid(cand.error());
  auto snap = policy::Snapshot::create((*cand)->doc, 0);
  if (!snap) return invalid(snap.error());
  return json{{"valid", true},
              {"services", (*cand)->doc.services.size()},
              {"sha256", sha256Hex((*cand)->yaml)}};
}

Outcome policyTest(CommandContext& ctx, const Call& call) {
  const int passedFd = call.passedFd;
  if (passedFd < 0)
    return err(ErrorCode::Invalid, "policy.test needs the capture passed as a file descriptor");
  auto cand = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
  if (!cand) return invalid(cand.error());
  // The version the candidate would get: a snapshot of version 0 shares its epoch with flow
  // entries that were never stamped, and a replay under it skips the rechecks a real version gets
  // (as `ids test` does).
  auto candSnap = policy::Snapshot::create((*cand)->doc, ctx.store_->nextVersion());
  if (!candSnap) return invalid(candSnap.error());
  auto running = ctx.api_.current();
  if (!running) return err(ErrorCode::Unavailable, "the dataplane runs no policy");
  // The dataplane reads the capture through the descriptor the caller opened with its own
  // rights; the daemon never opens a path a client names.
  const std::string path = "/proc/self/fd/" + std::to_string(passedFd);
  auto a = ctx.api_.replayVerdicts(running, path);
  if (!a) return invalid(a.error());
  auto b = ctx.api_.replayVerdicts(*candSnap, path);
  if (!b) return invalid(b.error());
  json out = compareVerdicts(*a, *b).toJson();
  out["running"] = running->version();
  return out;
}

Outcome policyCommit(CommandContext& ctx, const Call& call) {
  const Caller& c = call.caller;
  const json& args = call.args;
  auto msg = argString(args, "message");
  if (!msg) return invalid(msg.error());
  if (msg->empty()) return err(ErrorCode::Invalid, "a commit needs a message (-m)");
  return ctx.commitText(c, ctx.candidateText(), *msg, 0);
}

Outcome policyApprove(CommandContext& ctx, const Call& call) {
  const Caller& c = call.caller;
  const json& args = call.args;
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  if (auto refused = ctx.refuseOnStandby()) return *refused;
  auto v = ctx.store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  if (v->meta.state != VersionState::Pending) {
    return err(ErrorCode::Conflict,
               "version " + std::to_string(*n) + " is " + toString(v->meta.state));
  }
  if (v->meta.author == c.label) {
    return err(ErrorCode::Conflict, "version " + std::to_string(*n) + " was committed by " +
                                        c.label + "; it must be approved by a different user");
  }
  const uint64_t running = ctx.store_->running() ? ctx.store_->running()->meta.version : 0;
  if (v->meta.base != running) {
    return err(ErrorCode::Conflict, "version " + std::to_string(*n) + " was based on version " +
                                        std::to_string(v->meta.base) + " but version " +
                                        std::to_string(running) +
                                        " runs now; reject it and commit again");
  }
  // Validate with today's date before approving: a registration may have lapsed since.
  auto cand = ctx.validated(v->yaml, "version " + std::to_string(*n), ctx.today());
  if (!cand) return invalid(cand.error());
  auto a = ctx.store_->approve(*n, c.label);
  if (!a) return err(ErrorCode::Conflict, a.error());
  auto out = ctx.replicateAndGoLive(*a, v->yaml);
  if (auto* j = std::get_if<json>(&out)) (*j)["approver"] = c.label;
  return out;
}

Outcome policyReject(CommandContext& ctx, const Call& call) {
  const Caller& c = call.caller;
  const json& args = call.args;
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  const std::string reason = argOptString(args, "reason").value_or("");
  if (!ctx.store_->show(*n)) return err(ErrorCode::NotFound, "no version " + std::to_string(*n));
  auto r = ctx.store_->reject(*n, c.label, reason);
  if (!r) return err(ErrorCode::Conflict, r.error());
  return json{{"version", *n}, {"state", toString(r->state)}};
}

Outcome policyHistory(CommandContext& ctx, const Call& /*call*/) {
  json list = json::array();
  for (const auto& m : ctx.store_->history()) list.push_back(m.toJson());
  const auto run = ctx.store_->running();
  json problems = json::array();
  for (const auto& p : ctx.store_->problems()) problems.push_back(p.toString());
  return json{{"running", run ? json(run->meta.version) : json(nullptr)},
              {"versions", list},
              {"problems", problems}};
}

Outcome policyShow(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  auto v = ctx.store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  return json{{"meta", v->meta.toJson()}, {"yaml", v->yaml}};
}

Outcome policyRollback(CommandContext& ctx, const Call& call) {
  const Caller& c = call.caller;
  const json& args = call.args;
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  auto v = ctx.store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  const std::string msg = argOptString(args, "message").value_or("");
  return ctx.commitText(
      c, v->yaml, "rollback to version " + std::to_string(*n) + (msg.empty() ? "" : ": " + msg),
      *n);
}

}  // namespace lbg::control::handlers
