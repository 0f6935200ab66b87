#include "policy/ids/header.h"

#include <gtest/gtest.h>

namespace lbg::ids {
namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

TEST(IdsHeader, HomeAndExternalNet) {
  auto vars = Variables::defaults("[192.168.10.0/24,2001:db8::/32]");
  AddressSet home, ext;
  std::string why;
  ASSERT_TRUE(parseAddressSet("$HOME_NET", vars, home, why)) << why;
  ASSERT_TRUE(parseAddressSet("$EXTERNAL_NET", vars, ext, why)) << why;
  EXPECT_TRUE(home.matches(ip("192.168.10.7")));
  EXPECT_TRUE(home.matches(ip("2001:db8::1")));
  EXPECT_FALSE(home.matches(ip("192.168.11.7")));
  EXPECT_FALSE(ext.matches(ip("192.168.10.7")));
  EXPECT_TRUE(ext.matches(ip("8.8.8.8")));
}

TEST(IdsHeader, ListsAndNestedNegation) {
  auto vars = Variables::defaults();
  AddressSet a;
  std::string why;
  ASSERT_TRUE(parseAddressSet("[10.0.0.0/8,![10.1.0.0/16,10.2.0.1]]", vars, a, why)) << why;
  EXPECT_TRUE(a.matches(ip("10.3.0.1")));
  EXPECT_FALSE(a.matches(ip("10.1.2.3")));
  EXPECT_FALSE(a.matches(ip("10.2.0.1")));
  EXPECT_FALSE(a.matches(ip("11.0.0.1")));
  ASSERT_TRUE(parseAddressSet("any", vars, a, why));
  EXPECT_TRUE(a.matches(ip("1.2.3.4")));
}

TEST(IdsHeader, AddressErrors) {
  auto vars = Variables::defaults();
  AddressSet a;
  std::string why;
  EXPECT_FALSE(parseAddressSet("$NOPE", vars, a, why));
  EXPECT_EQ(why, "unknown variable $NOPE");
  EXPECT_FALSE(parseAddressSet("[1.2.3.4", vars, a, why));
  EXPECT_FALSE(parseAddressSet("1.2.3.4/33", vars, a, why));
  EXPECT_FALSE(parseAddressSet("!any", vars, a, why));
  EXPECT_FALSE(parseAddressSet("host.example", vars, a, why));
  vars.addresses["LOOP"] = "$LOOP";
  EXPECT_FALSE(parseAddressSet("$LOOP", vars, a, why));
  EXPECT_EQ(why, "variables nest too deep");
}

TEST(IdsHeader, PortsRangesNegationVariables) {
  auto vars = Variables::defaults();
  PortSet p;
  std::string why;
  ASSERT_TRUE(parsePortSet("[1024:,!8080]", vars, p, why)) << why;
  EXPECT_TRUE(p.matches(1024));
  EXPECT_TRUE(p.matches(65535));
  EXPECT_FALSE(p.matches(8080));
  EXPECT_FALSE(p.matches(80));
  ASSERT_TRUE(parsePortSet(":1023", vars, p, why));
  EXPECT_TRUE(p.matches(0));
  EXPECT_FALSE(p.matches(1024));
  ASSERT_TRUE(parsePortSet("$FILE_DATA_PORTS", vars, p, why)) << why;
  EXPECT_TRUE(p.matches(80));
  EXPECT_TRUE(p.matches(143));
  EXPECT_FALSE(p.matches(443));
  ASSERT_TRUE(parsePortSet("$SHELLCODE_PORTS", vars, p, why));
  EXPECT_FALSE(p.matches(80));
  EXPECT_TRUE(p.matches(81));
  EXPECT_FALSE(parsePortSet("70000", vars, p, why));
  EXPECT_FALSE(parsePortSet("90:80", vars, p, why));
}

}  // namespace
}  // namespace lbg::ids
