#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/base/ip_addr.h"
#include "policy/tenant_profile.h"

namespace lbg::policy {

enum class DenyAction : uint8_t { Drop, Reset };
enum class QuicMode : uint8_t { Block, Allow };
enum class EchMode : uint8_t { Block, Allow };
enum class SniDnsMode : uint8_t { Off, Log, Enforce };
// `dns.queries`: which DNS questions may leave for a resolver (policy/README.md). Services: only
// names some service lists (a DNS tunnel needs names of its own); Any: every name.
enum class DnsQueries : uint8_t { Services, Any };
// What a new policy does to flows an older one allowed: `recheck` ends those whose service was
// removed or no longer lists their port (or, for a CIDR verdict, their address); `keep` lets
// them run to their end under the verdict they had.
enum class ReloadMode : uint8_t { Recheck, Keep };
enum class ServiceKind : uint8_t { Cloud, LgwanAsp, SecurityUpdate, Infrastructure };
enum class L4 : uint8_t { Tcp = 6, Udp = 17 };

// Where a construct started in the policy file (1-based; 0 = not from a file).
struct SourcePos {
  int line = 0;
  int column = 0;
};

// What must run on a service port ("protocol on port", the 通信路暗号化 measure AP-ENCRYPT).
// Unset: not declared (a cloud service's tcp/443 then means Tls, see Snapshot::portProtocol()).
// Tls: TLS 1.2 or later (QUIC on UDP); Http: HTTP/1.x; Any: whatever the policy otherwise allows.
enum class PortProtocol : uint8_t { Unset, Any, Tls, Http };
std::string_view toString(PortProtocol p);

struct PortRange {
  L4 proto;
  uint16_t lo;
  uint16_t hi;
  PortProtocol protocol = PortProtocol::Unset;  // the optional third part: tcp/443/tls

  bool contains(L4 p, uint16_t port) const { return p == proto && port >= lo && port <= hi; }
  bool operator==(const PortRange&) const = default;
};

// An address prefix in the IPv6 space. IPv4 prefixes live in the v4-mapped range, so that one
// table serves both families: a.b.c.d/n is stored as ::ffff:a.b.c.d with length 96+n.
struct Prefix {
  IpAddr addr;
  uint8_t length = 0;

  // "10.0.0.0/8" for v4-mapped prefixes of length >= 96, RFC 5952 otherwise.
  std::string toString() const;
  // Accepts "a.b.c.d/n" (n 0..32) and "v6/n" (n 0..128), nothing else (no bare address, no
  // leading zeros or sign in n). Host bits are kept as written: see hostBitsClear().
  static std::optional<Prefix> parse(std::string_view text);
  bool contains(const IpAddr& a) const;
  // False if bits beyond `length` are set ("10.0.0.1/8" is usually a typo in a policy).
  bool hostBitsClear() const;
  // True if this is an IPv4 prefix (address v4-mapped and length >= 96).
  bool isV4() const { return length >= 96 && addr.isV4(); }

  bool operator==(const Prefix&) const = default;
};

// ISMAP (政府情報システムのためのセキュリティ評価制度) registration of a cloud service.
struct Ismap {
  std::string id;
  std::string expires;  // YYYY-MM-DD, the last day the registration is valid

  bool operator==(const Ismap&) const = default;
};

// `certificate: {check: …}`: what a destination certificate that fails the check does (AP-CERT):
// deny the flow (enforce, the default), only log it (log: the flow goes on, the refusal is
// recorded), or no check at all (off: neither passive check nor probe).
enum class CertCheck : uint8_t { Enforce, Log, Off };
const char* toString(CertCheck v);
// `certificate.ocsp`: what a stapled OCSP answer must say (dataplane/cert/ocsp_staple.h). Prefer:
// a staple that is present must be a valid "good"; Require: and one must be present.
enum class OcspCheck : uint8_t { Off, Prefer, Require };
const char* toString(OcspCheck v);

struct ServiceSpec {
  std::string name;
  ServiceKind kind = ServiceKind::Cloud;
  std::optional<Ismap> ismap;
  std::vector<std::string> fqdns;  // normalised: lowercase, no trailing dot; "*." wildcards kept
  std::vector<Prefix> cidrs;
  std::vector<PortRange> ports;
  // Applications nDPI must identify on the flow (its protocol or application name, lowercase:
  // "tls", "http", "dns", "microsoft365"…); empty = any. A flow identified as something else (an
  // SSH or VPN tunnel over an allowed address and port), or not identified by DPI, is denied.
  std::vector<std::string> apps;
  bool intercept = false;
  // `tenant:`: the tenant-restriction headers lbg-proxy sets on requests to the profile's hosts.
  // Only with `intercept: true`, and the service lists every host the profile needs.
  std::optional<TenantSpec> tenant;
  // `sanitize:` response bodies of the service's hosts go through lbg-icapd (ICAP RESPMOD) before
  // they reach the client; a blocked file becomes its block page. Only with `intercept: true`
  // (the proxy sees the bodies only of connections it terminates).
  bool sanitize = false;
  // `pins:` SHA-256 of an acceptable SubjectPublicKeyInfo in the upstream's verified chain, in
  // curl's spelling "sha256//<base64>"; lbg-proxy (intercepted services) and the gateway's
  // passive certificate check (TLS ≤ 1.2 flows allowed by SNI) deny (pin-mismatch) when none
  // matches.
  std::vector<std::string> pins;
  CertCheck certCheck = CertCheck::Enforce;
  OcspCheck ocsp = OcspCheck::Prefer;
  std::string description;
  SourcePos pos;

  // Compares the content only: `pos` says where the text was, not what the policy is, so a
  // canonical re-serialisation compares equal to the original.
  bool operator==(const ServiceSpec& o) const;
};

// `defaults.guard`: limits per inside source on the flows it starts (dataplane/guard). Sized for a
// municipality of a few thousand PCs: a busy PC opening a web portal starts tens of connections in
// a second, so 100/s with a burst of 400 never limits a person, while a scanning or flooding PC
// (thousands per second) is held to 100/s. 2000 concurrent flows is several times a heavy
// browser's; 0 turns a limit off.
//
// Flood limits per destination address (packets per second and burst, per worker), whichever
// side the packets come from and whether or not their flow is allowed: UDP 100000/s (a relay of
// Teams media for a thousand calls is ~50000/s), ICMP 1000/s (errors and neighbour discovery),
// IP fragments 10000/s (fragmented UDP of a busy host). A flood towards one host is held there
// while traffic to the others is untouched.
struct GuardSpec {
  uint32_t newFlowsPerSec = 100;
  uint32_t newFlowBurst = 400;
  uint32_t maxFlowsPerSource = 2000;
  uint32_t udpPerDestPps = 100000;
  uint32_t udpPerDestBurst = 200000;
  uint32_t icmpPerDestPps = 1000;
  uint32_t icmpPerDestBurst = 2000;
  uint32_t fragmentsPerDestPps = 10000;
  uint32_t fragmentsPerDestBurst = 20000;
  bool operator==(const GuardSpec&) const = default;
};

// `ids:` — the IDS/IPS (policy/README.md "ids"). Rule files are stored as absolute paths: a
// relative path in the YAML is resolved against the policy file's directory when it is parsed,
// so a stored version names the same files whatever the daemon's working directory.
enum class IdsMode : uint8_t { Ips, Ids };        // ips: drop/reject act inline; ids: alert only
enum class IdsFault : uint8_t { Drop, Pass };     // engine fault, state or depth overflow
struct IdsSpec {
  std::vector<std::string> rules;  // Suricata rule files, absolute
  IdsMode mode = IdsMode::Ips;
  IdsFault onFault = IdsFault::Drop;
  bool operator==(const IdsSpec&) const = default;
};

struct PolicyDoc {
  int schemaVersion = 1;
  bool approvalRequired = false;
  std::vector<Prefix> inside;
  DenyAction denyAction = DenyAction::Drop;
  QuicMode quic = QuicMode::Block;
  // Allow by default: Chrome and Firefox send a GREASE encrypted_client_hello to every server,
  // indistinguishable from real ECH by design, so blocking the extension blocks those browsers.
  // The visible (outer) name is still matched against the allow-list either way.
  EchMode ech = EchMode::Allow;
  // Enforce by default: an SNI or Host is a claim of the client, believed only at an address a
  // resolver of the policy gave for the same service (policy/README.md, sni_dns).
  SniDnsMode sniDns = SniDnsMode::Enforce;
  ReloadMode reload = ReloadMode::Recheck;
  GuardSpec guard;
  std::vector<ServiceSpec> services;
  // `dns.resolvers`: the only addresses whose DNS answers may bind names to addresses. Unset:
  // the cidr prefixes of every `kind: infrastructure` service that lists udp/53 or tcp/53.
  std::optional<std::vector<Prefix>> dnsResolvers;
  DnsQueries dnsQueries = DnsQueries::Services;
  std::optional<IdsSpec> ids;  // absent: no IDS stage

  bool operator==(const PolicyDoc&) const = default;
};

// The YAML spellings ("reset", "lgwan-asp", "tcp", ...).
const char* toString(DenyAction v);
const char* toString(QuicMode v);
const char* toString(EchMode v);
const char* toString(SniDnsMode v);
const char* toString(DnsQueries v);
const char* toString(ReloadMode v);
const char* toString(IdsMode v);
const char* toString(IdsFault v);
const char* toString(ServiceKind v);
const char* toString(L4 v);
// "tcp/443" or "tcp/8000-8080".
std::string toString(const PortRange& r);

}  // namespace lbg::policy
