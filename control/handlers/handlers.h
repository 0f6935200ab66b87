#pragma once

// The handlers of the command table (control/command_table.cc), one file per noun. Each runs
// after the dispatcher checked the caller's role, and returns the result or the error.

#include "control/handlers/context.h"

namespace lbg::control::handlers {

// service.cc
Outcome serviceList(CommandContext& ctx, const Call& call);
Outcome serviceShow(CommandContext& ctx, const Call& call);
Outcome serviceAdd(CommandContext& ctx, const Call& call);
Outcome serviceEdit(CommandContext& ctx, const Call& call);
Outcome serviceRemove(CommandContext& ctx, const Call& call);
Outcome importM365(CommandContext& ctx, const Call& call);
Outcome importAsp(CommandContext& ctx, const Call& call);
Outcome serviceExpiring(CommandContext& ctx, const Call& call);

// policy.cc
Outcome policyCandidate(CommandContext& ctx, const Call& call);
Outcome policyLoad(CommandContext& ctx, const Call& call);
Outcome policyDiscard(CommandContext& ctx, const Call& call);
Outcome policyDiff(CommandContext& ctx, const Call& call);
Outcome policyValidate(CommandContext& ctx, const Call& call);
Outcome policyTest(CommandContext& ctx, const Call& call);
Outcome policyCommit(CommandContext& ctx, const Call& call);
Outcome policyApprove(CommandContext& ctx, const Call& call);
Outcome policyReject(CommandContext& ctx, const Call& call);
Outcome policyHistory(CommandContext& ctx, const Call& call);
Outcome policyShow(CommandContext& ctx, const Call& call);
Outcome policyRollback(CommandContext& ctx, const Call& call);

// certs.cc
Outcome certs(CommandContext& ctx, const Call& call);
Outcome certsFlush(CommandContext& ctx, const Call& call);

// operations.cc
Outcome whoami(CommandContext& ctx, const Call& call);
Outcome status(CommandContext& ctx, const Call& call);
Outcome stats(CommandContext& ctx, const Call& call);
Outcome flows(CommandContext& ctx, const Call& call);
Outcome reload(CommandContext& ctx, const Call& call);

// ids.cc
Outcome ids(CommandContext& ctx, const Call& call);
Outcome idsStats(CommandContext& ctx, const Call& call);
Outcome idsLoad(CommandContext& ctx, const Call& call);
Outcome idsTest(CommandContext& ctx, const Call& call);

// backup.cc
Outcome backup(CommandContext& ctx, const Call& call);
Outcome restore(CommandContext& ctx, const Call& call);

// ha.cc
Outcome haStatus(CommandContext& ctx, const Call& call);
Outcome haActive(CommandContext& ctx, const Call& call);
Outcome haStandby(CommandContext& ctx, const Call& call);
Outcome haHealth(CommandContext& ctx, const Call& call);
// One HA record of the enforcement log (a role change, a change of health), as the gateway also
// writes at start for its role_at_start.
std::string haRecord(std::chrono::system_clock::time_point at, const std::string& user,
                     std::string_view action, std::string_view result, const nlohmann::json& ha);

// ca.cc
Outcome caInit(CommandContext& ctx, const Call& call);
Outcome caShow(CommandContext& ctx, const Call& call);
Outcome caRotate(CommandContext& ctx, const Call& call);

}  // namespace lbg::control::handlers
