// Dictionaries rebuilt from per-kind schemas (pdf_schema.h) and the streams filtered or re-emitted
// on the way (Type 3 glyphs, tiling patterns, ToUnicode CMaps): crafted PDFs written by qpdf in
// the test, sanitized through the engine (so the second check and poppler's check run too), read
// back with qpdf (structure) and poppler (text).

#include "sanitizer/pdf/pdf_schema.h"

#include <gtest/gtest.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <functional>

#include "sanitizer/core/engine.h"
#include "sanitizer/pdf/pdf_sanitizer.h"
#include "sanitizer/pdf/tounicode_cmap.h"

namespace lbg::sanitizer {
namespace {

using Mutator = std::function<void(QPDF&, QPDFObjectHandle root, QPDFObjectHandle page)>;

// One page saying "Hello LGWAN" in /F1, with what `mutate` adds.
std::string makePdf(const Mutator& mutate) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
      "<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
      "/BaseFont /Helvetica >> >> >> >>"));
  page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\n"));
  pdf.addPage(page, false);
  mutate(pdf, pdf.getRoot(), pdf.getAllPages().at(0));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setCompressStreams(false);
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

// Sanitized through the engine: verdict, both checks, report.
struct Rebuilt {
  Outcome out;
  std::string text;
};

Rebuilt rebuild(const std::string& input) {
  Rebuilt r{engine()->sanitize(input, "schema.pdf", Mode::Rebuild), {}};
  std::string reason;
  if (r.out.report.verdict == Verdict::Sanitized) pdf::extractText(r.out.output, &r.text, &reason);
  return r;
}

bool reported(const Report& report, const std::string& kind, const std::string& where = "") {
  for (const auto& item : report.removed) {
    if (item.kind == kind && item.count > 0 && item.location.find(where) != std::string::npos) return true;
  }
  return false;
}

struct Case {
  const char* name;
  Mutator add;
  std::vector<std::pair<const char*, const char*>> reports;  // kind, part of the location
  std::vector<const char*> gone;                             // bytes that must not reach the output
  std::vector<const char*> kept;                             // bytes that must
};

std::vector<Case> cases() {
  return {
      {"annotations",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle ap = QPDFObjectHandle::newStream(&pdf, "0 0 1 rg 0 0 10 10 re f 1 2 evilop\n");
         ap.getDict().replaceKey("/BBox", QPDFObjectHandle::parse("[0 0 10 10]"));
         ap.getDict().replaceKey("/PieceInfo", QPDFObjectHandle::parse("<< /X (SECRETFORM) >>"));
         QPDFObjectHandle text = obj(pdf, "<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (NOTEKEPT) "
                                          "/Private << /Nested (SECRETANNOT) >> >>");
         text.replaceKey("/RC", QPDFObjectHandle::newStream(&pdf, "<body>SECRETRICH</body>"));
         QPDFObjectHandle states = QPDFObjectHandle::newDictionary();
         states.replaceKey("/On", ap);
         states.replaceKey("/Junk", QPDFObjectHandle::newString("SECRETSTATE"));
         QPDFObjectHandle apDict = QPDFObjectHandle::newDictionary();
         apDict.replaceKey("/N", states);
         apDict.replaceKey("/X", QPDFObjectHandle::newString("SECRETAP"));
         text.replaceKey("/AP", apDict);
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({
             text,
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /Dest [0 /Fit] /A << /S /GoTo /D [0 /Fit] "
                      "/Next << /S /Named /N /Print >> >> /MK << /X (SECRETMK) >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /SetOCGState /State [/ON] >> >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Redact /Rect [0 0 1 1] /OverlayText (SECRETREDACT) >>"),
             obj(pdf, "<< /Type /Annot /Subtype /Line /Rect [0 0 1 1] /L [0 0 1 1] /Measure << /R (SECRETMEASURE) >> >>"),
         }));
         // The destination names the page: set after the page is known.
         page.getKey("/Annots").getArrayItem(1).replaceKey("/Dest", QPDFObjectHandle::newArray({page, QPDFObjectHandle::newName("/Fit")}));
       },
       {{"annotation-entry", "/Private"}, {"annotation-entry", "/RC"}, {"appearance-entry", "/X"},
        {"appearance-entry", "/Junk"}, {"form-xobject-entry", "/PieceInfo"}, {"content-operator", "form content"},
        {"action-entry", "/Next"}, {"action-entry", "/D"}, {"annotation-entry", "/MK"}, {"action", "SetOCGState"},
        {"annotation", "Redact"}, {"annotation-entry", "/Measure"}},
       {"SECRETANNOT", "SECRETAP", "SECRETSTATE", "SECRETFORM", "evilop", "SECRETMK", "SECRETREDACT", "/Redact",
        "SetOCGState", "SECRETMEASURE", "/Print", "SECRETRICH"},
       {"NOTEKEPT", "/Subtype /Link", "/Subtype /Line", "/Fit"}},
      {"outlines",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         QPDFObjectHandle outlines = obj(pdf, "<< /Type /Outlines /Count 2 /X (SECRETROOT) >>");
         QPDFObjectHandle a = obj(pdf, "<< /Title (CHAPTERKEPT) /SE << /S /P >> /Private (SECRETITEM) >>");
         QPDFObjectHandle b = obj(pdf, "<< /Title (SECONDKEPT) /A << /S /Thread /D 0 >> >>");
         a.replaceKey("/Parent", outlines);
         b.replaceKey("/Parent", outlines);
         a.replaceKey("/Next", b);
         b.replaceKey("/Prev", a);
         a.replaceKey("/Dest", QPDFObjectHandle::newArray({page, QPDFObjectHandle::newName("/XYZ"),
                                                           QPDFObjectHandle::newNull(), QPDFObjectHandle::newInteger(700),
                                                           QPDFObjectHandle::newNull()}));
         outlines.replaceKey("/First", a);
         outlines.replaceKey("/Last", b);
         root.replaceKey("/Outlines", outlines);
       },
       {{"outline-entry", "/X"}, {"outline-entry", "/SE"}, {"outline-entry", "/Private"}, {"action", "Thread"}},
       {"SECRETROOT", "SECRETITEM", "/SE", "/Thread"},
       {"CHAPTERKEPT", "SECONDKEPT", "/XYZ"}},
      {"fonts",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle cmap = QPDFObjectHandle::newStream(&pdf,
             "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def (SECRETPS) pop\n"
             "1 begincodespacerange <00> <FF> endcodespacerange\n"
             "2 beginbfchar <48> <0048> <65> <0065> endbfchar\n"
             "1 beginbfrange <6C> <6F> <006C> endbfrange\n"
             "endcmap CMapName currentdict /CMap defineresource pop end end\n");
         std::string widths;
         for (int c = 32; c <= 126; ++c) widths += " 556";
         QPDFObjectHandle font = obj(pdf, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 "
                                          "/LastChar 126 /Widths [" + widths + "] /Private << /X (SECRETFONT) >> >>");
         font.replaceKey("/Encoding", obj(pdf, "<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [32 /space] "
                                               "/X (SECRETENC) >>"));
         font.replaceKey("/ToUnicode", cmap);
         QPDFObjectHandle fonts = page.getKey("/Resources").getKey("/Font");
         fonts.replaceKey("/F1", font);
         fonts.replaceKey("/F2", obj(pdf, "<< /Type /Font /Subtype /Bogus /BaseFont /SECRETBOGUS >>"));
         QPDFObjectHandle broken = QPDFObjectHandle::newStream(&pdf, "begincmap 1 beginbfchar <01> (SECRETCMAP) ) endbfchar");
         fonts.replaceKey("/F3", obj(pdf, "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>"));
         fonts.getKey("/F3").replaceKey("/ToUnicode", broken);
       },
       {{"font-entry", "/Private"}, {"encoding-entry", "/X"}, {"font", "Bogus"}, {"font-entry", "/F2"},
        {"tounicode", "/ToUnicode"}},
       {"SECRETFONT", "SECRETENC", "SECRETBOGUS", "SECRETPS", "SECRETCMAP", "/CMapName /X"},
       {"/Differences", "<48> <0048>", "<6C> <6F> <006C>", "/Widths"}},
      {"forms",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         QPDFObjectHandle field = obj(pdf, "<< /FT /Tx /T (name) /V (FIELDVALUEKEPT) /Lock << /Action /All >> "
                                           "/SV << /Filter /Adobe.PPKLite >> /Private (SECRETFIELD) >>");
         QPDFObjectHandle widget = obj(pdf, "<< /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /MK << /BC [0 0 1] "
                                            "/IF << /SW /A >> >> >>");
         widget.replaceKey("/Parent", field);
         widget.replaceKey("/P", page);
         field.replaceKey("/Kids", QPDFObjectHandle::newArray({widget}));
         // A /Parent naming the catalog must not get the catalog rebuilt as a field.
         QPDFObjectHandle stray = obj(pdf, "<< /FT /Btn /T (stray) >>");
         stray.replaceKey("/Parent", root);
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({widget}));
         QPDFObjectHandle form = obj(pdf, "<< /NeedAppearances true /DA (/Helv 0 Tf 0 g) /X (SECRETACROFORM) >>");
         form.replaceKey("/Fields", QPDFObjectHandle::newArray({field, stray}));
         form.replaceKey("/DR", QPDFObjectHandle::parse("<< /Font << /Helv << /Type /Font /Subtype /Type1 "
                                                        "/BaseFont /Helvetica /Y (SECRETDR) >> >> >>"));
         root.replaceKey("/AcroForm", form);
       },
       {{"form-field-entry", "/Lock"}, {"form-field-entry", "/SV"}, {"form-field-entry", "/Private"},
        {"appearance-characteristics-entry", "/IF"}, {"acroform-entry", "/X"}, {"font-entry", "/Y"},
        {"form-field-entry", "/Parent"}},
       {"SECRETFIELD", "SECRETACROFORM", "SECRETDR", "/Lock", "/SV", "/IF"},
       {"FIELDVALUEKEPT", "/Subtype /Widget", "/NeedAppearances"}},
      {"names-oc-structure",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         QPDFObjectHandle dests = QPDFObjectHandle::newDictionary();
         dests.replaceKey("/Names", QPDFObjectHandle::newArray({QPDFObjectHandle::newString("DESTKEPT"),
                                                                QPDFObjectHandle::newArray({page, QPDFObjectHandle::newName("/Fit")})}));
         dests.replaceKey("/X", QPDFObjectHandle::newString("SECRETTREE"));
         QPDFObjectHandle names = QPDFObjectHandle::newDictionary();
         names.replaceKey("/Dests", dests);
         names.replaceKey("/Templates", QPDFObjectHandle::parse("<< /Names [(t) << /Type /Page /X (SECRETTEMPLATE) >>] >>"));
         root.replaceKey("/Names", names);
         QPDFObjectHandle ocg = obj(pdf, "<< /Type /OCG /Name (LAYERKEPT) /Usage << /X (SECRETUSAGE) >> >>");
         QPDFObjectHandle oc = QPDFObjectHandle::newDictionary();
         oc.replaceKey("/OCGs", QPDFObjectHandle::newArray({ocg}));
         QPDFObjectHandle config = QPDFObjectHandle::parse("<< /Order [] /AS [<< /Event /View /X (SECRETAS) >>] >>");
         config.getKey("/Order").appendItem(ocg);
         oc.replaceKey("/D", config);
         root.replaceKey("/OCProperties", oc);
         QPDFObjectHandle tree = obj(pdf, "<< /Type /StructTreeRoot /ClassMap << /C << /X (SECRETCLASS) >> >> >>");
         QPDFObjectHandle elem = obj(pdf, "<< /Type /StructElem /S /P /Alt (ALTKEPT) /K 0 /Private (SECRETELEM) "
                                          "/A << /O /Layout /BBox [1 2 3 4] /Nested << /X (SECRETATTR) >> >> >>");
         elem.replaceKey("/P", tree);
         elem.replaceKey("/Pg", page);
         tree.replaceKey("/K", QPDFObjectHandle::newArray({elem}));
         root.replaceKey("/StructTreeRoot", tree);
       },
       {{"dests-entry", "/X"}, {"names-entry", "/Templates"}, {"optional-content-entry", "/Usage"},
        {"optional-content-entry", "/AS"}, {"structure-entry", "/ClassMap"}, {"structure-entry", "/Private"},
        {"structure-entry", "/A /Nested"}},
       {"SECRETTREE", "SECRETTEMPLATE", "SECRETUSAGE", "SECRETAS", "SECRETCLASS", "SECRETELEM", "SECRETATTR"},
       {"DESTKEPT", "LAYERKEPT", "ALTKEPT", "/OCProperties", "/StructTreeRoot", "/BBox [ 1 2 3 4 ]"}},
      {"glyphs-and-patterns",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle glyph = QPDFObjectHandle::newStream(&pdf, "500 0 0 0 500 500 d1 0 0 500 500 re f 7 glyphop\n");
         QPDFObjectHandle type3 = obj(pdf, "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 500 500] "
                                           "/FontMatrix [0.001 0 0 0.001 0 0] /FirstChar 65 /LastChar 65 /Widths [500] "
                                           "/Encoding << /Differences [65 /a] >> >>");
         QPDFObjectHandle procs = QPDFObjectHandle::newDictionary();
         glyph.getDict().replaceKey("/Private", QPDFObjectHandle::newString("SECRETGLYPH"));
         procs.replaceKey("/a", glyph);
         type3.replaceKey("/CharProcs", procs);
         page.getKey("/Resources").getKey("/Font").replaceKey("/T3", type3);
         QPDFObjectHandle pattern = QPDFObjectHandle::newStream(&pdf, "0 0 5 5 re f 9 patternop\n");
         pattern.replaceDict(QPDFObjectHandle::parse("<< /Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 "
                                                     "/BBox [0 0 10 10] /XStep 10 /YStep 10 /Resources << >> >>"));
         page.getKey("/Resources").replaceKey("/Pattern", QPDFObjectHandle::newDictionary());
         page.getKey("/Resources").getKey("/Pattern").replaceKey("/P1", pattern);
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf,
             "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET BT /T3 12 Tf 72 600 Td (A) Tj ET "
             "/Pattern cs /P1 scn 0 0 50 50 re f\n"));
       },
       {{"content-operator", "glyph content"}, {"content-operator", "pattern content"}, {"font-entry", "/Private"}},
       {"glyphop", "patternop", "SECRETGLYPH"},
       {"/CharProcs", "/PatternType 1", " d1"}},
      {"resources",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         QPDFObjectHandle res = page.getKey("/Resources");
         QPDFObjectHandle icc = QPDFObjectHandle::newStream(&pdf, "SECRETICCPROFILE");
         icc.getDict().replaceKey("/N", QPDFObjectHandle::newInteger(3));
         res.replaceKey("/ColorSpace", QPDFObjectHandle::newDictionary());
         res.getKey("/ColorSpace").replaceKey("/CS0", QPDFObjectHandle::newArray({QPDFObjectHandle::newName("/ICCBased"), icc}));
         QPDFObjectHandle calculator = QPDFObjectHandle::newStream(&pdf, "{ SECRETCALC dup dup }");
         calculator.replaceDict(QPDFObjectHandle::parse("<< /FunctionType 4 /Domain [0 1] /Range [0 1 0 1 0 1] >>"));
         QPDFObjectHandle sampled = QPDFObjectHandle::newStream(&pdf, std::string("\x00\xff", 2));
         sampled.replaceDict(QPDFObjectHandle::parse("<< /FunctionType 0 /Domain [0 1] /Range [0 1] /Size [2] "
                                                     "/BitsPerSample 8 /X (SECRETSAMPLED) >>"));
         QPDFObjectHandle sh0 = obj(pdf, "<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 100 0] /Extend [true true] >>");
         sh0.replaceKey("/Function", calculator);
         QPDFObjectHandle sh1 = obj(pdf, "<< /ShadingType 2 /ColorSpace /DeviceGray /Coords [0 0 100 0] /Private (SECRETSHADING) >>");
         sh1.replaceKey("/Function", sampled);
         res.replaceKey("/Shading", QPDFObjectHandle::newDictionary());
         res.getKey("/Shading").replaceKey("/Sh0", sh0);
         res.getKey("/Shading").replaceKey("/Sh1", sh1);
         res.replaceKey("/ExtGState", QPDFObjectHandle::parse("<< /GS0 << /CA 0.5 /TR /Identity /HT << /HalftoneType 1 "
                                                              "/X (SECRETHT) >> >> >>"));
         QPDFObjectHandle ps = QPDFObjectHandle::newStream(&pdf, "%!PS SECRETPOSTSCRIPT showpage");
         ps.getDict().replaceKey("/Subtype", QPDFObjectHandle::newName("/PS"));
         res.replaceKey("/XObject", QPDFObjectHandle::newDictionary());
         res.getKey("/XObject").replaceKey("/PS0", ps);
         res.replaceKey("/Properties", QPDFObjectHandle::parse("<< /MC0 << /MCID 3 /Nested << /X (SECRETPROP) >> >> >>"));
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf,
             "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET /CS0 cs 1 0 0 sc /GS0 gs 0 0 10 10 re f /Sh1 sh /Sh0 sh\n"));
       },
       {{"icc-profile", "/CS0"}, {"function", "type 4"}, {"shading-entry", "/Function"}, {"shading-entry", "/Private"},
        {"function-entry", "/X"}, {"graphics-state-entry", "/HT"}, {"graphics-state-entry", "/TR"}, {"xobject", "/PS"},
        {"xobject-entry", "/PS0"}, {"properties-entry", "/Nested"}},
       {"SECRETICCPROFILE", "SECRETCALC", "SECRETSHADING", "SECRETHT", "SECRETPOSTSCRIPT", "SECRETPROP", "SECRETSAMPLED"},
       {"/CS0 /DeviceRGB", "/FunctionType 0", "/Extend", "/CA 0.5", "/MCID 3"}},
      {"catalog-and-page-values",
       [](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle page) {
         root.replaceKey("/PageLabels", QPDFObjectHandle::parse("<< /Nums [0 << /S /r /P (LABELKEPT) /X (SECRETLABEL) >>] >>"));
         root.replaceKey("/ViewerPreferences", QPDFObjectHandle::parse("<< /DisplayDocTitle true /X << /Y (SECRETPREFS) >> >>"));
         root.replaceKey("/MarkInfo", QPDFObjectHandle::parse("<< /Marked true /X (SECRETMARK) >>"));
         root.replaceKey("/Lang", QPDFObjectHandle::parse("<< /X (SECRETLANG) >>"));
         page.replaceKey("/Group", QPDFObjectHandle::parse("<< /Type /Group /S /Transparency /CS /DeviceRGB /X (SECRETGROUP) >>"));
         page.replaceKey("/Rotate", QPDFObjectHandle::newString("SECRETROTATE"));
         root.getKey("/Pages").replaceKey("/CropBox", QPDFObjectHandle::parse("<< /X (SECRETNODE) >>"));
         QPDFObjectHandle info = obj(pdf, "<< /Title (TITLEKEPT) /Custom (SECRETINFO) /Author << /X (SECRETAUTHOR) >> >>");
         pdf.getTrailer().replaceKey("/Info", info);
         pdf.getTrailer().replaceKey("/Private", QPDFObjectHandle::newString("SECRETTRAILER"));
       },
       {{"page-labels-entry", "/X"}, {"viewer-preferences-entry", "/X"}, {"mark-info-entry", "/X"},
        {"catalog-entry", "/Lang"}, {"group-entry", "/X"}, {"page-entry", "/Rotate"}, {"page-entry", "page tree /CropBox"},
        {"info-entry", "/Custom"}, {"info-entry", "/Author"}, {"trailer-entry", "/Private"}},
       {"SECRETLABEL", "SECRETPREFS", "SECRETMARK", "SECRETLANG", "SECRETGROUP", "SECRETROTATE", "SECRETNODE",
        "SECRETINFO", "SECRETAUTHOR", "SECRETTRAILER"},
       {"LABELKEPT", "/DisplayDocTitle true", "/Marked true", "/Transparency", "TITLEKEPT"}},
      {"inline-images",
       [](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
         page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf,
             "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\n"
             "q 10 0 0 10 0 0 cm BI /W 2 /H 1 /BPC 8 /CS /G ID \x10\x20 EI Q\n"
             "q 10 0 0 10 20 0 cm BI /W 1 /H 1 /BPC 8 /CS /G /F /DCT ID SECRETINLINE\nEI Q\n"));
       },
       {{"inline-image", "page 1 content"}},
       {"SECRETINLINE", "/DCT"},
       {"/F /AHx ID\n1020>"}},
  };
}

TEST(PdfSchema, EachKindIsRebuiltDropsAreReportedTextStays) {
  for (const Case& c : cases()) {
    const std::string input = makePdf(c.add);
    for (const char* s : c.gone) {
      ASSERT_NE(input.find(s), std::string::npos) << c.name << ": the test PDF must contain " << s;
    }
    Rebuilt r = rebuild(input);
    ASSERT_EQ(r.out.report.verdict, Verdict::Sanitized) << c.name << ": " << r.out.report.reason;
    const std::string json = r.out.report.toJson();
    for (const auto& [kind, where] : c.reports) {
      EXPECT_TRUE(reported(r.out.report, kind, where)) << c.name << ": " << kind << " at " << where << " not in " << json;
    }
    for (const char* s : c.gone) EXPECT_EQ(r.out.output.find(s), std::string::npos) << c.name << ": " << s << " left";
    for (const char* s : c.kept) EXPECT_NE(r.out.output.find(s), std::string::npos) << c.name << ": " << s << " lost";
    EXPECT_NE(r.text.find("Hello LGWAN"), std::string::npos) << c.name << ": text " << r.text;
    // The rebuilt file passes the second check (the engine ran it) and a second rebuild finds nothing.
    FormatResult again = pdf::sanitize(r.out.output, FormatLimits{});
    ASSERT_TRUE(again.ok) << c.name;
    for (const auto& item : again.removed) ADD_FAILURE() << c.name << ": second rebuild removed " << item.kind << " " << item.location;
  }
}

// The catalog and the page are never rebuilt under another kind's schema, whatever points at them.
TEST(PdfSchema, CatalogAndPagesKeepTheirEntries) {
  Rebuilt r = rebuild(makePdf(cases()[3].add));
  ASSERT_EQ(r.out.report.verdict, Verdict::Sanitized) << r.out.report.reason;
  QPDF back;
  back.processMemoryFile("out.pdf", r.out.output.data(), r.out.output.size());
  EXPECT_TRUE(back.getRoot().getKey("/Pages").isDictionary());
  EXPECT_TRUE(back.getRoot().getKey("/AcroForm").isDictionary());
  QPDFObjectHandle page = back.getAllPages().at(0);
  EXPECT_TRUE(page.getKey("/MediaBox").isArray());
  QPDFObjectHandle fields = back.getRoot().getKey("/AcroForm").getKey("/Fields");
  ASSERT_EQ(fields.getArrayNItems(), 2);
  EXPECT_FALSE(fields.getArrayItem(1).hasKey("/Parent"));
}

// An appearance stream without /Subtype is made a form XObject, so the content filter sees it.
TEST(PdfSchema, AppearanceStreamWithoutSubtypeIsFiltered) {
  std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
    QPDFObjectHandle ap = QPDFObjectHandle::newStream(&pdf, "0 0 10 10 re f 3 hiddenop\n");
    ap.getDict().replaceKey("/BBox", QPDFObjectHandle::parse("[0 0 10 10]"));
    QPDFObjectHandle annot = obj(pdf, "<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /AP << >> >>");
    annot.getKey("/AP").replaceKey("/N", ap);
    page.replaceKey("/Annots", QPDFObjectHandle::newArray({annot}));
  });
  Rebuilt r = rebuild(input);
  ASSERT_EQ(r.out.report.verdict, Verdict::Sanitized) << r.out.report.reason;
  EXPECT_EQ(r.out.output.find("hiddenop"), std::string::npos);
  EXPECT_TRUE(reported(r.out.report, "content-operator", "form content"));
}

// The second check refuses what the rebuild would drop (it runs the same schemas on the output).
TEST(PdfSchema, VerifyFailsOnWhatTheRebuildDrops) {
  FormatLimits limits;
  EXPECT_EQ(pdf::verify(makePdf([](QPDF&, QPDFObjectHandle, QPDFObjectHandle) {}), limits), "");
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
              page.replaceKey("/Annots", QPDFObjectHandle::newArray({obj(pdf,
                  "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] /Private (x) >>")}));
            }), limits),
            "verify:annotation-entry");
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
              page.getKey("/Resources").getKey("/Font").replaceKey("/F9", obj(pdf, "<< /Type /Font /Subtype /Bogus >>"));
            }), limits),
            "verify:font");
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
              root.replaceKey("/Outlines", obj(pdf, "<< /Type /Outlines /Y 1 >>"));
            }), limits),
            "verify:outline-entry");
  // Type 3 glyphs: the schemas find the glyph's private key first, the content filter its operator.
  std::string glyphs = makePdf(cases()[5].add);
  EXPECT_EQ(pdf::verify(glyphs, limits), "verify:font-entry");
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
              page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf (x) Tj ET BI /W 1 /H 1 /BPC 8 "
                                                                             "/CS /G /F /DCT ID x\nEI\n"));
            }), limits),
            "verify:inline-image");
}

// The stream check of the second check stands on its own: it names streams the rebuild never
// writes, whatever the schemas would say.
TEST(PdfSchema, VerifyRefusesStreamsTheRebuildNeverWrites) {
  FormatLimits limits;
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle root, QPDFObjectHandle) {
              root.replaceKey("/Metadata", QPDFObjectHandle::newStream(&pdf, "<x:xmpmeta/>"));
            }), limits),
            "verify:stream");
  EXPECT_EQ(pdf::verify(makePdf([](QPDF& pdf, QPDFObjectHandle, QPDFObjectHandle page) {
              QPDFObjectHandle icc = QPDFObjectHandle::newStream(&pdf, "profile");
              icc.getDict().replaceKey("/N", QPDFObjectHandle::newInteger(3));
              page.getKey("/Resources").replaceKey("/ColorSpace", QPDFObjectHandle::newDictionary());
              page.getKey("/Resources").getKey("/ColorSpace").replaceKey(
                  "/CS0", QPDFObjectHandle::newArray({QPDFObjectHandle::newName("/ICCBased"), icc}));
            }), limits),
            "verify:stream");
  // The catalog allow-list is checked too.
  EXPECT_EQ(pdf::verify(makePdf([](QPDF&, QPDFObjectHandle root, QPDFObjectHandle) {
              root.replaceKey("/SpiderInfo", QPDFObjectHandle::parse("<< /V 1 >>"));
            }), limits),
            "verify:catalog-entry");
}

// A file with object streams and a cross-reference stream (as most producers write now) keeps
// them through the rebuild; the stream check knows them as the file's own structure.
TEST(PdfSchema, ObjectStreamsPassTheSecondCheck) {
  std::string plain = makePdf(cases()[0].add);
  QPDF pdf;
  pdf.processMemoryFile("in.pdf", plain.data(), plain.size());
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setObjectStreamMode(qpdf_o_generate);
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  std::string packed(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
  ASSERT_NE(packed.find("/ObjStm"), std::string::npos);
  Rebuilt r = rebuild(packed);
  ASSERT_EQ(r.out.report.verdict, Verdict::Sanitized) << r.out.report.reason;
  EXPECT_NE(r.out.output.find("/ObjStm"), std::string::npos);
  EXPECT_EQ(pdf::verify(r.out.output, FormatLimits{}), "");
  EXPECT_NE(r.text.find("Hello LGWAN"), std::string::npos);
}

TEST(ToUnicode, KeepsOnlyTheMappings) {
  std::string out;
  ASSERT_TRUE(pdf::rebuildToUnicode(
      "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def (payload) show\n"
      "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
      "2 beginbfchar <0003> <0020> <0011> <D83DDE00> endbfchar\n"
      "2 beginbfrange <0020> <0022> [<0041> <0042> <0043>] <0100> <01FF> <3042> endbfrange\n"
      "1 beginbfrange <0100> <0205> <0061> endbfrange\n"  // crosses the last byte: skipped
      "endcmap\n",
      &out));
  EXPECT_EQ(out.find("payload"), std::string::npos);
  EXPECT_NE(out.find("<0000> <FFFF>"), std::string::npos);
  EXPECT_NE(out.find("<0011> <D83DDE00>"), std::string::npos);
  EXPECT_NE(out.find("<0020> <0022> [<0041> <0042> <0043>]"), std::string::npos);
  EXPECT_NE(out.find("<0100> <01FF> <3042>"), std::string::npos);
  EXPECT_EQ(out.find("<0205>"), std::string::npos);
  EXPECT_NE(out.find("2 beginbfchar"), std::string::npos);
  // The output reads back to itself.
  std::string again;
  ASSERT_TRUE(pdf::rebuildToUnicode(out, &again));
  EXPECT_EQ(again, out);
}

TEST(ToUnicode, RefusesWhatDoesNotParseOrMapsNothing) {
  std::string out;
  EXPECT_FALSE(pdf::rebuildToUnicode("begincmap 1 beginbfchar <01> (x)) endbfchar", &out));
  EXPECT_FALSE(pdf::rebuildToUnicode("begincmap endcmap", &out));
  EXPECT_FALSE(pdf::rebuildToUnicode("1 beginbfrange <00> <01> [<0041> endbfrange", &out));
  // A code over 4 bytes and an odd-length destination are skipped, not kept.
  EXPECT_FALSE(pdf::rebuildToUnicode("1 beginbfchar <0102030405> <0041> <01> <00410> endbfchar", &out));
  // Without a codespace range, the mappings' own code length is stated.
  ASSERT_TRUE(pdf::rebuildToUnicode("1 beginbfchar <41> <0041> endbfchar", &out));
  EXPECT_NE(out.find("<00> <FF>"), std::string::npos);
}

}  // namespace
}  // namespace lbg::sanitizer
