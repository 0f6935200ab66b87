#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/control_api.h"

namespace lbg::control::testing {

// Test double of the dataplane interface (unit level only; the gateway's implementation is
// exercised by the end-to-end suite). It records every call; its replay judges a tiny text
// "capture" (one "client_ip client_port server_ip port sni" per line) with the snapshot's real
// matchName/matchAddress, so verdict changes come from the policy, not from the fake.
class FakeControlApi : public dataplane::ControlApi {
 public:
  Result<Ok> publish(std::shared_ptr<const policy::Snapshot> snapshot) override;
  std::shared_ptr<const policy::Snapshot> current() const override { return current_; }
  std::vector<Counter> counters() const override { return counters_; }
  std::vector<std::string> flows(size_t limit) const override;
  ids::RuleCostReport idsRuleCosts(size_t limit) const override {
    ids::RuleCostReport r = ruleCosts;
    if (r.top.size() > limit) r.top.resize(limit);
    return r;
  }
  Result<std::vector<std::string>> replayVerdicts(std::shared_ptr<const policy::Snapshot> snapshot,
                                                  const std::string& capturePath) override;
  // The IDS engine runs only in the gateway: the fake returns `alertLines` (at most maxEvents)
  // when the snapshot has an `ids:` block, none otherwise, and records which version it replayed.
  Result<std::vector<std::string>> replayAlerts(std::shared_ptr<const policy::Snapshot> snapshot,
                                                const std::string& capturePath,
                                                size_t maxEvents) override;
  std::vector<std::string> alertLines;
  std::vector<uint64_t> alertReplays;
  void logEvent(const std::string& jsonObject) override { events.push_back(jsonObject); }
  dataplane::HaRole haRole() const override { return role; }
  bool haConfigured() const override { return haPair; }
  Result<Ok> setHaRole(dataplane::HaRole r) override {
    role = r;  // set even when "not acknowledged", as the runtime does
    if (failRoleAck) return Error{"a worker did not acknowledge it"};
    return Ok{};
  }
  std::vector<std::string> healthProblems() const override { return problems; }
  // The ledger's filtering is the dataplane's (dataplane/cert/ledger_test.cc): the fake returns
  // its rows as they are and records the selectors it was given.
  std::vector<CertRow> certs(const CertSelector& selector, size_t limit) const override {
    certSelectors.push_back(selector);
    std::vector<CertRow> out(certRows.begin(),
                             certRows.begin() + std::min(limit, certRows.size()));
    return out;
  }
  Result<size_t> flushCerts(const CertSelector& selector) override {
    certSelectors.push_back(selector);
    if (failFlush) return Error{"a worker or the verifier did not acknowledge the flush in time"};
    return certRows.size();
  }
  HaSyncInfo haSync() const override { return sync; }
  HaSyncInfo sync;

  std::shared_ptr<const policy::Snapshot> current_;
  std::vector<uint64_t> published;  // versions, in order
  std::vector<std::string> events;
  std::vector<Counter> counters_;
  std::vector<std::string> flowRows;
  ids::RuleCostReport ruleCosts;
  bool failPublish = false;
  dataplane::HaRole role = dataplane::HaRole::Active;
  bool haPair = false;
  bool failRoleAck = false;
  std::vector<std::string> problems;  // healthProblems()
  std::vector<CertRow> certRows;
  mutable std::vector<CertSelector> certSelectors;
  bool failFlush = false;
};

}  // namespace lbg::control::testing
