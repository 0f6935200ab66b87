// The transparent mode's addresses (transparent_socket.h): both families, as lbg-proxy's
// --transparent, --connect-to and accepted connections give them.
#include "dataplane/proxy/transparent_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace lbg::proxy {
namespace {

TEST(SockAddr, ParsesBothFamilies) {
  SockAddr a;
  ASSERT_TRUE(parseSockAddr("192.0.2.7", 8443, a));
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.len, sizeof(sockaddr_in));
  EXPECT_EQ(a.port(), 8443);
  EXPECT_EQ(a.ipText(), "192.0.2.7");
  ASSERT_TRUE(parseSockAddr("[2001:db8::7]", 443, a));
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.len, sizeof(sockaddr_in6));
  EXPECT_EQ(a.port(), 443);
  EXPECT_EQ(a.ipText(), "2001:db8::7");
  ASSERT_TRUE(parseSockAddr("::", 0, a));
  EXPECT_EQ(a.family(), AF_INET6);
  a.setPort(9);
  EXPECT_EQ(a.port(), 9);
  for (const char* bad : {"", "example.jp", "192.0.2", "[192.0.2.7]", "[2001:db8::7", "2001:db8::7]", "1.2.3.4:5"}) {
    EXPECT_FALSE(parseSockAddr(bad, 1, a)) << bad;
  }
}

// An IPv4-mapped peer (a dual-stack socket's view of an IPv4 client) is the IPv4 address:
// logged as such, and equal to it when a name's addresses are compared with the destination.
TEST(SockAddr, MappedAddressesAreTheirIpv4Form) {
  SockAddr mapped, v4, v6;
  ASSERT_TRUE(parseSockAddr("::ffff:192.0.2.7", 443, mapped));
  ASSERT_TRUE(parseSockAddr("192.0.2.7", 80, v4));
  ASSERT_TRUE(parseSockAddr("2001:db8::7", 443, v6));
  EXPECT_EQ(mapped.ipText(), "192.0.2.7");
  EXPECT_TRUE(mapped.sameIp(v4.get()));
  EXPECT_TRUE(v4.sameIp(mapped.get()));  // ports do not count
  EXPECT_FALSE(v6.sameIp(v4.get()));
  EXPECT_FALSE(v4.sameIp(v6.get()));
  SockAddr other;
  ASSERT_TRUE(parseSockAddr("2001:db8::8", 443, other));
  EXPECT_FALSE(v6.sameIp(other.get()));
  EXPECT_TRUE(v6.sameIp(v6.get()));
}

// The IPv6 listener takes IPv6 only (the IPv4 one on the same port has its own tproxy rule), and
// an accepted connection's addresses come back whole. Needs CAP_NET_ADMIN (IPV6_TRANSPARENT).
TEST(TransparentListener, Ipv6ListenerIsV6OnlyAndAccepts) {
  SockAddr at;
  ASSERT_TRUE(parseSockAddr("::1", 0, at));
  std::string error;
  const int lfd = openTransparentListener(at, error);
  if (lfd < 0 && error.find("IP_TRANSPARENT") != std::string::npos) GTEST_SKIP() << error;
  ASSERT_GE(lfd, 0) << error;
  int v6only = 0;
  socklen_t olen = sizeof(v6only);
  ASSERT_EQ(getsockopt(lfd, SOL_IPV6, IPV6_V6ONLY, &v6only, &olen), 0);
  EXPECT_EQ(v6only, 1);
  SockAddr bound;
  ASSERT_EQ(getsockname(lfd, bound.get(), &bound.len), 0);
  ASSERT_NE(bound.port(), 0);
  const int cfd = socket(AF_INET6, SOCK_STREAM, 0);
  ASSERT_GE(cfd, 0);
  ASSERT_EQ(connect(cfd, bound.get(), bound.len), 0) << std::strerror(errno);
  SockAddr peer, local;
  int afd = -1;
  for (int i = 0; i < 1000 && afd < 0; ++i) afd = accept4(lfd, peer.get(), &peer.len, SOCK_CLOEXEC);
  ASSERT_GE(afd, 0);
  ASSERT_EQ(getsockname(afd, local.get(), &local.len), 0);
  EXPECT_EQ(peer.family(), AF_INET6);
  EXPECT_EQ(peer.ipText(), "::1");
  EXPECT_EQ(local.ipText(), "::1");
  EXPECT_EQ(local.port(), bound.port());
  close(afd);
  close(cfd);
  close(lfd);
}

}  // namespace
}  // namespace lbg::proxy
