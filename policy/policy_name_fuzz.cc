// libFuzzer target: arbitrary bytes as a name from the wire. normalizeFqdn() and
// Snapshot::matchName() must agree with the reference semantics (fqdnPatternMatches over every
// pattern, exact before most specific wildcard before file order), and never crash.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "policy/fqdn.h"
#include "policy/parser.h"
#include "policy/snapshot.h"

namespace {

using namespace lbg::policy;

const char kPolicy[] = R"(version: 1
segment: {inside: [10.0.0.0/8]}
defaults: {deny: drop}
services:
  - {name: w, kind: lgwan-asp, fqdn: ["*.example.com"], ports: [tcp/443]}
  - {name: d, kind: lgwan-asp, fqdn: ["*.b.example.com", a.example.com], ports: [tcp/443, udp/53]}
  - {name: e, kind: lgwan-asp, fqdn: [x.b.example.com, "*.lg.jp", a_b.example.com], ports: [tcp/1-1024]}
  - {name: f, kind: lgwan-asp, fqdn: ["*.example.com", xn--zckzah.jp], ports: [udp/53]}
)";

std::shared_ptr<const Snapshot> build() {
  auto doc =
      parsePolicyText(kPolicy, "fuzz", std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
  if (!doc.ok()) std::abort();
  auto snap = Snapshot::create(std::move(doc.value()), 1);
  if (!snap.ok()) std::abort();
  return snap.value();
}

int reference(const Snapshot& s, const std::string& name, L4 proto, uint16_t port) {
  int best = -1;
  size_t bestRank = 0;
  for (size_t i = 0; i < s.serviceCount(); ++i) {
    if (!s.serviceAllowsPort(int(i), proto, port)) continue;
    for (const auto& f : s.service(int(i)).fqdns) {
      if (!fqdnPatternMatches(f, name)) continue;
      const size_t rank = f[0] == '*' ? f.size() - 2 : SIZE_MAX;
      if (best < 0 || rank > bestRank) {
        best = int(i);
        bestRank = rank;
      }
    }
  }
  return best;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const Snapshot> snap = build();
  if (size < 1) return 0;
  const L4 proto = (data[0] & 1) ? L4::Udp : L4::Tcp;
  const uint16_t port = (data[0] & 2) ? 53 : 443;
  const std::string_view name(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto normalized = normalizeFqdn(name);
  const int got = snap->matchName(name, proto, port);
  if (!normalized) {
    if (got != -1) std::abort();
    return 0;
  }
  // A normalised name is a fixed point and within limits.
  if (normalized->size() > kMaxFqdnLength || normalizeFqdn(*normalized) != normalized) std::abort();
  if (got != reference(*snap, *normalized, proto, port)) std::abort();
  return 0;
}
