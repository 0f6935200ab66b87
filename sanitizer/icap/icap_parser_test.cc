#include <gtest/gtest.h>

#include <string>

#include "sanitizer/icap/chunked.h"
#include "sanitizer/icap/header_list.h"
#include "sanitizer/icap/http_head.h"
#include "sanitizer/icap/icap_request.h"

namespace lbg::icap {
namespace {

// RFC 3507 section 4.8.3's RESPMOD example (offsets recomputed for CRLF line ends).
const std::string kReqHdr =
    "GET /origin-resource HTTP/1.1\r\nHost: www.origin-server.com\r\n"
    "Accept: text/html, text/plain, image/gif\r\nAccept-Encoding: gzip, compress\r\n\r\n";
const std::string kResHdr =
    "HTTP/1.1 200 OK\r\nDate: Mon, 10 Jan 2000 09:52:22 GMT\r\nServer: Apache/1.3.6 (Unix)\r\n"
    "ETag: \"63840-1ab7-378d415b\"\r\nContent-Type: text/html\r\nContent-Length: 51\r\n\r\n";

std::string respmodHead(const std::string& extra = "") {
  return "RESPMOD icap://icap.example.org/satisf ICAP/1.0\r\nHost: icap.example.org\r\n" + extra +
         "Encapsulated: req-hdr=0, res-hdr=" + std::to_string(kReqHdr.size()) +
         ", res-body=" + std::to_string(kReqHdr.size() + kResHdr.size()) + "\r\n\r\n";
}

TEST(HeaderList, CaseInsensitiveLookupKeepsOrderAndSpelling) {
  HeaderList h;
  h.add("Content-Type", "text/html");
  h.add("X-A", "1");
  h.add("x-a", "2");
  ASSERT_NE(h.get("content-type"), nullptr);
  EXPECT_EQ(*h.get("CONTENT-TYPE"), "text/html");
  EXPECT_EQ(h.count("X-A"), 2u);
  h.set("x-A", "3");
  EXPECT_EQ(h.count("X-A"), 1u);
  EXPECT_EQ(*h.get("X-A"), "3");
  std::string out;
  h.serialize(out);
  EXPECT_EQ(out, "Content-Type: text/html\r\nX-A: 3\r\n");
  EXPECT_EQ(h.remove("x-a"), 1u);
  EXPECT_EQ(h.get("X-A"), nullptr);
}

TEST(HeaderList, ListElements) {
  HeaderList h;
  h.add("Allow", "206, 204");
  h.add("Connection", "keep-alive");
  EXPECT_TRUE(h.hasListElement("allow", "204"));
  EXPECT_FALSE(h.hasListElement("allow", "20"));
  EXPECT_FALSE(h.hasListElement("connection", "close"));
}

TEST(HeaderLines, RejectsAmbiguousForms) {
  const char* bad[] = {
      "A: b\r\n folded\r\n\r\n",  // obs-fold
      "A : b\r\n\r\n",            // space before colon
      "A: b\nC: d\r\n\r\n",       // bare LF
      "A: b\rc\r\n\r\n",          // bare CR
      "NoColon\r\n\r\n",
      "A: b\x01\r\n\r\n",   // control character
      "A: b\r\n",           // unterminated
      "A: b\r\n\r\nextra",  // bytes after the block
  };
  for (const char* b : bad) {
    HeaderList h;
    EXPECT_FALSE(parseHeaderLines(b, 10, h).empty()) << b;
  }
  HeaderList h;
  EXPECT_EQ(parseHeaderLines("A: b\r\nC:\r\n\r\n", 10, h), "");
  EXPECT_EQ(*h.get("C"), "");
  HeaderList many;
  EXPECT_EQ(parseHeaderLines("A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 2, many), "too many header fields");
}

TEST(HttpHead, ParsesRequestAndResponse) {
  HttpRequestHead req;
  ASSERT_EQ(parseHttpRequestHead(kReqHdr, 100, req), "");
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/origin-resource");
  EXPECT_EQ(req.url(), "http://www.origin-server.com/origin-resource");
  EXPECT_EQ(req.serialize(), kReqHdr);

  HttpResponseHead res;
  ASSERT_EQ(parseHttpResponseHead(kResHdr, 100, res), "");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.reason, "OK");
  EXPECT_EQ(*res.headers.get("content-length"), "51");
  EXPECT_EQ(res.serialize(), kResHdr);

  HttpResponseHead noReason;
  EXPECT_EQ(parseHttpResponseHead("HTTP/1.1 204\r\n\r\n", 100, noReason), "");
  EXPECT_EQ(noReason.status, 204);
}

TEST(HttpHead, SectionMustEndExactlyAtItsOffset) {
  HttpRequestHead req;
  // Ends early: a second message hides in the section.
  EXPECT_NE(parseHttpRequestHead("GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n", 100, req), "");
  HttpRequestHead req2;
  EXPECT_NE(parseHttpRequestHead("GET / HTTP/1.1\r\nHost: a\r\n", 100, req2), "");
  HttpResponseHead res;
  EXPECT_NE(parseHttpResponseHead("HTTP/1.1 2000 OK\r\n\r\n", 100, res), "");
  HttpResponseHead res2;
  EXPECT_NE(parseHttpResponseHead("HTTP/1.1 099 X\r\n\r\n", 100, res2), "");
  HttpRequestHead req3;
  EXPECT_NE(parseHttpRequestHead("GET  / HTTP/1.1\r\n\r\n", 100, req3), "");
  HttpRequestHead req4;
  EXPECT_NE(parseHttpRequestHead("GET / HTTP/11\r\n\r\n", 100, req4), "");
}

TEST(Encapsulated, AcceptsTheGrammarOfEachMethod) {
  Encapsulated e;
  EXPECT_EQ(parseEncapsulated("req-hdr=0, res-hdr=137, res-body=296", Method::Respmod, 1000, e),
            "");
  ASSERT_EQ(e.entries.size(), 3u);
  EXPECT_EQ(e.headerBytes(), 296u);
  EXPECT_TRUE(e.hasBody());
  EXPECT_EQ(e.offsetOf(Part::ResHdr), 137u);
  EXPECT_EQ(parseEncapsulated("res-hdr=0,res-body=10", Method::Respmod, 1000, e), "");
  EXPECT_EQ(parseEncapsulated("req-hdr=0, null-body=170", Method::Reqmod, 1000, e), "");
  EXPECT_FALSE(e.hasBody());
  EXPECT_EQ(parseEncapsulated("req-body=0", Method::Reqmod, 1000, e), "");
  EXPECT_EQ(parseEncapsulated("null-body=0", Method::Options, 1000, e), "");
  EXPECT_EQ(parseEncapsulated("opt-body=0", Method::Options, 1000, e), "");
}

TEST(Encapsulated, RejectsMalformedValues) {
  const std::pair<const char*, Method> bad[] = {
      {"", Method::Respmod},
      {"res-hdr=0", Method::Respmod},                             // no body entry
      {"res-hdr=0, res-body=0", Method::Respmod},                 // not increasing
      {"res-hdr=10, res-body=20", Method::Respmod},               // first not 0
      {"res-hdr=0, res-body=20, null-body=30", Method::Respmod},  // body not last
      {"res-hdr=0, req-hdr=5, res-body=20", Method::Respmod},     // order
      {"res-hdr=0, res-hdr=5, res-body=20", Method::Respmod},     // repeated
      {"req-hdr=0, req-body=5", Method::Respmod},                 // wrong body for method
      {"req-hdr=0, res-hdr=5, res-body=9", Method::Reqmod},       // res-hdr in REQMOD
      {"res-hdr=0, res-body=-5", Method::Respmod},
      {"res-hdr=0, res-body=+5", Method::Respmod},
      {"res-hdr=0, res-body=0x10", Method::Respmod},
      {"res-hdr=0, res-body=99999999999999999999", Method::Respmod},
      {"res-hdr=0, res-body=2000", Method::Respmod},  // over the limit
      {"res-hdr=0, res-body=", Method::Respmod},
      {"res-hdr=0; res-body=5", Method::Respmod},
      {"foo=0, res-body=5", Method::Respmod},
      {"req-hdr=0, null-body=5", Method::Options},
  };
  for (const auto& [value, method] : bad) {
    Encapsulated e;
    EXPECT_NE(parseEncapsulated(value, method, 1000, e), "") << value;
  }
}

TEST(IcapHead, ParsesRfcExample) {
  const auto msg = respmodHead("Preview: 1024\r\nAllow: 204\r\n") + kReqHdr + kResHdr;
  IcapRequestHead head;
  const auto r = parseIcapHead(msg, Limits{}, head);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error.message;
  EXPECT_EQ(r.consumed, respmodHead("Preview: 1024\r\nAllow: 204\r\n").size());
  EXPECT_EQ(head.method, Method::Respmod);
  EXPECT_EQ(head.service, "satisf");
  ASSERT_TRUE(head.preview.has_value());
  EXPECT_EQ(*head.preview, 1024u);
  EXPECT_TRUE(head.allow204);
  EXPECT_FALSE(head.connectionClose);

  EncapsulatedHeads heads;
  ASSERT_EQ(parseEncapsulatedHeads(
                std::string_view(msg).substr(r.consumed, head.encapsulated.headerBytes()),
                head.encapsulated, Limits{}, heads),
            "");
  ASSERT_TRUE(heads.request && heads.response);
  EXPECT_EQ(heads.request->target, "/origin-resource");
  EXPECT_EQ(heads.response->status, 200);
}

TEST(IcapHead, NeedsMoreUntilTheEmptyLine) {
  const auto msg = respmodHead();
  for (size_t n = 0; n < msg.size(); ++n) {
    IcapRequestHead head;
    EXPECT_EQ(parseIcapHead(msg.substr(0, n), Limits{}, head).status, ParseStatus::NeedMore) << n;
  }
}

TEST(IcapHead, ErrorsCarryTheRightStatus) {
  struct Case {
    std::string msg;
    Status status;
  };
  const std::string host = "Host: x\r\n";
  const Case cases[] = {
      {"FOO icap://x/s ICAP/1.0\r\n" + host + "\r\n", Status::NotImplemented},
      {"OPTIONS icap://x/s ICAP/2.0\r\n" + host + "\r\n", Status::VersionNotSupported},
      {"OPTIONS icap://x/s HTTP/1.1\r\n" + host + "\r\n", Status::BadRequest},
      {"OPTIONS http://x/s ICAP/1.0\r\n" + host + "\r\n", Status::BadRequest},
      {"OPTIONS icap:///s ICAP/1.0\r\n" + host + "\r\n", Status::BadRequest},
      {"OPTIONS  icap://x/s ICAP/1.0\r\n" + host + "\r\n", Status::BadRequest},
      {"OPTIONS icap://x/s ICAP/1.0\r\n\r\n", Status::BadRequest},  // no Host
      {"OPTIONS icap://x/s ICAP/1.0\r\n" + host + host + "\r\n", Status::BadRequest},
      {"RESPMOD icap://x/s ICAP/1.0\r\n" + host + "\r\n", Status::BadRequest},  // no Encapsulated
      {"RESPMOD icap://x/s ICAP/1.0\r\n" + host + "Encapsulated: res-hdr=0\r\n\r\n",
       Status::BadRequest},
      {"RESPMOD icap://x/s ICAP/1.0\r\n" + host +
           "Encapsulated: res-hdr=0, res-body=5\r\nEncapsulated: res-hdr=0, res-body=9\r\n\r\n",
       Status::BadRequest},
      {"RESPMOD icap://x/s ICAP/1.0\r\n" + host +
           "Encapsulated: res-hdr=0, res-body=5\r\nPreview: x\r\n\r\n",
       Status::BadRequest},
      {"RESPMOD icap://x/s ICAP/1.0\r\n" + host + " folded\r\n\r\n", Status::BadRequest},
  };
  for (const auto& c : cases) {
    IcapRequestHead head;
    const auto r = parseIcapHead(c.msg, Limits{}, head);
    EXPECT_EQ(r.status, ParseStatus::Error) << c.msg;
    EXPECT_EQ(r.error.status, c.status) << c.msg << " -> " << r.error.message;
  }
}

TEST(IcapHead, OversizeHeadIsRefused) {
  Limits limits;
  limits.maxIcapHeadBytes = 256;
  std::string msg = "OPTIONS icap://x/s ICAP/1.0\r\nHost: x\r\nX-Pad: " + std::string(300, 'a');
  IcapRequestHead head;
  const auto r = parseIcapHead(msg, limits, head);
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, Status::BadRequest);
}

TEST(IcapHead, OptionsWithoutEncapsulatedHasNoBody) {
  IcapRequestHead head;
  const auto r = parseIcapHead(
      "OPTIONS icap://127.0.0.1:1344/sanitize?x=1 ICAP/1.0\r\nHost: a\r\n\r\n", Limits{}, head);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(head.service, "sanitize");
  EXPECT_FALSE(head.encapsulated.hasBody());
  EXPECT_EQ(head.encapsulated.headerBytes(), 0u);
}

std::string decodeAll(const std::string& wire, size_t piece, ChunkedDecoder& d,
                      ChunkedDecoder::Status& last, size_t& consumed) {
  std::string out;
  consumed = 0;
  last = ChunkedDecoder::Status::NeedMore;
  for (size_t pos = 0; pos < wire.size() && last == ChunkedDecoder::Status::NeedMore;) {
    const auto n = std::min(piece, wire.size() - pos);
    const auto step = d.feed(std::string_view(wire).substr(pos, n), out);
    consumed += step.consumed;
    last = step.status;
    pos += n;
  }
  return out;
}

TEST(Chunked, DecodesInAnySplitAndStopsAtTheEnd) {
  const std::string wire =
      "5\r\nhello\r\n1a; name=value; q=\"a;b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0; ieof\r\n\r\n";
  const std::string next = "OPTIONS icap://x/s ICAP/1.0\r\n";
  for (size_t piece = 1; piece <= wire.size() + next.size(); ++piece) {
    ChunkedDecoder d{Limits{}};
    ChunkedDecoder::Status st;
    size_t consumed;
    const auto out = decodeAll(wire + next, piece, d, st, consumed);
    ASSERT_EQ(st, ChunkedDecoder::Status::Done) << piece;
    EXPECT_EQ(out, "helloabcdefghijklmnopqrstuvwxyz");
    EXPECT_TRUE(d.ieof());
    EXPECT_EQ(consumed, wire.size()) << "must not eat the next request, piece " << piece;
  }
}

TEST(Chunked, PreviewThenRestart) {
  ChunkedDecoder d{Limits{}};
  std::string out;
  auto s = d.feed("4\r\nabcd\r\n0\r\n\r\n", out);
  ASSERT_EQ(s.status, ChunkedDecoder::Status::Done);
  EXPECT_FALSE(d.ieof());
  d.restart();
  s = d.feed("2\r\nef\r\n0\r\n\r\n", out);
  ASSERT_EQ(s.status, ChunkedDecoder::Status::Done);
  EXPECT_EQ(out, "abcdef");
}

TEST(Chunked, TrailersAreBoundedAndDropped) {
  ChunkedDecoder d{Limits{}};
  std::string out;
  auto s = d.feed("1\r\na\r\n0\r\nX-T: 1\r\n\r\n", out);
  EXPECT_EQ(s.status, ChunkedDecoder::Status::Done);
  EXPECT_EQ(out, "a");
  Limits small;
  small.maxTrailerBytes = 16;
  ChunkedDecoder d2{small};
  std::string out2;
  s = d2.feed("0\r\nX-T: " + std::string(100, 'a') + "\r\n\r\n", out2);
  EXPECT_EQ(s.status, ChunkedDecoder::Status::Error);
}

TEST(Chunked, RejectsMalformedFraming) {
  const char* bad[] = {
      "x\r\n",                  // not hex
      "\r\n",                   // no size
      "5\r\nhelloX\r\n",        // data longer than size
      "5\nhello\r\n",           // bare LF
      "1; ieof\r\na\r\n",       // ieof on a data chunk
      "0; ieof=1\r\n\r\n",      // ieof with a value
      "0;\r\n\r\n",             // empty extension
      "5 x\r\nhello\r\n",       // junk after size
      "1234567890abcdef0\r\n",  // too many digits
      "0; a=\"unterminated\r\n\r\n",
      "0\r\nnot a trailer\r\n\r\n",
  };
  for (const char* b : bad) {
    ChunkedDecoder d{Limits{}};
    std::string out;
    EXPECT_EQ(d.feed(b, out).status, ChunkedDecoder::Status::Error) << b;
  }
  Limits small;
  small.maxChunkLineBytes = 8;
  ChunkedDecoder d{small};
  std::string out;
  EXPECT_EQ(d.feed("1;" + std::string(50, 'a') + "\r\n", out).status,
            ChunkedDecoder::Status::Error);
}

TEST(Chunked, EncoderRoundTrips) {
  std::string data(200000, 'z');
  data[12345] = '\0';
  std::string wire;
  appendChunked(wire, data, true, 4096);
  ChunkedDecoder d{Limits{}};
  std::string out;
  const auto s = d.feed(wire, out);
  EXPECT_EQ(s.status, ChunkedDecoder::Status::Done);
  EXPECT_EQ(s.consumed, wire.size());
  EXPECT_EQ(out, data);
  std::string empty;
  appendChunked(empty, "", true);
  EXPECT_EQ(empty, "0\r\n\r\n");
}

}  // namespace
}  // namespace lbg::icap
