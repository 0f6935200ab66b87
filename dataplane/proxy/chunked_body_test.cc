#include "dataplane/proxy/chunked_body.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::proxy {
namespace {

TEST(ChunkedBody, FindsTheEndWholeAndByteByByte) {
  const std::string body = "5;ext=1\r\nhello\r\n1A\r\n" + std::string(26, 'x') +
                           "\r\n0\r\nTrailer: t\r\n\r\nGET / HTTP/1.1\r\n";
  ChunkedBody c;
  size_t used = 0;
  ASSERT_EQ(c.feed(body, used), ChunkedBody::Status::Done);
  EXPECT_EQ(body.substr(used), "GET / HTTP/1.1\r\n");
  ChunkedBody d;
  size_t total = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const auto st = d.feed(body.substr(i, 1), used);
    total += used;
    if (st == ChunkedBody::Status::Done) break;
    ASSERT_EQ(st, ChunkedBody::Status::More) << i;
  }
  EXPECT_EQ(total, body.size() - 16);
}

TEST(ChunkedBody, DecodesWholeAndByteByByte) {
  const std::string body = "5;ieof\r\nhello\r\n3\r\n, w\r\n0\r\n\r\nnext";
  ChunkedBody c;
  size_t used = 0;
  std::string data;
  ASSERT_EQ(c.feed(body, used, &data), ChunkedBody::Status::Done);
  EXPECT_EQ(data, "hello, w");
  EXPECT_EQ(body.substr(used), "next");
  ChunkedBody d;
  std::string bytes;
  const size_t end = used;
  for (size_t i = 0; i < end; ++i) {
    size_t one = 0;
    ASSERT_EQ(d.feed(body.substr(i, 1), one, &bytes),
              i + 1 == end ? ChunkedBody::Status::Done : ChunkedBody::Status::More) << i;
  }
  EXPECT_EQ(bytes, "hello, w");
}

TEST(ChunkedBody, Refusals) {
  for (const char* bad : {"x\r\n", "5\nhello\r\n", "5\r\nhelloX\r\n", "1234567890abcdef0\r\n",
                          "0\r\nTrailer\n"}) {
    ChunkedBody c;
    size_t used = 0;
    EXPECT_EQ(c.feed(bad, used), ChunkedBody::Status::Invalid) << bad;
  }
}

}  // namespace
}  // namespace lbg::proxy
