// libFuzzer target: arbitrary bytes as a policy file. Properties checked beyond "no crash":
// an accepted document re-serialises to canonical YAML that parses back to an equal document,
// and it always compiles into a Snapshot.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/parser.h"
#include "policy/snapshot.h"

namespace {
constexpr std::chrono::sys_days kToday{std::chrono::year{2026} / 1 / 1};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = parsePolicyText(text, "fuzz.yaml", kToday);
  if (!doc.ok()) {
    if (doc.error().message.empty()) std::abort();  // every rejection must say why
    return 0;
  }
  const std::string canonical = toYaml(doc.value());
  auto again = parsePolicyText(canonical, "canonical.yaml", kToday);
  if (!again.ok() || !(again.value() == doc.value())) std::abort();
  auto snap = Snapshot::create(std::move(doc.value()), 1);
  if (!snap.ok()) std::abort();
  const Snapshot& s = *snap.value();
  for (size_t i = 0; i < s.serviceCount(); ++i) {
    const ServiceSpec& svc = s.service(int(i));
    for (const auto& f : svc.fqdns) {
      const std::string name = f[0] == '*' ? "x" + f.substr(1) : f;
      const auto& r = svc.ports.front();
      const int got = s.matchName(name, r.proto, r.lo);
      // This service, or one that outranks it (an exact name, a more specific wildcard, an
      // earlier service): never nothing.
      if (got < 0) std::abort();
    }
    for (const auto& p : svc.cidrs) {
      const auto& r = svc.ports.front();
      if (s.matchAddress(p.addr, r.proto, r.lo) < 0) std::abort();
    }
  }
  return 0;
}
