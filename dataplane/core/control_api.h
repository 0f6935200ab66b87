#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/core/ha_role.h"
#include "policy/base/ip_addr.h"
#include "policy/base/result.h"
#include "policy/ids/rule_stats.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

// The small interface through which the control server drives a running dataplane
// (ARCHITECTURE.md: the dataplane never includes control/). Implemented by lbg-gateway's
// runtime; every method is called from the service thread, never from a worker.
class ControlApi {
 public:
  virtual ~ControlApi() = default;

  // Publishes a compiled policy to every worker atomically (RCU): each packet is judged by the
  // old or the new snapshot, never a mix. Returns once every worker has seen the new one.
  virtual Result<Ok> publish(std::shared_ptr<const policy::Snapshot> snapshot) = 0;
  virtual std::shared_ptr<const policy::Snapshot> current() const = 0;

  // Counters summed over lcores: (name, help, value), in declaration order, then the service
  // thread's own (the enforcement log's). `gauge`: a current state (e.g. an alarm), not a total.
  // `section`: the `lbgctl stats` section grouping it ("ddos"), "" for none; `sectionTitle` its
  // ja / en heading (the control plane shows what the dataplane declares, it keeps no list).
  struct Counter {
    std::string name;
    std::string help;
    uint64_t value;
    bool gauge = false;
    std::string section;
    std::string sectionTitle;
  };
  virtual std::vector<Counter> counters() const = 0;

  // The running policy's IDS rules by cost (`lbgctl ids stats`): totals and the `limit` costliest
  // rules, counted by the engine every worker scans with (not enabled without `ids:`).
  virtual ids::RuleCostReport idsRuleCosts(size_t limit) const = 0;

  // One row per live flow (best-effort snapshot of the tables), as JSON objects in the log's
  // field names, at most `limit` rows.
  virtual std::vector<std::string> flows(size_t limit) const = 0;

  // Replays a capture through `snapshot` with the pipeline code, offline, and returns the
  // verdict events (JSON lines). Used by `lbgctl policy test --pcap`.
  virtual Result<std::vector<std::string>> replayVerdicts(
      std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath) = 0;
  // The same replay, returning the IDS `alert` events (EVE JSON lines) instead, at most
  // `maxEvents` of them (the rest are not kept). Used by `lbgctl ids test --pcap`.
  virtual Result<std::vector<std::string>> replayAlerts(
      std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath,
      size_t maxEvents) = 0;

  // `lbgctl certs` (dataplane/cert/ledger.h): the certificate verdicts the verifier thread
  // produced (passive checks and probes), newest first, and the flush of the caches that reuse
  // them. A selector picks rows by id prefix (≥ 4 hex digits), SNI or server address; `all`
  // flushes every cache whole (rows the bounded ledger already dropped included).
  struct CertSelector {
    std::vector<std::string> ids;
    std::string host;
    std::optional<IpAddr> server;
    bool all = false;
  };
  struct CertRow {
    std::string id;
    bool probe = false;
    std::string server;
    uint16_t port = 0;
    std::string host, subject, issuer;
    int64_t notAfter = 0, checkedAt = 0, expiresAt = 0;  // Unix seconds (0: no certificate)
    std::string verdict;  // "verified" or the log's refusal reason ("cert-name", ...)
  };
  virtual std::vector<CertRow> certs(const CertSelector& selector, size_t limit) const = 0;
  // Forgets the selected verdicts in every cache (every worker acknowledged before it returns);
  // the number of ledger rows removed. An error if a worker did not acknowledge in time.
  virtual Result<size_t> flushCerts(const CertSelector& selector) = 0;

  // Appends one event (a JSON object without chain fields) to the enforcement log.
  virtual void logEvent(const std::string& jsonObject) = 0;

  // The HA role (ha_role.h). setHaRole() returns once every worker runs under the new role (an
  // error if one did not acknowledge in time: the role is set, but that worker is stuck).
  // haConfigured(): the gateway's YAML has `ha:` (one box of a pair), else a single gateway.
  virtual HaRole haRole() const = 0;
  virtual bool haConfigured() const = 0;
  virtual Result<Ok> setHaRole(HaRole role) = 0;
  // Why this gateway cannot enforce now (stalled worker, port down, no policy, log writer in
  // alarm); empty when it can. keepalived's track script gives up mastership on any.
  virtual std::vector<std::string> healthProblems() const = 0;
  // Flow-state sync with the HA peer (`ha.sync`): the peer's and this box's addresses on the HA
  // link, empty without sync. Its counters are in counters(), section `ha`.
  struct HaSyncInfo {
    std::string local, peer;
  };
  virtual HaSyncInfo haSync() const { return {}; }
};

}  // namespace lbg::dataplane
