#include "policy/snapshot.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <limits>

#include "policy/fqdn.h"

namespace lbg::policy {

namespace {

Error serviceError(const ServiceSpec& s, size_t index, const std::string& what) {
  return Error{"services[" + std::to_string(index) + "] (" + s.name + "): " + what, "", s.pos.line,
               s.pos.column};
}

// Turns a difference array (+1 at each range's lo, -1 after its hi) into a port bitmap:
// O(ranges + 65536) instead of O(total range width), which matters when 10k services each list
// tcp/1-65535.
void markPorts(std::array<uint64_t, 65536 / 64>& bits, const std::vector<int32_t>& delta) {
  int32_t depth = 0;
  for (uint32_t port = 0; port < 65536; ++port) {
    depth += delta[port];
    if (depth > 0) bits[port >> 6] |= uint64_t(1) << (port & 63);
  }
}

IdsCompiler gIdsCompiler = nullptr;

}  // namespace

void setIdsCompiler(IdsCompiler compiler) { gIdsCompiler = compiler; }

Result<std::shared_ptr<const Snapshot>> Snapshot::create(PolicyDoc doc, uint64_t version) {
  // Service indexes travel as int through the dataplane.
  if (doc.services.size() > size_t(std::numeric_limits<int32_t>::max())) {
    return Error{"too many services"};
  }
  if (doc.inside.empty()) return Error{"segment.inside: at least one prefix is required"};
  for (const auto& p : doc.inside) {
    if (p.length > 128) return Error{"segment.inside: prefix length beyond 128"};
  }

  std::vector<std::pair<std::string, uint32_t>> names;
  std::vector<std::pair<Prefix, uint32_t>> prefixes;
  std::array<std::vector<int32_t>, 2> usedDelta{std::vector<int32_t>(65537, 0),
                                                std::vector<int32_t>(65537, 0)};
  std::array<std::vector<int32_t>, 2> namedDelta = usedDelta;
  std::array<std::vector<int32_t>, 2> declaredDelta = usedDelta;
  std::vector<PortRange> ports;
  std::vector<uint32_t> portBegin;

  for (size_t i = 0; i < doc.services.size(); ++i) {
    const ServiceSpec& s = doc.services[i];
    const auto id = uint32_t(i);
    for (const auto& f : s.fqdns) {
      // The index compares bytes, so a name that is not in normalised form would never match;
      // refuse it rather than compile a rule that silently does nothing.
      const auto n = normalizeFqdnPattern(f);
      if (!n || *n != f) return serviceError(s, i, "fqdn '" + f + "' is not a normalised name");
      names.emplace_back(f, id);
    }
    for (const auto& p : s.cidrs) {
      if (p.length == 0 || p.length > 128) {
        return serviceError(s, i, "cidr '" + p.toString() + "' has an invalid length");
      }
      // Same rule as the parser: no allow-all, also not for the whole IPv4 space.
      if (p.length <= 96 && p.contains(IpAddr::fromV4(uint32_t(0)))) {
        return serviceError(s, i, "cidr '" + p.toString() + "' covers every IPv4 address");
      }
      prefixes.emplace_back(p, id);
    }
    if (s.ports.empty()) return serviceError(s, i, "no ports");
    portBegin.push_back(uint32_t(ports.size()));
    for (const auto& r : s.ports) {
      const int slot = protoSlot(r.proto);
      if (slot < 0 || r.lo == 0 || r.lo > r.hi) {
        return serviceError(s, i, "invalid port range " + toString(r));
      }
      PortRange eff = r;
      // Default protocol on port: tcp/443 of a cloud service carries TLS (AP-ENCRYPT).
      if (eff.protocol == PortProtocol::Unset && s.kind == ServiceKind::Cloud &&
          eff.proto == L4::Tcp && eff.lo == 443 && eff.hi == 443) {
        eff.protocol = PortProtocol::Tls;
      }
      ports.push_back(eff);
      if (eff.protocol == PortProtocol::Tls || eff.protocol == PortProtocol::Http) {
        declaredDelta[size_t(slot)][r.lo] += 1;
        declaredDelta[size_t(slot)][size_t(r.hi) + 1] -= 1;
      }
      usedDelta[size_t(slot)][r.lo] += 1;
      usedDelta[size_t(slot)][size_t(r.hi) + 1] -= 1;
      if (!s.fqdns.empty()) {
        namedDelta[size_t(slot)][r.lo] += 1;
        namedDelta[size_t(slot)][size_t(r.hi) + 1] -= 1;
      }
    }
  }
  portBegin.push_back(uint32_t(ports.size()));

  std::vector<std::pair<Prefix, uint32_t>> inside;
  for (const auto& p : doc.inside) inside.emplace_back(p, 0);
  std::vector<std::pair<Prefix, uint32_t>> resolvers;
  if (doc.dnsResolvers) {
    for (const auto& p : *doc.dnsResolvers) {
      if (p.length == 0 || p.length > 128) {
        return Error{"dns.resolvers: '" + p.toString() + "' has an invalid length"};
      }
      resolvers.emplace_back(p, 0);
    }
  } else {
    for (const auto& s : doc.services) {
      if (s.kind != ServiceKind::Infrastructure) continue;
      bool port53 = false;
      for (const auto& r : s.ports) port53 = port53 || r.contains(L4::Udp, 53) || r.contains(L4::Tcp, 53);
      if (!port53) continue;
      for (const auto& p : s.cidrs) resolvers.emplace_back(p, 0);
    }
  }

  // Not make_shared: the constructor is private.
  std::shared_ptr<Snapshot> snap(new Snapshot(std::move(doc), version));
  snap->inside_ = PrefixIndex::build(inside);
  snap->resolvers_ = PrefixIndex::build(resolvers);
  snap->addresses_ = PrefixIndex::build(prefixes);
  snap->names_ = NameIndex::build(names);
  snap->ports_ = std::move(ports);
  snap->portBegin_ = std::move(portBegin);
  for (size_t slot = 0; slot < 2; ++slot) {
    markPorts(snap->portUsed_[slot], usedDelta[slot]);
    markPorts(snap->portNamed_[slot], namedDelta[slot]);
    markPorts(snap->portDeclared_[slot], declaredDelta[slot]);
  }
  // FNV-1a of the name: stable across processes and versions. Hashed once here; a verdict only
  // looks it up.
  for (size_t i = 0; i < snap->doc_.services.size(); ++i) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : snap->doc_.services[i].name) h = (h ^ c) * 0x100000001b3ull;
    snap->idOfService_.push_back(h);
    snap->serviceIds_.emplace_back(h, int(i));
  }
  std::sort(snap->serviceIds_.begin(), snap->serviceIds_.end());
  if (snap->doc_.ids && gIdsCompiler != nullptr) {
    auto engine = gIdsCompiler(snap->doc_);
    if (!engine) return engine.error();
    snap->ids_ = std::move(engine->engine);
    snap->idsReport_ = std::move(engine->report);
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

bool Snapshot::serviceDemandsApps(int index) const {
  return index >= 0 && size_t(index) < doc_.services.size() &&
         !doc_.services[size_t(index)].apps.empty();
}

bool Snapshot::serviceAllowsApp(int index, std::string_view protocol,
                                std::string_view application) const {
  if (!serviceDemandsApps(index)) return true;
  auto same = [](std::string_view want, std::string_view got) {
    if (want.size() != got.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i] != std::tolower(static_cast<unsigned char>(got[i]))) return false;
    }
    return true;
  };
  for (const auto& a : doc_.services[size_t(index)].apps) {
    if (same(a, protocol) || same(a, application)) return true;
  }
  return false;
}

uint64_t Snapshot::serviceId(int index) const {
  return index < 0 || size_t(index) >= idOfService_.size() ? 0 : idOfService_[size_t(index)];
}

int Snapshot::serviceById(uint64_t id) const {
  auto it = std::lower_bound(serviceIds_.begin(), serviceIds_.end(), std::make_pair(id, INT_MIN));
  return it != serviceIds_.end() && it->first == id ? it->second : -1;
}

bool Snapshot::serviceAllowsPort(int index, L4 proto, uint16_t port) const {
  if (index < 0 || size_t(index) + 1 >= portBegin_.size()) return false;
  for (uint32_t i = portBegin_[size_t(index)]; i < portBegin_[size_t(index) + 1]; ++i) {
    if (ports_[i].contains(proto, port)) return true;
  }
  return false;
}

PortProtocol Snapshot::portProtocol(int index, L4 proto, uint16_t port) const {
  if (index < 0 || size_t(index) + 1 >= portBegin_.size()) return PortProtocol::Any;
  for (uint32_t i = portBegin_[size_t(index)]; i < portBegin_[size_t(index) + 1]; ++i) {
    if (ports_[i].contains(proto, port)) {
      return ports_[i].protocol == PortProtocol::Unset ? PortProtocol::Any : ports_[i].protocol;
    }
  }
  return PortProtocol::Any;
}

int Snapshot::matchName(std::string_view name, L4 proto, uint16_t port) const {
  // Cheap rejection first: most denied flows are on ports no name rule covers.
  if (!portHasNames(proto, port)) return -1;
  char buf[kMaxFqdnLength];
  const size_t n = normalizeFqdnInto(name, buf);
  if (n == 0) return -1;
  return int(names_.match(std::string_view(buf, n),
                          [&](uint32_t id) { return serviceAllowsPort(int(id), proto, port); }));
}

bool Snapshot::nameListed(std::string_view name) const {
  char buf[kMaxFqdnLength];
  const size_t n = normalizeFqdnInto(name, buf);
  if (n == 0) return false;
  return names_.match(std::string_view(buf, n), [](uint32_t) { return true; }) >= 0;
}

int Snapshot::matchAddress(const IpAddr& a, L4 proto, uint16_t port) const {
  if (!portUsed(proto, port)) return -1;
  return int(
      addresses_.match(a, [&](uint32_t id) { return serviceAllowsPort(int(id), proto, port); }));
}

}  // namespace lbg::policy
