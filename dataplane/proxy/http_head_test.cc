#include "dataplane/proxy/http_head.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/proxy/connect_target.h"

namespace lbg::proxy {
namespace {

HeadStatus req(const std::string& in, HttpHead& h) { return parseRequestHead(in, h); }

TEST(HttpHead, RequestFraming) {
  HttpHead h;
  // The views point into the input: it must outlive the head.
  const std::string in =
      "POST /u HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\nbody";
  ASSERT_EQ(req(in, h), HeadStatus::Complete);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/u");
  EXPECT_EQ(h.body, BodyKind::Chunked);
  EXPECT_TRUE(h.expectContinue);
  EXPECT_FALSE(h.connectionClose);
  EXPECT_EQ(h.headBytes, in.size() - 4);
  ASSERT_EQ(req("GET / HTTP/1.0\r\n\r\n", h), HeadStatus::Complete);
  EXPECT_TRUE(h.connectionClose);
  ASSERT_EQ(req("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", h),
            HeadStatus::Complete);
  EXPECT_EQ(h.body, BodyKind::Length);
  EXPECT_EQ(h.contentLength, 5u);
}

TEST(HttpHead, Incomplete) {
  HttpHead h;
  EXPECT_EQ(req("GET / HTTP/1.1\r\nHost: a\r\n", h), HeadStatus::Incomplete);
  EXPECT_EQ(req("GET / HTTP/1.1\r\nHost: a\r\n\r", h), HeadStatus::Incomplete);
  EXPECT_EQ(req("", h), HeadStatus::Incomplete);
}

TEST(HttpHead, StrictRefusals) {
  const char* bad[] = {
      "GET / HTTP/1.1\nHost: a\n\n",                                        // bare LF
      "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",                            // bare CR
      "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",                                 // two spaces
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",                                  // version
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",                                 // space before colon
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                       // two hosts
      "GET / HTTP/1.1\r\n\r\n",                                             // no host
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n",
      "GET / HTTP/1.1\r\n Host: a\r\n\r\n",                                // fold first
      "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  for (const char* b : bad) {
    HttpHead h;
    EXPECT_EQ(req(b, h), HeadStatus::Invalid) << b;
    EXPECT_NE(h.error, nullptr);
  }
}

TEST(HttpHead, TooLargeAndTooManyFields) {
  HttpHead h;
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(HttpHead::kMaxBytes, 'a');
  EXPECT_EQ(req(big, h), HeadStatus::Invalid);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 0; i < HttpHead::kMaxFields; ++i) many += "X: 1\r\n";
  EXPECT_EQ(req(many + "\r\n", h), HeadStatus::Invalid);
  EXPECT_STREQ(h.error, "too many header fields");
}

TEST(HttpHead, Responses) {
  HttpHead h;
  ASSERT_EQ(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "GET", h),
            HeadStatus::Complete);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, BodyKind::Length);
  ASSERT_EQ(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD", h),
            HeadStatus::Complete);
  EXPECT_EQ(h.body, BodyKind::None);
  ASSERT_EQ(parseResponseHead("HTTP/1.1 100 Continue\r\n\r\n", "POST", h), HeadStatus::Complete);
  EXPECT_EQ(h.status, 100);
  ASSERT_EQ(parseResponseHead("HTTP/1.1 200\r\n\r\n", "GET", h), HeadStatus::Complete);
  EXPECT_EQ(h.body, BodyKind::UntilClose);
  EXPECT_EQ(parseResponseHead("HTTP/1.1 20 OK\r\n\r\n", "GET", h), HeadStatus::Invalid);
  EXPECT_EQ(parseResponseHead("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "GET", h),
            HeadStatus::Invalid);
}

TEST(ConnectTarget, AuthorityForm) {
  auto t = parseConnectTarget("Login.MicrosoftOnline.com.:443");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "login.microsoftonline.com");
  EXPECT_EQ(t->port, 443);
  for (const char* bad : {"login.microsoftonline.com", ":443", "a.example:0", "a.example:65536",
                          "a.example:0443", "a.example:44x", "127.0.0.1:443", "[::1]:443",
                          "a,b.example:443", "a.example,evil.example:443", "*.example.com:443",
                          "a b.example:443", "-a.example:443", "localhost:443"}) {
    EXPECT_FALSE(parseConnectTarget(bad)) << bad;
  }
}

TEST(ConnectTarget, ServerNames) {
  EXPECT_TRUE(validServerName("login.microsoftonline.com"));
  EXPECT_TRUE(validServerName("_dmarc.example.jp"));
  EXPECT_FALSE(validServerName("login.microsoftonline.com,evil.com"));
  EXPECT_FALSE(validServerName(std::string("a\0b.com", 7)));
  EXPECT_FALSE(validServerName("a..com"));
  EXPECT_FALSE(validServerName(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(validServerName("1.2.3.4"));
}

}  // namespace
}  // namespace lbg::proxy
