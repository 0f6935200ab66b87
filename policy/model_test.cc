#include "policy/model.h"

#include <gtest/gtest.h>

namespace lbg::policy {
namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

TEST(Prefix, ParsesV4IntoMappedSpace) {
  const auto p = Prefix::parse("10.0.0.0/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 104);
  EXPECT_TRUE(p->isV4());
  EXPECT_EQ(p->toString(), "10.0.0.0/8");
  EXPECT_TRUE(p->contains(ip("10.255.1.2")));
  EXPECT_FALSE(p->contains(ip("11.0.0.1")));
  EXPECT_FALSE(p->contains(ip("::a00:1")));  // v4-compatible, not v4-mapped: not the same address
}

TEST(Prefix, ParsesV6) {
  const auto p = Prefix::parse("2001:DB8::/32");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 32);
  EXPECT_FALSE(p->isV4());
  EXPECT_EQ(p->toString(), "2001:db8::/32");
  EXPECT_TRUE(p->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(p->contains(ip("2001:db9::1")));
}

TEST(Prefix, V4MappedWrittenAsV6KeepsV6Length) {
  const auto p = Prefix::parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 104);
  EXPECT_EQ(*p, *Prefix::parse("10.0.0.0/8"));
  EXPECT_TRUE(p->contains(ip("10.1.2.3")));
  const auto q = Prefix::parse("::ffff:10.0.0.0/64");
  ASSERT_TRUE(q);
  EXPECT_EQ(Prefix::parse(q->toString()), q);  // prints in v6 form, not as a v4 /-32
}

TEST(Prefix, NonByteAlignedLengths) {
  const auto p = Prefix::parse("192.168.4.0/22");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(ip("192.168.7.255")));
  EXPECT_FALSE(p->contains(ip("192.168.8.0")));
  EXPECT_FALSE(p->contains(ip("192.168.3.255")));
  const auto h = Prefix::parse("2001:db8::1/128");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->contains(ip("2001:db8::1")));
  EXPECT_FALSE(h->contains(ip("2001:db8::2")));
}

TEST(Prefix, HostBits) {
  EXPECT_TRUE(Prefix::parse("10.0.0.0/8")->hostBitsClear());
  EXPECT_FALSE(Prefix::parse("10.0.0.1/8")->hostBitsClear());
  EXPECT_FALSE(Prefix::parse("192.168.5.0/22")->hostBitsClear());
  EXPECT_TRUE(Prefix::parse("1.2.3.4/32")->hostBitsClear());
  EXPECT_FALSE(Prefix::parse("2001:db8::1/64")->hostBitsClear());
}

TEST(Prefix, RejectsMalformed) {
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0/33", "2001:db8::/129",
                          "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/-1", "10.0.0/8", "010.0.0.0/8",
                          "10.0.0.0/8/8", "10.0.0.0 /8", "example.com/8", "10.0.0.0/1000"}) {
    EXPECT_FALSE(Prefix::parse(bad)) << bad;
  }
}

TEST(PortRange, ToStringAndContains) {
  EXPECT_EQ(toString(PortRange{L4::Tcp, 443, 443}), "tcp/443");
  EXPECT_EQ(toString(PortRange{L4::Udp, 3478, 3481}), "udp/3478-3481");
  const PortRange r{L4::Udp, 3478, 3481};
  EXPECT_TRUE(r.contains(L4::Udp, 3478));
  EXPECT_TRUE(r.contains(L4::Udp, 3481));
  EXPECT_FALSE(r.contains(L4::Udp, 3482));
  EXPECT_FALSE(r.contains(L4::Tcp, 3480));
}

TEST(EnumNames, MatchYamlSpellings) {
  EXPECT_STREQ(toString(DenyAction::Reset), "reset");
  EXPECT_STREQ(toString(SniDnsMode::Enforce), "enforce");
  EXPECT_STREQ(toString(ServiceKind::LgwanAsp), "lgwan-asp");
  EXPECT_STREQ(toString(ServiceKind::SecurityUpdate), "security-update");
  EXPECT_STREQ(toString(L4::Udp), "udp");
}

}  // namespace
}  // namespace lbg::policy
