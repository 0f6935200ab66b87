#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/candidate.h"
#include "control/policy_sync/policy_sync.h"
#include "control/roles.h"
#include "control/store.h"
#include "control/validation_cache.h"
#include "dataplane/core/control_api.h"
#include "policy/base/result.h"

namespace lbg::control {

struct DispatcherConfig {
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  std::string storeDir;
  std::string rolesFile;
  // Committed as version 1 (author "bootstrap", no approval) when the store has no version yet,
  // so a fresh appliance starts from its packaged default policy.
  std::string bootstrapPolicyFile;
  Clock clock;  // defaults to system_clock::now
  size_t maxFlowRows = 10000;
  int ismapWarnDays = 30;
  // The appliance CA lbg-proxy signs its leaves with (control/appliance_ca.h); empty: `ca` next
  // to the store directory (/var/lib/lbg/policy -> /var/lib/lbg/ca).
  std::string caDir;
  // The group that may read the CA key (lbg-proxy's); if it does not exist the key is 0600.
  std::string caKeyGroup = "lbg-proxy";
  // lbg-proxy's counters file (control/proxy_stats.h), shown as the `proxy` section of stats and
  // Prometheus; empty: no lbg-proxy on this appliance, no section.
  std::string proxyStatsFile;
  // ha.policy: policy sync with the HA peer (control/policy_sync/); none: each box on its own.
  std::optional<PolicySyncConfig> policySync;
};

// Who is asking, as the kernel and the roles file say.
struct Caller {
  Roles::Identity id;
  std::optional<Role> role;
  std::string label;  // user name, or "uid N"
};

// One command as the handler sees it; the role was checked before (Dispatcher::handle).
struct Call {
  const Caller& caller;
  const nlohmann::json& args;
  int passedFd;  // a descriptor the peer sent (SCM_RIGHTS) or -1
};

inline ApiError err(ErrorCode code, Error e) {
  return ApiError{code, std::move(e)};
}
inline ApiError err(ErrorCode code, std::string message) {
  return ApiError{code, Error{std::move(message), "", 0, 0}};
}
inline ApiError invalid(const Error& e) {
  return ApiError{ErrorCode::Invalid, e};
}
// RFC 3339 in UTC with microseconds, as the log writes times.
std::string rfc3339(std::chrono::system_clock::time_point t);

// The state every command handler (control/handlers/*.cc) works on, and the steps several of
// them share. Owned by the Dispatcher; handlers are its only other users, so the state is open.
class CommandContext {
 public:
  CommandContext(DispatcherConfig config, dataplane::ControlApi& api)
      : config_(std::move(config)), api_(api) {}

  std::chrono::sys_days today() const;
  // What `stats` and Prometheus show: the dataplane's counters, then lbg-proxy's when configured.
  std::vector<dataplane::ControlApi::Counter> counters() const;
  std::string candidateText() const;
  // Validation through validations_: a text validated once (by an edit, a load, a commit) is
  // not parsed again while it stays among the last few.
  Result<ValidationCache::Ptr> validated(const std::string& yaml, const std::string& fileName,
                                         std::chrono::sys_days day) const;
  Result<ValidationCache::Ptr> runningCandidate() const;
  Outcome storeCandidate(Result<Candidate> c, const std::string& what);
  // The snapshot of a version to enforce: refused when a rule file of the store it names no
  // longer holds the text it was committed with (control/ids_rules.h), else compiled.
  Result<std::shared_ptr<const policy::Snapshot>> compile(const policy::PolicyDoc& doc,
                                                          uint64_t version) const;
  Outcome commitText(const Caller& c, const std::string& yaml, const std::string& message,
                     uint64_t rollbackOf);
  // Publishes a recorded version; `compiled`, when given, is its snapshot compiled already (with
  // this version number), else the version is read, validated and compiled here.
  Outcome goLive(uint64_t version, std::shared_ptr<const policy::Snapshot> compiled = nullptr);
  // goLive() of a recorded version, replicated first to the HA peer when policy sync is on: a
  // version the standby refuses is marked failed here and nothing changes on either box; a
  // standby that cannot be reached does not stop the commit (the pair must stay manageable with
  // one box down): it is enforced here, said loudly in the answer and the log, and the standby
  // is brought up to date when it answers again.
  Outcome replicateAndGoLive(const VersionMeta& meta, const std::string& yaml,
                             std::shared_ptr<const policy::Snapshot> compiled = nullptr);
  // A standby of a pair with policy sync takes its policy from the active only.
  std::optional<ApiError> refuseOnStandby() const;
  // Starts policy sync with the peer when `ha.policy` is configured (policy_sync_host.cc).
  Result<Ok> startPolicySync();
  // The standby's side of policy sync: validates a version the active sent, stores it under the
  // active's number and enforces it.
  Result<nlohmann::json> adoptFromPeer(const VersionMeta& meta, const std::string& yaml,
                                       const std::string& box);

  DispatcherConfig config_;
  dataplane::ControlApi& api_;
  std::unique_ptr<PolicyStore> store_;
  Roles roles_;
  std::vector<Error> problems_;
  mutable ValidationCache validations_;
  // The candidate compiled when it was stored, numbered as the next version: a commit of exactly
  // this text publishes it without compiling again (10,000 services: tens of milliseconds).
  struct Prepared {
    std::string yaml;
    std::shared_ptr<const policy::Snapshot> snapshot;
  } prepared_;
  // When the request being handled was read (reported with enforced_at: the server's share).
  std::chrono::system_clock::time_point received_{};
  // The last answer of `ha health` (none yet): a change is recorded, not every poll.
  std::optional<bool> haHealthy_;
  std::unique_ptr<PolicySync> policySync_;  // null without ha.policy
};

}  // namespace lbg::control
