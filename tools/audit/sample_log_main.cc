// lbg-audit-samplelog DIR KEYFILE EVENTS START SPAN_SECONDS [SEGMENT_BYTES]
// Writes the deterministic sample log of sample_log.h (integration tests and demos).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dataplane/telemetry/log/time_format.h"
#include "tools/audit/sample_log.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s DIR KEYFILE EVENTS START(RFC3339) SPAN_SECONDS [SEGMENT_BYTES]\n", argv[0]);
    return 2;
  }
  lbg::audit::SampleLogOptions o;
  o.dir = argv[1];
  o.keyFile = argv[2];
  o.events = std::strtoull(argv[3], nullptr, 10);
  auto start = lbg::telemetry::logfmt::parseRfc3339(argv[4]);
  if (!start) {
    std::fprintf(stderr, "bad START\n");
    return 2;
  }
  o.startNs = *start;
  o.spanNs = int64_t(std::strtoll(argv[5], nullptr, 10)) * 1000000000LL;
  if (argc > 6) o.segmentMaxBytes = std::strtoull(argv[6], nullptr, 10);
  auto r = lbg::audit::writeSampleLog(o);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().toString().c_str());
    return 1;
  }
  std::printf("%llu records\n", static_cast<unsigned long long>(*r));
  return 0;
}
