#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "control/service_draft.h"
#include "policy/model.h"
#include "policy/base/result.h"

namespace lbg::control {

// A validated candidate: the document and its canonical text (policy::toYaml), which is what the
// store keeps, so that diffs and hashes do not depend on how an edit was typed.
struct Candidate {
  policy::PolicyDoc doc;
  std::string yaml;
};

// Parses and validates policy text with the policy module's one validator; the result is
// canonical. Errors carry `fileName`, line and column.
Result<Candidate> validateCandidate(const std::string& yaml, const std::string& fileName,
                                    std::chrono::sys_days today);

// Changes to one service; lists are edited item by item so that two admins' intents are clear
// in the audit log ("add fqdn x" rather than a whole new list).
struct ServiceEdit {
  std::vector<std::string> addFqdns, removeFqdns;
  std::vector<std::string> addCidrs, removeCidrs;
  std::vector<std::string> addPorts, removePorts;
  std::optional<std::string> kind, description, ismapId, ismapExpires;
  std::optional<bool> intercept;
  std::optional<bool> sanitize;  // `sanitize:` (the policy parser insists on intercept with it)

  static Result<ServiceEdit> fromJson(const nlohmann::json& args);
};

// Each operation takes the current candidate text, returns the new validated candidate, and
// changes nothing on error (the caller stores the result only when it is ok).
Result<Candidate> addService(const std::string& yaml, const ServiceDraft& draft,
                             std::chrono::sys_days today);
Result<Candidate> editService(const std::string& yaml, const std::string& name,
                              const ServiceEdit& edit, std::chrono::sys_days today);
Result<Candidate> removeService(const std::string& yaml, const std::string& name,
                                std::chrono::sys_days today);

// Puts imported services into the candidate: services named like an imported one are replaced;
// with `replacePrefix` non-empty, every other service whose name starts with it is removed too
// (a re-import of the M365 list drops endpoint sets Microsoft retired). Each imported service is
// validated on its own first, so that an error names the catalogue line, not the candidate.
Result<Candidate> mergeImported(const std::string& yaml, const ImportResult& imported,
                                const std::string& replacePrefix, std::chrono::sys_days today);

// Makes `rules` (absolute paths: the store's copies, `ids load`) the candidate's whole
// `ids.rules` list, keeping its `ids.mode` and `ids.on_fault`; a candidate without `ids:` gets
// one with the defaults (mode ips, on_fault drop).
Result<Candidate> setIdsRules(const std::string& yaml, const std::vector<std::string>& rules,
                              std::chrono::sys_days today);

// A minimal valid policy, to start a store that has no version yet.
std::string emptyPolicyYaml();

}  // namespace lbg::control
