#include "control/dispatcher.h"

#include "control/atomic_file.h"
#include "control/ismap.h"
#include "control/prometheus.h"
#include "control/sha256.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/snapshot.h"

namespace lbg::control {

namespace {

using nlohmann::json;
using telemetry::LogEventType;
using telemetry::MeasureId;

// Arguments longer than this are logged as a digest: file contents (backups, catalogues) belong
// in the store, the log records which content it was.
constexpr size_t kMaxLoggedArg = 512;
constexpr size_t kMaxFileArg = 64u << 20;

json redact(const json& args) {
  if (args.is_string()) {
    const auto& s = args.get_ref<const std::string&>();
    if (s.size() <= kMaxLoggedArg) return args;
    return {{"sha256", sha256Hex(s)}, {"bytes", s.size()}};
  }
  if (args.is_object() || args.is_array()) {
    json out = args.is_object() ? json::object() : json::array();
    for (auto it = args.begin(); it != args.end(); ++it) {
      if (args.is_object()) {
        out[it.key()] = redact(*it);
      } else {
        out.push_back(redact(*it));
      }
    }
    return out;
  }
  return args;
}

std::string_view measureOf(std::string_view action) {
  if (action.rfind("policy.", 0) == 0 || action == "restore") return toString(MeasureId::Procedure);
  return toString(MeasureId::Priv);
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::create(Config config, dataplane::ControlApi& api) {
  if (!config.clock) config.clock = [] { return std::chrono::system_clock::now(); };
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(config), api));
  if (auto r = d->startUp(); !r) return r.error();
  return d;
}

Result<Ok> Dispatcher::startUp() {
  auto roles = Roles::load(ctx_.config_.rolesFile);
  if (!roles) return roles.error();
  ctx_.roles_ = std::move(*roles);
  auto store = PolicyStore::open(ctx_.config_.storeDir);
  if (!store) return store.error();
  ctx_.store_ = std::move(*store);
  ctx_.problems_ = ctx_.store_->problems();
  if (!ctx_.store_->running() && ctx_.store_->history().empty() &&
      !ctx_.config_.bootstrapPolicyFile.empty()) {
    auto text = readFileLimited(ctx_.config_.bootstrapPolicyFile, kMaxFileArg);
    if (!text) return text.error();
    auto c = validateCandidate(*text, ctx_.config_.bootstrapPolicyFile, ctx_.today());
    if (!c) return c.error();
    auto m = ctx_.store_->add(c->yaml, "bootstrap",
                              "initial policy from " + ctx_.config_.bootstrapPolicyFile, false);
    if (!m) return m.error();
    if (auto live = ctx_.goLive(m->version); std::holds_alternative<ApiError>(live)) {
      return std::get<ApiError>(live).error;
    }
  } else if (auto run = ctx_.store_->running()) {
    const auto cur = ctx_.api_.current();
    if (!cur || cur->version() != run->meta.version) {
      auto c = validateCandidate(run->yaml, "version " + std::to_string(run->meta.version),
                                 ctx_.today());
      Result<std::shared_ptr<const policy::Snapshot>> snap =
          c ? ctx_.compile(c->doc, run->meta.version)
            : Result<std::shared_ptr<const policy::Snapshot>>(c.error());
      if (!snap) {
        ctx_.problems_.push_back(
            Error{"running version " + std::to_string(run->meta.version) +
                  " no longer validates and was not published: " + snap.error().toString()});
      } else if (auto p = ctx_.api_.publish(*snap); !p) {
        ctx_.problems_.push_back(Error{"publishing version " + std::to_string(run->meta.version) +
                                       " failed: " + p.error().toString()});
      }
    }
  }
  if (auto ps = ctx_.startPolicySync(); !ps) return ps.error();
  for (const auto& p : ctx_.problems_) {
    ctx_.api_.logEvent(json({{"timestamp", rfc3339(ctx_.config_.clock())},
                             {"event_type", toString(LogEventType::Admin)},
                             {"admin",
                              {{"user", "lbg-gateway"},
                               {"action", "store.open"},
                               {"result", "problem"},
                               {"error", {{"message", p.toString()}}}}},
                             {"measure", toString(MeasureId::Log)}})
                           .dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return Ok{};
}

Caller Dispatcher::identify(uint32_t uid, uint32_t gid) const {
  Caller c;
  c.id = Roles::identify(uid, gid);
  c.label = c.id.user.empty() ? "uid " + std::to_string(uid) : c.id.user;
  if (auto r = ctx_.roles_.roleFor(c.id)) c.role = *r;
  return c;
}

void Dispatcher::logAdmin(const Caller& c, std::string_view action, const json& args,
                          const Outcome& outcome) {
  json a = {{"user", c.id.user.empty() ? json(nullptr) : json(c.id.user)},
            {"uid", c.id.uid},
            {"role", c.role ? json(toString(*c.role)) : json(nullptr)},
            {"action", action},
            {"args", redact(args)}};
  if (const auto* e = std::get_if<ApiError>(&outcome)) {
    a["result"] = e->code == ErrorCode::Forbidden ? "refused" : "failed";
    a["error"] = {{"code", toString(e->code)}, {"message", e->error.toString()}};
  } else {
    a["result"] = "ok";
    const json& r = std::get<json>(outcome);
    if (r.is_object() && r.contains("version")) a["version"] = r["version"];
  }
  ctx_.api_.logEvent(json({{"timestamp", rfc3339(ctx_.config_.clock())},
                           {"event_type", toString(LogEventType::Admin)},
                           {"admin", a},
                           {"measure", measureOf(action)}})
                         .dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string Dispatcher::refuse(uint32_t uid, uint32_t gid, const ApiError& error) {
  ++refused_;
  const Caller c = identify(uid, gid);
  logAdmin(c, "(unread)", json::object(), error);
  return encodeError(error);
}

std::string Dispatcher::handle(uint32_t uid, uint32_t gid, std::string_view line, int passedFd) {
  ctx_.received_ = std::chrono::system_clock::now();
  ++requests_;
  const Caller c = identify(uid, gid);
  auto parsed = parseRequest(line);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    ++refused_;
    logAdmin(c, "(malformed)", json::object(), *e);
    return encodeError(*e);
  }
  const Request& req = std::get<Request>(parsed);
  const CommandInfo* info = findCommand(req.cmd);  // parseRequest guarantees it exists
  Outcome out;
  if (!c.role) {
    auto why = ctx_.roles_.roleFor(c.id);
    out = err(ErrorCode::Forbidden, why ? std::string("no role") : why.error().message);
  } else if (!roleMay(*info, *c.role)) {
    out = err(ErrorCode::Forbidden,
              std::string("role ") + toString(*c.role) + " may not run " + req.cmd);
  } else {
    out = run(*info, c, req, passedFd);
  }
  if (std::holds_alternative<ApiError>(out)) ++refused_;
  if (!info->probe || std::holds_alternative<ApiError>(out)) logAdmin(c, req.cmd, req.args, out);
  if (const auto* e = std::get_if<ApiError>(&out)) return encodeError(*e);
  return encodeOk(std::get<json>(out));
}

Outcome Dispatcher::run(const CommandInfo& command, const Caller& c, const Request& r,
                        int passedFd) {
  return command.handler(ctx_, Call{c, r.args, passedFd});
}

void Dispatcher::tick() {
  if (ctx_.policySync_) ctx_.policySync_->poll();
  const auto now = ctx_.config_.clock();
  if (now < nextIsmapCheck_) return;
  nextIsmapCheck_ = now + std::chrono::hours(24);
  auto rc = ctx_.runningCandidate();
  if (!rc) return;
  for (const auto& e : expiringServices((*rc)->doc, ctx_.today(), ctx_.config_.ismapWarnDays)) {
    ctx_.api_.logEvent(
        json({{"timestamp", rfc3339(now)},
              {"event_type", toString(LogEventType::Policy)},
              {"policy", {{"version", ctx_.store_->running()->meta.version}, {"service", e.name}}},
              {"warning", "ismap-expiring"},
              {"ismap", {{"id", e.ismapId}, {"expires", e.expires}, {"days_left", e.daysLeft}}},
              {"measure", toString(MeasureId::ExIsmap)}})
            .dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

}  // namespace lbg::control
