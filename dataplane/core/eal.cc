#include "dataplane/core/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

namespace lbg::dataplane {

Result<Ok> initEal(const std::vector<std::string>& args) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("lbg");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) return Error{std::string("EAL initialisation failed: ") + rte_strerror(rte_errno)};
  return Ok{};
}

std::vector<std::string> offlineEalArgs() {
  return {"--no-huge", "--no-pci",      "--no-shconf", "-m",          "768",
          "-l",        "0",             "--log-level", "lib.eal:error", "--no-telemetry"};
}

}  // namespace lbg::dataplane
