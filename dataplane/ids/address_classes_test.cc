#include "dataplane/ids/address_classes.h"

#include <gtest/gtest.h>

#include "policy/ids/header.h"

namespace lbg::ids {
namespace {

AddressSet parse(std::string_view text) {
  AddressSet s;
  std::string error;
  EXPECT_TRUE(parseAddressSet(text, Variables::defaults("10.0.0.0/8"), s, error)) << error;
  return s;
}

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

TEST(IdsAddressClasses, HomeAndExternal) {
  AddressClasses c({parse("$HOME_NET"), parse("$EXTERNAL_NET")});
  ASSERT_EQ(c.classCount(), 2u);
  const uint32_t inside = c.classOf(ip("10.1.2.3")), outside = c.classOf(ip("198.51.100.7"));
  EXPECT_NE(inside, outside);
  EXPECT_EQ(c.classOf(ip("10.255.255.255")), inside);
  EXPECT_EQ(c.classOf(ip("11.0.0.0")), outside);
  EXPECT_EQ(c.classOf(ip("9.255.255.255")), outside);
  EXPECT_EQ(c.classOf(ip("2001:db8::1")), outside);
  EXPECT_TRUE(c.mayMatch(inside, parse("$HOME_NET")));
  EXPECT_FALSE(c.mayMatch(inside, parse("$EXTERNAL_NET")));
  EXPECT_FALSE(c.mayMatch(outside, parse("$HOME_NET")));
  EXPECT_TRUE(c.mayMatch(outside, parse("$EXTERNAL_NET")));
  // The same set written otherwise is recognised; `any` and sets not classed may match anything.
  EXPECT_FALSE(c.mayMatch(outside, parse("[$HOME_NET,$HOME_NET]")));
  EXPECT_TRUE(c.mayMatch(inside, parse("any")));
  EXPECT_TRUE(c.mayMatch(inside, parse("[192.0.2.1]")));
}

TEST(IdsAddressClasses, OverlappingSetsGiveEveryMaskAnAddressHas) {
  // A host inside the home net, a range across its edge: an address can be in neither, one or
  // both; each combination found is a class, and each address gets the class of its own.
  AddressClasses c({parse("10.0.0.0/8"), parse("10.0.0.5"), parse("[9.0.0.0/8,!9.1.0.0/16]")});
  const uint32_t none = c.classOf(ip("8.8.8.8")), home = c.classOf(ip("10.0.0.4")),
                 host = c.classOf(ip("10.0.0.5")), nine = c.classOf(ip("9.9.9.9")),
                 hole = c.classOf(ip("9.1.2.3"));
  EXPECT_EQ(c.classCount(), 4u);
  EXPECT_EQ(hole, none);
  EXPECT_NE(home, host);
  EXPECT_NE(home, none);
  EXPECT_NE(nine, none);
  EXPECT_TRUE(c.mayMatch(host, parse("10.0.0.0/8")) && c.mayMatch(host, parse("10.0.0.5")));
  EXPECT_FALSE(c.mayMatch(home, parse("10.0.0.5")));
  EXPECT_EQ(c.classOf(ip("10.0.0.6")), home);
  EXPECT_FALSE(c.mayMatch(hole, parse("[9.0.0.0/8,!9.1.0.0/16]")));
}

}  // namespace
}  // namespace lbg::ids
