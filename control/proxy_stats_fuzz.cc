// Fuzzes the reader of lbg-proxy's counters file (written by a less privileged process, read by
// the gateway's control server): errors, never crashes; what it accepts renders as Prometheus
// text whose every sample line is one lbg_proxy_ metric, so the file cannot inject other series.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/prometheus.h"
#include "control/proxy_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = lbg::control::parseProxyCounters(text);
  if (!r) return 0;
  if (r->pid <= 0) std::abort();
  const std::string prom = lbg::control::renderPrometheus(r->counters);
  size_t start = 0;
  while (start < prom.size()) {
    const size_t nl = prom.find('\n', start);
    if (nl == std::string::npos) std::abort();  // every line ends with a newline
    const std::string_view line(prom.data() + start, nl - start);
    if (!line.starts_with("# HELP lbg_proxy_") && !line.starts_with("# TYPE lbg_proxy_") &&
        !line.starts_with("lbg_proxy_"))
      std::abort();
    start = nl + 1;
  }
  return 0;
}
