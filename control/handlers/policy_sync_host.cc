// CommandContext's side of policy sync (control/policy_sync/): what PolicySync asks of the box
// (its role, its running version, adopting a version, the sealed log), wired once at start.
#include "control/handlers/context.h"
#include "control/handlers/handlers.h"
#include "control/policy_sync/carried_rules.h"
#include "control/policy_sync/policy_sync.h"

namespace lbg::control {

using nlohmann::json;

Result<Ok> CommandContext::startPolicySync() {
  if (!config_.policySync) return Ok{};
  PolicySyncConfig psc = *config_.policySync;
  if (psc.stateFile.empty()) psc.stateFile = config_.storeDir + "/ha-peer-policy.json";
  PolicySync::Host host;
  host.active = [this] { return api_.haRole() == dataplane::HaRole::Active; };
  host.running = [this] { return store_->running(); };
  host.adopt = [this](const VersionMeta& m, const std::string& yaml, const std::string& box) {
    return adoptFromPeer(m, yaml, box);
  };
  host.carryRules = [this](const std::string& yaml) -> Result<json> {
    // Validated with the commit just before (cached); a version that no longer validates here
    // (a registration lapsed) is judged by the standby as it is, without files.
    auto c = validated(yaml, "version", today());
    if (!c) return json::array();
    auto files = carriedRulesOf((*c)->doc, store_->rulesDir());
    if (!files) return files.error();
    return carriedRulesToJson(*files);
  };
  host.adoptRules = [this](const json& rules) -> Result<size_t> {
    auto files = carriedRulesFromJson(rules);
    if (!files) return files.error();
    return adoptCarriedRules(*files, *store_);
  };
  host.flushCerts = [this]() -> Result<size_t> {
    dataplane::ControlApi::CertSelector all;
    all.all = true;
    return api_.flushCerts(all);
  };
  host.record = [this](const std::string& action, const std::string& result, const json& ha) {
    api_.logEvent(handlers::haRecord(config_.clock(), "lbg-gateway", action, result, ha));
  };
  auto ps = PolicySync::create(std::move(psc), std::move(host));
  if (!ps) return ps.error();
  policySync_ = std::move(*ps);
  return Ok{};
}

}  // namespace lbg::control
