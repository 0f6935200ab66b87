#include "sanitizer/core/type_detect.h"

#include <gtest/gtest.h>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/core/cfb.h"
#include "sanitizer/testing/independent_scan.h"

namespace lbg::sanitizer {
namespace {

std::string corpus(const std::string& rel) { return testing::readFile(std::string(LBG_CORPUS_DIR) + "/office/" + rel); }

TypeInfo detect(const std::string& bytes, const std::string& name = "") { return detectType(bytes, name, FormatLimits{}); }

// Password-protected legacy Office files say so in their streams; unprotected ones and Excel's
// default VelvetSweatshop encryption (which opens without a password) are told apart by the caller
// (the converter succeeds on the latter), so only the declaration is checked here.
TEST(Cfb, LegacyEncryptionDeclared) {
  EXPECT_TRUE(cfbLegacyEncrypted(corpus("encrypted/encrypted.doc")));
  EXPECT_TRUE(cfbLegacyEncrypted(corpus("encrypted/encrypted.xls")));
  EXPECT_TRUE(cfbLegacyEncrypted(corpus("encrypted/encrypted.ppt")));
  EXPECT_TRUE(cfbLegacyEncrypted(corpus("encrypted/dde-test-encrypt-standardpassword.xls")));
  EXPECT_FALSE(cfbLegacyEncrypted(corpus("encrypted/encrypted.docx")));
  for (const char* clear : {"msodde/harmless-clean.doc", "oleobj/embedded-simple-2007.doc", "oleobj/embedded-simple-2007.xls",
                            "oleobj/embedded-simple-2007.ppt", "excel4-macros/excel4_sample_macro.xls"}) {
    EXPECT_FALSE(cfbLegacyEncrypted(corpus(clear))) << clear;
  }
  EXPECT_FALSE(cfbLegacyEncrypted("not a compound file"));
}

TEST(TypeDetect, OfficeContainersFromContentNotName) {
  EXPECT_EQ(detect(corpus("msodde/dde-test.docm"), "innocent.pdf").type, "docm");
  EXPECT_EQ(detect(corpus("msodde/dde-test.xlsx")).type, "xlsx");
  EXPECT_EQ(detect(corpus("oleobj/embedded-simple-2007.ppsm")).type, "ppsm");
  EXPECT_EQ(detect(corpus("oleobj/embedded-simple-2007.xlsb")).type, "xlsb");
  EXPECT_EQ(detect(corpus("oleobj/embedded-simple-2007.xlam")).type, "xlam");
  EXPECT_EQ(detect(corpus("oleobj/embedded-simple-2007.odt")).type, "odf");
  EXPECT_EQ(detect(corpus("other/presentation.xps")).type, "xps");
}

TEST(TypeDetect, CompoundFiles) {
  EXPECT_EQ(detect(corpus("encrypted/encrypted.docx")).type, "encrypted-ooxml");
  EXPECT_EQ(detect(corpus("msodde/harmless-clean.doc")).type, "doc");
  EXPECT_EQ(detect(corpus("oleobj/embedded-simple-2007.xls")).type, "xls");
  EXPECT_EQ(detect(corpus("olevba/sample_with_vba.ppt")).type, "ppt");
}

TEST(TypeDetect, TextFamilies) {
  EXPECT_EQ(detect("a,b\n1,2\n", "x.csv").type, "csv");
  EXPECT_EQ(detect("just words\n", "x.txt").type, "text");
  EXPECT_EQ(detect("just words\n", "x.js").type, "script");
  EXPECT_EQ(detect("#!/usr/bin/python\n", "x.txt").type, "script");
  EXPECT_EQ(detect("<!DOCTYPE html><p>x", "x.txt").type, "html");
  EXPECT_EQ(detect("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>").type, "svg");
  EXPECT_EQ(detect(corpus("msodde/harmless-clean.xml")).type, "office-xml-2003");
  EXPECT_EQ(detect(corpus("excel4-macros/excel4_sample_macro.slk")).type, "sylk");
  EXPECT_EQ(detect(corpus("rtfobj/issue_251.rtf")).type, "rtf");
  // Invalid UTF-8 (an overlong slash) is not text.
  EXPECT_NE(detect("abc\xC0\xAF" "def").type, "text");
}

TEST(TypeDetect, BinaryMagics) {
  EXPECT_EQ(detect(std::string("\x89PNG\r\n\x1A\n", 8) + "rest").type, "png");
  EXPECT_EQ(detect("\xFF\xD8\xFF\xE0rest").type, "jpeg");
  EXPECT_EQ(detect("GIF89a....").type, "gif");
  EXPECT_EQ(detect("Rar!\x1A\x07\x01").type, "rar");
  EXPECT_EQ(detect(std::string("\x1F\x8B\x08\0", 4)).type, "gzip");
  EXPECT_EQ(detect("xx-lh5-xxxxxxxxxxxxxxxxx").type, "lzh");
  std::string vhd(1024, '\0');
  vhd.replace(512, 8, "conectix");
  EXPECT_EQ(detect(vhd).type, "vhd");
  EXPECT_EQ(detect("").type, "empty");
}

TEST(TypeDetect, Polyglots) {
  std::string zip;
  ZipWriter w;
  w.add("a.txt", "hello");
  std::string reason;
  ASSERT_TRUE(w.finish(&zip, &reason));
  std::string pdfHead = "%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
  TypeInfo pdfZip = detect(pdfHead + zip);
  EXPECT_EQ(pdfZip.type, "pdf");
  EXPECT_EQ(pdfZip.polyglot, "polyglot:zip-appended");
  TypeInfo junkPdf = detect("JUNKJUNK" + pdfHead);
  EXPECT_EQ(junkPdf.polyglot, "polyglot:pdf-header-offset");
  std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(100, '\0');
  EXPECT_EQ(detect(png + zip).polyglot, "polyglot:zip-appended");
  // A PDF header inside the first kilobyte of a ZIP (in a stored member) is a polyglot too.
  ZipWriter w2;
  w2.add("%PDF-1.4", "x");
  std::string zip2;
  ASSERT_TRUE(w2.finish(&zip2, &reason));
  EXPECT_EQ(detect(zip2).polyglot, "polyglot:pdf-in-zip");
  // A plain ZIP is not.
  EXPECT_EQ(detect(zip).polyglot, "");
  EXPECT_EQ(detect(zip).type, "zip");
}

}  // namespace
}  // namespace lbg::sanitizer
