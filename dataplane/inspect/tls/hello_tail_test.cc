#include "dataplane/inspect/tls/hello_tail.h"

#include <gtest/gtest.h>

#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::inspect {
namespace {

using testing::Bytes;
using testing::HelloBuilder;

Bytes hello(const std::string& name, size_t recordSize = 16384) {
  HelloBuilder b;
  b.sni(name);
  return testing::stream(b, recordSize);
}

HelloTail tail(const Bytes& s) {
  TlsClientHello first{}, second{};
  EXPECT_EQ(parseClientHello({s.data(), s.size()}, first), Status::Done);
  return checkHelloTail({s.data(), s.size()}, first, second);
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(HelloTail, NothingOrCompatibilityRecordsAfterTheHelloAreClean) {
  EXPECT_EQ(tail(hello("a.example")), HelloTail::Clean);
  EXPECT_EQ(tail(hello("a.example", 50)), HelloTail::Clean);
  const Bytes ccs = {0x14, 3, 3, 0, 1, 1}, early = {0x17, 3, 3, 0, 3, 1, 2, 3};
  EXPECT_EQ(tail(cat(cat(hello("a.example"), ccs), early)), HelloTail::Clean);
  EXPECT_EQ(tail(cat(hello("a.example"), {0x17, 3, 3, 0, 9, 1})), HelloTail::Clean);  // partial
}

TEST(HelloTail, ASecondHelloMustNotNameAnotherServer) {
  TlsClientHello first{}, second{};
  const Bytes two = cat(hello("a.example"), hello("evil.example", 30));
  ASSERT_EQ(parseClientHello({two.data(), two.size()}, first), Status::Done);
  EXPECT_EQ(checkHelloTail({two.data(), two.size()}, first, second), HelloTail::OtherName);
  EXPECT_EQ(std::string(second.sni, second.sniLen), "evil.example");
  EXPECT_EQ(tail(cat(hello("a.example"), hello("A.example"))), HelloTail::Extra);
  const Bytes partial = hello("evil.example");
  EXPECT_EQ(tail(cat(hello("a.example"), Bytes(partial.begin(), partial.begin() + 3))),
            HelloTail::Extra);
  const Bytes ccs = {0x14, 3, 3, 0, 1, 1};
  EXPECT_EQ(tail(cat(cat(hello("a.example"), ccs), hello("evil.example"))), HelloTail::OtherName);
}

}  // namespace
}  // namespace lbg::inspect
