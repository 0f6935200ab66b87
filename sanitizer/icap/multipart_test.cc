#include <gtest/gtest.h>

#include "sanitizer/icap/multipart.h"

namespace lbg::icap {
namespace {

const std::string kBody =
    "preamble is dropped\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
    "hello\r\n"
    "--XyZ  \r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.docm\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "PK\x03\x04 data\r\nwith lines\r\n"
    "--XyZ--\r\nepilogue";

TEST(Multipart, Boundary) {
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(multipartBoundary("multipart/form-data; charset=utf-8; boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(multipartBoundary("multipart/form-data; BOUNDARY=----WebKitFormBoundary7MA4YWxk"),
            "----WebKitFormBoundary7MA4YWxk");
  EXPECT_EQ(multipartBoundary("multipart/form-data"), "");
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary="), "");
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')), "");
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=\"trailing \""), "");
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=a\x01"), "");
}

TEST(Multipart, ParsesAndRebuildsCanonically) {
  std::vector<MultipartPart> parts;
  ASSERT_EQ(parseMultipart(kBody, "XyZ", 10, 10, parts), "");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "hello");
  EXPECT_FALSE(isFilePart(parts[0]));
  EXPECT_TRUE(isFilePart(parts[1]));
  EXPECT_EQ(parts[1].body, std::string("PK\x03\x04 data\r\nwith lines"));
  const auto rebuilt = serializeMultipart(parts, "XyZ");
  EXPECT_EQ(rebuilt.find("preamble"), std::string::npos);
  EXPECT_EQ(rebuilt.find("epilogue"), std::string::npos);
  std::vector<MultipartPart> again;
  ASSERT_EQ(parseMultipart(rebuilt, "XyZ", 10, 10, again), "");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].body, parts[1].body);
  EXPECT_EQ(serializeMultipart(again, "XyZ"), rebuilt);
}

TEST(Multipart, FilePartDetection) {
  MultipartPart p;
  p.headers.add("Content-Disposition", "form-data; name=\"filename\"");
  EXPECT_FALSE(isFilePart(p)) << "a field called filename is not a file";
  MultipartPart q;
  q.headers.add("Content-Disposition", "form-data; name=\"f\"; FILENAME*=UTF-8''a.docm");
  EXPECT_TRUE(isFilePart(q));
  MultipartPart e;
  e.headers.add("Content-Disposition", "form-data; name=\"f\"; filename=\"\"");
  EXPECT_TRUE(isFilePart(e));
}

TEST(Multipart, RejectsMalformedBodies) {
  const char* bad[] = {
      "no boundary at all",
      "--XyZ\r\nContent-Disposition: form-data\r\n\r\nunclosed",
      "--XyZjunk\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nBad Header\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nA: b\r\n folded\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nA: b\r\nno end of headers\r\n--XyZ--",
      "--XyZ\r\n\r\nx\r\n--XyZevil\r\n\r\ny\r\n--XyZ--",
  };
  for (const char* b : bad) {
    std::vector<MultipartPart> parts;
    EXPECT_NE(parseMultipart(b, "XyZ", 10, 10, parts), "") << b;
  }
  std::string many;
  for (int i = 0; i < 20; ++i) many += "--XyZ\r\n\r\nx\r\n";
  many += "--XyZ--";
  std::vector<MultipartPart> parts;
  EXPECT_EQ(parseMultipart(many, "XyZ", 10, 10, parts), "too many multipart parts");
}

}  // namespace
}  // namespace lbg::icap
