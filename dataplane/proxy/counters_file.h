#pragma once

#include <string>

#include "dataplane/proxy/proxy_counters.h"

namespace lbg::proxy {

// lbg-proxy's counters for the operator: lbg-proxy is its own process (another user, no shared
// memory with lbg-gateway), so it writes them to a small file that the gateway's control server
// reads when `lbgctl stats` or Prometheus asks (control/proxy_stats.h). The file is replaced
// atomically (temporary name, rename), so a reader sees a whole snapshot, never half of one; the
// names and help texts come from the X-macro (proxy_counters.h), with their export prefix, so
// control/ repeats no name and needs no proxy header.
//
//   {"format":"lbg-counters-1","writer":"lbg-proxy","pid":1234,
//    "counters":[{"name":"proxy_accepted","help":"...","value":5},...]}
std::string countersFileText(const ProxyCounters& counters, int pid);

// Writes `path` (mode 0644: counters are not secret) through `path`.tmp and rename(2); false on
// any error (the previous file stays).
bool writeCountersFile(const std::string& path, const ProxyCounters& counters);

}  // namespace lbg::proxy
