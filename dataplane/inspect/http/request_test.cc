#include "dataplane/inspect/http/request.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::inspect {
void PrintTo(HttpReason r, std::ostream* os) {
  *os << toString(r);
}
namespace {

Status parse(std::string_view s, HttpRequestHead& h) {
  return parseHttpRequestHead({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, h);
}

HttpReason invalidReason(std::string_view s) {
  HttpRequestHead h;
  EXPECT_EQ(parse(s, h), Status::Invalid) << s;
  return h.reason;
}

std::string hostOf(const HttpRequestHead& h) {
  return std::string(h.host, h.hostLen);
}

const std::string kTypical =
    "GET /owa/ HTTP/1.1\r\n"
    "Host: outlook.office365.com\r\n"
    "User-Agent: Mozilla/5.0\r\n"
    "Accept: */*\r\n"
    "\r\n";

TEST(HttpRequestHead, ParsesTypicalRequest) {
  HttpRequestHead h;
  ASSERT_EQ(parse(kTypical, h), Status::Done);
  EXPECT_EQ(std::string(h.method, h.methodLen), "GET");
  EXPECT_TRUE(h.hasHost);
  EXPECT_EQ(hostOf(h), "outlook.office365.com");
  EXPECT_EQ(h.port, 0);
  EXPECT_EQ(h.versionMinor, 1);
  EXPECT_FALSE(h.absoluteForm);
  EXPECT_EQ(h.headLength, kTypical.size());
}

TEST(HttpRequestHead, EveryPrefixNeedsMore) {
  for (size_t n = 0; n < kTypical.size(); ++n) {
    HttpRequestHead h;
    ASSERT_EQ(parse(std::string_view(kTypical).substr(0, n), h), Status::NeedMore) << n;
  }
}

TEST(HttpRequestHead, BodyAfterTheHeadIsIgnored) {
  HttpRequestHead h;
  ASSERT_EQ(parse("POST /x HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabc\r\n\n", h),
            Status::Done);
  EXPECT_EQ(hostOf(h), "a.example");
}

TEST(HttpRequestHead, HostWithPortAndCase) {
  HttpRequestHead h;
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nhOsT:   WWW.Example.JP:8080 \t\r\n\r\n", h), Status::Done);
  EXPECT_EQ(hostOf(h), "WWW.Example.JP");
  EXPECT_EQ(h.port, 8080);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n", h), Status::Done);
  EXPECT_EQ(hostOf(h), "192.0.2.1");
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", h), Status::Done);
  EXPECT_EQ(hostOf(h), "[2001:db8::1]");
  EXPECT_EQ(h.port, 443);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n", h), Status::Done);
  EXPECT_EQ(hostOf(h), "example.com.");
}

TEST(HttpRequestHead, Http10WithoutHost) {
  HttpRequestHead h;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", h), Status::Done);
  EXPECT_FALSE(h.hasHost);
  EXPECT_EQ(h.hostLen, 0);
  EXPECT_EQ(h.port, 0);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), HttpReason::MissingHost);
}

TEST(HttpRequestHead, AbsoluteForm) {
  HttpRequestHead h;
  ASSERT_EQ(parse("GET http://a.example/x?y HTTP/1.1\r\nHost: A.example\r\n\r\n", h), Status::Done);
  EXPECT_TRUE(h.absoluteForm);
  EXPECT_EQ(hostOf(h), "A.example");
  ASSERT_EQ(parse("GET http://a.example:80/ HTTP/1.1\r\nHost: a.example\r\n\r\n", h),
            Status::Done);  // default port on one side only
  EXPECT_EQ(h.port, 80);
  ASSERT_EQ(parse("GET https://a.example HTTP/1.0\r\n\r\n", h), Status::Done);
  EXPECT_TRUE(h.hasHost);
  EXPECT_EQ(hostOf(h), "a.example");
  EXPECT_EQ(invalidReason("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n"),
            HttpReason::HostMismatch);
  // Refused, naming the URI's host: the one the server uses, and the IDS's http.host.
  ASSERT_EQ(parse("GET http://A.example:8080/ HTTP/1.1\r\nHost: b.example\r\n\r\n", h), Status::Invalid);
  EXPECT_EQ(h.reason, HttpReason::HostMismatch);
  EXPECT_TRUE(h.hasHost);
  EXPECT_EQ(hostOf(h), "A.example");
  EXPECT_EQ(h.port, 8080);
  // An IP-literal longer than any address is not one (and never reaches the host field).
  const std::string longLiteral = "[" + std::string(300, 'a') + "]";
  EXPECT_EQ(invalidReason("GET http://" + longLiteral + "/ HTTP/1.0\r\n\r\n"), HttpReason::BadHost);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost: " + longLiteral + "\r\n\r\n"), HttpReason::BadHost);
  ASSERT_EQ(parse("GET http://[2001:db8::ffff:192.0.2.1]/ HTTP/1.0\r\n\r\n", h), Status::Done);
  EXPECT_EQ(hostOf(h), "[2001:db8::ffff:192.0.2.1]");
  EXPECT_EQ(invalidReason("GET http://a.example:8080/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            HttpReason::HostMismatch);
  EXPECT_EQ(invalidReason("GET http://user@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            HttpReason::BadHost);
  EXPECT_EQ(invalidReason("GET ftp://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            HttpReason::BadScheme);
  EXPECT_EQ(invalidReason("GET a.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            HttpReason::BadTarget);
}

TEST(HttpRequestHead, ConnectIsReportedEarly) {
  EXPECT_EQ(invalidReason("CONNECT "), HttpReason::Connect);
  EXPECT_EQ(invalidReason("CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"),
            HttpReason::Connect);
  EXPECT_EQ(invalidReason("connect evil.example:443 HTTP/1.1\r\n"), HttpReason::Connect);
  HttpRequestHead h;
  EXPECT_EQ(parse("CONNECT", h), Status::NeedMore);  // could still be CONNECTX
}

TEST(HttpRequestHead, MultipleHosts) {
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"),
            HttpReason::MultipleHosts);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost: a.example\r\nhost: a.example\r\n\r\n"),
            HttpReason::MultipleHosts);
  // The second Host comes last: nothing is decided before the head ends.
  HttpRequestHead h;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a.example\r\nX: y\r\n", h), Status::NeedMore);
}

TEST(HttpRequestHead, HostGarbage) {
  for (const char* bad :
       {"user@a.example", "user:pw@a.example", "a.example:", "a.example:0", "a.example:65536",
        "a.example:12x", "a example", "a%2eexample", "[v1.fe80::a]", "[]", "a.example:80:80",
        "1.2.3", "256.1.1.1", "caf\xc3\xa9.jp", "a..example"}) {
    EXPECT_EQ(invalidReason(std::string("GET / HTTP/1.1\r\nHost: ") + bad + "\r\n\r\n"),
              HttpReason::BadHost)
        << bad;
  }
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost: \r\n\r\n"), HttpReason::EmptyHost);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HttpReason::EmptyHost);
}

TEST(HttpRequestHead, ObsFold) {
  EXPECT_EQ(
      invalidReason("GET / HTTP/1.1\r\nX-A: 1\r\n Host: evil.example\r\nHost: a.example\r\n\r\n"),
      HttpReason::ObsFold);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost: a.example\r\n\tevil.example\r\n\r\n"),
            HttpReason::ObsFold);
}

TEST(HttpRequestHead, LineEndingsAndFieldSyntax) {
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\nHost: a.example\n\n"), HttpReason::BadLineEnding);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nX: a\nHost: evil.example\r\nHost: a.example\r\n\r\n"),
            HttpReason::BadLineEnding);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nX: a\rHost: b\r\n\r\n"), HttpReason::BadLineEnding);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nHost : evil.example\r\n\r\n"), HttpReason::BadHeader);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), HttpReason::BadHeader);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1\r\n: v\r\n\r\n"), HttpReason::BadHeader);
  constexpr char kNul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
  EXPECT_EQ(invalidReason(std::string_view(kNul, sizeof(kNul) - 1)), HttpReason::BadHeader);
}

TEST(HttpRequestHead, RequestLine) {
  EXPECT_EQ(invalidReason(" GET / HTTP/1.1\r\n"), HttpReason::BadMethod);
  EXPECT_EQ(invalidReason("G(T / HTTP/1.1\r\n"), HttpReason::BadMethod);
  EXPECT_EQ(invalidReason("AVERYVERYLONGMETHOD / HTTP/1.1\r\n"), HttpReason::BadMethod);
  EXPECT_EQ(invalidReason("\x16\x03\x01"), HttpReason::BadMethod);
  EXPECT_EQ(invalidReason("GET  / HTTP/1.1\r\n\r\n"), HttpReason::BadTarget);
  EXPECT_EQ(invalidReason("GET /\x01 HTTP/1.1\r\n\r\n"), HttpReason::BadTarget);
  EXPECT_EQ(invalidReason("GET /\r\n\r\n"), HttpReason::BadVersion);  // HTTP/0.9
  EXPECT_EQ(invalidReason("GET / HTTP/2.0\r\n\r\n"), HttpReason::BadVersion);
  EXPECT_EQ(invalidReason("GET / HTTP/1.1 \r\n\r\n"), HttpReason::BadVersion);
  EXPECT_EQ(invalidReason("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), HttpReason::BadVersion);
  HttpRequestHead h;
  EXPECT_EQ(parse("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n", h), Status::Done);
}

TEST(HttpRequestHead, HeadSizeLimit) {
  std::string big = "GET / HTTP/1.1\r\nHost: a.example\r\n";
  while (big.size() < kMaxHttpHeadLength) big += "X-Pad: " + std::string(100, 'p') + "\r\n";
  HttpRequestHead h;
  EXPECT_EQ(parse(big.substr(0, kMaxHttpHeadLength - 1), h), Status::NeedMore);
  EXPECT_EQ(invalidReason(big), HttpReason::TooLarge);
  // A head that ends within the limit is fine even if the stream goes on.
  std::string ok = kTypical + std::string(kMaxHttpHeadLength, 'b');
  EXPECT_EQ(parse(ok, h), Status::Done);
}

}  // namespace
}  // namespace lbg::inspect
