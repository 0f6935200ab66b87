#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/telemetry/log/syslog_sender.h"

#include "policy/base/result.h"

// A deterministic, realistic enforcement log for tests, the benchmark and demos: flows allowed and
// denied for the reasons the gateway gives, DNS bindings, policy commits with approvals and ISMAP
// ids, administrator actions, IDS alerts, sanitizer results, certificate checks (probes and
// refusals), the guard's ddos summaries and counters, spread evenly over a period. The same
// options always give byte-identical records.
namespace lbg::audit {

struct SampleLogOptions {
  std::string dir;
  std::string keyFile;
  std::string applianceId = "lbg-sample-01";
  uint64_t events = 10000;
  int64_t startNs = 0;        // first record's time
  int64_t spanNs = 0;         // records spread over [start, start + span)
  uint64_t segmentMaxBytes = 64 << 20;
  uint64_t seed = 1;
  // A destination that appears only every `rareEvery` events (selective-query benchmark).
  std::string rareDest = "203.0.113.77";
  uint64_t rareEvery = 1000003;
  // Export every record to these receivers too (interop tests); drained before returning.
  std::vector<telemetry::SyslogTarget> syslog;
};

Result<uint64_t> writeSampleLog(const SampleLogOptions& opt);  // returns records written

// One event of the sample stream (exposed for the tests).
std::string sampleEvent(const SampleLogOptions& opt, uint64_t i, int64_t timeNs);

}  // namespace lbg::audit
