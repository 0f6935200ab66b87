#include "sanitizer/pdf/pdf_sanitizer.h"

#include <gtest/gtest.h>
// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <vector>

#include <jpeglib.h>

#include "sanitizer/core/engine.h"
#include "sanitizer/render/poppler_check.h"
#include "sanitizer/testing/independent_scan.h"

namespace lbg::sanitizer {
namespace {

using Mutator = std::function<void(QPDF&, QPDFObjectHandle root, QPDFObjectHandle page)>;

// A one-page PDF saying "Hello LGWAN", written by qpdf, with whatever `mutate` adds.
std::string makePdf(const Mutator& mutate, const char* userPassword = nullptr) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
      "<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
      "/BaseFont /Helvetica >> >> >> >>"));
  page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\n"));
  pdf.addPage(page, false);
  QPDFObjectHandle root = pdf.getRoot();
  if (mutate) mutate(pdf, root, pdf.getAllPages().at(0));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setCompressStreams(false);
  if (userPassword != nullptr) {
    writer.setR6EncryptionParameters(userPassword, "owner", true, true, true, true, true, true, qpdf_r3p_full, true);
  }
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
}

QPDFObjectHandle obj(QPDF& pdf, const std::string& text) {
  return pdf.makeIndirectObject(QPDFObjectHandle::parse(&pdf, text));
}

std::unique_ptr<Engine> engine() {
  auto created = Engine::create(EngineConfig{});
  return created.ok() ? std::move(created).value() : nullptr;
}

struct ActiveCase {
  const char* name;
  Mutator add;
};

std::vector<ActiveCase> activeCases() {
  return {
      {"open-action-javascript",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
         root.replaceKey("/OpenAction", obj(pdf, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"));
       }},
      {"names-javascript",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
         QPDFObjectHandle js = obj(pdf, "<< /S /JavaScript /JS (this.exportDataObject\\(\\)) >>");
         QPDFObjectHandle tree = QPDFObjectHandle::newDictionary();
         tree.replaceKey("/Names", QPDFObjectHandle::newArray({QPDFObjectHandle::newString("x"), js}));
         QPDFObjectHandle names = QPDFObjectHandle::newDictionary();
         names.replaceKey("/JavaScript", tree);
         root.replaceKey("/Names", names);
       }},
      {"page-additional-actions",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/AA", QPDFObjectHandle::parse(&pdf, "<< /O << /S /JavaScript /JS (x) >> >>"));
       }},
      {"launch-link",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({obj(pdf,
             "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /Launch /F (cmd.exe) >> >>")}));
       }},
      {"submit-form-and-xfa",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         QPDFObjectHandle widget = obj(pdf,
             "<< /Type /Annot /Subtype /Widget /FT /Btn /T (b) /Rect [0 0 10 10] /A << /S /SubmitForm /F (http://evil/) >> >>");
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({widget}));
         QPDFObjectHandle form = QPDFObjectHandle::newDictionary();
         form.replaceKey("/Fields", QPDFObjectHandle::newArray({widget}));
         form.replaceKey("/XFA", QPDFObjectHandle::newStream(&pdf, "<xdp:xdp><script>x</script></xdp:xdp>"));
         root.replaceKey("/AcroForm", form);
       }},
      {"file-attachment-annotation",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle file = QPDFObjectHandle::newStream(&pdf, "MZ payload");
         file.getDict().replaceKey("/Type", QPDFObjectHandle::newName("/EmbeddedFile"));
         QPDFObjectHandle spec = QPDFObjectHandle::parse(&pdf, "<< /Type /Filespec /F (a.exe) >>");
         spec.replaceKey("/EF", QPDFObjectHandle::parse("<< >>"));
         spec.getKey("/EF").replaceKey("/F", file);
         QPDFObjectHandle annot = obj(pdf, "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] >>");
         annot.replaceKey("/FS", spec);
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({annot}));
       }},
      {"embedded-files-and-af",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
         QPDFObjectHandle file = QPDFObjectHandle::newStream(&pdf, "MZ payload");
         QPDFObjectHandle spec = QPDFObjectHandle::parse(&pdf, "<< /Type /Filespec /F (a.exe) /EF << >> >>");
         spec.getKey("/EF").replaceKey("/F", file);
         spec = pdf.makeIndirectObject(spec);
         QPDFObjectHandle tree = QPDFObjectHandle::newDictionary();
         tree.replaceKey("/Names", QPDFObjectHandle::newArray({QPDFObjectHandle::newString("a.exe"), spec}));
         QPDFObjectHandle names = QPDFObjectHandle::newDictionary();
         names.replaceKey("/EmbeddedFiles", tree);
         root.replaceKey("/Names", names);
         root.replaceKey("/AF", QPDFObjectHandle::newArray({spec}));
       }},
      {"remote-goto-importdata-rendition",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /GoToR /F (\\\\\\\\host\\\\share\\\\x.pdf) /D [0 /Fit] >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /ImportData /F (x.fdf) >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /Rendition /OP 0 >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /GoToE /D [0 /Fit] >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /URI /URI (http://evil/) >> >>"),
         }));
       }},
      {"multimedia-annotations",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({
             obj(pdf, "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] /RichMediaContent << >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Movie /Rect [0 0 1 1] >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Sound /Rect [0 0 1 1] >>"),
             obj(pdf, "<< /Type /Annot /Subtype /3D /Rect [0 0 1 1] >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Screen /Rect [0 0 1 1] /A << /S /Rendition >> >>"),
         }));
       }},
      {"chained-next-action",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         root.replaceKey("/OpenAction", QPDFObjectHandle::parse(&pdf,
             "<< /S /GoTo /D [0 /Fit] /Next << /S /JavaScript /JS (x) >> >>"));
       }},
  };
}

TEST(PdfSanitizer, EveryActiveConstructIsRemovedAndTextStays) {
  auto e = engine();
  for (const auto& c : activeCases()) {
    std::string input = makePdf(c.add);
    ASSERT_FALSE(testing::scanPdf(input).empty()) << c.name << ": the test PDF must contain the construct";
    Outcome out = e->sanitize(input, std::string(c.name) + ".pdf", Mode::Rebuild);
    ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << c.name << ": " << out.report.reason;
    EXPECT_FALSE(out.report.removed.empty()) << c.name;
    std::vector<std::string> findings = testing::scanPdf(out.output);
    EXPECT_TRUE(findings.empty()) << c.name << ": " << findings.front();
    EXPECT_NE(out.output.find("(Hello LGWAN) Tj"), std::string::npos) << c.name;
    EXPECT_EQ(out.output.find("MZ payload"), std::string::npos) << c.name;
  }
}

bool reported(const Report& report, const std::string& kind) {
  for (const auto& item : report.removed) {
    if (item.kind == kind && item.count > 0 && !item.location.empty()) return true;
  }
  return false;
}

// Every kind of removal shows up in the report with a location, and in its JSON.
TEST(PdfSanitizer, EachRemovalKindIsReported) {
  struct Case {
    const char* kind;
    Mutator add;
  };
  std::vector<Case> cases = {
      {"xfa",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
         QPDFObjectHandle form = obj(pdf, "<< /Fields [] >>");
         form.replaceKey("/XFA", QPDFObjectHandle::newArray({QPDFObjectHandle::newString("template"),
             QPDFObjectHandle::newStream(&pdf, "<template><script>app.alert(1)</script></template>")}));
         root.replaceKey("/AcroForm", form);
         root.replaceKey("/NeedsRendering", QPDFObjectHandle::newBool(true));
       }},
      {"javascript", activeCases()[0].add},
      {"open-action", [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
         root.replaceKey("/OpenAction", obj(pdf, "<< /S /Named /N /Print /Next << /S /Named /N /NextPage >> >>"));
       }},
      {"additional-actions", activeCases()[2].add},
      {"launch-action", activeCases()[3].add},
      {"submit-form", activeCases()[4].add},
      {"file-attachment", activeCases()[5].add},
      {"embedded-file", activeCases()[6].add},
      {"associated-file", activeCases()[6].add},
      {"remote-goto", activeCases()[7].add},
      {"import-data", activeCases()[7].add},
      {"uri-action", activeCases()[7].add},
      {"multimedia-annotation", activeCases()[8].add},
      {"content-operator", [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\n1 2 evilop\n"));
       }},
      {"content-operands", [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\n(x) 1 cm\n"));
       }},
      {"content-xobject", [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle ps = QPDFObjectHandle::newStream(&pdf, "%!PS showpage");
         ps.getDict().replaceKey("/Type", QPDFObjectHandle::newName("/XObject"));
         ps.getDict().replaceKey("/Subtype", QPDFObjectHandle::newName("/PS"));
         page.getKey("/Resources").replaceKey("/XObject", QPDFObjectHandle::parse("<< >>"));
         page.getKey("/Resources").getKey("/XObject").replaceKey("/P0", ps);
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET /P0 Do\n"));
       }},
      {"marked-content-action", [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf,
             "/Link << /A << /S /Launch /F (cmd.exe) >> >> BDC BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET EMC\n"));
       }},
  };
  auto e = engine();
  for (const auto& c : cases) {
    Outcome out = e->sanitize(makePdf(c.add), std::string(c.kind) + ".pdf", Mode::Rebuild);
    ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << c.kind << ": " << out.report.reason;
    EXPECT_TRUE(reported(out.report, c.kind)) << c.kind << " not in " << out.report.toJson();
    EXPECT_NE(out.report.toJson().find("\"kind\":\"" + std::string(c.kind) + "\""), std::string::npos) << c.kind;
    EXPECT_TRUE(testing::scanPdf(out.output).empty()) << c.kind;
    EXPECT_NE(out.output.find("(Hello LGWAN) Tj"), std::string::npos) << c.kind;
    EXPECT_EQ(out.output.find("evilop"), std::string::npos) << c.kind;
    EXPECT_EQ(out.output.find("/XFA"), std::string::npos) << c.kind;
    EXPECT_EQ(out.output.find("/NeedsRendering"), std::string::npos) << c.kind;
  }
}

// Catalog, page tree and page entries outside the allow-lists go, whatever they hold: nothing of
// them reaches the output as it came in; geometry, rotation and text stay.
TEST(PdfSanitizer, EntriesOutsideTheAllowListsAreDroppedAndReported) {
  std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
    root.replaceKey("/Metadata", QPDFObjectHandle::newStream(&pdf, "<x:xmpmeta>SECRETXMP</x:xmpmeta>"));
    root.replaceKey("/SpiderInfo", obj(pdf, "<< /V 1.0 /C [(SECRETSPIDER)] >>"));
    root.replaceKey("/PieceInfo", obj(pdf, "<< /App << /Private (SECRETCATALOG) >> >>"));
    page.replaceKey("/PieceInfo", QPDFObjectHandle::newStream(&pdf, "PRIVATEDATA of some producer"));
    page.replaceKey("/Thumb", QPDFObjectHandle::newStream(&pdf, "THUMBPIXELS"));
    page.replaceKey("/Rotate", QPDFObjectHandle::newInteger(90));
    root.getKey("/Pages").replaceKey("/PieceInfo", obj(pdf, "<< /App << /Private (SECRETTREE) >> >>"));
  });
  Outcome out = engine()->sanitize(input, "entries.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  std::string json = out.report.toJson();
  for (const char* where : {"catalog /Metadata", "catalog /SpiderInfo", "catalog /PieceInfo", "page 1 /PieceInfo",
                            "page 1 /Thumb"}) {
    EXPECT_NE(json.find(where), std::string::npos) << where << " not in " << json;
  }
  EXPECT_TRUE(reported(out.report, "catalog-entry"));
  EXPECT_TRUE(reported(out.report, "page-entry"));
  for (const char* gone : {"SECRETXMP", "SECRETSPIDER", "SECRETCATALOG", "PRIVATEDATA", "THUMBPIXELS", "SECRETTREE",
                           "/PieceInfo", "/Thumb", "/Metadata", "/SpiderInfo"}) {
    EXPECT_EQ(out.output.find(gone), std::string::npos) << gone;
  }
  QPDF result;
  result.processMemoryFile("out.pdf", out.output.data(), out.output.size());
  ASSERT_EQ(result.getAllPages().size(), 1u);
  QPDFObjectHandle page = result.getAllPages()[0];
  EXPECT_EQ(page.getKey("/Rotate").getIntValue(), 90);
  EXPECT_TRUE(page.getKey("/MediaBox").isArray());
  EXPECT_NE(out.output.find("(Hello LGWAN) Tj"), std::string::npos);
}

// A content stream that does not tokenise blocks the file rather than being guessed at.
TEST(PdfSanitizer, MalformedContentStreamBlocks) {
  std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT (unterminated Tj ET\n"));
  });
  Outcome out = engine()->sanitize(input, "m.pdf", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "parse-error");
}

// poppler's pdftotext, a reader that shares no code with the rebuild, on a temporary file.
std::string pdftotext(const std::string& pdf) {
  char path[] = "/tmp/lbg-pdftotext-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return "<mkstemp failed>";
  bool written = ::write(fd, pdf.data(), pdf.size()) == static_cast<ssize_t>(pdf.size());
  ::close(fd);
  std::string text = written ? "" : "<write failed>";
  if (FILE* p = ::popen(("pdftotext -q " + std::string(path) + " - 2>/dev/null").c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) text.append(buffer, n);
    if (::pclose(p) != 0) text += "<pdftotext failed>";
  }
  ::unlink(path);
  return text;
}

// Text, an XFA form and JavaScript in one file with compressed streams, as a producer writes
// them: the text survives (read back by poppler), none of the active keys does.
TEST(PdfSanitizer, XfaAndJavaScriptGoTextStaysForPoppler) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
      "<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
      "/BaseFont /Helvetica >> >> >> >>"));
  page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf,
      "BT /F1 18 Tf 72 700 Td (Quarterly report for the LGWAN segment) Tj 0 -30 Td (Second line) Tj ET\n"
      "% a comment\n1 0 0 RG 72 650 m 540 650 l S\n"));
  pdf.addPage(page, false);
  QPDFObjectHandle root = pdf.getRoot();
  QPDFObjectHandle widget = obj(pdf,
      "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [72 600 300 620] "
      "/AA << /K << /S /JavaScript /JS (app.launchURL\\(\"http://evil/\"\\)) >> >> >>");
  page.replaceKey("/Annots", QPDFObjectHandle::newArray({widget, obj(pdf,
      "<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /Launch /F (cmd.exe) >> >>")}));
  QPDFObjectHandle form = obj(pdf, "<< /NeedAppearances true >>");
  form.replaceKey("/Fields", QPDFObjectHandle::newArray({widget}));
  form.replaceKey("/XFA", QPDFObjectHandle::newArray({
      QPDFObjectHandle::newString("template"),
      QPDFObjectHandle::newStream(&pdf, "<template><subform><script contentType=\"application/x-javascript\">"
                                        "xfa.host.messageBox('x')</script></subform></template>")}));
  root.replaceKey("/AcroForm", form);
  root.replaceKey("/NeedsRendering", QPDFObjectHandle::newBool(true));
  root.replaceKey("/OpenAction", obj(pdf, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"));
  QPDFObjectHandle tree = QPDFObjectHandle::parse("<< /Names [] >>");
  tree.getKey("/Names").appendItem(QPDFObjectHandle::newString("init"));
  tree.getKey("/Names").appendItem(obj(pdf, "<< /S /JavaScript /JS (this.print\\(\\)) >>"));
  QPDFObjectHandle names = QPDFObjectHandle::newDictionary();
  names.replaceKey("/JavaScript", tree);
  root.replaceKey("/Names", names);
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setCompressStreams(true);  // Flate content, decoded by the rebuild
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  std::string input(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
  ASSERT_EQ(input.find("Quarterly"), std::string::npos);  // really compressed
  ASSERT_NE(pdftotext(input).find("Quarterly report"), std::string::npos);

  Outcome out = engine()->sanitize(input, "xfa.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  for (const char* kind : {"xfa", "javascript", "open-action", "additional-actions", "launch-action"}) {
    EXPECT_TRUE(reported(out.report, kind)) << kind << " not in " << out.report.toJson();
  }
  std::string text = pdftotext(out.output);
  EXPECT_NE(text.find("Quarterly report for the LGWAN segment"), std::string::npos) << text;
  EXPECT_NE(text.find("Second line"), std::string::npos) << text;
  for (const char* key : {"/JavaScript", "/JS", "/XFA", "/OpenAction", "/AA", "/Launch", "/NeedsRendering"}) {
    EXPECT_EQ(out.output.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(out.output.find("a comment"), std::string::npos);  // re-emitted from tokens, not copied
  EXPECT_TRUE(testing::scanPdf(out.output).empty());
}

TEST(PdfSanitizer, TextModeGivesThePageText) {
  auto e = engine();
  Outcome out = e->sanitize(makePdf(activeCases()[0].add), "t.pdf", Mode::Text);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_NE(out.output.find("Hello LGWAN"), std::string::npos);
}

TEST(PdfSanitizer, PlainDestinationOpenActionIsKept) {
  auto e = engine();
  std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
    root.replaceKey("/OpenAction", QPDFObjectHandle::newArray({page, QPDFObjectHandle::newName("/Fit")}));
  });
  Outcome out = e->sanitize(input, "d.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(out.report.removed.empty());
  EXPECT_NE(out.output.find("/OpenAction"), std::string::npos);
}

TEST(PdfSanitizer, EarlierRevisionAndTrailingDataDropped) {
  std::string input = makePdf(nullptr);
  // An object nobody references, as an appended revision would leave behind.
  input += "99 0 obj << /S /JavaScript /JS (app.alert\\(2\\)) >> endobj\n";
  Outcome out = engine()->sanitize(input, "r.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.output.find("app.alert"), std::string::npos);
}

TEST(PdfSanitizer, UserPasswordBlocks) {
  Outcome out = engine()->sanitize(makePdf(nullptr, "secret"), "e.pdf", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "encrypted");
}

// A PDF written byte by byte (qpdf will not write a security handler it does not implement).
std::string rawPdf(const std::vector<std::string>& objects, const std::string& trailerExtra) {
  std::string out = "%PDF-1.7\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t o : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", o);
    out += line;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R " + trailerExtra +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// Certificate (public-key) encryption: qpdf cannot open it, but it is a protected file, not a
// damaged one.
TEST(PdfSanitizer, UnsupportedSecurityHandlerIsEncrypted) {
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
      "<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Length 128 /Recipients [<00>] >>"};
  Outcome plain = engine()->sanitize(rawPdf(objects, ""), "plain.pdf", Mode::Rebuild);
  ASSERT_EQ(plain.report.verdict, Verdict::Sanitized) << plain.report.reason;  // the builder is sound
  Outcome out = engine()->sanitize(rawPdf(objects, "/Encrypt 4 0 R /ID [<0102> <0102>]"), "pk.pdf", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "encrypted");
}

// A catalog without a page tree (found by the fuzzer): refused, not written out as an empty PDF
// that the second check would then reject.
TEST(PdfSanitizer, CatalogWithoutPagesBlocks) {
  Outcome out = engine()->sanitize(rawPdf({"<< /Type /Catalog >>"}, ""), "nopages.pdf", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "no-pages");
  Outcome wrongType = engine()->sanitize(rawPdf({"<< /Type /Catalog /Pages 2 0 R >>", "[1 2 3]"}, ""), "arr.pdf",
                                         Mode::Rebuild);
  EXPECT_EQ(wrongType.report.verdict, Verdict::Blocked);
  EXPECT_EQ(wrongType.report.reason, "no-pages");
  // A root node whose /Kids is renamed (pdf_fuzz in CI): its page was rebuilt, but readers find
  // no page and the second check found its content stream placed nowhere (verify:stream).
  Outcome noKids = engine()->sanitize(
      rawPdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kads [3 0 R] /Count 1 >>",
              "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"},
             ""),
      "nokids.pdf", Mode::Rebuild);
  EXPECT_EQ(noKids.report.verdict, Verdict::Blocked);
  EXPECT_EQ(noKids.report.reason, "no-pages");
}

// A page whose /Parent names the catalog (found by the fuzzer): the tree is pruned from the catalog
// down through /Kids, so the catalog keeps /Pages, and the page's /Parent is rewritten to the node
// that lists it.
TEST(PdfSanitizer, PageParentIsRewrittenToTheListingNode) {
  std::string input = rawPdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                              "<< /Type /Page /Parent 1 0 R /MediaBox [0 0 612 792] >>"},
                             "");
  Outcome out = engine()->sanitize(input, "parent.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  QPDF result;
  result.processMemoryFile("out.pdf", out.output.data(), out.output.size());
  ASSERT_EQ(result.getAllPages().size(), 1u);
  QPDFObjectHandle tree = result.getRoot().getKey("/Pages");
  QPDFObjectHandle page = result.getAllPages()[0];
  EXPECT_EQ(page.getKey("/Parent").getObjGen(), tree.getObjGen());
  EXPECT_FALSE(tree.hasKey("/Parent"));
}

// An object whose body does not parse (qpdf reads it as null and warns): blocked, never rebuilt
// around the hole (found by the fuzzer).
TEST(PdfSanitizer, DamagedObjectBlocks) {
  std::string pdf = rawPdf({"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"},
                           "");
  size_t page = pdf.find("3 0 obj");
  ASSERT_NE(page, std::string::npos);
  pdf.replace(page, 3, "3 0 jbo");  // the object header no longer parses; offsets stay the same
  Outcome out = engine()->sanitize(pdf, "damaged.pdf", Mode::Rebuild);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
  EXPECT_EQ(out.report.reason, "parse-error");
}

TEST(PdfSanitizer, OwnerPasswordOnlyIsDecrypted) {
  Outcome out = engine()->sanitize(makePdf(nullptr, ""), "o.pdf", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.output.find("/Encrypt"), std::string::npos);
}

TEST(PdfSanitizer, PolyglotsBlocked) {
  std::string pdf = makePdf(nullptr);
  // A ZIP appended to a PDF: an archive to unzip tools, a document to readers.
  std::string zipTail = std::string("PK\x03\x04", 4) + std::string(26, '\0') + std::string("PK\x05\x06", 4) +
                        std::string(18, '\0');
  Outcome appended = engine()->sanitize(pdf + zipTail, "p.pdf", Mode::Rebuild);
  EXPECT_EQ(appended.report.verdict, Verdict::Blocked);
  EXPECT_EQ(appended.report.reason, "polyglot:zip-appended");
  // The PDF header a few bytes in, after something else.
  Outcome shifted = engine()->sanitize("GIF89a junk\n" + pdf, "p.pdf", Mode::Rebuild);
  EXPECT_EQ(shifted.report.verdict, Verdict::Blocked);
  EXPECT_EQ(shifted.report.reason, "polyglot:pdf-header-offset");
}

TEST(PdfSanitizer, TruncatedAndGarbageBlocked) {
  std::string pdf = makePdf(activeCases()[3].add);
  for (size_t cut : {size_t(9), pdf.size() / 3, pdf.size() / 2, pdf.size() - 30}) {
    Outcome out = engine()->sanitize(pdf.substr(0, cut), "t.pdf", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << cut;
    EXPECT_TRUE(out.output.empty());
  }
  Outcome garbage = engine()->sanitize("%PDF-1.7\n" + std::string(5000, '\xAB'), "g.pdf", Mode::Rebuild);
  EXPECT_EQ(garbage.report.verdict, Verdict::Blocked);
}

TEST(PdfSanitizer, VerifyCatchesWhatTheRebuildWouldRemove) {
  FormatLimits limits;
  EXPECT_EQ(pdf::verify(makePdf(nullptr), limits), "");
  EXPECT_NE(pdf::verify(makePdf(activeCases()[0].add), limits), "");
  EXPECT_NE(pdf::verify("not a pdf", limits), "");
  // An operator the rebuild would drop fails the second check too.
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
              page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "(x) Tj 1 evilop\n"));
            }), limits),
            "verify:content-operator");
}

// The independent check (poppler, in the sandbox) on files qpdf wrote but the rebuild never saw:
// it must see for itself what the rebuild removes, count the pages as qpdf does, and render.
TEST(PdfSanitizer, PopplerCheckIsIndependent) {
  FormatLimits limits;
  EXPECT_EQ(render::popplerCheck(makePdf(nullptr), 1, limits), "");
  EXPECT_EQ(render::popplerCheck(makePdf(nullptr), 2, limits), "verify:poppler-page-count");
  std::string uriLink = makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
    page.replaceKey("/Annots", QPDFObjectHandle::parse(&pdf,
                                                       "[<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
                                                       "/A << /S /URI /URI (https://evil.example/) >> >>]"));
  });
  EXPECT_EQ(render::popplerCheck(uriLink, 1, limits), "verify:poppler-link-action");
  std::string launch = makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
    page.replaceKey("/Annots", QPDFObjectHandle::parse(&pdf,
                                                       "[<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
                                                       "/A << /S /Launch /F (cmd.exe) >> >>]"));
  });
  EXPECT_EQ(render::popplerCheck(launch, 1, limits), "verify:poppler-link-action");
  std::string script = makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
    root.replaceKey("/Names", QPDFObjectHandle::parse(&pdf,
                                                      "<< /JavaScript << /Names [(a) << /S /JavaScript /JS "
                                                      "(app.alert\\(1\\)) >>] >> >>"));
  });
  EXPECT_EQ(render::popplerCheck(script, 1, limits), "verify:poppler-javascript");
  EXPECT_EQ(render::popplerCheck("%PDF-1.7 not really", 1, limits), "verify:poppler-parse-error");
  // A navigation link inside the document is kept by the rebuild and accepted by poppler.
  std::string internal = makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
    page.replaceKey("/Annots", QPDFObjectHandle::parse(&pdf,
                                                       "[<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
                                                       "/A << /S /Named /N /NextPage >> >>]"));
  });
  EXPECT_EQ(render::popplerCheck(internal, 1, limits), "");
}

// End to end through the engine: every clean rebuild passes both checks (the engine runs them).
TEST(PdfSanitizer, RebuildPassesBothChecks) {
  for (const ActiveCase& c : activeCases()) {
    Outcome out = engine()->sanitize(makePdf(c.add), "a.pdf", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Sanitized) << c.name << ": " << out.report.reason;
  }
}

}  // namespace
}  // namespace lbg::sanitizer

namespace lbg::sanitizer {
namespace {

// Independent JPEG decode (libjpeg directly): number of pixels darker than mid-grey.
size_t darkPixels(const std::string& jpeg) {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(jpeg.data()), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&cinfo);
  std::vector<unsigned char> row(cinfo.output_width);
  size_t dark = 0;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW r = row.data();
    jpeg_read_scanlines(&cinfo, &r, 1);
    for (unsigned char v : row) dark += v < 128;
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return dark;
}

TEST(ImagePdf, PagesBecomePicturesOnly) {
  std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
    root.replaceKey("/OpenAction", obj(pdf, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"));
    page.replaceKey("/Annots", QPDFObjectHandle::newArray({obj(pdf,
        "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /URI /URI (http://evil/) >> >>")}));
  });
  Outcome out = engine()->sanitize(input, "i.pdf", Mode::ImagePdf);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.outputType, "pdf");
  EXPECT_TRUE(testing::scanPdf(out.output).empty());
  QPDF result;
  result.processMemoryFile("out.pdf", out.output.data(), out.output.size());
  ASSERT_EQ(result.getAllPages().size(), 1u);
  QPDFObjectHandle page = result.getAllPages()[0];
  EXPECT_FALSE(page.hasKey("/Annots"));
  QPDFObjectHandle box = page.getKey("/MediaBox");
  EXPECT_EQ(box.getArrayItem(2).getNumericValue(), 612);
  EXPECT_EQ(box.getArrayItem(3).getNumericValue(), 792);
  QPDFObjectHandle resources = page.getKey("/Resources");
  EXPECT_FALSE(resources.hasKey("/Font"));
  QPDFObjectHandle image = resources.getKey("/XObject").getKey("/Im0");
  ASSERT_TRUE(image.isStream());
  EXPECT_EQ(image.getDict().getKey("/Filter").getName(), "/DCTDecode");
  EXPECT_EQ(out.output.find("Hello LGWAN"), std::string::npos);  // text exists only as pixels now
  // The picture is not blank: the rendered text left dark pixels on a white page.
  auto raw = image.getRawStreamData();
  EXPECT_GT(darkPixels(std::string(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize())), 100u);
}

// Pixel size and share of dark pixels of a JPEG (libjpeg directly).
struct JpegShape {
  unsigned width = 0, height = 0;
  double darkShare = 0;
};
JpegShape shapeOf(const std::string& jpeg) {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(jpeg.data()), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&cinfo, TRUE);
  jpeg_destroy_decompress(&cinfo);
  JpegShape shape{cinfo.image_width, cinfo.image_height, 0};
  shape.darkShare = static_cast<double>(darkPixels(jpeg)) / (static_cast<double>(shape.width) * shape.height);
  return shape;
}

TEST(ImagePdf, RotatedPageIsRenderedAsShownOnWhitePaperAt150Dpi) {
  std::string input = makePdf([](QPDF&, QPDFObjectHandle, QPDFObjectHandle page) {
    page.replaceKey("/Rotate", QPDFObjectHandle::newInteger(90));
  });
  Outcome out = engine()->sanitize(input, "r.pdf", Mode::ImagePdf);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  QPDF result;
  result.processMemoryFile("out.pdf", out.output.data(), out.output.size());
  ASSERT_EQ(result.getAllPages().size(), 1u);
  QPDFObjectHandle page = result.getAllPages()[0];
  // Letter turned by /Rotate 90: the reader shows it landscape, and so does the picture.
  QPDFObjectHandle box = page.getKey("/MediaBox");
  EXPECT_EQ(box.getArrayItem(2).getNumericValue(), 792);
  EXPECT_EQ(box.getArrayItem(3).getNumericValue(), 612);
  QPDFObjectHandle image = page.getKey("/Resources").getKey("/XObject").getKey("/Im0");
  ASSERT_TRUE(image.isStream());
  auto raw = image.getRawStreamData();
  JpegShape shape = shapeOf(std::string(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize()));
  EXPECT_EQ(shape.width, 1650u);  // 11 in at 150 dpi
  EXPECT_EQ(shape.height, 1275u);
  EXPECT_EQ(image.getDict().getKey("/Width").getIntValue(), 1650);
  // Text on white paper: some dark pixels, nearly all light ones.
  EXPECT_GT(shape.darkShare, 0.0);
  EXPECT_LT(shape.darkShare, 0.1);
}

TEST(ImagePdf, BrokenPdfBlocks) {
  Outcome out = engine()->sanitize("%PDF-1.4\ngarbage", "b.pdf", Mode::ImagePdf);
  EXPECT_EQ(out.report.verdict, Verdict::Blocked);
}

}  // namespace
}  // namespace lbg::sanitizer
