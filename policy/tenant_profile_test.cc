#include "policy/tenant_profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "policy/parser.h"

namespace lbg::policy {
namespace {

using namespace std::chrono;

constexpr sys_days kToday{year{2026} / 1 / 15};

// Line numbers in the expectations refer to this layout (the service starts on line 7).
const std::string kHead =
    "version: 1\n"              // 1
    "segment:\n"                // 2
    "  inside: [10.0.0.0/8]\n"  // 3
    "defaults:\n"               // 4
    "  deny: reset\n"           // 5
    "services:\n"               // 6
    "  - name: entra\n"         // 7
    "    kind: cloud\n"         // 8
    "    ismap: {id: C21-0008-2, expires: 2027-03-31}\n"  // 9
    "    ports: [tcp/443]\n";   // 10

const std::string kEntraHosts =
    "    fqdn: [login.microsoftonline.com, login.microsoft.com, login.windows.net]\n";  // 11

Result<PolicyDoc> parse(const std::string& text) { return parsePolicyText(text, "p.yaml", kToday); }

TEST(TenantProfile, EveryProfileFromTheReference) {
  for (const char* name : {"entra-v1", "entra-v2", "restrict-msa", "google-workspace", "dropbox",
                           "slack", "webex", "github-enterprise"}) {
    const TenantProfile* p = findTenantProfile(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_FALSE(p->headers.empty());
    EXPECT_FALSE(p->hosts.empty());
  }
  EXPECT_EQ(findTenantProfile("aws"), nullptr);  // no vendor documents one: never invented
  EXPECT_EQ(findTenantProfile("Entra-V1"), nullptr);
  const TenantProfile* slack = findTenantProfile("slack");
  ASSERT_EQ(slack->headers.size(), 2u);  // the second does nothing without the first
  // Exact login hosts only: device.login… authenticates with a client certificate.
  for (const char* h : findTenantProfile("entra-v1")->hosts) {
    EXPECT_EQ(std::string(h).find('*'), std::string::npos) << h;
  }
}

TEST(TenantProfile, HeaderValues) {
  EXPECT_TRUE(validTenantHeaderValue("contoso.com,fabrikam.com"));
  EXPECT_TRUE(validTenantHeaderValue("a b\tc"));
  EXPECT_FALSE(validTenantHeaderValue(""));
  EXPECT_FALSE(validTenantHeaderValue(" lead"));
  EXPECT_FALSE(validTenantHeaderValue("trail\t"));
  EXPECT_FALSE(validTenantHeaderValue("a\r\nX-Evil: 1"));
  EXPECT_FALSE(validTenantHeaderValue("caf\xc3\xa9"));
  EXPECT_FALSE(validTenantHeaderValue(std::string(4097, 'a')));
  EXPECT_TRUE(validTenantHeaderValue(std::string(4096, 'a')));
}

TEST(TenantPolicy, ParsesAndRoundTrips) {
  auto r = parse(kHead + kEntraHosts +
                 "    intercept: true\n"
                 "    tenant:\n"
                 "      profile: entra-v1\n"
                 "      headers:\n"
                 "        restrict-access-context: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
                 "        RESTRICT-ACCESS-TO-TENANTS: \"contoso.onmicrosoft.com,contoso.jp\"\n");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const auto& t = r.value().services[0].tenant;
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->profile, "entra-v1");
  ASSERT_EQ(t->headers.size(), 2u);
  // Stored in the profile's order and spelling, whatever the file said.
  EXPECT_EQ(t->headers[0].first, "Restrict-Access-To-Tenants");
  EXPECT_EQ(t->headers[0].second, "contoso.onmicrosoft.com,contoso.jp");
  EXPECT_EQ(t->headers[1].first, "Restrict-Access-Context");
  auto again = parse(toYaml(r.value()));
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(again.value(), r.value());
}

TEST(TenantPolicy, Pins) {
  const std::string pin = "sha256//" + std::string(42, 'A') + "A=";
  auto r = parse(kHead + kEntraHosts + "    intercept: true\n    pins: [\"" + pin + "\"]\n");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r.value().services[0].pins, std::vector<std::string>{pin});
  auto again = parse(toYaml(r.value()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), r.value());
  // Without interception the pins serve the gateway's passive certificate check.
  auto noIntercept = parse(kHead + kEntraHosts + "    pins: [\"" + pin + "\"]\n");
  ASSERT_TRUE(noIntercept.ok()) << noIntercept.error().toString();
  EXPECT_EQ(noIntercept.value().services[0].pins, std::vector<std::string>{pin});
  for (const std::string& bad : {std::string("sha256/") + std::string(43, 'A') + "=",
                                "sha256//" + std::string(44, 'A'), "sha256//" + std::string(42, 'A') + "B=",
                                "sha1//" + std::string(43, 'A') + "="}) {
    auto b = parse(kHead + kEntraHosts + "    intercept: true\n    pins: [\"" + bad + "\"]\n");
    EXPECT_FALSE(b.ok()) << bad;
  }
}

struct TenantError {
  const char* label;
  std::string text;
  std::string expected;
};

class TenantErrors : public ::testing::TestWithParam<TenantError> {};

TEST_P(TenantErrors, NamesFileLineColumn) {
  auto r = parse(GetParam().text);
  ASSERT_FALSE(r.ok()) << GetParam().label;
  EXPECT_EQ(r.error().toString(), GetParam().expected);
}

const std::string kV1Headers =
    "      headers: {Restrict-Access-To-Tenants: contoso.com, Restrict-Access-Context: abc}\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, TenantErrors,
    ::testing::Values(
        TenantError{"unknown profile",
                    kHead + kEntraHosts + "    intercept: true\n    tenant:\n      profile: aws\n" +
                        kV1Headers,
                    "p.yaml:14:16: services[0].tenant.profile: expected entra-v1 | entra-v2 | "
                    "restrict-msa | google-workspace | dropbox | slack | webex | "
                    "github-enterprise, got 'aws'"},
        TenantError{"without intercept",
                    kHead + kEntraHosts + "    tenant:\n      profile: entra-v1\n" + kV1Headers,
                    "p.yaml:13:7: services[0].tenant: a tenant profile needs intercept: true on "
                    "the service"},
        TenantError{"host missing",
                    kHead + "    fqdn: [login.microsoftonline.com, login.windows.net]\n" +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" + kV1Headers,
                    "p.yaml:14:16: services[0].tenant.profile: profile entra-v1 needs host "
                    "'login.microsoft.com', which this service's fqdn list does not contain"},
        TenantError{"header of another profile",
                    kHead + kEntraHosts +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" +
                        "      headers: {sec-Restrict-Tenant-Access-Policy: restrict-msa}\n",
                    "p.yaml:15:17: services[0].tenant.headers.sec-Restrict-Tenant-Access-Policy: "
                    "not a header of profile entra-v1"},
        TenantError{"header missing",
                    kHead + kEntraHosts +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" +
                        "      headers: {Restrict-Access-To-Tenants: contoso.com}\n",
                    "p.yaml:15:16: services[0].tenant.headers: missing header "
                    "'Restrict-Access-Context' of profile entra-v1"},
        TenantError{"duplicate in another case",
                    kHead + kEntraHosts +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" +
                        "      headers: {Restrict-Access-To-Tenants: a, restrict-access-to-tenants: "
                        "b, Restrict-Access-Context: c}\n",
                    "p.yaml:15:48: services[0].tenant.headers.restrict-access-to-tenants: "
                    "duplicate header"},
        TenantError{"line break in value",
                    kHead + kEntraHosts +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" +
                        "      headers: {Restrict-Access-To-Tenants: \"a\\r\\nX: y\", "
                        "Restrict-Access-Context: c}\n",
                    "p.yaml:15:45: services[0].tenant.headers.Restrict-Access-To-Tenants: not a "
                    "header value (1..4096 visible ASCII characters, inner spaces; no line "
                    "breaks)"},
        TenantError{"unknown key",
                    kHead + kEntraHosts +
                        "    intercept: true\n    tenant:\n      profile: entra-v1\n" + kV1Headers +
                        "      value: x\n",
                    "p.yaml:16:7: services[0].tenant.value: unknown key (a typo here must not be "
                    "ignored)"}),
    [](const auto& tc) {
      std::string n = tc.param.label;
      for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

}  // namespace
}  // namespace lbg::policy
