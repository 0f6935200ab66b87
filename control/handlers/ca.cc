// `lbgctl ca init|show|rotate`: the appliance CA of lbg-proxy's interception (control/appliance_ca.h).
// Every call is logged as an admin event by the dispatcher like any other command.
#include <cstdio>
#include <filesystem>

#include "control/appliance_ca.h"
#include "control/handlers/handlers.h"

namespace lbg::control::handlers {

using nlohmann::json;

namespace {

std::string caDir(const CommandContext& ctx) {
  if (!ctx.config_.caDir.empty()) return ctx.config_.caDir;
  const std::filesystem::path store(ctx.config_.storeDir);
  const auto parent = store.lexically_normal().parent_path();
  return ((parent.empty() ? std::filesystem::path(".") : parent) / "ca").string();
}

json certJson(const CaCertInfo& c, bool withPem) {
  json j{{"path", c.path},
         {"subject", c.subject},
         {"sha256", c.sha256},
         {"not_before", c.notBefore},
         {"not_after", c.notAfter}};
  if (withPem) j["pem"] = c.pem;
  return j;
}

json infoJson(const CaInfo& i) {
  json j{{"certificate", certJson(i.cert, true)},
         {"key", {{"path", i.keyPath},
                  {"mode", [&] {
                     char b[8];
                     std::snprintf(b, sizeof b, "%04o", unsigned(i.keyMode));
                     return std::string(b);
                   }()},
                  {"group", i.keyGroup.empty() ? json(nullptr) : json(i.keyGroup)},
                  {"matches_certificate", i.keyMatches}}}};
  j["previous"] = i.previous ? certJson(*i.previous, true) : json(nullptr);
  if (i.keyGroup.empty()) {
    j["warnings"] = json::array({"no group \"lbg-proxy\": the CA key is 0600, readable by the "
                                 "gateway's user only; create the group and run lbg-proxy in it, "
                                 "then rotate"});
  }
  return j;
}

Result<CaOptions> options(const CommandContext& ctx, const Call& call) {
  CaOptions o;
  o.dir = caDir(ctx);
  o.keyGroup = ctx.config_.caKeyGroup;
  o.now = ctx.config_.clock ? ctx.config_.clock() : std::chrono::system_clock::now();
  if (call.args.contains("organization")) {
    auto org = argString(call.args, "organization");
    if (!org) return org.error();
    o.organization = *org;
  }
  if (call.args.contains("days")) {
    auto days = argUint(call.args, "days");
    if (!days) return days.error();
    if (*days == 0 || *days > 20 * 365) return Error{"--days must be 1 to 7300"};
    o.validDays = uint32_t(*days);
  }
  return o;
}

}  // namespace

Outcome caInit(CommandContext& ctx, const Call& call) {
  auto o = options(ctx, call);
  if (!o) return invalid(o.error());
  bool exists = false;
  auto r = ::lbg::control::caInit(*o, &exists);
  if (!r) return err(exists ? ErrorCode::Conflict : ErrorCode::Internal, r.error());
  return infoJson(*r);
}

Outcome caRotate(CommandContext& ctx, const Call& call) {
  auto o = options(ctx, call);
  if (!o) return invalid(o.error());
  bool missing = false;
  auto r = ::lbg::control::caRotate(*o, &missing);
  if (!r) return err(missing ? ErrorCode::NotFound : ErrorCode::Internal, r.error());
  return infoJson(*r);
}

Outcome caShow(CommandContext& ctx, const Call& /*call*/) {
  bool missing = false;
  auto r = ::lbg::control::caShow(caDir(ctx), &missing);
  if (!r) return err(missing ? ErrorCode::NotFound : ErrorCode::Internal, r.error());
  json j = infoJson(*r);
  j.erase("warnings");  // the key's actual group and mode are shown as they are
  if (!r->keyMatches) {
    j["warnings"] = json::array({"the CA key does not match the certificate (replaced by hand?): "
                                 "lbg-proxy refuses it (it does not start; a running one keeps "
                                 "its CA); run lbgctl ca rotate"});
  }
  return j;
}

}  // namespace lbg::control::handlers
