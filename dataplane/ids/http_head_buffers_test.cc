#include "dataplane/ids/http_head_buffers.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace lbg::ids {
namespace {

std::string text(const BufferSet& b, Buffer which) {
  const auto s = b.bytes[int(which)];
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

struct Filled {
  std::unique_ptr<HttpHeadScratch> scratch = std::make_unique<HttpHeadScratch>();
  BufferSet set;
  size_t length = 0;
};

Filled fill(const std::string& head, HttpHeadKind kind = HttpHeadKind::Request) {
  Filled f;
  f.length = fillHttpHeadBuffers(
      {reinterpret_cast<const uint8_t*>(head.data()), head.size()}, *f.scratch, f.set, kind);
  return f;
}

// A response head: Set-Cookie is http.cookie and not in http.header; Cookie and User-Agent are
// request fields; the status line fills no request buffer.
TEST(HttpHeadBuffers, ResponseHead) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Type: application/pdf\r\n"
      "set-cookie: b=2\r\nUser-Agent: x\r\nCookie: c=3\r\n\r\n%PDF";
  const Filled f = fill(head, HttpHeadKind::Response);
  EXPECT_EQ(f.length, head.size() - 4);
  EXPECT_EQ(text(f.set, Buffer::HttpCookie), "a=1, b=2");
  EXPECT_EQ(text(f.set, Buffer::HttpContentType), "application/pdf");
  EXPECT_EQ(text(f.set, Buffer::HttpHeader),
            "Content-Type: application/pdf\r\nUser-Agent: x\r\nCookie: c=3\r\n");
  EXPECT_EQ(text(f.set, Buffer::HttpHeaderNames),
            "\r\nSet-Cookie\r\nContent-Type\r\nUser-Agent\r\nCookie\r\n\r\n");
  EXPECT_EQ(f.set.bytes[int(Buffer::HttpUserAgent)].data(), nullptr);
  EXPECT_EQ(f.set.bytes[int(Buffer::HttpRequestLine)].data(), nullptr);
  EXPECT_EQ(f.set.bytes[int(Buffer::HttpMethod)].data(), nullptr);
  EXPECT_EQ(f.set.bytes[int(Buffer::HttpUri)].data(), nullptr);
  EXPECT_EQ(f.set.bytes[int(Buffer::HttpUriRaw)].data(), nullptr);
}

// A server whose head ends its lines with a bare LF (libhtp and browsers read it as CRLF) fills
// the same buffers: not a way around the to_client header rules. Mixed line ends too.
TEST(HttpHeadBuffers, BareLineFeedsEndLinesToo) {
  const std::string crlf =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Type: application/pdf\r\n\r\n%PDF";
  const std::string lf =
      "\nHTTP/1.1 200 OK\nSet-Cookie: a=1\nContent-Type: application/pdf\n\n%PDF";
  const std::string mixed =
      "HTTP/1.1 200 OK\nSet-Cookie: a=1\r\nContent-Type: application/pdf \n\r\n%PDF";
  const Filled a = fill(crlf, HttpHeadKind::Response);
  for (const std::string& head : {lf, mixed}) {
    const Filled b = fill(head, HttpHeadKind::Response);
    EXPECT_EQ(b.length, head.size() - 4) << head;
    for (Buffer which : {Buffer::HttpCookie, Buffer::HttpContentType, Buffer::HttpHeader,
                         Buffer::HttpHeaderNames})
      EXPECT_EQ(text(b.set, which), text(a.set, which)) << head;
  }
  EXPECT_EQ(fill("HTTP/1.1 200 OK\nA: b\n", HttpHeadKind::Response).length, 0u);  // no end yet
  // Only empty lines, or nothing after them: no head (and an end: the CI's fuzz target once
  // found the skip of leading empty lines looping on a lone "\n").
  for (const char* empty : {"\n", "\r\n", "\n\n\r\n", "\r\n\n", "\r", ""})
    EXPECT_EQ(fill(empty, HttpHeadKind::Response).length, 0u) << empty;
}

// The header-derived buffers as Suricata 7 builds them: http.start is the first line and every
// field (Cookie too, repeated names merged), http.header.raw the field lines as sent, the
// single fields of the head's direction only.
TEST(HttpHeadBuffers, HeaderDerivedBuffers) {
  const std::string req =
      "POST /up HTTP/1.1\r\nAccept: */*\r\nCookie: c=1\r\nAccept-Encoding: gzip\r\n"
      "Connection: keep-alive\r\nContent-Length: 3\r\naccept: text/html\r\n"
      "Location: /x\r\n\r\nabc";
  const Filled q = fill(req);
  EXPECT_EQ(text(q.set, Buffer::HttpStart),
            "POST /up HTTP/1.1\r\nAccept: */*, text/html\r\nCookie: c=1\r\n"
            "Accept-Encoding: gzip\r\nConnection: keep-alive\r\nContent-Length: 3\r\n"
            "Location: /x\r\n\r\n");
  EXPECT_EQ(text(q.set, Buffer::HttpHeaderRaw), req.substr(19, req.size() - 19 - 3));
  EXPECT_EQ(text(q.set, Buffer::HttpProtocol), "HTTP/1.1");
  EXPECT_EQ(text(q.set, Buffer::HttpAccept), "*/*, text/html");
  EXPECT_EQ(text(q.set, Buffer::HttpAcceptEnc), "gzip");
  EXPECT_EQ(text(q.set, Buffer::HttpConnection), "keep-alive");
  EXPECT_EQ(text(q.set, Buffer::HttpContentLen), "3");
  EXPECT_EQ(q.set.bytes[int(Buffer::HttpLocation)].data(), nullptr);  // a response field
  EXPECT_EQ(q.set.bytes[int(Buffer::HttpResponseLine)].data(), nullptr);

  const std::string resp =
      "HTTP/1.0 302 Found Elsewhere\r\nServer: nginx\r\nLocation: http://e.example/a\r\n"
      "Accept: x\r\nContent-Length: 0\r\n\r\n";
  const Filled r = fill(resp, HttpHeadKind::Response);
  EXPECT_EQ(text(r.set, Buffer::HttpResponseLine), "HTTP/1.0 302 Found Elsewhere");
  EXPECT_EQ(text(r.set, Buffer::HttpStatMsg), "Found Elsewhere");
  EXPECT_EQ(text(r.set, Buffer::HttpProtocol), "HTTP/1.0");
  EXPECT_EQ(text(r.set, Buffer::HttpServer), "nginx");
  EXPECT_EQ(text(r.set, Buffer::HttpLocation), "http://e.example/a");
  EXPECT_EQ(text(r.set, Buffer::HttpContentLen), "0");
  EXPECT_EQ(r.set.bytes[int(Buffer::HttpAccept)].data(), nullptr);  // a request field
  EXPECT_EQ(text(r.set, Buffer::HttpStart).substr(0, 30), "HTTP/1.0 302 Found Elsewhere\r\n");
}

// http.uri normalised into the scratch (http_uri.h), http.uri.raw as sent; CONNECT's target
// is an authority: an empty http.uri, as libhtp gives no path.
TEST(HttpHeadBuffers, UriNormalisedAndRaw) {
  const std::string get = "GET /a/..//b/%63.php HTTP/1.1\r\nHost: h\r\n\r\n";
  Filled f = fill(get);
  EXPECT_EQ(text(f.set, Buffer::HttpUri), "/b/c.php");
  EXPECT_EQ(text(f.set, Buffer::HttpUriRaw), "/a/..//b/%63.php");
  const std::string connect = "CONNECT h.example:443 HTTP/1.1\r\nHost: h.example\r\n\r\n";
  f = fill(connect);
  EXPECT_EQ(text(f.set, Buffer::HttpUri), "");
  EXPECT_NE(f.set.bytes[int(Buffer::HttpUri)].data(), nullptr);
  EXPECT_EQ(text(f.set, Buffer::HttpUriRaw), "h.example:443");
}

TEST(HttpHeadBuffers, SuricataShapes) {
  const std::string head =
      "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: a.example\r\nUser-Agent:  curl/7.88 \r\n"
      "Cookie: s=1\r\nContent-Type: text/plain\r\nReferer: http://r.example/\r\n"
      "Content-Length: 3\r\n\r\nabc";
  const Filled f = fill(head);
  EXPECT_EQ(f.length, head.size() - 3);
  EXPECT_EQ(text(f.set, Buffer::HttpRequestLine), "POST /up?x=1 HTTP/1.1");
  EXPECT_EQ(text(f.set, Buffer::HttpMethod), "POST");
  EXPECT_EQ(text(f.set, Buffer::HttpUri), "/up?x=1");
  EXPECT_EQ(text(f.set, Buffer::HttpUriRaw), "/up?x=1");
  EXPECT_EQ(text(f.set, Buffer::HttpUserAgent), "curl/7.88");  // OWS trimmed both sides
  EXPECT_EQ(text(f.set, Buffer::HttpCookie), "s=1");
  EXPECT_EQ(text(f.set, Buffer::HttpContentType), "text/plain");
  EXPECT_EQ(text(f.set, Buffer::HttpReferer), "http://r.example/");
  // Cookie is not part of http.header (Suricata), but its name is in http.header_names.
  EXPECT_EQ(text(f.set, Buffer::HttpHeader),
            "Host: a.example\r\nUser-Agent: curl/7.88\r\nContent-Type: text/plain\r\n"
            "Referer: http://r.example/\r\nContent-Length: 3\r\n");
  EXPECT_EQ(text(f.set, Buffer::HttpHeaderNames),
            "\r\nHost\r\nUser-Agent\r\nCookie\r\nContent-Type\r\nReferer\r\nContent-Length\r\n\r\n");
  EXPECT_TRUE(f.set.bytes[int(Buffer::HttpHost)].empty());  // the pipeline's judged name
}

TEST(HttpHeadBuffers, RepeatedNamesMergeIntoTheFirst) {
  const Filled f = fill(
      "GET / HTTP/1.1\r\nUser-Agent: a\r\nAccept: x\r\nuser-agent: b\r\nACCEPT: y\r\n\r\n");
  EXPECT_EQ(text(f.set, Buffer::HttpUserAgent), "a, b");
  EXPECT_EQ(text(f.set, Buffer::HttpHeader), "User-Agent: a, b\r\nAccept: x, y\r\n");
  EXPECT_EQ(text(f.set, Buffer::HttpHeaderNames), "\r\nUser-Agent\r\nAccept\r\n\r\n");
}

TEST(HttpHeadBuffers, IncompleteHeadSetsNothing) {
  const Filled f = fill("GET / HTTP/1.1\r\nUser-Agent: a\r\n");
  EXPECT_EQ(f.length, 0u);
  for (const auto& b : f.set.bytes) EXPECT_TRUE(b.empty());
}

TEST(HttpHeadBuffers, ManyNamesStillReachTheHeaderBuffer) {
  // More distinct names than are merged: the late ones keep their own lines, so a field an
  // attacker puts after many others is still in http.header and in its own buffer.
  std::string head = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < HttpHeadScratch::kMaxNames + 10; ++i)
    head += "X-" + std::to_string(i) + ": v\r\n";
  head += "User-Agent: late\r\n\r\n";
  const Filled f = fill(head);
  ASSERT_GT(f.length, 0u);
  EXPECT_NE(text(f.set, Buffer::HttpHeader).find("X-70: v\r\nX-71: v\r\n"), std::string::npos);
  EXPECT_NE(text(f.set, Buffer::HttpHeader).find("User-Agent: late\r\n"), std::string::npos);
  EXPECT_EQ(text(f.set, Buffer::HttpUserAgent), "late");
}

TEST(HttpHeadBuffers, LongestHeadFitsTheBuffers) {
  // Many one-byte fields make http.header longer than the head (": " is added to each).
  std::string head = "GET / HTTP/1.1\r\n";
  size_t lines = 0;
  for (; head.size() + 8 < HttpHeadScratch::kMaxHead; ++lines) head += "a:\r\n";
  head += "\r\n";
  const Filled f = fill(head);
  ASSERT_EQ(f.length, head.size());
  std::string merged = "a: ";
  for (size_t i = 1; i < lines; ++i) merged += ", ";
  EXPECT_EQ(text(f.set, Buffer::HttpHeader), merged + "\r\n");
}

TEST(HttpRequestLine, WhatTheIdsTakesForHttp) {
  auto line = [](std::string_view s) {
    return startsWithHttpRequestLine({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_TRUE(line("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(line("POST /up?x=1 HTTP/1.0"));  // the line's end in a later segment
  EXPECT_TRUE(line("M-SEARCH * HTTP/1.1\r\n"));
  EXPECT_FALSE(line("GET / HTTP/"));            // no version digit yet
  // A method is any token, in any case: Go's net/http serves `get` (nginx refuses it).
  EXPECT_TRUE(line("get /evil.php HTTP/1.1\r\n"));
  EXPECT_TRUE(line("Get / HTTP/1.1\r\n"));
  EXPECT_FALSE(line("HTTP/1.1 200 OK\r\n"));  // a status line: `HTTP/1.1` and no second space
  EXPECT_FALSE(line("G(T / HTTP/1.1\r\n"));    // not a token
  EXPECT_FALSE(line("GET  HTTP/1.1\r\n"));     // no target
  EXPECT_FALSE(line("GET /\r\nHTTP/1.1"));     // the target ends the line
  EXPECT_FALSE(line("SSH-2.0-OpenSSH_9.2\r\n"));
  EXPECT_FALSE(line("\x16\x03\x01\x02\x00"));
  EXPECT_FALSE(line(""));
}

// The first bytes of a stream cut anywhere: undecided until the version's digit, and a prefix's
// answer is the whole's.
TEST(HttpRequestLine, UndecidedUntilTheVersionDigit) {
  auto start = [](std::string_view s) {
    return httpRequestLineStart({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  const std::string_view get = "GET /a HTTP/1.1\r\n";
  for (size_t n = 0; n < 13; ++n)
    EXPECT_EQ(start(get.substr(0, n)), RequestLineStart::NeedMore) << n;
  for (size_t n = 13; n <= get.size(); ++n)
    EXPECT_EQ(start(get.substr(0, n)), RequestLineStart::Yes);
  const std::string_view method24 = "ABCDEFGHIJKLMNOPQRSTUVWX";
  EXPECT_EQ(start(method24), RequestLineStart::NeedMore);
  EXPECT_EQ(start(std::string(method24) + " / HTTP/1.0"), RequestLineStart::Yes);
  EXPECT_EQ(start(std::string(method24) + "Y"), RequestLineStart::No);  // 25 capitals
  EXPECT_EQ(start("get"), RequestLineStart::NeedMore);
  EXPECT_EQ(start("get\t"), RequestLineStart::No);
  EXPECT_EQ(start("GET /\r"), RequestLineStart::No);
  EXPECT_EQ(start("GET / HTTX"), RequestLineStart::No);
  EXPECT_EQ(start("GET / HTTP/x"), RequestLineStart::No);
  EXPECT_EQ(start("\x16\x03"), RequestLineStart::No);
}

}  // namespace
}  // namespace lbg::ids
