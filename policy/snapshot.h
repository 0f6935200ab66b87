#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "policy/base/ip_addr.h"
#include "policy/model.h"
#include "policy/name_index.h"
#include "policy/prefix_index.h"
#include "policy/base/result.h"

namespace lbg::ids {
class Engine;       // dataplane/ids: the rule set compiled into Hyperscan databases
struct LoadReport;  // policy/ids/rule_set.h: rules loaded, and the rejected ones by keyword
}

namespace lbg::policy {

// Compiles a policy's `ids:` block (its rule files, with HOME_NET from segment.inside) into the
// engine whose databases hang off the snapshot. policy/ does not link the engine (Hyperscan):
// the program that runs the dataplane registers it once at start-up, before any snapshot is made
// (dataplane/ids/policy_ids.h). Without one, a snapshot of a policy with `ids:` has no engine
// (lbg-proxy, lbgctl), and the gateway refuses to start (it always registers one).
struct IdsCompiled {
  std::shared_ptr<const ids::Engine> engine;
  std::shared_ptr<const ids::LoadReport> report;  // the loader's and the engine's rejections
};
using IdsCompiler = Result<IdsCompiled> (*)(const PolicyDoc& doc);
void setIdsCompiler(IdsCompiler compiler);

// The compiled, immutable form of a PolicyDoc that dataplane workers query. Built once on the
// control thread by create(); shared read-only between lcores (shared_ptr<const Snapshot>), so
// queries take no locks. Every query below the hot-path line is const, allocation-free and
// noexcept in practice, and answers "no" (-1 / false) for any input it cannot classify.
class Snapshot {
 public:
  // Compiles `doc`. Re-checks what the hot path relies on (normalised names, prefix lengths, port
  // ranges), so a document built in code rather than parsed is safe too.
  static Result<std::shared_ptr<const Snapshot>> create(PolicyDoc doc, uint64_t version);

  uint64_t version() const { return version_; }
  const PolicyDoc& doc() const { return doc_; }
  size_t serviceCount() const { return doc_.services.size(); }
  const ServiceSpec& service(int index) const { return doc_.services[size_t(index)]; }
  DenyAction denyAction() const { return doc_.denyAction; }
  QuicMode quic() const { return doc_.quic; }
  EchMode ech() const { return doc_.ech; }
  const GuardSpec& guard() const { return doc_.guard; }
  SniDnsMode sniDns() const { return doc_.sniDns; }
  ReloadMode reload() const { return doc_.reload; }
  // The IDS: null when the policy has no `ids:` block (or no compiler was registered).
  const ids::Engine* idsEngine() const { return ids_.get(); }
  const std::shared_ptr<const ids::Engine>& idsEngineShared() const { return ids_; }
  // What loading the rules did (`lbgctl ids`); null without an engine.
  const ids::LoadReport* idsReport() const { return idsReport_.get(); }
  bool idsInline() const { return doc_.ids && doc_.ids->mode == IdsMode::Ips; }
  bool idsFailOpen() const { return doc_.ids && doc_.ids->onFault == IdsFault::Pass; }

  // A service's identity across policy versions: a 64-bit hash of its name (names are unique in
  // a policy). serviceById() finds it again in this snapshot, -1 if the service is gone.
  uint64_t serviceId(int index) const;
  int serviceById(uint64_t id) const;

  // ---- hot path: const, no allocation, no locks, no exceptions ----
  bool isInside(const IpAddr& a) const { return inside_.containsAny(a); }
  // True if DNS answers from `a` may become bindings: within `dns.resolvers`, or, when the policy
  // does not set it, within the cidr of a `kind: infrastructure` service that lists port 53.
  bool isDnsResolver(const IpAddr& a) const { return resolvers_.containsAny(a); }

  // Service index whose fqdn list matches `name` AND whose ports include (proto, port); -1 if
  // none. `name` is raw from the wire (any case, maybe a trailing dot, maybe garbage: then -1).
  // Exact names win over wildcards; the most specific wildcard wins; among equals the first
  // service in file order.
  int matchName(std::string_view name, L4 proto, uint16_t port) const;
  // True if some service's fqdn list matches `name` on any port (`dns.queries: services`): a DNS
  // question for it may leave. Raw name as for matchName().
  bool nameListed(std::string_view name) const;
  bool dnsQueriesAny() const { return doc_.dnsQueries == DnsQueries::Any; }

  // Longest-prefix match over the services' cidr lists, with the same port check and tie rule.
  int matchAddress(const IpAddr& a, L4 proto, uint16_t port) const;

  // True if some service could allow (proto, port) at all (lets a worker deny at the first packet).
  bool portUsed(L4 proto, uint16_t port) const { return testBit(portUsed_, proto, port); }

  // True if some service lists a name-based rule (fqdn) for this port (so inspection can help).
  bool portHasNames(L4 proto, uint16_t port) const { return testBit(portNamed_, proto, port); }

  // True if service `index` lists applications (ServiceSpec::apps) its flows must be identified as.
  bool serviceDemandsApps(int index) const;
  // True if service `index` accepts a flow nDPI identified as `protocol` / `application`
  // (compared case-insensitively); always true for a service that lists none.
  bool serviceAllowsApp(int index, std::string_view protocol, std::string_view application) const;

  // What must run on (proto, port) of service `index` (its first range holding the port; a cloud
  // service's undeclared tcp/443 is Tls); Any when nothing is declared or the index is invalid.
  PortProtocol portProtocol(int index, L4 proto, uint16_t port) const;
  // True if some service declares TLS or HTTP on this port: a server speaking first there is
  // not that protocol.
  bool portDeclaresProtocol(L4 proto, uint16_t port) const {
    return testBit(portDeclared_, proto, port);
  }

  // True if service `index` allows (proto, port). Out-of-range index: false.
  bool serviceAllowsPort(int index, L4 proto, uint16_t port) const;

 private:
  static constexpr size_t kPortWords = 65536 / 64;
  using PortBitmap = std::array<std::array<uint64_t, kPortWords>, 2>;  // [tcp, udp]

  Snapshot(PolicyDoc doc, uint64_t version) : doc_(std::move(doc)), version_(version) {}

  static int protoSlot(L4 proto) { return proto == L4::Tcp ? 0 : proto == L4::Udp ? 1 : -1; }
  static bool testBit(const PortBitmap& bits, L4 proto, uint16_t port) {
    const int slot = protoSlot(proto);
    return slot >= 0 && (bits[size_t(slot)][port >> 6] >> (port & 63) & 1) != 0;
  }

  PolicyDoc doc_;
  uint64_t version_;
  PrefixIndex inside_;
  PrefixIndex resolvers_;
  PrefixIndex addresses_;
  NameIndex names_;
  // Port ranges of all services, flat; service i owns [portBegin_[i], portBegin_[i + 1]).
  std::vector<PortRange> ports_;
  std::vector<uint32_t> portBegin_;
  PortBitmap portUsed_{};
  PortBitmap portNamed_{};
  PortBitmap portDeclared_{};
  std::vector<uint64_t> idOfService_;                 // serviceId() by index
  std::vector<std::pair<uint64_t, int>> serviceIds_;  // sorted by id
  std::shared_ptr<const ids::Engine> ids_;            // compiled once per version
  std::shared_ptr<const ids::LoadReport> idsReport_;
};

}  // namespace lbg::policy
