#include "dataplane/proxy/header_rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::proxy {
namespace {

const std::vector<std::pair<std::string, std::string>> kEntra = {
    {"Restrict-Access-To-Tenants", "contoso.com"}, {"Restrict-Access-Context", "dir-1"}};

std::string rewrite(const std::string& in) {
  HttpHead head;
  EXPECT_EQ(parseRequestHead(in, head), HeadStatus::Complete) << (head.error ? head.error : "");
  std::string out;
  EXPECT_TRUE(rewriteRequestHead(head, kEntra, out));
  return out;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

TEST(HeaderRewrite, SetsTheConfiguredValuesOnce) {
  EXPECT_EQ(rewrite("GET /a HTTP/1.1\r\nHost: login.microsoftonline.com\r\nAccept: */*\r\n\r\n"),
            "GET /a HTTP/1.1\r\nHost: login.microsoftonline.com\r\nAccept: */*\r\n"
            "Restrict-Access-To-Tenants: contoso.com\r\nRestrict-Access-Context: dir-1\r\n\r\n");
}

// A head at the field limit cannot take the tenant fields: refused, never forwarded past the bound.
TEST(HeaderRewrite, RefusesAHeadThatWouldExceedTheFieldLimit) {
  std::string in = "GET / HTTP/1.1\r\nHost: h.example\r\n";
  for (size_t i = 1; i < HttpHead::kMaxFields; ++i) in += "X-" + std::to_string(i) + ": v\r\n";
  in += "\r\n";
  HttpHead head;
  ASSERT_EQ(parseRequestHead(in, head), HeadStatus::Complete);
  std::string out;
  EXPECT_FALSE(rewriteRequestHead(head, kEntra, out));
}

TEST(HeaderRewrite, RemovesEveryClientCopyInAnyCase) {
  const std::string out = rewrite(
      "POST /t HTTP/1.1\r\nrestrict-access-to-tenants: evil.com\r\nHost: h.example\r\n"
      "RESTRICT-ACCESS-TO-TENANTS: evil2.com\r\nReStRiCt-AcCeSs-CoNtExT: other\r\n"
      "Restrict-Access-To-Tenants:\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(count(out, "evil"), 0u);
  EXPECT_EQ(count(out, "other"), 0u);
  EXPECT_EQ(count(out, "Restrict-Access-To-Tenants: contoso.com\r\n"), 1u);
  EXPECT_EQ(count(out, "Restrict-Access-Context: dir-1\r\n"), 1u);
  EXPECT_EQ(count(out, "estrict"), 2u);
  EXPECT_NE(out.find("Content-Length: 0\r\n"), std::string::npos);
}

// A sanitized service's requests lose Range and If-Range (any case, every copy) and nothing else.
TEST(HeaderRewrite, DroppedFieldsAreRemovedWithoutReplacement) {
  HttpHead head;
  ASSERT_EQ(parseRequestHead("GET /f.pdf HTTP/1.1\r\nHost: files.example.jp\r\nrange: bytes=0-99\r\n"
                             "If-Range: \"etag\"\r\nRANGE: bytes=100-\r\nRanger: kept\r\n\r\n",
                             head),
            HeadStatus::Complete);
  const std::vector<std::pair<std::string, std::string>> set = {{"Accept-Encoding", "identity"}};
  const std::string drop[] = {"Range", "If-Range"};
  std::string out;
  ASSERT_TRUE(rewriteRequestHead(head, set, drop, out));
  EXPECT_EQ(out,
            "GET /f.pdf HTTP/1.1\r\nHost: files.example.jp\r\nRanger: kept\r\n"
            "Accept-Encoding: identity\r\n\r\n");
}

TEST(HeaderRewrite, FoldedCopiesAreRemovedWholeAndOthersUnfolded) {
  const std::string out = rewrite(
      "GET / HTTP/1.1\r\nHost: h.example\r\nRestrict-Access-To-Tenants: a.com,\r\n b.com\r\n"
      "X-Long: one\r\n\ttwo\r\n\r\n");
  EXPECT_EQ(count(out, "b.com"), 0u);
  EXPECT_NE(out.find("X-Long: one  \ttwo\r\n"), std::string::npos) << out;
  EXPECT_EQ(count(out, "\r\n "), 0u);
  EXPECT_EQ(count(out, "\r\n\t"), 0u);
}

TEST(HeaderRewrite, ObsTextValuesOfOtherFieldsAreKept) {
  const std::string out =
      rewrite("GET / HTTP/1.1\r\nHost: h.example\r\nX-Name: caf\xe9\r\n\r\n");
  EXPECT_NE(out.find("X-Name: caf\xe9\r\n"), std::string::npos);
}

TEST(HeaderRewrite, SimilarNamesAreNotRemoved) {
  const std::string out = rewrite(
      "GET / HTTP/1.1\r\nHost: h.example\r\nRestrict-Access-To-Tenants-X: keep\r\n"
      "X-Restrict-Access-Context: keep2\r\n\r\n");
  EXPECT_NE(out.find("Restrict-Access-To-Tenants-X: keep\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Restrict-Access-Context: keep2\r\n"), std::string::npos);
}

}  // namespace
}  // namespace lbg::proxy
