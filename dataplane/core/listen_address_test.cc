#include "dataplane/core/listen_address.h"

#include <gtest/gtest.h>

namespace lbg::dataplane {
namespace {

TEST(ListenAddress, HostPortV6AndBarePort) {
  auto a = ListenAddress::parse("127.0.0.1:9100");
  ASSERT_TRUE(a.ok()) << a.error().toString();
  EXPECT_EQ(a.value().host, "127.0.0.1");
  EXPECT_EQ(a.value().port, 9100);
  auto v6 = ListenAddress::parse("[::1]:9100");
  ASSERT_TRUE(v6.ok()) << v6.error().toString();
  EXPECT_EQ(v6.value().host, "::1");
  EXPECT_EQ(v6.value().port, 9100);
  EXPECT_EQ(v6.value().toString(), "[::1]:9100");
  auto bare = ListenAddress::parse("0");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare.value().host, "");
  EXPECT_EQ(bare.value().port, 0);
  EXPECT_EQ(ListenAddress::parse("localhost:65535").value().port, 65535);
}

TEST(ListenAddress, BadValuesAreErrorsNotExceptions) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "port must be a number"},
      {"127.0.0.1:", "port must be a number"},
      {"127.0.0.1:http", "not 'http'"},
      {"127.0.0.1:65536", "0..65535"},
      {"127.0.0.1:-1", "port must be a number"},
      {"127.0.0.1:91 00", "port must be a number"},
      {"99999999999999999999", "port must be a number"},
      {":9100", "empty host"},
      {"::1:9100", "in brackets"},
      {"[::1]9100", "expected ':PORT'"},
      {"[::1:9100", "without ']'"},
      {"[127.0.0.1]:9100", "not an IPv6 address"},
  };
  for (const auto& c : cases) {
    auto a = ListenAddress::parse(c.text);
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_NE(a.error().message.find(c.says), std::string::npos)
        << c.text << ": " << a.error().message;
  }
}

}  // namespace
}  // namespace lbg::dataplane
