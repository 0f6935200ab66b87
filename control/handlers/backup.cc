#include "control/handlers/handlers.h"

#include "control/sha256.h"
#include "policy/snapshot.h"

namespace lbg::control::handlers {

using nlohmann::json;

Outcome backup(CommandContext& ctx, const Call& /*call*/) {
  const std::string text = ctx.store_->backup();
  return json{
      {"content", text}, {"sha256", sha256Hex(text)}, {"versions", ctx.store_->history().size()}};
}

Outcome restore(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  auto verified = ctx.store_->verifyBackup(*content);
  if (!verified) return invalid(verified.error());
  // A restore must not become a way around approval: if the running policy demands approval,
  // the backup may only bring back the policy that runs now (recovering history); going back
  // to another policy is a rollback, which is approved like any commit.
  if (auto run = ctx.store_->running()) {
    auto rc = ctx.runningCandidate();
    const bool changesRunning = !*verified || (*verified)->yaml != run->yaml;
    if (rc && (*rc)->doc.approvalRequired && changesRunning) {
      return err(ErrorCode::Conflict,
                 "the running policy requires approval and this backup would run a different "
                 "policy; restore it on a store whose running policy matches, or use "
                 "policy rollback (approved like a commit)");
    }
  }
  // The backup's IDS rule files first (content-addressed, named by no running version until the
  // restore): its versions name them, so they must be there to validate.
  if (auto r = ctx.store_->restoreRules(*content); !r) return err(ErrorCode::Internal, r.error());
  // Compile what would run before touching the store: a backup whose policy no longer
  // validates is refused and nothing changes.
  std::shared_ptr<const policy::Snapshot> snap;
  if (*verified) {
    const auto& v = **verified;
    auto c =
        validateCandidate(v.yaml, "backup version " + std::to_string(v.meta.version), ctx.today());
    if (!c) return invalid(c.error());
    auto s = ctx.compile(c->doc, v.meta.version);
    if (!s) return invalid(s.error());
    snap = *s;
  }
  if (auto r = ctx.store_->restore(*content); !r) return err(ErrorCode::Internal, r.error());
  ctx.problems_ = ctx.store_->problems();
  if (snap) {
    if (auto p = ctx.api_.publish(snap); !p) return err(ErrorCode::Unavailable, p.error());
  }
  return json{{"restored", ctx.store_->history().size()},
              {"version", snap ? json(snap->version()) : json(nullptr)}};
}

}  // namespace lbg::control::handlers
