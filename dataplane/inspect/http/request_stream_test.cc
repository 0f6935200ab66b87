#include "dataplane/inspect/http/request_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::inspect {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Walks `stream` (bytes after a judged head) cut into `cut`-byte pieces; returns where the next
// head starts (or npos), or -2 on Invalid.
long nextHead(HttpRequestStream& s, const std::string& stream, size_t cut,
              HttpBodySink* sink = nullptr) {
  size_t off = 0;
  while (off < stream.size()) {
    const size_t n = std::min(cut, stream.size() - off);
    const auto step = httpStreamAdvance(s, bytes(stream).subspan(off, n), sink);
    if (step.status == Status::Invalid) return -2;
    if (step.status == Status::Done) return long(off + step.consumed);
    EXPECT_EQ(step.consumed, n);
    off += n;
  }
  return -1;
}

HttpRequestHead head(const std::string& text) {
  HttpRequestHead h{};
  EXPECT_EQ(parseHttpRequestHead(bytes(text), h), Status::Done) << text;
  return h;
}

TEST(HttpRequestStream, ContentLengthBodyIsWalkedOverInAnySegmentation) {
  const auto h = head("POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 20\r\n\r\n");
  const std::string rest = "GET / HTTP/1.1\r\nHost:GET / HTTP/1.1\r\n";
  for (size_t cut : {1, 3, 7, 100}) {
    HttpRequestStream s{};
    HttpStreamReason why;
    ASSERT_TRUE(httpStreamStartBody(s, h, why));
    EXPECT_EQ(nextHead(s, rest, cut), 20) << cut;
  }
}

TEST(HttpRequestStream, ChunkedBodyWithExtensionsAndTrailers) {
  const auto h = head("POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string body = "5;name=v\r\nGET /\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t cut : {1, 2, 5, 200}) {
    HttpRequestStream s{};
    HttpStreamReason why;
    ASSERT_TRUE(httpStreamStartBody(s, h, why));
    EXPECT_EQ(nextHead(s, body + "\r\nGET", cut), long(body.size() + 2)) << cut;
  }
}

// What the IDS gathers as http.request_body: the body's bytes without the chunk framing.
struct Collect final : HttpBodySink {
  std::string got;
  void body(std::span<const uint8_t> piece) override {
    got.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  }
};

TEST(HttpRequestStream, SinkGetsTheBodyDechunkedInAnySegmentation) {
  const auto chunked =
      head("POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string body = "5;name=v\r\nGET /\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  const auto length = head("POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 7\r\n\r\n");
  for (size_t cut : {1, 2, 5, 200}) {
    HttpRequestStream s{};
    HttpStreamReason why;
    ASSERT_TRUE(httpStreamStartBody(s, chunked, why));
    Collect c;
    EXPECT_EQ(nextHead(s, body + "GET", cut, &c), long(body.size())) << cut;
    EXPECT_EQ(c.got, "GET /0123456789") << cut;
    HttpRequestStream t{};
    ASSERT_TRUE(httpStreamStartBody(t, length, why));
    Collect d;
    EXPECT_EQ(nextHead(t, "abc\r\ndeGET", cut, &d), 7) << cut;
    EXPECT_EQ(d.got, "abc\r\nde") << cut;
  }
}

TEST(HttpRequestStream, MalformedChunksAreInvalid) {
  const auto h = head("POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (const char* bad : {"zz\r\n", "5\nhello\r\n", "5\r\nhelloX\r\n", ";x\r\n", "5 \r\n",
                          "1234567890abc\r\n", "0\r\nX: 1\n\r\n", "3\r\nabc\r\r"}) {
    HttpRequestStream s{};
    HttpStreamReason why;
    ASSERT_TRUE(httpStreamStartBody(s, h, why));
    EXPECT_EQ(nextHead(s, bad, 1), -2) << bad;
  }
}

TEST(HttpRequestStream, EmptyLinesBetweenRequestsAreSkipped) {
  HttpRequestStream s{};
  EXPECT_EQ(nextHead(s, "\r\n\n\rGET", 1), 4);
  HttpRequestStream t{};
  EXPECT_EQ(nextHead(t, "\r\n", 1), -1);
}

TEST(HttpRequestStream, FramingThatCannotBeFollowedIsRefused) {
  struct Case {
    const char* head;
    HttpStreamReason why;
  } cases[] = {
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStreamReason::LengthAndChunked},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
       HttpStreamReason::BadContentLength},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", HttpStreamReason::BadContentLength},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", HttpStreamReason::BadContentLength},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999\r\n\r\n",
       HttpStreamReason::BadContentLength},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       HttpStreamReason::BadTransferEncoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStreamReason::BadTransferEncoding},
      {"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStreamReason::BadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", HttpStreamReason::Upgrade},
  };
  for (const auto& c : cases) {
    HttpRequestStream s{};
    HttpStreamReason why;
    EXPECT_FALSE(httpStreamStartBody(s, head(c.head), why)) << c.head;
    EXPECT_EQ(why, c.why) << c.head;
  }
  // Equal duplicates are one length (RFC 9110 §8.6); no field means no body.
  HttpRequestStream s{};
  HttpStreamReason why;
  EXPECT_TRUE(httpStreamStartBody(
      s, head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n"), why));
  EXPECT_EQ(nextHead(s, "abcGET", 2), 3);
  EXPECT_TRUE(httpStreamStartBody(s, head("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), why));
  EXPECT_EQ(nextHead(s, "GET", 2), 0);
}

}  // namespace
}  // namespace lbg::inspect
