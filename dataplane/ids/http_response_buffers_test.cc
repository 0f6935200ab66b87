#include "dataplane/ids/http_response_buffers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::ids {
namespace {

// Feeds `segments` in order and writes what the follower reports: "H<code>" at a head, the body
// bytes in brackets (one per Body step, pieces of one segment joined), "E" at an end, "X" when
// broken, "C" when a close ended the response.
std::string follow(HttpResponseState& s, const std::vector<std::string>& segments,
                   bool close = false) {
  std::string out;
  for (const std::string& seg : segments) {
    std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(seg.data()), seg.size());
    for (;;) {
      const HttpResponseStep st = stepHttpResponse(s, in);
      EXPECT_LE(st.used, in.size());
      in = in.subspan(st.used);
      switch (st.kind) {
        case HttpResponseStep::Kind::HeadDone:
          out += "H" + std::string(s.statusCode());
          break;
        case HttpResponseStep::Kind::Body:
          out += "[" + std::string(reinterpret_cast<const char*>(st.body.data()), st.body.size()) + "]";
          break;
        case HttpResponseStep::Kind::End:
          out += "E";
          break;
        case HttpResponseStep::Kind::Broken:
          out += "X";
          break;
        case HttpResponseStep::Kind::NeedMore:
          break;
      }
      if (st.kind == HttpResponseStep::Kind::NeedMore && in.empty()) break;
    }
  }
  if (close && closeHttpResponse(s)) out += "C";
  return out;
}

TEST(HttpResponseFollower, ContentLengthBodyInOneSegment) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"}), "H200[hello]E");
  EXPECT_EQ(s.phase, HttpResponseState::Phase::StatusLine);
}

TEST(HttpResponseFollower, HeadAndBodyAcrossSegments) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTT", "P/1.1 404 Not", " Found\r\nContent-Le", "ngth: 6\r", "\n\r\nab",
                       "cd", "ef"}),
            "H404[ab][cd][ef]E");
}

TEST(HttpResponseFollower, ChunkedDechunkedAcrossSegments) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                       "c\r\n1", "0;ext=1\r\n0123456789abcdef\r", "\n0\r\nTrailer: x\r\n\r\n"}),
            "H200[ab][c][0123456789abcdef]E");
  EXPECT_EQ(s.bodyBytes, 0u);  // reset for the next response
}

TEST(HttpResponseFollower, ChunkedWinsOverContentLength) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\ntransfer-encoding: gzip, "
                       "Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"}),
            "H200[hi]E");
}

TEST(HttpResponseFollower, PipelinedResponsesMatchRequestsInOrder) {
  HttpResponseState s;
  noteHttpRequest(s, false);
  noteHttpRequest(s, true);  // HEAD: its response has a Content-Length but no body
  noteHttpRequest(s, false);
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 200 OK\r\n"
                       "Content-Length: 9\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n"
                       "\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"}),
            "H200[ab]EH200EH304EH204EH200[z]E");
  EXPECT_EQ(s.pending, 0);
}

TEST(HttpResponseFollower, InterimResponsesAreSkipped) {
  HttpResponseState s;
  noteHttpRequest(s, true);
  EXPECT_EQ(follow(s, {"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"}),
            "H200E");  // the HEAD is answered by the final response, not the 100
  EXPECT_EQ(follow(s, {"\r\nHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nq"}), "H200[q]E");
}

TEST(HttpResponseFollower, UntilCloseEndsAtClose) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome", " more"}, true),
            "H200[some][ more]C");
  HttpResponseState t;
  EXPECT_EQ(follow(t, {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"}, true), "H200");
}

TEST(HttpResponseFollower, ZeroLengthBodyEndsAtHead) {
  HttpResponseState s;
  EXPECT_EQ(follow(s, {"HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n"}), "H301E");
}

TEST(HttpResponseFollower, MalformedIsBroken) {
  for (const char* bad : {"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY\r\n"}) {
    HttpResponseState s;
    const std::string out = follow(s, {bad, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq"});
    EXPECT_EQ(out.back(), 'X') << bad;  // and nothing is reported after it
    EXPECT_EQ(s.phase, HttpResponseState::Phase::Broken) << bad;
  }
}

TEST(HttpResponseFollower, EqualRepeatedLengthsAndLongLinesAreRead) {
  HttpResponseState s;
  const std::string longField = "X-Long: " + std::string(5000, 'a') + "\r\n";
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + longField +
                       "Content-Length: 2\r\n\r\nok"}),
            "H200[ok]E");
}

TEST(HttpResponseFollower, HeadBeyondItsBoundIsBroken) {
  HttpResponseState s;
  std::vector<std::string> segs{"HTTP/1.1 200 OK\r\n"};
  for (int i = 0; i < 70; ++i) segs.push_back("X: " + std::string(1000, 'b') + "\r\n");
  EXPECT_EQ(follow(s, segs), "X");
}

TEST(HttpResponseFollower, PendingRequestsAreBounded) {
  HttpResponseState s;
  for (int i = 0; i < 40; ++i) noteHttpRequest(s, i == 0);
  EXPECT_EQ(s.pending, HttpResponseState::kMaxPending);
  EXPECT_EQ(follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nHTTP/1.1 200 OK\r\n"
                       "Content-Length: 1\r\n\r\nq"}),
            "H200EH200[q]E");
}

// Content-Encoding: the codings in the order applied, over several fields; what cannot be
// decoded is flagged, not guessed.
TEST(HttpResponseFollower, ContentCodingsAreRead) {
  using Coding = HttpResponseState::Coding;
  const auto head = [](const std::string& fields) {
    HttpResponseState s;
    follow(s, {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n" + fields + "\r\n"});
    return s;
  };
  HttpResponseState s = head("Content-Encoding: gzip\r\n");
  ASSERT_EQ(s.contentCodings().size(), 1u);
  EXPECT_EQ(s.codings[0], Coding::Gzip);
  EXPECT_FALSE(s.codingUnsupported);
  s = head("content-encoding: identity, X-GZIP\r\nContent-Encoding:  Deflate \r\n");
  ASSERT_EQ(s.contentCodings().size(), 2u);
  EXPECT_EQ(s.codings[0], Coding::Gzip);
  EXPECT_EQ(s.codings[1], Coding::Deflate);
  EXPECT_FALSE(s.codingUnsupported);
  EXPECT_TRUE(head("Content-Encoding: br\r\n").codingUnsupported);
  EXPECT_TRUE(head("Content-Encoding: gzip, gzip, gzip\r\n").codingUnsupported);
  // A value cut at the kept line's length: the rest of the list is unknown.
  EXPECT_TRUE(head("Content-Encoding: gzip," + std::string(60, ' ') + "gzip\r\n").codingUnsupported);
  EXPECT_TRUE(head("Content-Type: text/html\r\n").contentCodings().empty());
  // The next response starts without the previous one's codings.
  s = HttpResponseState{};
  follow(s, {"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx",
             "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"});
  EXPECT_FALSE(s.codingUnsupported);
  EXPECT_TRUE(s.contentCodings().empty());
}

// A request head's Content-Encoding is read as a response's: codings in order across fields,
// identity skipped, names case-insensitive; anything else is unsupported.
TEST(RequestCodings, ReadFromTheHeadsFields) {
  auto of = [](std::string_view head) {
    return requestContentCodings({reinterpret_cast<const uint8_t*>(head.data()), head.size()});
  };
  using C = HttpResponseState::Coding;
  const RequestCodings none = of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
  EXPECT_FALSE(none.any());
  const RequestCodings two =
      of("POST /content-encoding: br HTTP/1.1\r\ncontent-ENCODING: x-gzip\r\nX: y\r\n"
         "Content-Encoding: identity, deflate\r\n\r\n");
  ASSERT_EQ(two.count, 2);
  EXPECT_EQ(two.codings[0], C::Gzip);
  EXPECT_EQ(two.codings[1], C::Deflate);
  EXPECT_FALSE(two.unsupported);
  EXPECT_TRUE(of("PUT / HTTP/1.1\r\nContent-Encoding: br\r\n\r\n").unsupported);
  EXPECT_TRUE(of("PUT / HTTP/1.1\r\nContent-Encoding: gzip,gzip,gzip\r\n\r\n").unsupported);
}

}  // namespace
}  // namespace lbg::ids
