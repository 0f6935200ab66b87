#include "dataplane/ids/port_classes.h"

#include <gtest/gtest.h>

#include "policy/ids/header.h"

namespace lbg::ids {
namespace {

PortSet parse(std::string_view text) {
  PortSet s;
  std::string error;
  EXPECT_TRUE(parsePortSet(text, Variables::defaults("10.0.0.0/8"), s, error)) << error;
  return s;
}

TEST(IdsPortClasses, ListedPortsAndTheRest) {
  PortClasses c({443, 80, 80});
  ASSERT_EQ(c.classCount(), 3u);
  const uint32_t http = c.classOf(80), tls = c.classOf(443), other = c.classOf(25565);
  EXPECT_NE(http, tls);
  EXPECT_EQ(other, 2u);
  EXPECT_EQ(c.classOf(0), other);
  EXPECT_EQ(c.classOf(81), other);
  EXPECT_TRUE(c.mayMatch(http, parse("any")));
  EXPECT_TRUE(c.mayMatch(http, parse("[80,8080]")));
  EXPECT_FALSE(c.mayMatch(tls, parse("[80,8080]")));
  EXPECT_TRUE(c.mayMatch(other, parse("[80,8080]")));
  EXPECT_FALSE(c.mayMatch(http, parse("25565")));
  EXPECT_TRUE(c.mayMatch(other, parse("25565")));
  // Only listed ports: no other port matches; a range over a listed port still has others.
  EXPECT_FALSE(c.mayMatch(other, parse("[80,443]")));
  EXPECT_TRUE(c.mayMatch(other, parse("79:80")));
  EXPECT_TRUE(c.mayMatch(other, parse("!80")));
  EXPECT_FALSE(c.mayMatch(http, parse("!80")));
  EXPECT_TRUE(c.mayMatch(other, parse("65535")));
  EXPECT_FALSE(c.mayMatch(other, parse("[80:80,443]")));
}

}  // namespace
}  // namespace lbg::ids
