#pragma once

#include <string>
#include <vector>

#include "policy/base/result.h"

namespace lbg::dataplane {

// Initialises DPDK's EAL once per process with the given arguments (argv[0] is added). EAL parses
// them itself; a failure is reported with DPDK's reason, never by exiting the process.
Result<Ok> initEal(const std::vector<std::string>& args);

// Default EAL arguments for offline work (replay, policy tests, benchmarks): no hugepages, no PCI
// scan, no shared config file (several processes can run side by side), quiet logs.
std::vector<std::string> offlineEalArgs();

}  // namespace lbg::dataplane
