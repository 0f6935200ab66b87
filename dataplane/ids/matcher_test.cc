#include "dataplane/ids/matcher.h"

#include <gtest/gtest.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "policy/ids/rule_parser.h"

namespace lbg::ids {
namespace {

// Parses `opts` as one rule and verifies its first buffer against `data` (base 0).
class Matcher {
 public:
  explicit Matcher(const std::string& opts) {
    auto p = parseRule("alert tcp any any -> any any (" + opts + " sid:1;)", Variables::defaults(),
                       nullptr);
    EXPECT_TRUE(p.rule) << p.error.keyword << ": " << p.error.message;
    rule_ = *p.rule;
    for (auto& m : rule_.buffers[0].items) {
      ItemAux a;
      if (auto* c = std::get_if<Content>(&m)) {
        a.lowered = c->bytes;
        for (auto& ch : a.lowered) ch = char(std::tolower(uint8_t(ch)));
      } else if (auto* pc = std::get_if<Pcre>(&m)) {
        int code;
        PCRE2_SIZE at;
        a.pcre = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pc->pattern.data()), pc->pattern.size(),
                               pc->options, &code, &at, nullptr);
      }
      aux_.push_back(std::move(a));
    }
    tools_.matchData = pcre2_match_data_create(16, nullptr);
  }
  ~Matcher() {
    for (auto& a : aux_)
      if (a.pcre) pcre2_code_free(a.pcre);
    pcre2_match_data_free(tools_.matchData);
  }
  bool operator()(std::string_view data, uint64_t base = 0) {
    return matchBuffer(rule_.buffers[0], aux_, reinterpret_cast<const uint8_t*>(data.data()),
                       uint32_t(data.size()), base, tools_);
  }

 private:
  Rule rule_;
  std::vector<ItemAux> aux_;
  MatchTools tools_;
};

TEST(IdsMatcher, OffsetDepthCountFromOffset) {
  Matcher m(R"(content:"def"; offset:3; depth:3;)");
  EXPECT_TRUE(m("abcdef"));
  EXPECT_FALSE(m("abcxdef"));
  EXPECT_FALSE(m("def"));
}

TEST(IdsMatcher, DistanceWithinBacktracks) {
  // The first "a=" is followed too far away; the second occurrence satisfies within.
  Matcher m(R"(content:"a="; content:"X"; distance:2; within:3;)");
  EXPECT_TRUE(m("a=....... a=..X"));
  EXPECT_FALSE(m("a=......X"));
  EXPECT_FALSE(m("a=.X"));  // distance:2 skips the first two bytes after the match
  Matcher neg(R"(content:"k"; content:"v"; distance:-3; within:2;)");
  EXPECT_TRUE(neg("..v.k"));
}

TEST(IdsMatcher, NocaseStartsEndsWith) {
  Matcher m(R"(content:"GET"; nocase; startswith; content:".EXE"; nocase; endswith;)");
  EXPECT_TRUE(m("get /a.exe"));
  EXPECT_FALSE(m(" get /a.exe"));
  EXPECT_FALSE(m("get /a.exe?"));
}

TEST(IdsMatcher, NegatedRelative) {
  Matcher m(R"(content:"user="; content:!"admin"; within:5;)");
  EXPECT_TRUE(m("user=guest"));
  EXPECT_FALSE(m("user=admin"));
  EXPECT_TRUE(m("user=guest admin"));
}

TEST(IdsMatcher, PcreRelativeAndNegated) {
  Matcher m(R"(content:"id="; pcre:"/^[0-9]{4}&/R";)");
  EXPECT_TRUE(m("x id=1234&y"));
  EXPECT_FALSE(m("x id=12a4&y"));
  Matcher n(R"(content:"a"; pcre:!"/b+c/";)");
  EXPECT_TRUE(n("a"));
  EXPECT_FALSE(n("abbc"));
}

TEST(IdsMatcher, ByteTestAndJump) {
  // Length-prefixed field: 2-byte big-endian length 3, then "abc", then the marker.
  Matcher m(R"(content:"|01|"; byte_jump:2,0,relative; content:"END"; within:3;)");
  EXPECT_TRUE(
      m(std::string("\x01\x00\x03"
                    "abcEND",
                    9)));
  EXPECT_FALSE(
      m(std::string("\x01\x00\x02"
                    "abcEND",
                    9)));
  Matcher t(R"(content:"L"; byte_test:1,>,100,0,relative;)");
  EXPECT_TRUE(t("L\xff"));
  EXPECT_FALSE(t("L\x10"));
  Matcher s(R"(content:"len="; byte_test:3,=,512,0,relative,string,dec;)");
  EXPECT_TRUE(s("len=512"));
  EXPECT_FALSE(s("len=511"));
  Matcher little(R"(byte_test:2,=,0x0102,0,little;)");
  EXPECT_TRUE(little("\x02\x01"));
  Matcher mask(R"(byte_test:1,=,3,0,bitmask 0x30;)");
  EXPECT_TRUE(mask("\x3f"));
}

TEST(IdsMatcher, IsDataAt) {
  Matcher m(R"(content:"cmd"; isdataat:!1,relative;)");
  EXPECT_TRUE(m("run cmd"));
  EXPECT_FALSE(m("run cmd now"));
  Matcher a(R"(content:"x"; isdataat:10;)");
  EXPECT_TRUE(a("x2345678901"));
  EXPECT_FALSE(a("x234567890"));
}

TEST(IdsMatcher, StreamBaseShiftsAbsolutePositions) {
  Matcher m(R"(content:"HDR"; depth:3;)");
  EXPECT_TRUE(m("HDRxx", 0));
  EXPECT_FALSE(m("HDRxx", 100));  // the window starts 100 bytes into the stream
}

}  // namespace
}  // namespace lbg::ids
