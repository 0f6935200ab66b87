#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/candidate.h"
#include "control/roles.h"
#include "control/store.h"
#include "control/validation_cache.h"
#include "dataplane/core/control_api.h"
#include "policy/result.h"

namespace lbg::control {

// Every control action, implemented once: role check, the action on the store and the
// dataplane, the admin event in the enforcement log. Knows nothing about sockets, so the server
// (and tests) feed it request lines with the peer's credentials.
class Dispatcher {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  struct Config {
    std::string storeDir;
    std::string rolesFile;
    // Committed as version 1 (author "bootstrap", no approval) when the store has no version yet,
    // so a fresh appliance starts from its packaged default policy.
    std::string bootstrapPolicyFile;
    Clock clock;  // defaults to system_clock::now
    size_t maxFlowRows = 10000;
    int ismapWarnDays = 30;
  };

  // Opens the store and the roles file and publishes the store's running version to the
  // dataplane if it is not already what the dataplane runs. A running version that no longer
  // validates (e.g. an ISMAP registration lapsed while the box was off) is not published; that
  // is reported in problems() and logged, and the dataplane keeps what it has (fail closed).
  static Result<std::unique_ptr<Dispatcher>> create(Config config, dataplane::ControlApi& api);

  // Handles one request line from a peer and returns the response line ('\n'-terminated).
  // `passedFd` is a descriptor the peer sent with the request (SCM_RIGHTS) or -1; the caller
  // keeps ownership.
  std::string handle(uint32_t uid, uint32_t gid, std::string_view line, int passedFd);
  // Answers and logs a request refused before it could be read (too large, too many clients).
  std::string refuse(uint32_t uid, uint32_t gid, const ApiError& error);

  // Periodic duties from the service loop: the daily ISMAP expiry warning.
  void tick();
  // Counters of the dataplane plus the control plane's own gauges, Prometheus text format.
  std::string metricsText() const;

  const std::vector<Error>& problems() const { return problems_; }

 private:
  struct Caller {
    Roles::Identity id;
    std::optional<Role> role;
    std::string label;  // user name, or "uid N"
  };
  using Outcome = std::variant<nlohmann::json, ApiError>;

  Dispatcher(Config config, dataplane::ControlApi& api) : config_(std::move(config)), api_(api) {}
  Result<Ok> startUp();
  std::chrono::sys_days today() const;
  Caller identify(uint32_t uid, uint32_t gid) const;
  void logAdmin(const Caller& c, std::string_view action, const nlohmann::json& args,
                const Outcome& outcome);

  Outcome run(const Caller& c, const Request& r, int passedFd);
  // Helpers shared by commands.
  std::string candidateText() const;
  // Validation through validations_: a text validated once (by an edit, a load, a commit) is
  // not parsed again while it stays among the last few.
  Result<ValidationCache::Ptr> validated(const std::string& yaml, const std::string& fileName,
                                         std::chrono::sys_days day) const;
  Result<ValidationCache::Ptr> runningCandidate() const;
  Outcome storeCandidate(Result<Candidate> c, const std::string& what);
  Outcome commitText(const Caller& c, const std::string& yaml, const std::string& message,
                     uint64_t rollbackOf);
  // Publishes a recorded version; `compiled`, when given, is its snapshot compiled already (with
  // this version number), else the version is read, validated and compiled here.
  Outcome goLive(uint64_t version, std::shared_ptr<const policy::Snapshot> compiled = nullptr);

  Outcome serviceList(const nlohmann::json& args);
  Outcome serviceShow(const nlohmann::json& args);
  Outcome serviceAdd(const nlohmann::json& args);
  Outcome serviceEdit(const nlohmann::json& args);
  Outcome serviceRemove(const nlohmann::json& args);
  Outcome importM365(const nlohmann::json& args);
  Outcome importAsp(const nlohmann::json& args);
  Outcome serviceExpiring(const nlohmann::json& args);
  Outcome policyLoad(const nlohmann::json& args);
  Outcome policyDiff();
  Outcome policyValidate();
  Outcome policyTest(int passedFd);
  Outcome policyCommit(const Caller& c, const nlohmann::json& args);
  Outcome policyApprove(const Caller& c, const nlohmann::json& args);
  Outcome policyReject(const Caller& c, const nlohmann::json& args);
  Outcome policyHistory();
  Outcome policyShow(const nlohmann::json& args);
  Outcome policyRollback(const Caller& c, const nlohmann::json& args);
  Outcome status(const Caller& c);
  Outcome stats();
  Outcome flows(const nlohmann::json& args);
  Outcome reload();
  Outcome backup();
  Outcome restore(const nlohmann::json& args);

  Config config_;
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
  std::chrono::system_clock::time_point nextIsmapCheck_{};
  uint64_t requests_ = 0;
  // When the request being handled was read (reported with enforced_at: the server's share).
  std::chrono::system_clock::time_point received_{};
  uint64_t refused_ = 0;
};

}  // namespace lbg::control
