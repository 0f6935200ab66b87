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
#include "control/handlers/context.h"
#include "control/roles.h"
#include "control/store.h"
#include "control/validation_cache.h"
#include "dataplane/core/control_api.h"
#include "policy/base/result.h"

namespace lbg::control {

// Every control request: the command looked up in the table (command_table.cc), the role
// checked, the handler (handlers/*.cc) run, the admin event written to the enforcement log.
// Knows nothing about sockets, so the server (and tests) feed it request lines with the peer's
// credentials.
class Dispatcher {
 public:
  using Clock = DispatcherConfig::Clock;
  using Config = DispatcherConfig;

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

  const std::vector<Error>& problems() const { return ctx_.problems_; }

 private:
  Dispatcher(Config config, dataplane::ControlApi& api) : ctx_(std::move(config), api) {}
  Result<Ok> startUp();
  Caller identify(uint32_t uid, uint32_t gid) const;
  void logAdmin(const Caller& c, std::string_view action, const nlohmann::json& args,
                const Outcome& outcome);
  // The command's handler (command table), after the role check.
  Outcome run(const CommandInfo& command, const Caller& c, const Request& r, int passedFd);

  CommandContext ctx_;
  std::chrono::system_clock::time_point nextIsmapCheck_{};
  uint64_t requests_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace lbg::control
