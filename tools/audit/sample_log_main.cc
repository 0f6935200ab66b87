// lbg-audit-samplelog DIR KEYFILE EVENTS START SPAN_SECONDS [SEGMENT_BYTES [SYSLOG...]]
// Writes the deterministic sample log of sample_log.h (integration tests and demos). Each SYSLOG
// is udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT:CAFILE:SERVERNAME; every record is exported
// there as well (interop tests with real receivers).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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
  for (int i = 7; i < argc; ++i) {
    std::vector<std::string> parts;
    std::string arg = argv[i];
    for (size_t pos = 0;;) {
      size_t colon = arg.find(':', pos);
      parts.push_back(arg.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
      if (colon == std::string::npos) break;
      pos = colon + 1;
    }
    lbg::telemetry::SyslogTarget t;
    const bool tls = parts[0] == "tls";
    if ((parts[0] != "udp" && parts[0] != "tcp" && !tls) || parts.size() != (tls ? 5u : 3u)) {
      std::fprintf(stderr, "bad SYSLOG '%s'\n", argv[i]);
      return 2;
    }
    t.transport = tls ? lbg::telemetry::SyslogTarget::Transport::Tls
                  : parts[0] == "tcp" ? lbg::telemetry::SyslogTarget::Transport::Tcp
                                      : lbg::telemetry::SyslogTarget::Transport::Udp;
    t.host = parts[1];
    t.port = static_cast<uint16_t>(std::strtoul(parts[2].c_str(), nullptr, 10));
    if (tls) {
      t.caFile = parts[3];
      t.serverName = parts[4];
    }
    o.syslog.push_back(t);
  }
  auto r = lbg::audit::writeSampleLog(o);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().toString().c_str());
    return 1;
  }
  std::printf("%llu records\n", static_cast<unsigned long long>(*r));
  return 0;
}
