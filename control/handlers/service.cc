#include "control/handlers/handlers.h"

#include "control/asp_csv_import.h"
#include "control/ismap.h"
#include "control/m365_import.h"
#include "control/service_draft.h"

namespace lbg::control::handlers {

using nlohmann::json;

namespace {

json serviceJson(const policy::ServiceSpec& s) {
  json j = {{"name", s.name},
            {"kind", policy::toString(s.kind)},
            {"fqdn", s.fqdns},
            {"cidr", json::array()},
            {"ports", json::array()},
            {"intercept", s.intercept},
            {"sanitize", s.sanitize},
            {"description", s.description}};
  for (const auto& p : s.cidrs) j["cidr"].push_back(p.toString());
  for (const auto& p : s.ports) j["ports"].push_back(policy::toString(p));
  if (s.ismap) j["ismap"] = {{"id", s.ismap->id}, {"expires", s.ismap->expires}};
  return j;
}

}  // namespace

Outcome serviceList(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  const std::string which = argOptString(args, "policy").value_or("candidate");
  Result<ValidationCache::Ptr> c = Error{""};
  if (which == "candidate") {
    // Listing is reading: judged as of the epoch so that a lapsed registration does not hide
    // the list (edits and commits validate with today's date).
    c = ctx.validated(ctx.candidateText(), "candidate", std::chrono::sys_days{});
  } else if (which == "running") {
    c = ctx.runningCandidate();
  } else {
    return err(ErrorCode::Invalid, "\"policy\" must be candidate or running");
  }
  if (!c) return invalid(c.error());
  json list = json::array();
  for (const auto& s : (*c)->doc.services) list.push_back(serviceJson(s));
  return json{{"policy", which}, {"services", list}};
}

Outcome serviceShow(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto list = serviceList(ctx, call);
  if (std::holds_alternative<ApiError>(list)) return list;
  for (const auto& s : std::get<json>(list)["services"]) {
    if (s["name"] == *name) return s;
  }
  return err(ErrorCode::NotFound, "no service \"" + *name + "\"");
}

Outcome serviceAdd(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto d = ServiceDraft::fromJson(args);
  if (!d) return invalid(d.error());
  auto c = addService(ctx.candidateText(), *d, ctx.today());
  if (!c && c.error().message.find("already exists") != std::string::npos)
    return err(ErrorCode::Conflict, c.error());
  return ctx.storeCandidate(std::move(c), "added " + d->name);
}

Outcome serviceEdit(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto e = ServiceEdit::fromJson(args);
  if (!e) return invalid(e.error());
  auto c = editService(ctx.candidateText(), *name, *e, ctx.today());
  if (!c && c.error().message.rfind("no service", 0) == 0)
    return err(ErrorCode::NotFound, c.error());
  return ctx.storeCandidate(std::move(c), "edited " + *name);
}

Outcome serviceRemove(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto c = removeService(ctx.candidateText(), *name, ctx.today());
  if (!c && c.error().message.rfind("no service", 0) == 0)
    return err(ErrorCode::NotFound, c.error());
  return ctx.storeCandidate(std::move(c), "removed " + *name);
}

Outcome importM365(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  M365Options o;
  auto areas = argStringList(args, "areas");
  auto cats = argStringList(args, "categories");
  if (!areas) return invalid(areas.error());
  if (!cats) return invalid(cats.error());
  o.areas = *areas;
  o.categories = *cats;
  o.requiredOnly = args.value("required_only", false);
  o.ismapId = argOptString(args, "ismap_id").value_or("");
  o.ismapExpires = argOptString(args, "ismap_expires").value_or("");
  const std::string file = argOptString(args, "file").value_or("m365.json");
  auto imported = control::importM365(*content, file, o);
  if (!imported) return invalid(imported.error());
  if (imported->services.empty())
    return err(ErrorCode::Invalid, "no endpoint set matched the selection");
  auto c = mergeImported(ctx.candidateText(), *imported, o.namePrefix + "-", ctx.today());
  auto out = ctx.storeCandidate(
      std::move(c), "imported " + std::to_string(imported->services.size()) + " M365 services");
  if (auto* j = std::get_if<json>(&out)) {
    (*j)["imported"] = imported->services.size();
    (*j)["warnings"] = imported->warnings;
  }
  return out;
}

Outcome importAsp(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  const std::string file = argOptString(args, "file").value_or("asp.csv");
  auto imported = importAspCsv(*content, file);
  if (!imported) return invalid(imported.error());
  auto c = mergeImported(ctx.candidateText(), *imported, "", ctx.today());
  auto out =
      ctx.storeCandidate(std::move(c), "imported " + std::to_string(imported->services.size()) +
                                           " LGWAN-ASP services");
  if (auto* j = std::get_if<json>(&out)) (*j)["imported"] = imported->services.size();
  return out;
}

Outcome serviceExpiring(CommandContext& ctx, const Call& call) {
  const json& args = call.args;
  int days = ctx.config_.ismapWarnDays;
  if (args.contains("days")) {
    auto d = argUint(args, "days");
    if (!d || *d > 3650) return err(ErrorCode::Invalid, "\"days\" must be 0..3650");
    days = static_cast<int>(*d);
  }
  // The running policy is what the gateway enforces; a lapse there is what stops traffic.
  auto c = ctx.runningCandidate();
  if (!c) c = ctx.validated(ctx.candidateText(), "candidate", ctx.today());
  if (!c) return invalid(c.error());
  json list = json::array();
  for (const auto& e : expiringServices((*c)->doc, ctx.today(), days)) {
    list.push_back({{"name", e.name},
                    {"ismap_id", e.ismapId},
                    {"expires", e.expires},
                    {"days_left", e.daysLeft}});
  }
  return json{{"days", days}, {"services", list}};
}

}  // namespace lbg::control::handlers
