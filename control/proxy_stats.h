#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/control_api.h"
#include "policy/base/result.h"

namespace lbg::control {

// lbg-proxy's counters as `lbgctl stats` and Prometheus show them, in the section `proxy`.
// lbg-proxy is another process (another user): it replaces a small JSON file atomically while its
// counters change (dataplane/proxy/counters_file.h; `--stats-file`), and the control server reads
// it when asked (`control.proxy_stats` in gateway.yaml). The file names and explains its own
// counters (from lbg-proxy's X-macro), so control/ repeats no name; it is input from a less
// privileged process, so it is bounded and checked: a regular file (no link followed, no FIFO
// waited on), names `proxy_` + [a-z0-9_], help without control characters, at most 256 counters,
// 64 KiB, a positive pid; anything else rejects the file.
inline constexpr std::string_view kProxySection = "proxy";
inline constexpr std::string_view kProxySectionTitle =
    "TLS中継 / lbg-proxy (TLS interception, tenant restriction)";

struct ProxyCountersFile {
  int pid = 0;
  std::vector<dataplane::ControlApi::Counter> counters;  // in the file's order, section set
};

// The file's text; an error says what is wrong with it.
Result<ProxyCountersFile> parseProxyCounters(std::string_view text);

// What the operator sees for `path`: the file's counters, then the gauge `proxy_running` (1 while
// the process that wrote the file lives, by kill(pid, 0)). No file yet, or a bad one: only
// `proxy_running` 0, and the counters are absent rather than invented.
std::vector<dataplane::ControlApi::Counter> readProxyCounters(const std::string& path);

}  // namespace lbg::control
