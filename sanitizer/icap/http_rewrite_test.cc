#include <gtest/gtest.h>

#include "sanitizer/icap/block_page.h"
#include "sanitizer/icap/http_rewrite.h"

namespace lbg::icap {
namespace {

TEST(Rewrite, MediaType) {
  EXPECT_EQ(mediaType("Text/CSS; charset=utf-8"), "text/css");
  EXPECT_EQ(mediaType("  application/json"), "application/json");
  EXPECT_EQ(mediaType(""), "");
}

TEST(Rewrite, DispositionFileName) {
  EXPECT_EQ(dispositionFileName("attachment; filename=\"report.docm\""), "report.docm");
  EXPECT_EQ(dispositionFileName("attachment; filename=report.docm"), "report.docm");
  EXPECT_EQ(dispositionFileName(
                "attachment; filename=\"a.docm\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.docm"),
            "\xE5\xA0\xB1\xE5\x91\x8A.docm");
  EXPECT_EQ(dispositionFileName("attachment; filename=\"q\\\"uote.txt\""), "q\"uote.txt");
  EXPECT_EQ(dispositionFileName("inline"), "");
}

TEST(Rewrite, DispositionExtension) {
  EXPECT_EQ(rewriteDispositionExtension("attachment; filename=\"report.docm\"", "docx"),
            "attachment; filename=\"report.docx\"");
  EXPECT_EQ(rewriteDispositionExtension("attachment; filename=report.docm", "docx"),
            "attachment; filename=report.docx");
  EXPECT_EQ(rewriteDispositionExtension(
                "attachment; filename=\"a.xlsm\"; filename*=UTF-8''%E5%A0%B1.xlsm", "xlsx"),
            "attachment; filename=\"a.xlsx\"; filename*=UTF-8''%E5%A0%B1.xlsx");
  EXPECT_EQ(rewriteDispositionExtension("attachment; filename=\"noext\"", "pdf"),
            "attachment; filename=\"noext.pdf\"");
  EXPECT_EQ(rewriteDispositionExtension("attachment", "pdf"), "attachment");
}

TEST(Rewrite, UrlFileName) {
  EXPECT_EQ(urlFileName("http://h/dir/file.docm?x=1#f"), "file.docm");
  EXPECT_EQ(urlFileName("/a/b%20c.pdf"), "b c.pdf");
  EXPECT_EQ(urlFileName("http://h"), "");
  EXPECT_EQ(urlFileName("http://h/"), "");
}

TEST(Rewrite, TypeTables) {
  EXPECT_EQ(contentTypeFor("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(contentTypeFor("nonsense"), "application/octet-stream");
  EXPECT_EQ(extensionFor("text"), "txt");
  EXPECT_EQ(extensionFor("nonsense"), "");
}

TEST(Rewrite, DropsRepresentationHeaders) {
  HeaderList h;
  h.add("Content-Length", "5");
  h.add("ETag", "\"x\"");
  h.add("Accept-Ranges", "bytes");
  h.add("Cache-Control", "private");
  dropRepresentationHeaders(h);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_NE(h.get("Cache-Control"), nullptr);
}

TEST(BlockPage, EscapesEverythingItShows) {
  BlockInfo info;
  info.fileName = "<script>alert(1)</script>.docm";
  info.url = "http://h/\"onload=x";
  info.reason = "encrypted";
  info.sha256 = std::string(64, 'a');
  info.contact = "helpdesk <x@example.jp>";
  const auto page = renderBlockPage(info);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("\"onload"), std::string::npos);
  EXPECT_NE(page.find(info.sha256), std::string::npos);
  EXPECT_NE(page.find("暗号化"), std::string::npos);
  EXPECT_NE(page.find("Encrypted"), std::string::npos);
  EXPECT_NE(page.find("helpdesk &lt;x@example.jp&gt;"), std::string::npos);
}

TEST(BlockPage, ReasonsHaveBothLanguages) {
  for (const char* r : {"encrypted", "parse-error", "limit:zip-ratio", "limit:icap-max-body",
                        "type-blocked:exe", "partial-content", "content-encoding:gzip", "other"}) {
    const auto t = explainReason(r);
    EXPECT_FALSE(t.ja.empty()) << r;
    EXPECT_FALSE(t.en.empty()) << r;
  }
  EXPECT_NE(explainReason("limit:zip-ratio").en, explainReason("type-blocked:exe").en);
}

}  // namespace
}  // namespace lbg::icap
