#include "policy/parser.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace lbg::policy {
namespace {

using namespace std::chrono;

constexpr sys_days kToday{year{2026} / 1 / 15};

// A minimal valid policy; tests append or alter lines. Line numbers below refer to this layout.
const std::string kHead =
    "version: 1\n"              // 1
    "segment:\n"                // 2
    "  inside: [10.0.0.0/8]\n"  // 3
    "defaults:\n"               // 4
    "  deny: reset\n"           // 5
    "services:\n";              // 6

const std::string kM365 =
    "  - name: microsoft365\n"                                   // 7
    "    kind: cloud\n"                                          // 8
    "    ismap: {id: C21-0008-2, expires: 2027-03-31}\n"         // 9
    "    fqdn: [outlook.office365.com, \"*.sharepoint.com\"]\n"  // 10
    "    ports: [tcp/443]\n";                                    // 11

std::string errorOf(const std::string& text) {
  auto r = parsePolicyText(text, "policy.yaml", kToday);
  if (r.ok()) return "OK";
  return r.error().toString();
}

TEST(Parser, MinimalPolicyWithDefaults) {
  auto r = parsePolicyText(kHead + kM365, "policy.yaml", kToday);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const PolicyDoc& d = r.value();
  EXPECT_EQ(d.schemaVersion, 1);
  EXPECT_FALSE(d.approvalRequired);
  EXPECT_EQ(d.denyAction, DenyAction::Reset);
  EXPECT_EQ(d.quic, QuicMode::Block);
  EXPECT_EQ(d.ech, EchMode::Allow);  // GREASE ECH: see model.h
  // Claims are not believed by default (issue 9): an SNI/Host needs a DNS answer for it.
  EXPECT_EQ(d.sniDns, SniDnsMode::Enforce);
  EXPECT_FALSE(d.dnsResolvers.has_value());
  ASSERT_EQ(d.services.size(), 1u);
  const ServiceSpec& s = d.services[0];
  EXPECT_EQ(s.name, "microsoft365");
  EXPECT_EQ(s.kind, ServiceKind::Cloud);
  ASSERT_TRUE(s.ismap);
  EXPECT_EQ(s.ismap->id, "C21-0008-2");
  EXPECT_EQ(s.ismap->expires, "2027-03-31");
  EXPECT_EQ(s.fqdns, (std::vector<std::string>{"outlook.office365.com", "*.sharepoint.com"}));
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0], (PortRange{L4::Tcp, 443, 443}));
  EXPECT_FALSE(s.intercept);
  EXPECT_EQ(s.pos.line, 7);
  EXPECT_EQ(s.pos.column, 11);
}

TEST(Parser, FullSchema) {
  const std::string text =
      "version: 1\n"
      "approval: required\n"
      "segment:\n"
      "  inside: [10.0.0.0/8, 2001:db8::/32]\n"
      "defaults: {deny: drop, quic: allow, ech: allow, sni_dns: enforce}\n"
      "services:\n"
      "  - name: teams-media\n"
      "    kind: cloud\n"
      "    ismap: {id: C21-0008-2, expires: 2026-01-15}\n"  // expires today: still valid
      "    fqdn: [Teams.Microsoft.COM.]\n"
      "    cidr: [52.112.0.0/14, \"2603:1063::/38\"]\n"
      "    ports: [tcp/443, udp/3478-3481]\n"
      "    intercept: true\n"
      "    sanitize: true\n"
      "    description: \"会議 media\"\n";
  auto r = parsePolicyText(text, "p.yaml", kToday);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const PolicyDoc& d = r.value();
  EXPECT_TRUE(d.approvalRequired);
  EXPECT_EQ(d.inside.size(), 2u);
  EXPECT_EQ(d.denyAction, DenyAction::Drop);
  EXPECT_EQ(d.quic, QuicMode::Allow);
  EXPECT_EQ(d.ech, EchMode::Allow);
  EXPECT_EQ(d.sniDns, SniDnsMode::Enforce);
  const ServiceSpec& s = d.services[0];
  EXPECT_EQ(s.fqdns[0], "teams.microsoft.com");
  EXPECT_EQ(s.cidrs[1].toString(), "2603:1063::/38");
  EXPECT_EQ(s.ports[1], (PortRange{L4::Udp, 3478, 3481}));
  EXPECT_TRUE(s.intercept);
  EXPECT_TRUE(s.sanitize);
  EXPECT_EQ(s.description, "会議 media");
}

struct ErrorCase {
  const char* what;
  std::string text;
  std::string expected;
};

class ParserErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrors, NamesFileLineColumn) {
  EXPECT_EQ(errorOf(GetParam().text), GetParam().expected);
}

std::string withService(const std::string& service) {
  return kHead + service;
}

INSTANTIATE_TEST_SUITE_P(
    All, ParserErrors,
    testing::Values(
        ErrorCase{"expired",
                  withService("  - name: m\n"
                              "    kind: cloud\n"
                              "    ismap:\n"
                              "      id: C21-0008-2\n"
                              "      expires: 2025-03-31\n"
                              "    fqdn: [a.example.com]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:11:16: services[0].ismap.expires: ISMAP registration C21-0008-2 "
                  "expired on 2025-03-31"},
        ErrorCase{"expired yesterday",
                  withService("  - name: m\n    kind: cloud\n"
                              "    ismap: {id: X-1, expires: 2026-01-14}\n"
                              "    fqdn: [a.example.com]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:31: services[0].ismap.expires: ISMAP registration X-1 expired "
                  "on 2026-01-14"},
        ErrorCase{"bad date",
                  withService("  - name: m\n    kind: cloud\n"
                              "    ismap: {id: X-1, expires: 2027-02-30}\n"
                              "    fqdn: [a.example.com]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:31: services[0].ismap.expires: '2027-02-30' is not a date "
                  "(YYYY-MM-DD)"},
        ErrorCase{"cloud needs ismap",
                  withService("  - name: m\n    kind: cloud\n    fqdn: [a.example.com]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:7:5: services[0]: a service of kind cloud needs an ismap "
                  "registration"},
        ErrorCase{"unknown top key", kHead + kM365 + "defualts: {}\n",
                  "policy.yaml:12:1: defualts: unknown key (a typo here must not be ignored)"},
        ErrorCase{"unknown service key", kHead + kM365 + "    port: [tcp/80]\n",
                  "policy.yaml:12:5: services[0].port: unknown key (a typo here must not be "
                  "ignored)"},
        ErrorCase{"unknown ismap key",
                  withService("  - name: m\n    kind: cloud\n"
                              "    ismap: {id: X-1, expires: 2027-01-01, expired: no}\n"
                              "    fqdn: [a.example.com]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:43: services[0].ismap.expired: unknown key (a typo here must "
                  "not be ignored)"},
        ErrorCase{"duplicate key", kHead + kM365 + "    kind: lgwan-asp\n",
                  "policy.yaml:12:5: services[0].kind: duplicate key"},
        ErrorCase{"duplicate top key", "version: 1\nversion: 1\n",
                  "policy.yaml:2:1: version: duplicate key"},
        ErrorCase{"missing deny",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults:\n  quic: block\n"
                  "services: []\n",
                  "policy.yaml:4:3: defaults: missing required key 'deny'"},
        ErrorCase{"missing services",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n",
                  "policy.yaml:1:1: missing required key 'services'"},
        ErrorCase{"version 2",
                  "version: 2\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop}\nservices: []\n",
                  "policy.yaml:1:10: version: unsupported schema version '2' (this build reads 1)"},
        ErrorCase{"quoted version",
                  "version: \"1\"\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop}\nservices: []\n",
                  "policy.yaml:1:10: version: expected an integer (unquoted)"},
        ErrorCase{"bad enum",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: reject}\nservices: []\n",
                  "policy.yaml:3:18: defaults.deny: expected drop | reset, got 'reject'"},
        ErrorCase{"sni_dns enum",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop, sni_dns: yes}\nservices: []\n",
                  "policy.yaml:3:33: defaults.sni_dns: expected enforce | log | off, got 'yes'"},
        ErrorCase{"dns resolver no service reaches",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services:\n  - {name: r, kind: infrastructure, cidr: [192.0.2.0/24], ports: [udp/53]}\n"
                  "dns: {resolvers: [192.0.2.53/32, 198.51.100.53/32]}\n",
                  "policy.yaml:6:34: dns.resolvers[1]: '198.51.100.53/32' is not inside the cidr "
                  "of any service that lists udp/53 or tcp/53"},
        ErrorCase{"dns resolver wider than the service",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services:\n  - {name: r, kind: infrastructure, cidr: [192.0.2.53/32], ports: [tcp/53]}\n"
                  "dns: {resolvers: [192.0.2.0/24]}\n",
                  "policy.yaml:6:19: dns.resolvers[0]: '192.0.2.0/24' is not inside the cidr "
                  "of any service that lists udp/53 or tcp/53"},
        ErrorCase{"dns resolvers empty",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services: []\ndns: {resolvers: []}\n",
                  "policy.yaml:5:18: dns.resolvers: at least one prefix is required"},
        ErrorCase{"dns resolvers missing",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services: []\ndns: {}\n",
                  "policy.yaml:5:6: dns: give resolvers, queries or both (or omit the block)"},
        ErrorCase{"dns queries mode",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services: []\ndns: {queries: all}\n",
                  "policy.yaml:5:16: dns.queries: 'all' is not services or any"},
        ErrorCase{"dns unknown key",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services: []\ndns: {resolver: [192.0.2.53/32]}\n",
                  "policy.yaml:5:7: dns.resolver: unknown key (a typo here must not be ignored)"},
        ErrorCase{"dns resolver not a prefix",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                  "services: []\ndns: {resolvers: [192.0.2.53]}\n",
                  "policy.yaml:5:19: dns.resolvers[0]: '192.0.2.53' is not an address prefix "
                  "(a.b.c.d/n or v6/n)"},
        ErrorCase{"reload enum",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop, reload: never}\nservices: []\n",
                  "policy.yaml:3:32: defaults.reload: expected keep | recheck, got 'never'"},
        ErrorCase{"app name",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop}\nservices:\n"
                  "  - {name: a, kind: infrastructure, cidr: [192.0.2.1/32], ports: [tcp/443], "
                  "apps: [\"t l s\"]}\n",
                  "policy.yaml:5:84: services[0].apps[0]: 't l s' is not an application name "
                  "(nDPI's, e.g. tls)"},
        ErrorCase{"wrong type services",
                  "version: 1\nsegment: {inside: [10.0.0.0/8]}\n"
                  "defaults: {deny: drop}\nservices: {}\n",
                  "policy.yaml:4:11: services: expected a sequence, got a mapping"},
        ErrorCase{"empty value",
                  "version: 1\nsegment:\n  inside:\ndefaults: {deny: drop}\n"
                  "services: []\n",
                  "policy.yaml:3:3: segment.inside: expected a sequence, got nothing"},
        ErrorCase{"empty inside",
                  "version: 1\nsegment:\n  inside: []\ndefaults: {deny: drop}\n"
                  "services: []\n",
                  "policy.yaml:3:11: segment.inside: at least one prefix is required"},
        ErrorCase{"host bits",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [10.1.0.0/16, 10.2.3.0/16]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:9:25: services[0].cidr[1]: '10.2.3.0/16' has bits set beyond its "
                  "length (typo?)"},
        ErrorCase{"duplicate cidr",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [10.1.0.0/16, 10.1.0.0/24, \"::ffff:10.1.0.0/112\"]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:9:38: services[0].cidr[2]: duplicate prefix '::ffff:10.1.0.0/112'"},
        ErrorCase{"short v6 covers v4",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [\"2001:db8::/32\", \"::/8\"]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:29: services[0].cidr[1]: '::/8' covers every IPv4 address (IPv4 "
                  "is held as ::ffff:0:0/96)"},
        ErrorCase{"slash zero",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [\"::/0\"]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:12: services[0].cidr[0]: '::/0' covers every address; list real "
                  "prefixes"},
        ErrorCase{"v4 slash zero",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [0.0.0.0/0]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:12: services[0].cidr[0]: '0.0.0.0/0' covers every address; list "
                  "real prefixes"},
        ErrorCase{"bad prefix",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    cidr: [10.0.0.0]\n    ports: [tcp/443]\n"),
                  "policy.yaml:9:12: services[0].cidr[0]: '10.0.0.0' is not an address prefix "
                  "(a.b.c.d/n or v6/n)"},
        ErrorCase{"bad wildcard",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [ok.example.com, \"*.jp\"]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:9:28: services[0].fqdn[1]: '*.jp' is not a valid name or wildcard "
                  "(\"*.\" only as the whole first label, and not directly above a top-level "
                  "domain)"},
        ErrorCase{"duplicate fqdn",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com, A.Example.com.]\n"
                              "    ports: [tcp/443]\n"),
                  "policy.yaml:9:27: services[0].fqdn[1]: duplicate name 'A.Example.com.'"},
        ErrorCase{"needs fqdn or cidr",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: []\n    ports: [tcp/443]\n"),
                  "policy.yaml:7:5: services[0]: a service needs at least one fqdn or cidr entry"},
        ErrorCase{"needs ports",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n"),
                  "policy.yaml:7:5: services[0]: missing required key 'ports'"},
        ErrorCase{"empty ports",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n    ports: []\n"),
                  "policy.yaml:10:12: services[0].ports: at least one port is required"},
        ErrorCase{"port proto",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n    ports: [sctp/80]\n"),
                  "policy.yaml:10:13: services[0].ports[0]: 'sctp/80' is not tcp/N, udp/N or "
                  "tcp/LO-HI with 1..65535"},
        ErrorCase{"port range",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n"
                              "    ports: [tcp/443, tcp/8080-8000]\n"),
                  "policy.yaml:10:22: services[0].ports[1]: 'tcp/8080-8000': range runs "
                  "backwards"},
        ErrorCase{"port protocol",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n"
                              "    ports: [tcp/443/tls, tcp/25/smtp]\n"),
                  "policy.yaml:10:26: services[0].ports[1]: 'tcp/25/smtp': the protocol after "
                  "the port is tls, any or (tcp) http"},
        ErrorCase{"http over udp",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n    ports: [udp/80/http]\n"),
                  "policy.yaml:10:13: services[0].ports[0]: 'udp/80/http': the protocol after "
                  "the port is tls, any or (tcp) http"},
        ErrorCase{"port too big",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n"
                              "    ports: [udp/65536]\n"),
                  "policy.yaml:10:13: services[0].ports[0]: 'udp/65536' is not tcp/N, udp/N or "
                  "tcp/LO-HI with 1..65535"},
        ErrorCase{"port zero",
                  withService("  - name: m\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n    ports: [tcp/0-80]\n"),
                  "policy.yaml:10:13: services[0].ports[0]: 'tcp/0-80': port 0 is not a port"},
        ErrorCase{"bad name",
                  withService("  - name: Microsoft 365\n    kind: lgwan-asp\n"
                              "    fqdn: [a.example.com]\n    ports: [tcp/443]\n"),
                  "policy.yaml:7:11: services[0].name: 'Microsoft 365' is not a valid name "
                  "([a-z0-9._-], 1..64)"},
        ErrorCase{"duplicate name", kHead + kM365 + kM365,
                  "policy.yaml:12:11: services[1].name: duplicate service name 'microsoft365'"},
        ErrorCase{"certificate check mode", kHead + kM365 + "    certificate: {check: strict}\n",
                  "policy.yaml:12:26: services[0].certificate.check: 'strict' is not enforce, log or off"},
        ErrorCase{"certificate ocsp mode", kHead + kM365 + "    certificate: {ocsp: always}\n",
                  "policy.yaml:12:25: services[0].certificate.ocsp: 'always' is not off, prefer or require"},
        ErrorCase{"pins twice", kHead + kM365 + "    pins: [\"sha256//" + std::string(43, 'A') +
                  "=\"]\n    certificate: {pins: [\"sha256//" + std::string(43, 'B') + "=\"]}\n",
                  "policy.yaml:13:25: services[0].certificate.pins: pins are given twice (also `pins:`)"},
        ErrorCase{"quoted bool", kHead + kM365 + "    intercept: \"false\"\n",
                  "policy.yaml:12:16: services[0].intercept: expected true or false (unquoted)"},
        ErrorCase{"sanitize without intercept", kHead + kM365 + "    sanitize: true\n",
                  "policy.yaml:12:15: services[0].sanitize: sanitize: true needs intercept: true on "
                  "the service"},
        ErrorCase{"yes is not a bool", kHead + kM365 + "    intercept: yes\n",
                  "policy.yaml:12:16: services[0].intercept: expected true or false, got 'yes'"},
        ErrorCase{"service not a map", kHead + "  - microsoft365\n",
                  "policy.yaml:7:5: services[0]: expected a mapping, got a scalar"},
        ErrorCase{"kind", withService("  - name: m\n    kind: saas\n"),
                  "policy.yaml:8:11: services[0].kind: expected cloud | lgwan-asp | "
                  "security-update | infrastructure, got 'saas'"},
        ErrorCase{"control char", kHead + kM365 + "    description: \"a\\x01b\"\n",
                  "policy.yaml:12:18: services[0].description: control characters are not "
                  "allowed"},
        ErrorCase{"syntax", "version: 1\nsegment: [10.0.0.0/8\n",
                  "policy.yaml:3:1: YAML syntax: end of sequence flow not found"},
        ErrorCase{"two documents", kHead + kM365 + "---\nversion: 1\n",
                  "policy.yaml:12:1: a policy file holds exactly one YAML document (or has a "
                  "stray token)"},
        // yaml-cpp's LoadAll() never returns on this input; the parser must.
        ErrorCase{"stray comma", ",",
                  "policy.yaml:1:1: a policy file holds exactly one YAML document (or has a "
                  "stray token)"},
        ErrorCase{"empty", "", "policy.yaml:1:1: policy: the document is empty"},
        ErrorCase{"scalar doc", "hello\n", "policy.yaml:1:1: expected a mapping, got a scalar"},
        ErrorCase{"merge key is unknown", "version: 1\n<<: {segment: {inside: [10.0.0.0/8]}}\n",
                  "policy.yaml:2:1: <<: unknown key (a typo here must not be ignored)"}),
    [](const testing::TestParamInfo<ErrorCase>& p) {
      std::string n;
      for (char c : std::string(p.param.what)) n += std::isalnum(uint8_t(c)) ? c : '_';
      return n;
    });

TEST(Parser, DefaultsGuard) {
  auto d = parsePolicyText(kHead + kM365, "policy.yaml", kToday);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->guard.newFlowsPerSec, 100u);
  EXPECT_EQ(d->guard.newFlowBurst, 400u);
  EXPECT_EQ(d->guard.maxFlowsPerSource, 2000u);
  const auto withGuard = [](const std::string& g) {
    std::string t = kHead + kM365;
    t.replace(t.find("  deny: reset\n"), 14, "  deny: reset\n  guard: " + g + "\n");  // line 6
    return t;
  };
  auto r = parsePolicyText(withGuard("{new_flows_per_sec: 20, new_flow_burst: 50}"), "policy.yaml",
                           kToday);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->guard.newFlowsPerSec, 20u);
  EXPECT_EQ(r->guard.newFlowBurst, 50u);
  EXPECT_EQ(r->guard.maxFlowsPerSource, 2000u);
  EXPECT_EQ(errorOf(withGuard("{new_flows: 20}")),
            "policy.yaml:6:11: defaults.guard.new_flows: unknown key (a typo here must not be "
            "ignored)");
  EXPECT_EQ(errorOf(withGuard("{new_flow_burst: -1}")),
            "policy.yaml:6:27: defaults.guard.new_flow_burst: expected a whole number "
            "0..999999999, got '-1'");
  EXPECT_EQ(errorOf(withGuard("{new_flow_burst: \"5\"}")),
            "policy.yaml:6:27: defaults.guard.new_flow_burst: expected a whole number (unquoted)");
  EXPECT_NE(errorOf(withGuard("{new_flow_burst: 0}")).find("must be at least 1"),
            std::string::npos);
  EXPECT_EQ(errorOf(withGuard("{new_flows_per_sec: 0, new_flow_burst: 0}")), "OK");
  // Per-destination flood limits.
  EXPECT_EQ(d->guard.udpPerDestPps, 100000u);
  EXPECT_EQ(d->guard.icmpPerDestBurst, 2000u);
  EXPECT_EQ(d->guard.fragmentsPerDestPps, 10000u);
  auto f = parsePolicyText(withGuard("{udp_per_dest_pps: 500, udp_per_dest_burst: 50, "
                                     "icmp_per_dest_pps: 0, fragments_per_dest_burst: 7}"),
                           "policy.yaml", kToday);
  ASSERT_TRUE(f.ok()) << f.error().toString();
  EXPECT_EQ(f->guard.udpPerDestPps, 500u);
  EXPECT_EQ(f->guard.udpPerDestBurst, 50u);
  EXPECT_EQ(f->guard.icmpPerDestPps, 0u);
  EXPECT_EQ(f->guard.fragmentsPerDestBurst, 7u);
  EXPECT_EQ(errorOf(withGuard("{udp_per_dest_burst: 0}")),
            "policy.yaml:6:31: defaults.guard.udp_per_dest_burst: must be at least 1 while "
            "udp_per_dest_pps is set (0 would drop every packet)");
  EXPECT_EQ(errorOf(withGuard("{icmp_per_dest_pps: x}")),
            "policy.yaml:6:30: defaults.guard.icmp_per_dest_pps: expected a whole number "
            "0..999999999, got 'x'");
  auto fb = parsePolicyText(toYaml(*f), "policy.yaml", kToday);
  ASSERT_TRUE(fb.ok()) << fb.error().toString();
  EXPECT_EQ(fb->guard, f->guard);
  // The canonical form carries the limits.
  auto back = parsePolicyText(toYaml(*r), "policy.yaml", kToday);
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(back->guard, r->guard);
}

TEST(Parser, DnsQueries) {
  const std::string head = "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: drop}\n"
                           "services: []\n";
  auto plain = parsePolicyText(head, "policy.yaml", kToday);
  ASSERT_TRUE(plain.ok()) << plain.error().toString();
  EXPECT_EQ(plain->dnsQueries, DnsQueries::Services);  // the default: names of the services only
  EXPECT_EQ(toYaml(*plain).find("queries"), std::string::npos);
  auto any = parsePolicyText(head + "dns: {queries: any}\n", "policy.yaml", kToday);
  ASSERT_TRUE(any.ok()) << any.error().toString();
  EXPECT_EQ(any->dnsQueries, DnsQueries::Any);
  EXPECT_FALSE(any->dnsResolvers);
  auto back = parsePolicyText(toYaml(*any), "policy.yaml", kToday);
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(back->dnsQueries, DnsQueries::Any);
}

TEST(Parser, CertificateBlock) {
  auto r = parsePolicyText(kHead + kM365 + "    certificate: {check: log, ocsp: \"off\"}\n",
                           "policy.yaml", kToday);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r.value().services[0].certCheck, CertCheck::Log);
  // Canonical form round-trips.
  auto again = parsePolicyText(toYaml(r.value()), "policy.yaml", kToday);
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(again.value().services[0].certCheck, CertCheck::Log);
  EXPECT_EQ(again.value().services[0].ocsp, OcspCheck::Off);
  auto plain = parsePolicyText(kHead + kM365, "policy.yaml", kToday);
  EXPECT_EQ(plain.value().services[0].certCheck, CertCheck::Enforce);
  EXPECT_EQ(plain.value().services[0].ocsp, OcspCheck::Prefer);
  // `require` survives the canonical form, and `prefer` (the default) is not written.
  auto req = parsePolicyText(kHead + kM365 + "    certificate: {ocsp: require}\n", "policy.yaml", kToday);
  ASSERT_TRUE(req.ok()) << req.error().toString();
  EXPECT_EQ(req.value().services[0].ocsp, OcspCheck::Require);
  auto reqBack = parsePolicyText(toYaml(req.value()), "policy.yaml", kToday);
  ASSERT_TRUE(reqBack.ok()) << reqBack.error().toString();
  EXPECT_EQ(reqBack.value().services[0].ocsp, OcspCheck::Require);
  EXPECT_EQ(toYaml(plain.value()).find("ocsp"), std::string::npos);
}

TEST(Parser, IdsBlock) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lbg-parser-ids-" + std::to_string(::getpid()));
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "a.rules") << "alert tcp any any -> any any (sid:1;)\n";
  const std::string policyFile = (dir / "policy.yaml").string();
  const auto parse = [&](const std::string& ids) {
    return parsePolicyText(kHead + kM365 + ids, policyFile, kToday);  // ids: from line 12
  };
  const auto errorOfIds = [&](const std::string& ids) {
    auto r = parse(ids);
    return r.ok() ? std::string("OK") : r.error().toString();
  };
  // A relative path is resolved against the policy file's directory and stored absolute.
  auto r = parse("ids:\n  rules: [rules/a.rules]\n");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_TRUE(r->ids.has_value());
  EXPECT_EQ(r->ids->rules, std::vector<std::string>{(dir / "rules" / "a.rules").string()});
  EXPECT_EQ(r->ids->mode, IdsMode::Ips);
  EXPECT_EQ(r->ids->onFault, IdsFault::Drop);
  auto back = parsePolicyText(toYaml(*r), "elsewhere/p.yaml", kToday);
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(back->ids, r->ids);
  auto m = parse("ids: {rules: [" + (dir / "rules" / "a.rules").string() +
                 "], mode: ids, on_fault: pass}\n");
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->ids->mode, IdsMode::Ids);
  EXPECT_EQ(m->ids->onFault, IdsFault::Pass);
  const std::string pf = policyFile + ":";
  EXPECT_EQ(errorOfIds("ids:\n  rules: [rules/missing.rules]\n"),
            pf + "13:11: ids.rules[0]: '" + (dir / "rules" / "missing.rules").string() +
                "' is not a readable rule file");
  EXPECT_EQ(errorOfIds("ids:\n  rules: [rules/a.rules, ./rules/a.rules]\n"),
            pf + "13:26: ids.rules[1]: duplicate rule file './rules/a.rules'");
  EXPECT_EQ(errorOfIds("ids:\n  rules: []\n"),
            pf + "13:10: ids.rules: at least one rule file is required");
  EXPECT_EQ(errorOfIds("ids:\n  mode: ips\n"), pf + "13:3: ids: missing required key 'rules'");
  EXPECT_NE(errorOfIds("ids:\n  rules: [rules/a.rules]\n  mode: block\n").find("14:9: ids.mode"),
            std::string::npos);
  EXPECT_NE(errorOfIds("ids:\n  rules: [rules/a.rules]\n  depth: 5\n").find("14:3: ids.depth: unknown key"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(Parser, ExpiryIsRelativeToToday) {
  const std::string text = kHead + kM365;  // expires 2027-03-31
  EXPECT_TRUE(parsePolicyText(text, "p", sys_days{year{2027} / 3 / 31}).ok());
  auto r = parsePolicyText(text, "p", sys_days{year{2027} / 4 / 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 9);
}

TEST(Parser, FileErrors) {
  auto r = parsePolicyFile("/nonexistent/policy.yaml", kToday);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "/nonexistent/policy.yaml");
  EXPECT_NE(r.error().message.find("cannot open"), std::string::npos);
}

TEST(Parser, FileErrorsCarryThePath) {
  const std::string path = testing::TempDir() + "/policy_parser_test.yaml";
  {
    std::ofstream out(path);
    out << kHead << kM365 << "    bogus: 1\n";
  }
  auto r = parsePolicyFile(path, kToday);
  std::remove(path.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().toString(),
            path + ":12:5: services[0].bogus: unknown key (a typo here must not be ignored)");
}

TEST(Parser, ExampleMunicipalityPolicyLoads) {
  auto r = parsePolicyFile(std::string(LBG_POLICY_EXAMPLES) + "/municipality.yaml",
                           sys_days{year{2026} / 11 / 1});
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_TRUE(r->approvalRequired);
  EXPECT_GE(r->services.size(), 4u);
  bool kinds[4] = {};
  for (const auto& s : r->services) kinds[int(s.kind)] = true;
  EXPECT_TRUE(kinds[0] && kinds[1] && kinds[2] && kinds[3]) << "every service kind is shown";
}

TEST(Parser, TenThousandServices) {
  std::string text = kHead;
  for (int i = 0; i < 10000; ++i) {
    const std::string n = std::to_string(i);
    text += "  - name: svc" + n + "\n    kind: lgwan-asp\n    fqdn: [a" + n + ".example.jp, \"*.w" +
            n + ".example.jp\"]\n    cidr: [10." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + ".0/24]\n    ports: [tcp/443]\n";
  }
  auto r = parsePolicyText(text, "big.yaml", kToday);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->services.size(), 10000u);
  EXPECT_EQ(r->services[9999].pos.line, 7 + 9999 * 5);
}

TEST(ToYaml, RoundTripsToAnEqualDocument) {
  const std::string text =
      "version: 1\napproval: required\nsegment:\n  inside: [10.0.0.0/8, 2001:db8::/32]\n"
      "defaults: {deny: drop, quic: allow, ech: block, sni_dns: off, reload: keep}\n"
      "services:\n"
      "  - name: a\n    kind: cloud\n    ismap: {id: C21-0008-2, expires: 2027-03-31}\n"
      "    fqdn: [Outlook.Office365.com., \"*.sharepoint.com\"]\n"
      "    cidr: [\"::ffff:0:0/100\", 52.96.0.0/14]\n"
      "    ports: [tcp/443, udp/3478-3481]\n    apps: [TLS, microsoft365]\n    intercept: true\n"
      "    sanitize: true\n    description: \"quote \\\" backslash \\\\ tab \\t newline \\n 日本語\"\n"
      "  - name: b\n    kind: infrastructure\n    cidr: [192.0.2.53/32]\n"
      "    ports: [udp/53, tcp/53]\n"
      "dns: {resolvers: [192.0.2.53/32]}\n";
  auto first = parsePolicyText(text, "p", kToday);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  const std::string canonical = toYaml(first.value());
  auto second = parsePolicyText(canonical, "canonical", kToday);
  ASSERT_TRUE(second.ok()) << second.error().toString() << "\n" << canonical;
  EXPECT_EQ(first.value(), second.value());
  EXPECT_EQ(toYaml(second.value()), canonical);  // canonical form is a fixed point
  EXPECT_NE(canonical.find("\"outlook.office365.com\""), std::string::npos);
  EXPECT_NE(canonical.find("\"0.0.0.0/4\""), std::string::npos);
  EXPECT_EQ(first->reload, ReloadMode::Keep);
  ASSERT_TRUE(first->dnsResolvers.has_value());
  EXPECT_EQ(first->dnsResolvers->size(), 1u);
  EXPECT_EQ(first->services[0].apps, (std::vector<std::string>{"tls", "microsoft365"}));
  EXPECT_TRUE(first->services[0].sanitize);
  EXPECT_FALSE(first->services[1].sanitize);
  EXPECT_NE(canonical.find("    sanitize: true\n"), std::string::npos);
}

// Declared protocols on ports survive the canonical form; an undeclared entry stays undeclared
// (the cloud tcp/443 default is the snapshot's reading, not written into the document).
TEST(ToYaml, RoundTripsProtocolOnPort) {
  const std::string text =
      "version: 1\nsegment:\n  inside: [10.0.0.0/8]\ndefaults: {deny: drop}\nservices:\n"
      "  - name: a\n    kind: cloud\n    ismap: {id: C21-0008-2, expires: 2027-03-31}\n"
      "    fqdn: [a.example.com]\n"
      "    ports: [tcp/443, tcp/80/http, udp/443/tls, tcp/8443-8444/any]\n";
  auto first = parsePolicyText(text, "p", kToday);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  const auto& ports = first->services[0].ports;
  ASSERT_EQ(ports.size(), 4u);
  EXPECT_EQ(ports[0].protocol, PortProtocol::Unset);
  EXPECT_EQ(ports[1].protocol, PortProtocol::Http);
  EXPECT_EQ(ports[2].protocol, PortProtocol::Tls);
  EXPECT_EQ(ports[3].protocol, PortProtocol::Any);
  const std::string canonical = toYaml(first.value());
  EXPECT_NE(canonical.find("tcp/8443-8444/any"), std::string::npos) << canonical;
  auto second = parsePolicyText(canonical, "canonical", kToday);
  ASSERT_TRUE(second.ok()) << second.error().toString() << "\n" << canonical;
  EXPECT_EQ(first.value(), second.value());
}

TEST(ToYaml, RoundTripsExampleAndEmptyServiceList) {
  auto ex = parsePolicyFile(std::string(LBG_POLICY_EXAMPLES) + "/municipality.yaml", kToday);
  ASSERT_TRUE(ex.ok());
  auto again = parsePolicyText(toYaml(ex.value()), "c", kToday);
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(ex.value(), again.value());

  PolicyDoc empty;
  empty.inside.push_back(*Prefix::parse("10.0.0.0/8"));
  auto e = parsePolicyText(toYaml(empty), "c", kToday);
  ASSERT_TRUE(e.ok()) << e.error().toString();
  EXPECT_EQ(e.value(), empty);
}

}  // namespace
}  // namespace lbg::policy
