#include "policy/snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "policy/fqdn.h"
#include "policy/parser.h"

namespace lbg::policy {
namespace {

using namespace std::chrono;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

std::shared_ptr<const Snapshot> compile(const std::string& services) {
  const std::string text =
      "version: 1\nsegment:\n  inside: [10.0.0.0/8, \"fd00::/8\"]\n"
      "defaults: {deny: reset, sni_dns: enforce}\nservices:\n" +
      services;
  auto doc = parsePolicyText(text, "t.yaml", sys_days{year{2026} / 1 / 1});
  EXPECT_TRUE(doc.ok()) << doc.error().toString();
  auto snap = Snapshot::create(std::move(doc.value()), 7);
  EXPECT_TRUE(snap.ok()) << snap.error().toString();
  return snap.value();
}

const std::string kServices =
    "  - name: wild\n    kind: lgwan-asp\n"  // 0
    "    fqdn: [\"*.example.com\"]\n    ports: [tcp/443]\n"
    "  - name: deeper\n    kind: lgwan-asp\n"  // 1
    "    fqdn: [\"*.b.example.com\"]\n    ports: [tcp/443]\n"
    "  - name: exact\n    kind: lgwan-asp\n"  // 2
    "    fqdn: [x.b.example.com]\n    ports: [tcp/443, tcp/8443]\n"
    "  - name: alt-port\n    kind: lgwan-asp\n"  // 3
    "    fqdn: [x.b.example.com, \"*.example.com\"]\n    ports: [tcp/8000-8100]\n"
    "  - name: same-wild\n    kind: lgwan-asp\n"  // 4
    "    fqdn: [\"*.example.com\"]\n    ports: [tcp/443]\n"
    "  - name: net16\n    kind: lgwan-asp\n"  // 5
    "    cidr: [198.51.0.0/16]\n    ports: [tcp/443]\n"
    "  - name: net24\n    kind: infrastructure\n"  // 6
    "    cidr: [198.51.100.0/24, \"2001:db8:1::/48\"]\n    ports: [udp/53, tcp/53]\n"
    "  - name: host\n    kind: lgwan-asp\n"  // 7
    "    cidr: [198.51.100.7/32]\n    ports: [tcp/22]\n"
    "  - name: v6wide\n    kind: lgwan-asp\n"  // 8
    "    cidr: [\"2001:db8::/32\"]\n    ports: [tcp/443]\n";

TEST(Snapshot, Accessors) {
  auto s = compile(kServices);
  EXPECT_EQ(s->version(), 7u);
  EXPECT_EQ(s->serviceCount(), 9u);
  EXPECT_EQ(s->service(2).name, "exact");
  EXPECT_EQ(s->denyAction(), DenyAction::Reset);
  EXPECT_EQ(s->sniDns(), SniDnsMode::Enforce);
  EXPECT_EQ(s->quic(), QuicMode::Block);
  EXPECT_EQ(s->ech(), EchMode::Allow);  // the default
}

TEST(Snapshot, IsInside) {
  auto s = compile(kServices);
  EXPECT_TRUE(s->isInside(ip("10.1.2.3")));
  EXPECT_TRUE(s->isInside(ip("fd12::1")));
  EXPECT_FALSE(s->isInside(ip("11.0.0.1")));
  EXPECT_FALSE(s->isInside(ip("fe80::1")));
  EXPECT_FALSE(s->isInside(ip("::a01:203")));  // v4-compatible form is not 10.1.2.3
}

TEST(Snapshot, NamePrecedence) {
  auto s = compile(kServices);
  // Exact wins over every wildcard.
  EXPECT_EQ(s->matchName("x.b.example.com", L4::Tcp, 443), 2);
  // Most specific wildcard wins.
  EXPECT_EQ(s->matchName("y.b.example.com", L4::Tcp, 443), 1);
  EXPECT_EQ(s->matchName("z.y.b.example.com", L4::Tcp, 443), 1);
  // Among equal patterns, file order.
  EXPECT_EQ(s->matchName("a.example.com", L4::Tcp, 443), 0);
  // Wildcards never match the base name or a look-alike.
  EXPECT_EQ(s->matchName("example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("badexample.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("b.example.com.evil.net", L4::Tcp, 443), -1);
}

TEST(Snapshot, NameWithPortCheck) {
  auto s = compile(kServices);
  // The exact entry of `exact` allows 8443; alt-port's exact entry allows 8000-8100.
  EXPECT_EQ(s->matchName("x.b.example.com", L4::Tcp, 8443), 2);
  EXPECT_EQ(s->matchName("x.b.example.com", L4::Tcp, 8080), 3);
  // No exact service takes the port: fall through to wildcards with the port.
  EXPECT_EQ(s->matchName("q.example.com", L4::Tcp, 8080), 3);
  EXPECT_EQ(s->matchName("q.b.example.com", L4::Tcp, 8080), 3);
  EXPECT_EQ(s->matchName("x.b.example.com", L4::Tcp, 80), -1);
  EXPECT_EQ(s->matchName("x.b.example.com", L4::Udp, 443), -1);
}

TEST(Snapshot, NameListedOnAnyPort) {
  auto s = compile(kServices);
  EXPECT_TRUE(s->nameListed("x.b.example.com"));   // an exact entry, whatever its ports
  EXPECT_TRUE(s->nameListed("Q.B.Example.COM."));  // a wildcard, raw from the wire
  EXPECT_FALSE(s->nameListed("evil.example"));
  EXPECT_FALSE(s->nameListed("b.example.com.evil.example"));
  EXPECT_FALSE(s->nameListed(""));
  EXPECT_FALSE(s->dnsQueriesAny());
}

TEST(Snapshot, NameFromTheWire) {
  auto s = compile(kServices);
  EXPECT_EQ(s->matchName("X.B.Example.COM.", L4::Tcp, 443), 2);
  EXPECT_EQ(s->matchName("x.b.example.com..", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName(std::string("x.b.example.com\0", 16), L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName(std::string("a\0.example.com", 14), L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName(".", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName(".example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("*.example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName(std::string(300, 'a') + ".example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("\xff\xfe.example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchName("a.example.com", L4(99), 443), -1);
}

TEST(Snapshot, DeepNameAtTheLengthLimit) {
  auto s = compile(kServices);
  // 125 one-letter labels + "example.com" = 249 + 4 chars: the deepest valid name still matches.
  std::string name;
  for (int i = 0; i < 121; ++i) name += "a.";
  name += "example.com";
  ASSERT_LE(name.size(), kMaxFqdnLength);
  EXPECT_EQ(s->matchName(name, L4::Tcp, 443), 0);
}

TEST(Snapshot, AddressLongestPrefixWithPorts) {
  auto s = compile(kServices);
  EXPECT_EQ(s->matchAddress(ip("198.51.100.7"), L4::Tcp, 22), 7);
  // /32 does not take 53; the /24 does.
  EXPECT_EQ(s->matchAddress(ip("198.51.100.7"), L4::Udp, 53), 6);
  // /32 and /24 do not take 443; the /16 does.
  EXPECT_EQ(s->matchAddress(ip("198.51.100.7"), L4::Tcp, 443), 5);
  EXPECT_EQ(s->matchAddress(ip("198.51.1.1"), L4::Tcp, 53), -1);
  EXPECT_EQ(s->matchAddress(ip("198.52.0.1"), L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchAddress(ip("2001:db8:1::1"), L4::Tcp, 53), 6);
  EXPECT_EQ(s->matchAddress(ip("2001:db8:1::1"), L4::Tcp, 443), 8);
  EXPECT_EQ(s->matchAddress(ip("2001:db9::1"), L4::Tcp, 443), -1);
  // An IPv4 address never matches by way of a v6 prefix with the same bits elsewhere.
  EXPECT_EQ(s->matchAddress(ip("::c633:6407"), L4::Tcp, 22), -1);
}

TEST(Snapshot, PortSets) {
  auto s = compile(kServices);
  EXPECT_TRUE(s->portUsed(L4::Tcp, 443));
  EXPECT_TRUE(s->portUsed(L4::Tcp, 8000));
  EXPECT_TRUE(s->portUsed(L4::Tcp, 8100));
  EXPECT_FALSE(s->portUsed(L4::Tcp, 8101));
  EXPECT_TRUE(s->portUsed(L4::Udp, 53));
  EXPECT_FALSE(s->portUsed(L4::Udp, 443));
  EXPECT_FALSE(s->portUsed(L4::Tcp, 0));
  EXPECT_FALSE(s->portUsed(L4(1), 443));
  EXPECT_TRUE(s->portHasNames(L4::Tcp, 443));
  EXPECT_TRUE(s->portHasNames(L4::Tcp, 8050));
  EXPECT_FALSE(s->portHasNames(L4::Tcp, 22));  // address-only service
  EXPECT_FALSE(s->portHasNames(L4::Udp, 53));
}

// Protocol on port: declared per port entry; a cloud service's tcp/443 is TLS unless it says
// otherwise; any service declaring TLS or HTTP on a port marks the port.
TEST(Snapshot, ProtocolOnPort) {
  auto s = compile(
      "  - name: cloud\n    kind: cloud\n    ismap: {id: C21-0001-1, expires: 2099-12-31}\n"
      "    fqdn: [a.example.com]\n    ports: [tcp/443, tcp/80/http, tcp/8443-8444]\n"
      "  - name: cloud-any\n    kind: cloud\n    ismap: {id: C21-0002-1, expires: 2099-12-31}\n"
      "    fqdn: [b.example.com]\n    ports: [tcp/443/any, udp/443/tls]\n"
      "  - name: asp\n    kind: lgwan-asp\n    fqdn: [c.example.com]\n"
      "    ports: [tcp/443, tcp/9000-9001/tls]\n");
  EXPECT_EQ(s->portProtocol(0, L4::Tcp, 443), PortProtocol::Tls);  // the cloud default
  EXPECT_EQ(s->portProtocol(0, L4::Tcp, 80), PortProtocol::Http);
  EXPECT_EQ(s->portProtocol(0, L4::Tcp, 8443), PortProtocol::Any);  // only exactly tcp/443
  EXPECT_EQ(s->portProtocol(1, L4::Tcp, 443), PortProtocol::Any);   // opted out
  EXPECT_EQ(s->portProtocol(1, L4::Udp, 443), PortProtocol::Tls);
  EXPECT_EQ(s->portProtocol(2, L4::Tcp, 443), PortProtocol::Any);  // not a cloud service
  EXPECT_EQ(s->portProtocol(2, L4::Tcp, 9001), PortProtocol::Tls);
  EXPECT_EQ(s->portProtocol(-1, L4::Tcp, 443), PortProtocol::Any);
  EXPECT_TRUE(s->portDeclaresProtocol(L4::Tcp, 443));
  EXPECT_TRUE(s->portDeclaresProtocol(L4::Tcp, 80));
  EXPECT_TRUE(s->portDeclaresProtocol(L4::Tcp, 9000));
  EXPECT_FALSE(s->portDeclaresProtocol(L4::Tcp, 9002));
  EXPECT_FALSE(s->portDeclaresProtocol(L4::Tcp, 8443));
  EXPECT_TRUE(s->portDeclaresProtocol(L4::Udp, 443));
  EXPECT_EQ(toString(s->service(0).ports[1]), "tcp/80/http");
  EXPECT_EQ(toString(s->service(0).ports[0]), "tcp/443");  // the default is not written back
}

TEST(Snapshot, FullPortRangeAndBoundaries) {
  auto s = compile(
      "  - name: all\n    kind: lgwan-asp\n    cidr: [192.0.2.0/24]\n"
      "    ports: [udp/1-65535, tcp/65535]\n");
  EXPECT_TRUE(s->portUsed(L4::Udp, 1));
  EXPECT_TRUE(s->portUsed(L4::Udp, 65535));
  EXPECT_FALSE(s->portUsed(L4::Udp, 0));
  EXPECT_TRUE(s->portUsed(L4::Tcp, 65535));
  EXPECT_FALSE(s->portUsed(L4::Tcp, 65534));
  EXPECT_EQ(s->matchAddress(ip("192.0.2.9"), L4::Udp, 65535), 0);
  EXPECT_EQ(s->matchAddress(ip("192.0.2.9"), L4::Tcp, 65535), 0);
}

TEST(Snapshot, EmptyServiceListDeniesEverything) {
  auto s = compile("  []\n");
  EXPECT_EQ(s->serviceCount(), 0u);
  EXPECT_EQ(s->matchName("a.example.com", L4::Tcp, 443), -1);
  EXPECT_EQ(s->matchAddress(ip("1.2.3.4"), L4::Tcp, 443), -1);
  EXPECT_FALSE(s->portUsed(L4::Tcp, 443));
}

TEST(Snapshot, ExampleMunicipalityPolicy) {
  auto doc = parsePolicyFile(std::string(LBG_POLICY_EXAMPLES) + "/municipality.yaml",
                             sys_days{year{2026} / 11 / 1});
  ASSERT_TRUE(doc.ok()) << doc.error().toString();
  auto created = Snapshot::create(std::move(doc.value()), 1);
  ASSERT_TRUE(created.ok());
  const Snapshot& s = *created.value();
  auto nameOf = [&](int i) { return i < 0 ? std::string("-") : s.service(i).name; };
  EXPECT_EQ(nameOf(s.matchName("Outlook.Office365.com", L4::Tcp, 443)), "microsoft365");
  EXPECT_EQ(nameOf(s.matchName("city-my.sharepoint.com", L4::Tcp, 443)), "microsoft365");
  EXPECT_EQ(nameOf(s.matchName("sharepoint.com", L4::Tcp, 443)), "-");
  EXPECT_EQ(nameOf(s.matchName("login.microsoftonline.com", L4::Tcp, 443)), "microsoft365-login");
  EXPECT_TRUE(s.service(s.matchName("login.microsoftonline.com", L4::Tcp, 443)).intercept);
  EXPECT_EQ(nameOf(s.matchName("login.microsoftonline.com", L4::Tcp, 80)), "-");
  EXPECT_EQ(nameOf(s.matchName("fe2.update.microsoft.com", L4::Tcp, 80)), "windows-update");
  EXPECT_EQ(nameOf(s.matchName("www.example.com", L4::Tcp, 443)), "-");
  EXPECT_EQ(nameOf(s.matchAddress(ip("192.0.2.53"), L4::Udp, 53)), "dns-resolver");
  EXPECT_EQ(nameOf(s.matchAddress(ip("2001:db8:53::53"), L4::Tcp, 53)), "dns-resolver");
  EXPECT_EQ(nameOf(s.matchAddress(ip("192.0.2.54"), L4::Udp, 53)), "-");
  EXPECT_EQ(nameOf(s.matchAddress(ip("198.51.100.10"), L4::Tcp, 443)), "lgwan-asp-e-shinsei");
  EXPECT_TRUE(s.isInside(ip("10.20.30.40")));
  EXPECT_FALSE(s.isInside(ip("10.21.0.1")));
  EXPECT_FALSE(s.portUsed(L4::Udp, 443));  // QUIC is not listed anywhere
}

TEST(Snapshot, CreateRejectsWhatTheHotPathCannotServe) {
  PolicyDoc doc;
  doc.inside.push_back(*Prefix::parse("10.0.0.0/8"));
  ServiceSpec svc;
  svc.name = "x";
  svc.fqdns = {"Upper.Example.com"};
  svc.ports = {{L4::Tcp, 443, 443}};
  doc.services.push_back(svc);
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
  doc.services[0].fqdns = {"upper.example.com"};
  doc.services[0].ports = {{L4::Tcp, 500, 400}};
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
  doc.services[0].ports = {{L4(3), 1, 2}};
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
  doc.services[0].ports = {{L4::Tcp, 443, 443}};
  EXPECT_TRUE(Snapshot::create(doc, 1).ok());
  doc.services[0].cidrs = {*Prefix::parse("::/8")};
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
  doc.services[0].cidrs = {*Prefix::parse("0.0.0.0/0")};
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
  doc.services[0].cidrs = {*Prefix::parse("0.0.0.0/1")};
  EXPECT_TRUE(Snapshot::create(doc, 1).ok());
  doc.inside.clear();
  EXPECT_FALSE(Snapshot::create(doc, 1).ok());
}

// The hash tables must agree with the reference semantics (fqdnPatternMatches, Prefix::contains)
// at scale: 10k services with 100k names and prefixes, checked against a brute-force oracle.
TEST(Snapshot, AgreesWithReferenceAtScale) {
  PolicyDoc doc;
  doc.inside.push_back(*Prefix::parse("10.0.0.0/8"));
  constexpr int kServices = 10000;
  for (int i = 0; i < kServices; ++i) {
    ServiceSpec s;
    s.name = "svc" + std::to_string(i);
    s.kind = ServiceKind::LgwanAsp;
    for (int j = 0; j < 5; ++j) {
      const int k = (i * 7 + j * 13) % 3000;  // names shared between services
      s.fqdns.push_back((j % 2 ? "*." : "h" + std::to_string(j) + ".") + "d" + std::to_string(k) +
                        ".example.jp");
      const uint32_t net = 0xc6000000u | uint32_t((i * 31 + j) % 65536) << 8;
      Prefix p;
      p.addr = IpAddr::fromV4(net);
      p.length = uint8_t(96 + 16 + (j % 3) * 4);  // /16, /20, /24
      p.addr = IpAddr::fromV4(net & ~((1u << (32 - (p.length - 96))) - 1));
      s.cidrs.push_back(p);
    }
    s.ports.push_back({L4::Tcp, uint16_t(443 + i % 3), uint16_t(443 + i % 3)});
    doc.services.push_back(std::move(s));
  }
  auto created = Snapshot::create(doc, 1);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  const Snapshot& snap = *created.value();

  auto oracleName = [&](const std::string& name, uint16_t port) {
    int best = -1;
    size_t bestRank = 0;  // exact = SIZE_MAX, wildcard = base length
    for (int i = 0; i < kServices; ++i) {
      if (!snap.serviceAllowsPort(i, L4::Tcp, port)) continue;
      for (const auto& f : doc.services[size_t(i)].fqdns) {
        if (!fqdnPatternMatches(f, name)) continue;
        const size_t rank = f[0] == '*' ? f.size() - 2 : SIZE_MAX;
        if (best < 0 || rank > bestRank) {
          best = i;
          bestRank = rank;
        }
      }
    }
    return best;
  };
  auto oracleAddr = [&](const IpAddr& a, uint16_t port) {
    int best = -1;
    int bestLen = -1;
    for (int i = 0; i < kServices; ++i) {
      if (!snap.serviceAllowsPort(i, L4::Tcp, port)) continue;
      for (const auto& p : doc.services[size_t(i)].cidrs) {
        if (p.contains(a) && int(p.length) > bestLen) {
          best = i;
          bestLen = p.length;
        }
      }
    }
    return best;
  };
  int matched = 0;
  for (int q = 0; q < 300; ++q) {
    const uint16_t port = uint16_t(443 + q % 4);
    const std::string name = (q % 3 == 0   ? "h0"
                              : q % 3 == 1 ? "zz.h1"
                                           : "h2") +
                             std::string(".d") + std::to_string((q * 37) % 3100) + ".example.jp";
    const int want = oracleName(name, port);
    EXPECT_EQ(snap.matchName(name, L4::Tcp, port), want) << name << " port " << port;
    matched += want >= 0;
    const IpAddr a = IpAddr::fromV4(0xc6000000u | uint32_t(q * 2654435761u) % 0x1000000u);
    EXPECT_EQ(snap.matchAddress(a, L4::Tcp, port), oracleAddr(a, port)) << a.toString();
  }
  EXPECT_GT(matched, 50) << "the sample should exercise real matches";
}

TEST(Snapshot, DnsResolversAreInfrastructurePort53CidrsUnlessListed) {
  const std::string services =
      "  - name: resolver\n    kind: infrastructure\n    cidr: [192.0.2.0/28]\n"
      "    ports: [udp/53]\n"
      "  - name: ntp\n    kind: infrastructure\n    cidr: [192.0.2.128/28]\n"
      "    ports: [udp/123]\n"
      "  - name: partner\n    kind: lgwan-asp\n    cidr: [198.51.100.0/24]\n"
      "    ports: [udp/53]\n";
  auto implicit = compile(services);
  EXPECT_TRUE(implicit->isDnsResolver(ip("192.0.2.5")));
  EXPECT_FALSE(implicit->isDnsResolver(ip("192.0.2.130")));   // infrastructure, not port 53
  EXPECT_FALSE(implicit->isDnsResolver(ip("198.51.100.53")));  // port 53, not infrastructure
  auto listed = compile(services + "dns: {resolvers: [198.51.100.53/32]}\n");
  EXPECT_FALSE(listed->isDnsResolver(ip("192.0.2.5")));  // the list replaces the implicit set
  EXPECT_TRUE(listed->isDnsResolver(ip("198.51.100.53")));
  EXPECT_FALSE(listed->isDnsResolver(ip("198.51.100.54")));
}

}  // namespace
}  // namespace lbg::policy
