#include "sanitizer/pdf/content_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/base/result.h"

namespace lbg::sanitizer::pdf {
namespace {

struct Tok {
  TokenType type;
  std::string text;
  bool operator==(const Tok& o) const { return type == o.type && text == o.text; }
};

// The tokens, or the tokenizer's error when it stopped on malformed input.
Result<std::vector<Tok>> tokenize(std::string_view data) {
  ContentTokenizer t(data);
  std::vector<Tok> out;
  Token token;
  while (t.next(&token)) out.push_back({token.type, std::string(token.text)});
  if (!t.error().empty()) return Error{t.error()};
  return out;
}

// Well-formed input: every token, and no error.
std::vector<Tok> tokens(std::string_view data) {
  auto r = tokenize(data);
  EXPECT_TRUE(r.ok()) << r.error().toString();
  return r.ok() ? std::move(r).value() : std::vector<Tok>{};
}

ContentResources allowAll() {
  ContentResources r;
  r.xobjectAllowed = [](const std::string&) { return true; };
  r.propertiesAllowed = [](const std::string&) { return true; };
  return r;
}

TEST(ContentTokenizer, LiteralStringsWithEscapesAndNestedParentheses) {
  auto t = tokens(R"((a\)b) (x(y)z) (\\) (\(\() (\053\n) Tj)");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0], (Tok{TokenType::LiteralString, R"((a\)b))"}));
  EXPECT_EQ(t[1], (Tok{TokenType::LiteralString, "(x(y)z)"}));
  EXPECT_EQ(t[2], (Tok{TokenType::LiteralString, R"((\\))"}));
  EXPECT_EQ(t[3], (Tok{TokenType::LiteralString, R"((\(\())"}));
  EXPECT_EQ(t[4], (Tok{TokenType::LiteralString, R"((\053\n))"}));
  EXPECT_EQ(t[5], (Tok{TokenType::Keyword, "Tj"}));
}

TEST(ContentTokenizer, HexStringsNamesNumbersArraysDicts) {
  auto t = tokens("<48 65\n6C> <> /F1 /A#20B / -1.5 +.5 4. [1 (a)] << /K 1 >> true");
  std::vector<Tok> want = {
      {TokenType::HexString, "<48 65\n6C>"}, {TokenType::HexString, "<>"}, {TokenType::Name, "/F1"},
      {TokenType::Name, "/A#20B"},          {TokenType::Name, "/"},     {TokenType::Number, "-1.5"},
      {TokenType::Number, "+.5"},           {TokenType::Number, "4."},  {TokenType::ArrayOpen, "["},
      {TokenType::Number, "1"},             {TokenType::LiteralString, "(a)"}, {TokenType::ArrayClose, "]"},
      {TokenType::DictOpen, "<<"},          {TokenType::Name, "/K"},    {TokenType::Number, "1"},
      {TokenType::DictClose, ">>"},         {TokenType::Keyword, "true"}};
  EXPECT_EQ(t, want);
  std::string name;
  ASSERT_TRUE(decodeName("/A#20B", &name));
  EXPECT_EQ(name, "A B");
  EXPECT_FALSE(decodeName("/A#2", &name));
  EXPECT_FALSE(decodeName("/A#zz", &name));
}

TEST(ContentTokenizer, CommentsAreSkippedButNotInsideStrings) {
  auto t = tokens("% a comment (not a string\n(100% real) Tj %tail");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], (Tok{TokenType::LiteralString, "(100% real)"}));
  EXPECT_EQ(t[1], (Tok{TokenType::Keyword, "Tj"}));
}

TEST(ContentTokenizer, InlineImageDataIsOneTokenEvenWithEiInside) {
  // "EI" inside the data not preceded by white space, and " EIx" (not followed by a delimiter),
  // do not end the image.
  std::string data = std::string("BI /W 2 /H 1 /BPC 8 /CS /G ID ") + "\x01" + "EI" + " EIx" + "\nEI Q";
  auto t = tokens(data);
  ASSERT_EQ(t.size(), 13u);
  EXPECT_EQ(t[10], (Tok{TokenType::InlineImageData, "\x01" "EI EIx"}));
  EXPECT_EQ(t[11], (Tok{TokenType::Keyword, "EI"}));
  EXPECT_EQ(t[12], (Tok{TokenType::Keyword, "Q"}));
}

TEST(ContentTokenizer, MalformedInputStops) {
  for (const char* bad : {"(unterminated", "(a(b) Tj", "<4G>", "<48", ")", "> x", "{ 1 }", "BI /W 1 ID",
                          "BI /W 1 ID xxxx", "BI ID"}) {
    auto r = tokenize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_FALSE(r.error().message.empty()) << bad;
  }
  EXPECT_TRUE(tokenize("").ok());
}

TEST(ContentFilter, AllowedOperatorsAreReEmitted) {
  std::string in =
      "q 1 0 0 1 10 20 cm BT /F1 12 Tf 72 700 Td (Hello \\(world\\)) Tj [(A) -120 <42>] TJ ET\n"
      "0.5 g 1 0 0 RG 0 0 m 10 10 l S 0 0 10 10 re f* /P0 cs 0.1 0.2 /P1 scn /Im1 Do Q";
  ContentFilterResult r = filterContentStream(in, allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_NE(r.output.find("(Hello \\(world\\)) Tj\n"), std::string::npos);
  EXPECT_NE(r.output.find("[ (A) -120 <42> ] TJ\n"), std::string::npos);
  EXPECT_NE(r.output.find("/Im1 Do\n"), std::string::npos);
  // The output is itself a clean content stream and filters to itself.
  ContentFilterResult again = filterContentStream(r.output, allowAll());
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.output, r.output);
}

TEST(ContentFilter, UnknownAndDisallowedOperatorsAreDroppedAndCounted) {
  ContentFilterResult r = filterContentStream("(a) Tj 1 2 3 evil (x) PS 5 launch (b) Tj", allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.dropped["content-operator"], 3u);
  EXPECT_EQ(r.output, "(a) Tj\n(b) Tj\n");
  EXPECT_FALSE(isAllowedOperator("PS"));
  EXPECT_TRUE(isAllowedOperator("Tj"));
  EXPECT_TRUE(isAllowedOperator("BDC"));
}

TEST(ContentFilter, WrongOperandsAreDropped) {
  ContentFilterResult r = filterContentStream("1 2 Tj (a) 3 Tf [[1]] TJ 1 2 3 4 5 cm 1 2 m 7", allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.dropped["content-operands"], 5u);  // four bad operations and the trailing operand
  EXPECT_EQ(r.output, "1 2 m\n");
}

TEST(ContentFilter, DoNeedsAnImageOrFormXObject) {
  ContentResources res = allowAll();
  res.xobjectAllowed = [](const std::string& name) { return name == "Im 1"; };
  ContentFilterResult r = filterContentStream("/Im#201 Do /PS0 Do", res);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.output, "/Im#201 Do\n");
  EXPECT_EQ(r.dropped["content-xobject"], 1u);
  ContentFilterResult none = filterContentStream("/Im1 Do", ContentResources{});
  EXPECT_EQ(none.dropped["content-xobject"], 1u);
}

TEST(ContentFilter, MarkedContentLosesPropertiesWithActions) {
  ContentResources res = allowAll();
  res.propertiesAllowed = [](const std::string& name) { return name == "OC1"; };
  ContentFilterResult r = filterContentStream(
      "/Span << /ActualText (x) >> BDC EMC /Link << /A << /S /URI /URI (http://e/) >> >> BDC EMC "
      "/OC /OC1 BDC EMC /OC /Bad BDC EMC /T << /JS (x) >> DP /Tag MP",
      res);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.dropped["marked-content-action"], 3u);
  EXPECT_EQ(r.output,
            "/Span << /ActualText (x) >> BDC\nEMC\n/Link BMC\nEMC\n/OC /OC1 BDC\nEMC\n/OC BMC\nEMC\n/T MP\n/Tag MP\n");
}

// Inline images are rebuilt from their decoded pixels (inline_image.h): a fresh dictionary, the
// pixels cut to the size, in ASCIIHex; what cannot be decoded is dropped and counted.
TEST(ContentFilter, InlineImagesAreRebuilt) {
  std::string in = "q BI /W 2 /H 1 /BPC 8 /CS /G /F [/AHx] /Private (x) ID ff 0 >\nEI Q";
  ContentFilterResult r = filterContentStream(in, allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.dropped["inline-image"], 1u);  // /Private is not an inline-image key
  in = "q BI /W 2 /H 1 /BPC 8 /CS /G /F [/AHx] /DP null ID ff 00 1122>\nEI Q";
  r = filterContentStream(in, allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "q\nBI /W 2 /H 1 /BPC 8 /CS /DeviceGray /F /AHx ID\nFF00>\nEI\nQ\n");
  ContentFilterResult again = filterContentStream(r.output, allowAll());
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.output, r.output);
  EXPECT_TRUE(again.dropped.empty());
  // Raw pixels (with bytes that spell EI for a reader counting differently) come out as hex.
  r = filterContentStream(std::string("BI /W 4 /H 1 /BPC 8 /CS /RGB /I true /D [1 0 1 0 1 0] ID ") +
                              "EI\x01\x02" "EI\x03\x04\x05\x06\x07\x08\x09\x0a" + "\nEI",
                          allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.output, "BI /W 4 /H 1 /BPC 8 /CS /DeviceRGB /D [1 0 1 0 1 0] /I true /F /AHx ID\n"
                      "454901024549030405060708>\nEI\n");
  // Indexed, an image mask, then what is refused: DCT, a resource colour space, short data,
  // decode parameters.
  r = filterContentStream("BI /W 1 /H 1 /BPC 8 /CS [/I /RGB 1 <ff000000ff00>] ID \x01\nEI "
                          "BI /W 8 /H 1 /IM true ID \xaa\nEI",
                          allowAll());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_NE(r.output.find("/CS [/Indexed /DeviceRGB 1 <FF000000FF00>]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/IM true /F /AHx ID\nAA>"), std::string::npos) << r.output;
  for (const char* refused : {"BI /W 1 /H 1 /BPC 8 /CS /G /F /DCT ID \xff\xd8\nEI",
                              "BI /W 1 /H 1 /BPC 8 /CS /CS0 ID \x01\nEI",
                              "BI /W 4 /H 4 /BPC 8 /CS /G ID \x01\nEI",
                              "BI /W 1 /H 1 /BPC 8 /CS /G /F /Fl /DP << /Predictor 12 >> ID x\nEI"}) {
    r = filterContentStream(refused, allowAll());
    ASSERT_TRUE(r.ok) << refused << ": " << r.error;
    EXPECT_EQ(r.dropped["inline-image"], 1u) << refused;
    EXPECT_EQ(r.output.find("BI"), std::string::npos) << refused;
  }
}

TEST(ContentFilter, MalformedStructureFails) {
  const std::string deep(40, '[');
  for (const char* bad : {"[1 2", "1 ]", "<< /A 1 ]", "[1 Tj]", "ID x", "EI", "BI /W 1 Tj", "BI /W ID x\nEI",
                          "(open", deep.c_str()}) {
    ContentFilterResult r = filterContentStream(bad, allowAll());
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
    EXPECT_TRUE(r.output.empty()) << bad;
  }
}

}  // namespace
}  // namespace lbg::sanitizer::pdf
