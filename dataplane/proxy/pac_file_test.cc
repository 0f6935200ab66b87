#include "dataplane/proxy/pac_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "policy/parser.h"

namespace lbg::proxy {
namespace {

std::shared_ptr<const policy::Snapshot> snapshot(const std::string& text) {
  auto doc = policy::parsePolicyText(text, "p.yaml", std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
  EXPECT_TRUE(doc.ok()) << doc.error().toString();
  auto snap = policy::Snapshot::create(std::move(doc.value()), 7);
  EXPECT_TRUE(snap.ok());
  return snap.value();
}

TEST(PacFile, ServiceNamesByProxyTheRestDirect) {
  auto snap = snapshot(
      "version: 1\nsegment: {inside: [10.0.0.0/8]}\ndefaults: {deny: reset}\nservices:\n"
      "  - name: m365\n    kind: lgwan-asp\n    fqdn: [login.microsoftonline.com, \"*.sharepoint.com\"]\n"
      "    ports: [tcp/443]\n    intercept: true\n    sanitize: true\n"
      "  - name: upd\n    kind: security-update\n    fqdn: [\"*.windowsupdate.com\", login.microsoftonline.com]\n"
      "    ports: [tcp/80, tcp/443]\n"
      "  - name: ntp\n    kind: infrastructure\n    fqdn: [ntp.example.jp]\n    ports: [udp/123]\n"
      "  - name: cidr\n    kind: infrastructure\n    cidr: [192.0.2.0/24]\n    ports: [tcp/443]\n");
  PacFile pac(*snap);
  EXPECT_EQ(pac.exactNames(), (std::vector<std::string>{"login.microsoftonline.com"}));
  EXPECT_EQ(pac.suffixes(), (std::vector<std::string>{".sharepoint.com", ".windowsupdate.com"}));
  const std::string js = pac.render("192.0.2.10:3128");
  EXPECT_NE(js.find("policy version 7"), std::string::npos);
  EXPECT_NE(js.find("var proxy = \"PROXY 192.0.2.10:3128\";"), std::string::npos);
  EXPECT_NE(js.find("{\"login.microsoftonline.com\": 1}"), std::string::npos);
  EXPECT_NE(js.find("[\".sharepoint.com\", \".windowsupdate.com\"]"), std::string::npos);
  EXPECT_EQ(js.find("ntp.example.jp"), std::string::npos);  // no TCP port: not a proxy's business
  EXPECT_NE(js.find("if (url.substring(0, 6) != \"https:\" || isPlainHostName(host)) return \"DIRECT\";"),
            std::string::npos);  // plain http and intranet names never reach the proxy
  EXPECT_EQ(js.find("PROXY 192.0.2.10:3128; DIRECT"), std::string::npos);  // no fallback
  EXPECT_EQ(js.rfind("  return \"DIRECT\";\n}\n"), js.size() - 21);
}

}  // namespace
}  // namespace lbg::proxy
