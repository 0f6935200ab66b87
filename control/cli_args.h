#pragma once

// lbgctl's side of a command: the words and options of one invocation, and the request built
// from them by the command's `build` function in the command table. Options are checked against
// the table before (control/lbgctl_parse.h); the builders only shape the request.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control/api.h"

namespace lbg::control {

// A command line lbgctl cannot turn into a request (exit 2).
struct UsageError {
  std::string message;
};

struct CliInvocation {
  std::string cmd;  // "policy.commit"
  // Options given, by long name; a flag holds one empty value, an unsigned its decimal text.
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> positional;

  Request request;
  std::string passFile;   // opened here and passed as a descriptor (policy test --pcap)
  std::string writeFile;  // backup target, or `ca show --der` target
  bool force = false;

  bool has(const std::string& name) const { return options.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string text(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> list(const std::string& name) const;
  uint64_t number(const std::string& name, uint64_t fallback) const;
};

// The builders the table points to, one per command.
namespace cli {
void noArgs(CliInvocation& inv);
void serviceList(CliInvocation& inv);
void serviceShow(CliInvocation& inv);
void serviceRemove(CliInvocation& inv);
void serviceAdd(CliInvocation& inv);
void serviceEdit(CliInvocation& inv);
void importM365(CliInvocation& inv);
void fileContent(CliInvocation& inv);  // service import-asp, policy load
void serviceExpiring(CliInvocation& inv);
void policyTest(CliInvocation& inv);
void policyCommit(CliInvocation& inv);
void version(CliInvocation& inv);  // policy approve, policy show
void policyReject(CliInvocation& inv);
void policyRollback(CliInvocation& inv);
void flows(CliInvocation& inv);
void idsStats(CliInvocation& inv);
void idsLoad(CliInvocation& inv);
void idsTest(CliInvocation& inv);
void certs(CliInvocation& inv);  // certs, certs flush
void backup(CliInvocation& inv);
void restore(CliInvocation& inv);
void caNew(CliInvocation& inv);  // ca init, ca rotate
void caShow(CliInvocation& inv);
}  // namespace cli

}  // namespace lbg::control
