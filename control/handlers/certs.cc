#include "control/handlers/context.h"
#include "control/handlers/handlers.h"
#include "control/policy_sync/policy_sync.h"

namespace lbg::control::handlers {

using nlohmann::json;

// `lbgctl certs ...`: the destinations' certificate verdicts (証明書による認証, AP-CERT) the
// gateway holds (dataplane/cert/ledger.h), and their flush: after a service changes its
// certificate or address, or a refusal was fixed at the server, its next connection is checked
// again instead of waiting for the verdict's TTL.

namespace {

constexpr uint64_t kMaxLimit = 10000;

std::string unixTime(int64_t secs) {
  if (secs <= 0) return {};
  return rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(secs)));
}

// The selector common to both commands (`--id`, `--name`, `--address`); `--all` for flush only.
std::variant<dataplane::ControlApi::CertSelector, ApiError> selectorOf(const json& args) {
  dataplane::ControlApi::CertSelector s;
  if (args.contains("ids")) {
    auto ids = argStringList(args, "ids");
    if (!ids) return invalid(ids.error());
    for (const std::string& id : *ids) {
      if (id.size() < 4 || id.size() > 16 ||
          id.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return err(ErrorCode::Invalid,
                   "an id is 4 to 16 lower-case hex digits, as `lbgctl certs` shows it: " + id);
      }
    }
    s.ids = *ids;
  }
  if (args.contains("name")) {
    auto name = argString(args, "name");
    if (!name) return invalid(name.error());
    if (name->empty() || name->size() > 253) return err(ErrorCode::Invalid, "\"name\" must be a host name");
    s.host = *name;
  }
  if (args.contains("address")) {
    auto text = argString(args, "address");
    if (!text) return invalid(text.error());
    auto a = IpAddr::parse(*text);
    if (!a) return err(ErrorCode::Invalid, "not an IP address: " + *text);
    s.server = *a;
  }
  if (args.contains("all")) {
    if (!args["all"].is_boolean()) return err(ErrorCode::Invalid, "\"all\" must be true or false");
    s.all = args["all"].get<bool>();
  }
  return s;
}

}  // namespace

Outcome certs(CommandContext& ctx, const Call& call) {
  uint64_t limit = 100;
  if (call.args.contains("limit")) {
    auto l = argUint(call.args, "limit");
    if (!l || *l == 0 || *l > kMaxLimit)
      return err(ErrorCode::Invalid, "\"limit\" must be 1.." + std::to_string(kMaxLimit));
    limit = *l;
  }
  auto sel = selectorOf(call.args);
  if (auto* e = std::get_if<ApiError>(&sel)) return *e;
  const auto& selector = std::get<dataplane::ControlApi::CertSelector>(sel);
  if (selector.all) return err(ErrorCode::Invalid, "\"all\" is for `certs flush`");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          ctx.config_.clock().time_since_epoch())
                          .count();
  json rows = json::array();
  for (const auto& r : ctx.api_.certs(selector, size_t(limit))) {
    rows.push_back({{"id", r.id},
                    {"check", r.probe ? "probe" : "passive"},
                    {"server", r.server},
                    {"port", r.port},
                    {"name", r.host},
                    {"subject", r.subject},
                    {"issuer", r.issuer},
                    {"not_after", unixTime(r.notAfter)},
                    {"verdict", r.verdict},
                    {"checked_at", unixTime(r.checkedAt)},
                    {"age_s", now > r.checkedAt ? now - r.checkedAt : 0},
                    {"expires_at", unixTime(r.expiresAt)},
                    {"expired", r.expiresAt <= now}});
  }
  return json{{"certs", rows}};
}

Outcome certsFlush(CommandContext& ctx, const Call& call) {
  auto sel = selectorOf(call.args);
  if (auto* e = std::get_if<ApiError>(&sel)) return *e;
  const auto& selector = std::get<dataplane::ControlApi::CertSelector>(sel);
  if (!selector.all && selector.ids.empty() && selector.host.empty() && !selector.server) {
    return err(ErrorCode::Invalid, "say what to flush: ids, --name, --address or --all");
  }
  auto n = ctx.api_.flushCerts(selector);
  if (!n) return err(ErrorCode::Unavailable, n.error());
  json out = {{"flushed", *n}, {"all", selector.all}};
  // One box of a pair with policy sync, active: the standby received these verdicts by sync and
  // would enforce them after a takeover (and re-sync them to this box after the next one).
  if (ctx.policySync_ && ctx.api_.haRole() == dataplane::HaRole::Active) {
    const auto peer = ctx.policySync_->flushPeer(call.args);
    if (peer.ok) {
      out["standby"] = {{"peer", peer.detail}, {"flushed", peer.flushed}};
    } else {
      out["standby"] = false;
      out["warnings"] = json::array(
          {"NOT FLUSHED ON THE STANDBY: " + peer.detail +
           ". It keeps the verdicts it received by sync: run `lbgctl certs flush --all` there"});
    }
  } else if (!ctx.policySync_ && ctx.api_.haConfigured() &&
             ctx.api_.haRole() == dataplane::HaRole::Active) {
    out["warnings"] = json::array({"one box of a pair without policy sync (ha.policy): the "
                                   "standby is not told; run `lbgctl certs flush --all` there"});
  }
  return out;
}

}  // namespace lbg::control::handlers
