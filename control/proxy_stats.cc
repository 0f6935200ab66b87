#include "control/proxy_stats.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>


namespace lbg::control {

namespace {

constexpr size_t kMaxFile = 64 * 1024;
constexpr size_t kMaxCounters = 256;
constexpr size_t kMaxName = 64;
constexpr size_t kMaxHelp = 256;

bool validName(const std::string& n) {
  if (n.size() <= 6 || n.size() > kMaxName || n.compare(0, 6, "proxy_") != 0) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool validHelp(const std::string& h) {
  if (h.empty() || h.size() > kMaxHelp) return false;
  for (unsigned char c : h) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The file as lbg-proxy left it: a regular file, not a link (O_NOFOLLOW) and never waited on
// (O_NONBLOCK: a FIFO put there by the proxy's user cannot stall the control server's thread).
std::optional<std::string> readRegular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= off_t(kMaxFile)) {
    std::string text(size_t(st.st_size), '\0');
    const ssize_t n = ::read(fd, text.data(), text.size());
    if (n == ssize_t(text.size())) out = std::move(text);
  }
  ::close(fd);
  return out;
}

dataplane::ControlApi::Counter inSection(std::string name, std::string help, uint64_t v, bool gauge) {
  return {std::move(name), std::move(help), v, gauge, std::string(kProxySection),
          std::string(kProxySectionTitle)};
}

}  // namespace

Result<ProxyCountersFile> parseProxyCounters(std::string_view text) {
  if (text.size() > kMaxFile) return Error{"lbg-proxy counters file over 64 KiB"};
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"lbg-proxy counters file is not a JSON object"};
  // find() and type checks only: json::value() throws on a member of another type, which would
  // take the gateway down on a file the proxy's user wrote.
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || *format != "lbg-counters-1") {
    return Error{"lbg-proxy counters file: unknown format"};
  }
  ProxyCountersFile out;
  const auto pid = j.find("pid");
  if (pid == j.end() || !pid->is_number_unsigned() || pid->get<uint64_t>() == 0 ||
      pid->get<uint64_t>() > 0x3fffffff) {
    return Error{"lbg-proxy counters file: no valid pid"};
  }
  out.pid = int(pid->get<uint64_t>());
  const auto list = j.find("counters");
  if (list == j.end() || !list->is_array() || list->size() > kMaxCounters) {
    return Error{"lbg-proxy counters file: counters must be a list of at most 256"};
  }
  std::set<std::string> seen;
  for (const auto& c : *list) {
    if (!c.is_object()) return Error{"lbg-proxy counters file: a counter is not an object"};
    const auto name = c.find("name");
    const auto help = c.find("help");
    const auto value = c.find("value");
    if (name == c.end() || !name->is_string() || !validName(name->get<std::string>()) ||
        help == c.end() || !help->is_string() || !validHelp(help->get<std::string>()) ||
        value == c.end() || !value->is_number_unsigned()) {
      return Error{"lbg-proxy counters file: a counter needs a proxy_ name, a help text and a value"};
    }
    if (!seen.insert(name->get<std::string>()).second) {
      return Error{"lbg-proxy counters file: " + name->get<std::string>() + " twice"};
    }
    const auto gauge = c.find("gauge");
    out.counters.push_back(inSection(name->get<std::string>(), help->get<std::string>(),
                                     value->get<uint64_t>(),
                                     gauge != c.end() && gauge->is_boolean() && gauge->get<bool>()));
  }
  return out;
}

std::vector<dataplane::ControlApi::Counter> readProxyCounters(const std::string& path) {
  std::vector<dataplane::ControlApi::Counter> out;
  bool running = false;
  if (auto text = readRegular(path)) {
    if (auto file = parseProxyCounters(*text)) {
      out = std::move(file->counters);
      // EPERM: the process exists but is another user's (lbg-proxy), which is the normal case.
      running = ::kill(file->pid, 0) == 0 || errno == EPERM;
    }
  }
  out.push_back(inSection("proxy_running",
                          "1 while the lbg-proxy that wrote the counters file runs (control.proxy_stats)",
                          running ? 1 : 0, true));
  return out;
}

}  // namespace lbg::control
