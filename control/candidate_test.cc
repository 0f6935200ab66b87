#include "control/candidate.h"

#include <gtest/gtest.h>

#include "control/diff.h"
#include "policy/parser.h"

namespace lbg::control {
namespace {

using namespace std::chrono;
constexpr sys_days kToday = 2026y / November / 23;

constexpr const char* kBase = R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults:
  deny: reset
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2027-03-31}
    fqdn: [outlook.office365.com]
    ports: [tcp/443]
  - name: dns
    kind: infrastructure
    cidr: [10.1.1.53/32]
    ports: [udp/53, tcp/53]
)";

Candidate base() {
  auto c = validateCandidate(kBase, "base.yaml", kToday);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().toString());
  return *c;
}

ServiceDraft asp() {
  ServiceDraft d;
  d.name = "jlis";
  d.kind = "lgwan-asp";
  d.cidrs = {"10.20.0.0/16"};
  d.ports = {"tcp/443"};
  return d;
}

TEST(CandidateTest, AddValidatesAndCanonicalises) {
  auto c = addService(base().yaml, asp(), kToday);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  ASSERT_EQ(c->doc.services.size(), 3u);
  EXPECT_EQ(c->doc.services[2].name, "jlis");
  // Canonical: re-validating the stored text gives the same text.
  EXPECT_EQ(validateCandidate(c->yaml, "x", kToday)->yaml, c->yaml);

  auto dup = addService(c->yaml, asp(), kToday);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("already exists"), std::string::npos);
}

TEST(CandidateTest, AddRejectsInvalidServiceWithPosition) {
  ServiceDraft d = asp();
  d.cidrs = {"10.20.0.1/16"};  // host bits set
  auto c = addService(base().yaml, d, kToday);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().file, "candidate");
  EXPECT_GT(c.error().line, 0);
  EXPECT_NE(c.error().message.find("services[2]"), std::string::npos) << c.error().toString();

  ServiceDraft cloud = asp();
  cloud.kind = "cloud";  // cloud needs an ISMAP registration
  EXPECT_FALSE(addService(base().yaml, cloud, kToday).ok());
  cloud.ismapId = "C99-0001-1";
  cloud.ismapExpires = "2025-01-01";  // expired
  auto expired = addService(base().yaml, cloud, kToday);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos)
      << expired.error().toString();
}

TEST(CandidateTest, EditListsAndFields) {
  ServiceEdit e;
  e.addFqdns = {"*.sharepoint.com"};
  e.addPorts = {"tcp/443"};  // already there: no duplicate
  auto c = editService(base().yaml, "microsoft365", e, kToday);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_EQ(c->doc.services[0].fqdns.size(), 2u);
  EXPECT_EQ(c->doc.services[0].ports.size(), 1u);
  ServiceEdit bad;
  bad.removePorts = {"tcp/53"};
  auto missing = editService(base().yaml, "microsoft365", bad, kToday);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("has no ports tcp/53"), std::string::npos);

  ServiceEdit dns;
  dns.removePorts = {"tcp/53"};
  dns.description = "resolver";
  auto d = editService(base().yaml, "dns", dns, kToday);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->doc.services[1].ports.size(), 1u);
  EXPECT_EQ(d->doc.services[1].description, "resolver");

  ServiceEdit empty;
  empty.removePorts = {"udp/53", "tcp/53"};
  EXPECT_FALSE(editService(base().yaml, "dns", empty, kToday).ok())
      << "a service without ports is invalid";
  EXPECT_FALSE(editService(base().yaml, "nope", dns, kToday).ok());
}

TEST(CandidateTest, Remove) {
  auto c = removeService(base().yaml, "dns", kToday);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->doc.services.size(), 1u);
  EXPECT_FALSE(removeService(base().yaml, "dns2", kToday).ok());
}

TEST(CandidateTest, MergeImportedReplacesByPrefix) {
  auto start = addService(base().yaml,
                          ServiceDraft{"m365-old-9",
                                       "cloud",
                                       "C21-0008-2",
                                       "2027-03-31",
                                       {"old.example.com"},
                                       {},
                                       {"tcp/443"},
                                       false,
                                       "",
                                       "",
                                       0},
                          kToday);
  ASSERT_TRUE(start.ok()) << start.error().toString();
  ImportResult imp;
  imp.services.push_back(ServiceDraft{"m365-exchange-1",
                                      "cloud",
                                      "C21-0008-2",
                                      "2027-03-31",
                                      {"outlook.office.com"},
                                      {"13.107.6.152/31"},
                                      {"tcp/443"},
                                      false,
                                      "",
                                      "",
                                      0});
  auto c = mergeImported(start->yaml, imp, "m365-", kToday);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  std::vector<std::string> names;
  for (const auto& s : c->doc.services) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"microsoft365", "dns", "m365-exchange-1"}));

  // An invalid imported service is reported at its catalogue line, nothing merged.
  ImportResult bad;
  bad.services.push_back(ServiceDraft{
      "asp-x", "lgwan-asp", "", "", {}, {"10.0.0.1/8"}, {"tcp/443"}, false, "", "asp.csv", 7});
  auto e = mergeImported(start->yaml, bad, "", kToday);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().file, "asp.csv");
  EXPECT_EQ(e.error().line, 7);
  EXPECT_NE(e.error().message.find("service asp-x: cidr"), std::string::npos)
      << e.error().toString();
}

TEST(CandidateTest, EmptyPolicyIsValid) {
  auto c = validateCandidate(emptyPolicyYaml(), "empty", kToday);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_TRUE(c->doc.services.empty());
}

TEST(DiffTest, ReportsSettingsAndServiceChanges) {
  ServiceEdit e;
  e.addFqdns = {"*.sharepoint.com"};
  e.ismapExpires = "2028-03-31";
  auto changed = editService(base().yaml, "microsoft365", e, kToday);
  ASSERT_TRUE(changed.ok());
  auto removed = removeService(changed->yaml, "dns", kToday);
  auto added = addService(removed->yaml, asp(), kToday);
  ASSERT_TRUE(added.ok());
  std::string text = added->yaml;
  text.replace(text.find("reset"), 5, "drop");
  auto next = validateCandidate(text, "next", kToday);
  ASSERT_TRUE(next.ok()) << next.error().toString();

  const PolicyDiff d = diffPolicies(base().doc, next->doc);
  ASSERT_EQ(d.settings.size(), 1u);
  EXPECT_EQ(d.settings[0].key, "defaults.deny");
  EXPECT_EQ(d.settings[0].from, "reset");
  EXPECT_EQ(d.settings[0].to, "drop");
  ASSERT_EQ(d.services.size(), 3u);
  EXPECT_EQ(d.services[0].name, "dns");
  EXPECT_EQ(d.services[0].change, "removed");
  EXPECT_EQ(d.services[1].name, "microsoft365");
  EXPECT_EQ(d.services[1].change, "changed");
  ASSERT_EQ(d.services[1].added.size(), 1u);
  EXPECT_EQ(d.services[1].added[0].second, (std::vector<std::string>{"*.sharepoint.com"}));
  ASSERT_EQ(d.services[1].fields.size(), 1u);
  EXPECT_EQ(d.services[1].fields[0].to, "C21-0008-2 until 2028-03-31");
  EXPECT_EQ(d.services[2].change, "added");
  const std::string t = d.toText();
  EXPECT_NE(t.find("~ defaults.deny: reset -> drop"), std::string::npos) << t;
  EXPECT_NE(t.find("+ service jlis"), std::string::npos) << t;
  EXPECT_NE(t.find("    + fqdn *.sharepoint.com"), std::string::npos) << t;
  EXPECT_NE(t.find("- service dns"), std::string::npos) << t;
  EXPECT_EQ(d.toJson()["services"][2]["added"]["cidr"][0], "10.20.0.0/16");

  EXPECT_TRUE(diffPolicies(base().doc, base().doc).empty());
  EXPECT_EQ(diffPolicies(base().doc, base().doc).toText(), "no changes\n");
}

TEST(CandidateTest, DiffShowsWhichResolversMayBind) {
  policy::PolicyDoc next = base().doc;
  next.dnsResolvers = std::vector<policy::Prefix>{*policy::Prefix::parse("192.0.2.53/32")};
  const PolicyDiff d = diffPolicies(base().doc, next);
  ASSERT_EQ(d.settings.size(), 1u);
  EXPECT_EQ(d.settings[0].key, "dns.resolvers");
  EXPECT_EQ(d.settings[0].from, "(infrastructure services on port 53)");
  EXPECT_EQ(d.settings[0].to, "192.0.2.53/32");
}

TEST(CandidateTest, DiffShowsTenantValuesAndPins) {
  policy::PolicyDoc next = base().doc;
  policy::ServiceSpec& s = next.services[0];
  s.intercept = true;
  s.tenant = policy::TenantSpec{"entra-v1", {{"Restrict-Access-To-Tenants", "contoso.com"},
                                             {"Restrict-Access-Context", "dir-1"}}};
  s.pins = {"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="};
  const PolicyDiff d = diffPolicies(base().doc, next);
  ASSERT_EQ(d.services.size(), 1u);
  const std::string t = d.toText();
  EXPECT_NE(t.find("entra-v1 (Restrict-Access-To-Tenants: contoso.com, Restrict-Access-Context: dir-1)"),
            std::string::npos) << t;
  EXPECT_NE(t.find("sha256//AAAA"), std::string::npos) << t;
}

TEST(CandidateTest, DiffShowsDnsQueriesAndTheCertificateRule) {
  policy::PolicyDoc next = base().doc;
  next.dnsQueries = policy::DnsQueries::Any;
  next.services[0].ocsp = policy::OcspCheck::Require;
  const PolicyDiff d = diffPolicies(base().doc, next);
  ASSERT_EQ(d.settings.size(), 1u);
  EXPECT_EQ(d.settings[0].key, "dns.queries");
  EXPECT_EQ(d.settings[0].from, "services");
  EXPECT_EQ(d.settings[0].to, "any");
  const std::string t = d.toText();
  EXPECT_NE(t.find("check: enforce, ocsp: require"), std::string::npos) << t;
}

TEST(CandidateTest, EditSetsSanitize) {
  ServiceEdit e;
  e.intercept = true;
  e.sanitize = true;
  auto c = editService(base().yaml, "microsoft365", e, kToday);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_TRUE(c->doc.services[0].sanitize);
  ServiceEdit alone;  // sanitize without interception: the parser refuses, the candidate stays
  alone.sanitize = true;
  EXPECT_FALSE(editService(base().yaml, "microsoft365", alone, kToday).ok());
  auto parsed = ServiceEdit::fromJson({{"sanitize", true}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->sanitize, std::optional<bool>(true));
  EXPECT_FALSE(ServiceEdit::fromJson({{"sanitize", "yes"}}).ok());
}

}  // namespace
}  // namespace lbg::control
