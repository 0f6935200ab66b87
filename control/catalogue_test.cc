#include <gtest/gtest.h>

#include "control/asp_csv_import.h"
#include "control/m365_import.h"

namespace lbg::control {
namespace {

// A small list in the shape Microsoft publishes at endpoints.office.com/endpoints/worldwide.
constexpr const char* kM365 = R"([
 {"id":1,"serviceArea":"Exchange","serviceAreaDisplayName":"Exchange Online",
  "urls":["outlook.office.com","outlook.office365.com"],
  "ips":["13.107.6.152/31","2603:1006::/40"],"tcpPorts":"80,443","expressRoute":true,
  "category":"Optimize","required":true},
 {"id":2,"serviceArea":"Exchange","serviceAreaDisplayName":"Exchange Online",
  "urls":["outlook.office365.com"],"udpPorts":"443","expressRoute":false,"category":"Allow","required":false},
 {"id":31,"serviceArea":"SharePoint","urls":["*.sharepoint.com"],"ips":["13.107.136.0/22"],
  "tcpPorts":"80,443","category":"Optimize","required":true},
 {"id":11,"serviceArea":"Skype","ips":["52.112.0.0/14"],"udpPorts":"3478-3481","category":"Optimize",
  "required":true,"notes":"Teams media"},
 {"id":56,"serviceArea":"Common","urls":["*.msftidentity.com","autodiscover.*.onmicrosoft.com"],
  "tcpPorts":"443","category":"Allow","required":true,"newFieldFromMicrosoft":{"x":1}},
 {"id":78,"serviceArea":"Common","urls":["*.officecdn.microsoft.com"],"category":"Default","required":false}
])";

M365Options opts() {
  M365Options o;
  o.ismapId = "C21-0008-2";
  o.ismapExpires = "2027-03-31";
  return o;
}

TEST(M365ImportTest, ImportsEverySelectedEndpointSet) {
  auto r = importM365(kM365, "endpoints.json", opts());
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->services.size(), 5u);
  const auto& ex = r->services[0];
  EXPECT_EQ(ex.name, "m365-exchange-1");
  EXPECT_EQ(ex.kind, "cloud");
  EXPECT_EQ(ex.ismapId, "C21-0008-2");
  EXPECT_EQ(ex.fqdns, (std::vector<std::string>{"outlook.office.com", "outlook.office365.com"}));
  EXPECT_EQ(ex.cidrs, (std::vector<std::string>{"13.107.6.152/31", "2603:1006::/40"}));
  EXPECT_EQ(ex.ports, (std::vector<std::string>{"tcp/80", "tcp/443"}));
  EXPECT_EQ(r->services[1].ports, (std::vector<std::string>{"udp/443"}));
  EXPECT_EQ(r->services[3].name, "m365-skype-11");
  EXPECT_EQ(r->services[3].ports, (std::vector<std::string>{"udp/3478-3481"}));
  // The mid-label wildcard is skipped, never widened; the entry without ports is skipped.
  EXPECT_EQ(r->services[4].fqdns, (std::vector<std::string>{"*.msftidentity.com"}));
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_NE(r->warnings[0].find("autodiscover.*.onmicrosoft.com"), std::string::npos);
  EXPECT_NE(r->warnings[1].find("m365-common-78: no ports"), std::string::npos);
}

TEST(M365ImportTest, SelectsAreasCategoriesAndRequired) {
  auto o = opts();
  o.areas = {"exchange", "SharePoint"};
  o.categories = {"Optimize"};
  auto r = importM365(kM365, "endpoints.json", o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->services.size(), 2u);
  EXPECT_EQ(r->services[0].name, "m365-exchange-1");
  EXPECT_EQ(r->services[1].name, "m365-sharepoint-31");
  o = opts();
  o.requiredOnly = true;
  r = importM365(kM365, "endpoints.json", o);
  ASSERT_TRUE(r.ok());
  for (const auto& s : r->services) EXPECT_NE(s.name, "m365-exchange-2");
}

TEST(M365ImportTest, WrongFormatsAreClearErrors) {
  auto syntax = importM365("[\n {\"id\": 1,\n  \"serviceArea\" \"Exchange\"}]", "e.json", opts());
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().file, "e.json");
  EXPECT_EQ(syntax.error().line, 3);
  EXPECT_EQ(syntax.error().column, 26) << "nlohmann reports the end of the unexpected token";
  EXPECT_NE(syntax.error().message.find("syntax error"), std::string::npos);

  auto notList = importM365(R"({"id":1})", "e.json", opts());
  ASSERT_FALSE(notList.ok());
  EXPECT_NE(notList.error().message.find("JSON array"), std::string::npos);

  const auto msg = [](const char* text) {
    auto r = importM365(text, "e.json", opts());
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(msg(R"([{"serviceArea":"Exchange"}])"), "[0].id: expected a positive integer");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","tcpPorts":443}])"),
            "[0].tcpPorts: expected a string like \"80,443\"");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","tcpPorts":"80,x"}])"),
            "[0].tcpPorts: bad port \"x\"");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","tcpPorts":"0"}])"),
            "[0].tcpPorts: bad port range \"0\"");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","tcpPorts":"90-80"}])"),
            "[0].tcpPorts: bad port range \"90-80\"");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","urls":"a.com"}])"),
            "[0].urls: expected a list of strings");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","ips":[1]}])"),
            "[0].ips[0]: expected a string");
  EXPECT_EQ(msg(R"([1])"), "[0]: expected an endpoint set object");
  EXPECT_EQ(msg(R"([{"id":1,"serviceArea":"Exchange","required":"yes"}])"),
            "[0].required: expected true or false");
}

TEST(AspCsvImportTest, ImportsWithQuotingAndLists) {
  const char* csv =
      "\xEF\xBB\xBFname,fqdn,cidr,ports,description\r\n"
      "jlis-portal,portal.lgwan.example.jp,,tcp/443,J-LIS portal\r\n"
      "\"e-apply\",\"a.asp.example.jp "
      "b.asp.example.jp\",\"10.20.0.0/16;10.30.0.0/16\",tcp/443;tcp/8443,"
      "\"電子申請, \"\"汎用\"\"\"\r\n"
      "\r\n";
  auto r = importAspCsv(csv, "asp.csv");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->services.size(), 2u);
  EXPECT_EQ(r->services[0].name, "jlis-portal");
  EXPECT_EQ(r->services[0].kind, "lgwan-asp");
  EXPECT_TRUE(r->services[0].cidrs.empty());
  EXPECT_EQ(r->services[0].originLine, 2);
  const auto& e = r->services[1];
  EXPECT_EQ(e.fqdns, (std::vector<std::string>{"a.asp.example.jp", "b.asp.example.jp"}));
  EXPECT_EQ(e.cidrs, (std::vector<std::string>{"10.20.0.0/16", "10.30.0.0/16"}));
  EXPECT_EQ(e.ports, (std::vector<std::string>{"tcp/443", "tcp/8443"}));
  EXPECT_EQ(e.description, "電子申請, \"汎用\"");
}

TEST(AspCsvImportTest, ColumnsInAnyOrder) {
  auto r = importAspCsv("ports,name,cidr\ntcp/443,x,10.0.0.0/8\n", "asp.csv");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->services[0].name, "x");
  EXPECT_EQ(r->services[0].cidrs[0], "10.0.0.0/8");
}

TEST(AspCsvImportTest, ErrorsPointAtTheField) {
  const auto err = [](const char* text) {
    auto r = importAspCsv(text, "asp.csv");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? Error{} : r.error();
  };
  auto e = err("name,fqdn,port\n");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.column, 11);
  EXPECT_NE(e.message.find("unknown column \"port\""), std::string::npos);
  e = err("name,fqdn\nx,a.example.jp\n");
  EXPECT_NE(e.message.find("name and ports"), std::string::npos);
  e = err("name,fqdn,ports\nx,a.example.jp,tcp/443\ny,b.example.jp\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(e.message.find("expected 3 fields, found 2"), std::string::npos);
  e = err("name,fqdn,ports\nx,\"a.example.jp,tcp/443\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 3);
  EXPECT_NE(e.message.find("unterminated"), std::string::npos);
  e = err("name,fqdn,ports\nx,a\"b,tcp/443\n");
  EXPECT_EQ(e.column, 4);
  e = err("name,fqdn,ports\nx,a.example.jp,\n");
  EXPECT_NE(e.message.find("lists no ports"), std::string::npos);
  EXPECT_EQ(e.column, 16);
  e = err("name,fqdn,ports\nx,,tcp/443\n");
  EXPECT_NE(e.message.find("needs an fqdn or a cidr"), std::string::npos);
  e = err("name,fqdn,ports\nx,a.jp,tcp/443\nx,b.jp,tcp/443\n");
  EXPECT_NE(e.message.find("duplicate service"), std::string::npos);
  EXPECT_EQ(e.line, 3);
  e = err("");
  EXPECT_NE(e.message.find("empty file"), std::string::npos);
  e = err("name,name,ports\n");
  EXPECT_NE(e.message.find("duplicate column"), std::string::npos);
}

}  // namespace
}  // namespace lbg::control
