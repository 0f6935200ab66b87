#include "dataplane/proxy/icap_client.h"

#include <gtest/gtest.h>

#include <string>

namespace lbg::proxy {
namespace {

using St = IcapResponseParser::Status;

const std::string kHttp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";

std::string answer200(const std::string& httpHead, const std::string& chunks) {
  return "ICAP/1.0 200 OK\r\nISTag: \"lbg-1\"\r\nEncapsulated: res-hdr=0, res-body=" +
         std::to_string(httpHead.size()) + "\r\n\r\n" + httpHead + chunks;
}

TEST(IcapUri, ParsesAndRefuses) {
  auto s = parseIcapUri("icap://127.0.0.1:1344/sanitize");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->host, "127.0.0.1");
  EXPECT_EQ(s->port, 1344);
  EXPECT_EQ(s->path, "/sanitize");
  EXPECT_EQ(s->uri(), "icap://127.0.0.1:1344/sanitize");
  for (const char* bad : {"127.0.0.1:1344/sanitize", "icap://127.0.0.1/sanitize",
                          "icap://icapd.local:1344/sanitize", "icap://127.0.0.1:0/s",
                          "icap://127.0.0.1:70000/s", "icap://127.0.0.1:1344",
                          "icap://127.0.0.1:1344/a b", "icap://127.0.0.1:13x4/s"}) {
    EXPECT_FALSE(parseIcapUri(bad)) << bad;
  }
}

TEST(IcapEncode, RespmodWithOffsetsAndOneChunk) {
  const IcapService svc = *parseIcapUri("icap://127.0.0.1:1344/sanitize");
  const std::string out = encodeRespmod(
      svc, {"GET", "https://files.example.jp/a.docx", "files.example.jp", kHttp, "hello", "10.0.0.5"});
  const std::string req = "GET https://files.example.jp/a.docx HTTP/1.1\r\nHost: files.example.jp\r\n\r\n";
  const std::string head = "RESPMOD icap://127.0.0.1:1344/sanitize ICAP/1.0\r\nHost: 127.0.0.1:1344\r\n"
                           "Allow: 204\r\nX-Client-IP: 10.0.0.5\r\nEncapsulated: req-hdr=0, res-hdr=" +
                           std::to_string(req.size()) + ", res-body=" +
                           std::to_string(req.size() + kHttp.size()) + "\r\n\r\n";
  EXPECT_EQ(out, head + req + kHttp + "5\r\nhello\r\n0\r\n\r\n");
  // An empty body is the last chunk alone; sizes are hex.
  const std::string big(300, 'x');
  EXPECT_NE(encodeRespmod(svc, {"GET", "u", "h", kHttp, big, ""}).find("\r\n12c\r\n" + big + "\r\n0\r\n\r\n"),
            std::string::npos);
  const std::string empty = encodeRespmod(svc, {"GET", "u", "h", kHttp, "", ""});
  EXPECT_EQ(empty.substr(empty.size() - 5 - kHttp.size()), kHttp + "0\r\n\r\n");
  EXPECT_EQ(empty.find("X-Client-IP"), std::string::npos);
}

TEST(IcapParse, TwoHundredWholeAndByteByByte) {
  const std::string head = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n"
                           "X-LBG-Sanitizer: blocked; reason=type-blocked:exe\r\nContent-Length: 11\r\n\r\n";
  const std::string msg = answer200(head, "6;ieof\r\nblock \r\n5\r\npage!\r\n0\r\n\r\n");
  IcapResponseParser whole(1 << 20);
  ASSERT_EQ(whole.feed(msg), St::Done) << whole.error();
  EXPECT_EQ(whole.status(), 200);
  EXPECT_EQ(whole.httpHead(), head);
  EXPECT_EQ(whole.body(), "block page!");
  IcapResponseParser bytes(1 << 20);
  for (size_t i = 0; i + 1 < msg.size(); ++i) ASSERT_EQ(bytes.feed(msg.substr(i, 1)), St::More) << i;
  ASSERT_EQ(bytes.feed(msg.substr(msg.size() - 1)), St::Done);
  EXPECT_EQ(bytes.body(), "block page!");
  EXPECT_EQ(bytes.httpHead(), head);
}

TEST(IcapParse, NoContentAndNullBody) {
  IcapResponseParser a(100);
  EXPECT_EQ(a.feed("ICAP/1.0 204 No Content\r\nISTag: \"x\"\r\nEncapsulated: null-body=0\r\n\r\n"), St::Done);
  EXPECT_TRUE(a.unchanged());
  IcapResponseParser b(100);
  EXPECT_EQ(b.feed("ICAP/1.0 204\r\n\r\n"), St::Done);
  IcapResponseParser c(100);
  const std::string head = "HTTP/1.1 204 No Content\r\n\r\n";
  EXPECT_EQ(c.feed("ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, null-body=" +
                   std::to_string(head.size()) + "\r\n\r\n" + head),
            St::Done);
  EXPECT_EQ(c.httpHead(), head);
  EXPECT_TRUE(c.body().empty());
}

TEST(IcapParse, Refusals) {
  const std::string chunks = "5\r\nhello\r\n0\r\n\r\n";
  struct Case {
    const char* what;
    std::string msg;
  };
  const Case cases[] = {
      {"not ICAP", "HTTP/1.1 200 OK\r\n\r\n"},
      {"version", "ICAP/1.1 200 OK\r\nEncapsulated: res-hdr=0, null-body=1\r\n\r\n"},
      {"status digits", "ICAP/1.0 2x0 OK\r\n\r\n"},
      {"server error", "ICAP/1.0 500 Server Error\r\nEncapsulated: null-body=0\r\n\r\n"},
      {"unavailable", "ICAP/1.0 503 Service Unavailable\r\n\r\n"},
      {"100 without preview", "ICAP/1.0 100 Continue\r\n\r\n"},
      {"bare LF", "ICAP/1.0 204 No Content\nISTag: x\r\n\r\n"},
      {"folding", "ICAP/1.0 204 No Content\r\nISTag: x\r\n folded\r\n\r\n"},
      {"space before colon", "ICAP/1.0 204 No Content\r\nISTag : x\r\n\r\n"},
      {"204 with a body", "ICAP/1.0 204 No Content\r\nEncapsulated: res-hdr=0, res-body=10\r\n\r\n"},
      {"bytes after 204", "ICAP/1.0 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"},
      {"200 without Encapsulated", "ICAP/1.0 200 OK\r\n\r\n" + kHttp + chunks},
      {"Encapsulated twice", "ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=" +
                                 std::to_string(kHttp.size()) + "\r\nEncapsulated: res-hdr=0, res-body=" +
                                 std::to_string(kHttp.size()) + "\r\n\r\n" + kHttp + chunks},
      {"req-hdr in a response", "ICAP/1.0 200 OK\r\nEncapsulated: req-hdr=0, res-body=10\r\n\r\n"},
      {"res-body only", "ICAP/1.0 200 OK\r\nEncapsulated: res-body=0\r\n\r\n" + chunks},
      {"offset short", "ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=" +
                           std::to_string(kHttp.size() - 2) + "\r\n\r\n" + kHttp + chunks},
      {"offset long", "ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=" +
                          std::to_string(kHttp.size() + 5) + "\r\n\r\n" + kHttp + chunks},
      {"offset huge", "ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=99999999999\r\n\r\n"},
      {"offset sign", "ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=-1\r\n\r\n"},
      {"not an HTTP head", answer200("garbage\r\nX: y\r\n\r\n", chunks)},
      {"bad chunk", answer200(kHttp, "5\r\nhelloXX\r\n0\r\n\r\n")},
      {"chunk size", answer200(kHttp, "zz\r\n")},
      {"bytes after the last chunk", answer200(kHttp, chunks + "junk")},
  };
  for (const Case& c : cases) {
    IcapResponseParser p(1 << 20);
    EXPECT_EQ(p.feed(c.msg), St::Invalid) << c.what;
    EXPECT_NE(p.error(), nullptr) << c.what;
    EXPECT_EQ(p.feed("more"), St::Invalid) << c.what;
  }
  IcapResponseParser status(100);
  EXPECT_EQ(status.feed("ICAP/1.0 503 Busy\r\n\r\n"), St::Invalid);
  EXPECT_EQ(status.status(), 503);
}

TEST(IcapParse, Bounds) {
  // The decoded body is bounded.
  IcapResponseParser small(4);
  EXPECT_EQ(small.feed(answer200(kHttp, "5\r\nhello\r\n0\r\n\r\n")), St::Invalid);
  EXPECT_STREQ(small.error(), "adapted body larger than the limit");
  // So is the ICAP head, even without an end.
  IcapResponseParser head(100);
  std::string big = "ICAP/1.0 200 OK\r\n";
  while (big.size() < IcapResponseParser::kMaxHead) big += "X-Pad: " + std::string(100, 'a') + "\r\n";
  EXPECT_EQ(head.feed(big), St::Invalid);
  // And the number of fields.
  IcapResponseParser fields(100);
  std::string many = "ICAP/1.0 204 No Content\r\n";
  for (size_t i = 0; i <= IcapResponseParser::kMaxFields; ++i) many += "X-F: 1\r\n";
  EXPECT_EQ(fields.feed(many + "\r\n"), St::Invalid);
  // A connection closed early is an incomplete answer.
  IcapResponseParser early(100);
  EXPECT_EQ(early.feed(answer200(kHttp, "5\r\nhel")), St::More);
  EXPECT_EQ(early.finish(), St::Invalid);
  IcapResponseParser none(100);
  EXPECT_EQ(none.finish(), St::Invalid);
}

TEST(Reframe, LengthReplacesFraming) {
  std::string out;
  ASSERT_TRUE(reframeResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b c\r\n\r\n",
                              "abc", out));
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-A: b c\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_FALSE(reframeResponse("HTTP/1.1 200 OK\r\nX-A: b\r\n folded\r\n\r\n", "", out));
  ASSERT_TRUE(reframeResponse("HTTP/1.0 403 Forbidden\r\nContent-Length: 99\r\n\r\n", "", out));
  EXPECT_EQ(out, "HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(reframeResponse("nonsense\r\n\r\n", "", out));
}

}  // namespace
}  // namespace lbg::proxy
