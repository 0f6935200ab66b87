#include "control/handlers/handlers.h"

#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/snapshot.h"

namespace lbg::control::handlers {

using dataplane::HaRole;
using nlohmann::json;
using telemetry::LogEventType;
using telemetry::MeasureId;

// `lbgctl ha ...`: the gateway's role in an active/standby pair (dataplane/core/ha_role.h).
// keepalived decides mastership; its notify scripts call `ha active` / `ha standby`, its track
// script calls `ha health` (tools/ha/).

std::string haRecord(std::chrono::system_clock::time_point at, const std::string& user,
                     std::string_view action, std::string_view result, const json& ha) {
  return json({{"timestamp", rfc3339(at)},
               {"event_type", toString(LogEventType::Admin)},
               {"admin", {{"user", user}, {"action", action}, {"result", result}}},
               {"ha", ha},
               {"measure", toString(MeasureId::Priv)}})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

Outcome switchTo(CommandContext& ctx, const Call& call, HaRole to) {
  const HaRole from = ctx.api_.haRole();
  // A standby whose policy differs from the active's can still be made active by hand (the
  // track script keeps keepalived from doing it): then it says so, loudly.
  std::optional<std::string> divergent;
  if (to == HaRole::Active && ctx.policySync_) divergent = ctx.policySync_->divergence();
  auto r = ctx.api_.setHaRole(to);
  // Every change of role is its own record (beside the command's admin record): what the box
  // did, from which role, and whether its workers all took it.
  if (from != to || !r) {
    json ha = {{"role", toString(to)}, {"previous", toString(from)}};
    if (!r) ha["error"] = r.error().toString();
    if (divergent) ha["warning"] = "became active with another policy than the peer's: " + *divergent;
    ctx.api_.logEvent(haRecord(ctx.config_.clock(), call.caller.label, "ha.role",
                               r ? "ok" : "failed", ha));
  }
  if (!r) return err(ErrorCode::Unavailable, r.error());
  // Active now: this box announces its policy; what the old active announced is void.
  if (to == HaRole::Active && ctx.policySync_) ctx.policySync_->becameActive();
  json out{{"role", toString(to)}, {"previous", toString(from)}, {"changed", from != to}};
  if (divergent) {
    out["warnings"] = json::array({"this box is active with another policy than the peer's: " +
                                   *divergent});
  }
  return out;
}

json problemsOf(CommandContext& ctx) {
  json problems = json::array();
  for (const auto& p : ctx.api_.healthProblems()) problems.push_back(p);
  // The dataplane must enforce the committed policy, not an older one it kept running.
  const auto cur = ctx.api_.current();
  if (const auto run = ctx.store_->running(); run && cur && cur->version() != run->meta.version) {
    problems.push_back("the dataplane enforces version " + std::to_string(cur->version()) +
                       ", the committed one is " + std::to_string(run->meta.version));
  }
  // A standby must enforce what the active announced, or keepalived must not make it master.
  if (ctx.policySync_) {
    if (auto d = ctx.policySync_->divergence()) problems.push_back(*d);
  }
  return problems;
}

}  // namespace

Outcome haStatus(CommandContext& ctx, const Call& /*call*/) {
  const auto cur = ctx.api_.current();
  const json problems = problemsOf(ctx);
  json out{{"role", toString(ctx.api_.haRole())},
           {"pair", ctx.api_.haConfigured()},
           {"healthy", problems.empty()},
           {"problems", problems},
           {"policy_version", cur ? json(cur->version()) : json(nullptr)}};
  // Flow-state sync: the peer and the counts of the `ha` section (declared in the dataplane).
  const auto sync = ctx.api_.haSync();
  if (sync.peer.empty()) {
    out["sync"] = nullptr;
  } else {
    json counts = json::object();
    for (const auto& c : ctx.api_.counters()) {
      if (c.section == "ha") counts[c.name] = c.value;
    }
    out["sync"] = {{"local", sync.local}, {"peer", sync.peer}, {"counters", counts}};
  }
  // Policy sync: the peer's version, what the active announced, the replication state.
  out["policy_sync"] = ctx.policySync_ ? ctx.policySync_->status() : json(nullptr);
  return out;
}

Outcome haActive(CommandContext& ctx, const Call& call) {
  return switchTo(ctx, call, HaRole::Active);
}

Outcome haStandby(CommandContext& ctx, const Call& call) {
  return switchTo(ctx, call, HaRole::Standby);
}

// Polled by keepalived's track script every second: answered without an admin record
// (command_table.cc marks it a probe); a change of health is recorded once instead.
Outcome haHealth(CommandContext& ctx, const Call& call) {
  const json problems = problemsOf(ctx);
  const bool healthy = problems.empty();
  if (!ctx.haHealthy_ || *ctx.haHealthy_ != healthy) {
    if (ctx.haHealthy_ || !healthy) {
      ctx.api_.logEvent(haRecord(ctx.config_.clock(), call.caller.label, "ha.health",
                                 healthy ? "ok" : "failed",
                                 {{"role", toString(ctx.api_.haRole())},
                                  {"healthy", healthy},
                                  {"problems", problems}}));
    }
    ctx.haHealthy_ = healthy;
  }
  return json{{"healthy", healthy}, {"problems", problems}, {"role", toString(ctx.api_.haRole())}};
}

}  // namespace lbg::control::handlers
