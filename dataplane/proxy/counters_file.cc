#include "dataplane/proxy/counters_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

namespace lbg::proxy {

std::string countersFileText(const ProxyCounters& counters, int pid) {
  nlohmann::json list = nlohmann::json::array();
  counters.forEach([&](const telemetry::CounterInfo& info, uint64_t v) {
    list.push_back({{"name", std::string(ProxyCounters::kPrefix) + std::string(info.name)},
                    {"help", info.help},
                    {"value", v}});
  });
  return nlohmann::json{{"format", "lbg-counters-1"},
                        {"writer", "lbg-proxy"},
                        {"pid", pid},
                        {"counters", list}}
             .dump() +
         "\n";
}

bool writeCountersFile(const std::string& path, const ProxyCounters& counters) {
  const std::string text = countersFileText(counters, int(::getpid()));
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  ::fchmod(fd, 0644);  // readable by the gateway whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += size_t(n);
  }
  // No fsync: the file lives in /run (tmpfs) and is rewritten every half second while counters
  // move; after a crash the next lbg-proxy starts from zero anyway.
  const bool ok = ::close(fd) == 0 && done == text.size();
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace lbg::proxy
