#include "policy/ids/rule_parser.h"

#include <gtest/gtest.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace lbg::ids {
namespace {

const Variables& vars() {
  static Variables v = Variables::defaults();
  return v;
}

Rule parse(const std::string& opts, const std::string& header = "alert tcp any any -> any any") {
  auto p = parseRule(header + " (" + opts + ")", vars(), nullptr);
  EXPECT_TRUE(p.rule) << p.error.keyword << ": " << p.error.message << " at " << p.error.column;
  return p.rule ? *p.rule : Rule{};
}

RuleError reject(const std::string& text, const Classifications* classes = nullptr) {
  auto p = parseRule(text, vars(), classes);
  EXPECT_FALSE(p.rule) << text;
  return p.error;
}

const Content& content(const Rule& r, size_t buffer = 0, size_t item = 0) {
  return std::get<Content>(r.buffers.at(buffer).items.at(item));
}

TEST(IdsRuleParser, ActionsAndHeader) {
  EXPECT_EQ(parse("sid:1;").action, Action::Alert);
  EXPECT_EQ(parse("sid:1;", "drop tcp any any -> any any").action, Action::Drop);
  EXPECT_EQ(parse("sid:1;", "reject tcp any any -> any any").action, Action::Reject);
  EXPECT_EQ(parse("sid:1;", "pass tcp any any -> any any").action, Action::Pass);
  Rule r = parse("sid:1;", "alert http $HOME_NET [1024:] <> $EXTERNAL_NET $HTTP_PORTS");
  EXPECT_EQ(r.header.protocol, Protocol::Http);
  EXPECT_TRUE(r.header.bidirectional);
  EXPECT_TRUE(r.header.srcPorts.matches(5000));
  EXPECT_FALSE(r.header.srcPorts.matches(80));
  EXPECT_TRUE(r.header.dstPorts.matches(80));
  EXPECT_TRUE(r.header.dst.matches(*IpAddr::parse("8.8.8.8")));
  EXPECT_FALSE(r.header.dst.matches(*IpAddr::parse("10.0.0.1")));
}

TEST(IdsRuleParser, MetaKeywords) {
  Rule r = parse(
      R"(msg:"ET TEST a\;b \"q\""; sid:2000001; rev:7; gid:3; classtype:trojan-activity; priority:2; )"
      R"(metadata:created_at 2020_01_01, former_category MALWARE; reference:url,example.org/x; )"
      R"(reference:cve,2020-1234; target:dest_ip;)");
  EXPECT_EQ(r.msg, "ET TEST a;b \"q\"");
  EXPECT_EQ(r.sid, 2000001u);
  EXPECT_EQ(r.rev, 7u);
  EXPECT_EQ(r.gid, 3u);
  EXPECT_EQ(r.classtype, "trojan-activity");
  EXPECT_EQ(r.priority, 2);
  ASSERT_EQ(r.metadata.size(), 2u);
  EXPECT_EQ(r.metadata[1], (std::pair<std::string, std::string>{"former_category", "MALWARE"}));
  EXPECT_EQ(r.references.size(), 2u);
}

TEST(IdsRuleParser, ClasstypeGivesPriority) {
  std::vector<std::string> errors;
  auto classes = parseClassificationConfig(
      "# comment\nconfig classification: trojan-activity,A Network Trojan was detected,1\nbad "
      "line\n",
      &errors);
  ASSERT_EQ(classes.size(), 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("line 3:", 0), 0u);
  auto p = parseRule("alert ip any any -> any any (classtype:trojan-activity; sid:1;)", vars(),
                     &classes);
  ASSERT_TRUE(p.rule);
  EXPECT_EQ(p.rule->priority, 1);
  auto e = reject("alert ip any any -> any any (sid:1; classtype:nope;)", &classes);
  EXPECT_EQ(e.keyword, "classtype");
  EXPECT_EQ(e.column, 37);
  EXPECT_EQ(parse("sid:1;").priority, 3);
}

TEST(IdsRuleParser, ContentHexAndModifiers) {
  Rule r = parse(
      R"(content:"GET |20 2F|a\"b"; nocase; offset:2; depth:20; content:!"x|3b|"; distance:-3; within:10; sid:1;)");
  ASSERT_EQ(r.buffers.size(), 1u);
  EXPECT_EQ(r.buffers[0].buffer, Buffer::Payload);
  const Content& a = content(r, 0, 0);
  EXPECT_EQ(a.bytes, "GET  /a\"b");
  EXPECT_TRUE(a.nocase);
  EXPECT_EQ(*a.offset, 2);
  EXPECT_EQ(*a.depth, 20);
  const Content& b = content(r, 0, 1);
  EXPECT_TRUE(b.negated);
  EXPECT_EQ(b.bytes, "x;");
  EXPECT_EQ(*b.distance, -3);
  EXPECT_EQ(*b.within, 10);
  // The positive content is the prefilter's.
  EXPECT_EQ(r.fpBuffer, 0);
  EXPECT_EQ(r.fpItem, 0);
}

TEST(IdsRuleParser, FastPatternChoice) {
  Rule r = parse(R"(content:"longer-content"; content:"ab"; fast_pattern; sid:1;)");
  EXPECT_EQ(r.fpItem, 1);
  r = parse(R"(content:"short"; content:"the longest one"; sid:1;)");
  EXPECT_EQ(r.fpItem, 1);
  r = parse(R"(content:"abcdefgh"; fast_pattern:2,4; sid:1;)");
  EXPECT_EQ(content(r).fpOffset, 2);
  EXPECT_EQ(content(r).fpLength, 4);
  r = parse(R"(content:"abc"; fast_pattern:only; sid:1;)");
  EXPECT_TRUE(content(r).fastPattern);
  r = parse(R"(content:!"abc"; sid:1;)");
  EXPECT_EQ(r.fpBuffer, -1);  // nothing positive to prefilter on
}

TEST(IdsRuleParser, StickyBuffersAndTransforms) {
  Rule r = parse(
      R"(http.method; content:"POST"; http.uri; content:"/x.php"; endswith; http.host; bsize:<20; )"
      R"(content:"evil"; http.user_agent; content:"UA"; startswith; http.header; content:"X-A"; )"
      R"(http.request_body; content:"pw="; file.data; content:"MZ"; sid:1;)",
      "alert http any any -> any any");
  ASSERT_EQ(r.buffers.size(), 7u);
  EXPECT_EQ(r.buffers[0].buffer, Buffer::HttpMethod);
  EXPECT_EQ(r.buffers[1].buffer, Buffer::HttpUri);
  EXPECT_TRUE(content(r, 1).endsWith);
  EXPECT_EQ(r.buffers[2].buffer, Buffer::HttpHost);
  EXPECT_EQ(r.buffers[2].bsize->op, Range::Op::Lt);
  EXPECT_TRUE(content(r, 3).startsWith);
  EXPECT_EQ(r.buffers[6].buffer, Buffer::FileData);
  EXPECT_EQ(r.directions(), kToServer);
  r = parse(R"(dns.query; dotprefix; content:".evil.example"; endswith; sid:1;)",
            "alert dns any any -> any any");
  EXPECT_TRUE(r.buffers[0].dotPrefix);
  r = parse(
      R"(tls.cert_issuer; content:"a.example"; bsize:9; tls_cert_subject; content:"CN=x"; sid:1;)",
      "alert tls any any -> any any");
  EXPECT_EQ(r.buffers[1].buffer, Buffer::TlsCertSubject);
  // The legacy sticky name and the dotted one select the same buffer.
  r = parse(R"(file_data; content:"a"; file.data; content:"b"; distance:0; sid:1;)");
  EXPECT_EQ(r.buffers.size(), 1u);
  EXPECT_EQ(r.buffers[0].items.size(), 2u);
  r = parse(R"(http.uri; content:"a"; pkt_data; content:"b"; sid:1;)");
  EXPECT_EQ(r.buffers[1].buffer, Buffer::Payload);
}

// Suricata 5 content modifiers move the preceding payload content (and its modifiers, before
// and after) into their buffer; a payload left without items is dropped.
TEST(IdsRuleParser, ContentModifiers) {
  Rule r = parse(R"(content:"GET"; http_method; content:"/a"; nocase; http_raw_uri; depth:4; )"
                 R"(content:"/b"; http_uri; content:"c"; sid:1;)");
  ASSERT_EQ(r.buffers.size(), 4u);
  EXPECT_EQ(r.buffers[0].buffer, Buffer::HttpMethod);
  EXPECT_EQ(r.buffers[1].buffer, Buffer::HttpUriRaw);
  const Content& a = std::get<Content>(r.buffers[1].items.at(0));
  EXPECT_TRUE(a.nocase);
  EXPECT_EQ(a.depth, 4);
  EXPECT_EQ(r.buffers[2].buffer, Buffer::HttpUri);
  EXPECT_EQ(r.buffers[3].buffer, Buffer::Payload);  // "c" stays in the payload
  EXPECT_EQ(r.buffers[3].items.size(), 1u);
  r = parse(R"(http.uri; content:"/x"; http_uri; sid:1;)");  // already there
  EXPECT_EQ(r.buffers.size(), 1u);
  EXPECT_EQ(reject("alert tcp any any -> any any (http_raw_uri; sid:1;)").keyword, "http_raw_uri");
  EXPECT_EQ(
      reject(R"(alert tcp any any -> any any (http.uri; content:"a"; http_raw_uri; sid:1;))")
          .keyword,
      "http_raw_uri");
}

// urilen is http.uri's bsize (http.uri.raw's with `raw`) and does not change where later
// contents go.
TEST(IdsRuleParser, UrilenIsTheUriLength) {
  Rule r = parse(R"(content:"a"; urilen:>5,norm; content:"b"; sid:1;)", "alert http any any -> any any");
  ASSERT_EQ(r.buffers.size(), 2u);
  EXPECT_EQ(r.buffers[0].buffer, Buffer::Payload);
  EXPECT_EQ(r.buffers[0].items.size(), 2u);  // "b" stays in pkt_data
  EXPECT_EQ(r.buffers[1].buffer, Buffer::HttpUri);
  ASSERT_TRUE(r.buffers[1].bsize);
  EXPECT_EQ(r.buffers[1].bsize->op, Range::Op::Gt);
  EXPECT_EQ(r.buffers[1].bsize->lo, 5u);
  r = parse(R"(http.uri; content:"/x"; urilen:2<>9; content:"y"; sid:1;)");
  ASSERT_EQ(r.buffers.size(), 1u);
  EXPECT_EQ(r.buffers[0].items.size(), 2u);
  EXPECT_EQ(r.buffers[0].bsize->op, Range::Op::Between);
  r = parse(R"(http.uri; content:"/x"; urilen:2<>9, raw; content:"y"; sid:1;)");
  ASSERT_EQ(r.buffers.size(), 2u);
  EXPECT_EQ(r.buffers[0].items.size(), 2u);  // "y" stays in http.uri
  EXPECT_FALSE(r.buffers[0].bsize);
  EXPECT_EQ(r.buffers[1].buffer, Buffer::HttpUriRaw);
  EXPECT_EQ(r.buffers[1].bsize->op, Range::Op::Between);
  r = parse("urilen:1; sid:1;");
  EXPECT_EQ(r.buffers.at(0).buffer, Buffer::HttpUri);
  EXPECT_EQ(reject("alert tcp any any -> any any (urilen:3,odd; sid:1;)").keyword, "urilen");
  EXPECT_EQ(reject("alert tcp any any -> any any (urilen:x; sid:1;)").keyword, "urilen");
  EXPECT_EQ(reject("alert tcp any any -> any any (http.uri; bsize:3; urilen:3; sid:1;)").keyword,
            "urilen");
}

TEST(IdsRuleParser, Pcre) {
  Rule r = parse(R"(content:"a"; pcre:"/^b[0-9]+\;/smiR"; pcre:!"/x/U"; sid:1;)");
  const Pcre& p = std::get<Pcre>(r.buffers[0].items[1]);
  EXPECT_EQ(p.pattern, "^b[0-9]+\\;");
  EXPECT_EQ(p.options, uint32_t(PCRE2_DOTALL | PCRE2_MULTILINE | PCRE2_CASELESS));
  EXPECT_TRUE(p.relative);
  ASSERT_EQ(r.buffers.size(), 2u);
  EXPECT_EQ(r.buffers[1].buffer, Buffer::HttpUri);
  EXPECT_TRUE(std::get<Pcre>(r.buffers[1].items[0]).negated);
  r = parse(R"(http.uri.raw; content:"%2e"; pcre:"/x/I"; sid:1;)");
  ASSERT_EQ(r.buffers.size(), 1u);  // /I: the raw URI
  EXPECT_EQ(r.buffers[0].buffer, Buffer::HttpUriRaw);
  EXPECT_EQ(r.buffers[0].items.size(), 2u);
  auto e = reject(R"(alert tcp any any -> any any (pcre:"/x/Z"; sid:1;))");
  EXPECT_EQ(e.keyword, "pcre/Z");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (pcre:"x"; sid:1;))").keyword, "pcre");
}

TEST(IdsRuleParser, FlowAndFlowbits) {
  Rule r = parse(
      "flow:established,to_client; flowbits:isset,a|b; flowbits:set,c; flowbits:noalert; sid:1;");
  EXPECT_TRUE(r.flow.established);
  EXPECT_EQ(r.flow.directions, kToClient);
  ASSERT_EQ(r.flowbits.size(), 2u);
  EXPECT_EQ(r.flowbits[0].op, Flowbit::Op::IsSet);
  EXPECT_TRUE(r.flowbits[0].any);
  EXPECT_EQ(r.flowbits[0].names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.flowbits[1].op, Flowbit::Op::Set);
  EXPECT_TRUE(r.noalert);
  r = parse("flowbits:isnotset,x&y; flowbits:unset,x; flowbits:toggle,y; sid:1;");
  EXPECT_FALSE(r.flowbits[0].any);
  EXPECT_EQ(r.flowbits[0].names.size(), 2u);
  EXPECT_EQ(reject("alert tcp any any -> any any (flowbits:set,a|b; sid:1;)").keyword, "flowbits");
  EXPECT_EQ(reject("alert tcp any any -> any any (flowbits:bogus,a; sid:1;)").keyword, "flowbits");
  EXPECT_EQ(reject("alert tcp any any -> any any (flow:to_server,to_client; sid:1;)").keyword,
            "flow");
  EXPECT_EQ(reject("alert tcp any any -> any any (flow:only_frag; sid:1;)").keyword, "flow");
  // A to_client rule on a request-only buffer can never match.
  EXPECT_EQ(
      reject("alert http any any -> any any (flow:to_client; http.uri; content:\"a\"; sid:1;)")
          .keyword,
      "flow");
}

TEST(IdsRuleParser, DsizeBsizeRanges) {
  EXPECT_EQ(parse("dsize:>10; sid:1;").dsize->op, Range::Op::Gt);
  Rule r = parse("dsize:10<>20; sid:1;");
  EXPECT_TRUE(r.dsize->matches(15));
  EXPECT_FALSE(r.dsize->matches(20));
  EXPECT_TRUE(parse("dsize:!0; sid:1;").dsize->matches(1));
  EXPECT_EQ(reject("alert tcp any any -> any any (dsize:20<>10; sid:1;)").keyword, "dsize");
  EXPECT_EQ(reject("alert tcp any any -> any any (bsize:x; sid:1;)").keyword, "bsize");
}

TEST(IdsRuleParser, ByteTestJumpIsDataAt) {
  Rule r = parse(
      "content:\"a\"; byte_test:2,!>=,0x100,3,relative,little; byte_test:4,=,1234,0,string,dec; "
      "byte_jump:4,0,relative,little,multiplier 2,post_offset -1,align; "
      "byte_jump:2,1,from_beginning; "
      "isdataat:!10,relative; sid:1;");
  auto& items = r.buffers[0].items;
  const auto& t = std::get<ByteTest>(items[1]);
  EXPECT_EQ(t.nbytes, 2);
  EXPECT_TRUE(t.negated);
  EXPECT_EQ(t.op, 'g');
  EXPECT_EQ(t.value, 0x100u);
  EXPECT_EQ(t.offset, 3);
  EXPECT_TRUE(t.relative);
  EXPECT_TRUE(t.littleEndian);
  EXPECT_EQ(std::get<ByteTest>(items[2]).base, NumBase::Dec);
  const auto& j = std::get<ByteJump>(items[3]);
  EXPECT_EQ(j.multiplier, 2u);
  EXPECT_EQ(j.postOffset, -1);
  EXPECT_TRUE(j.align);
  EXPECT_TRUE(std::get<ByteJump>(items[4]).fromBeginning);
  const auto& d = std::get<IsDataAt>(items[5]);
  EXPECT_TRUE(d.negated);
  EXPECT_EQ(d.offset, 10);
  EXPECT_TRUE(d.relative);
  EXPECT_EQ(reject("alert tcp any any -> any any (byte_test:4,=,var,0; sid:1;)").keyword,
            "byte_test");
  EXPECT_EQ(reject("alert tcp any any -> any any (byte_test:9,=,1,0; sid:1;)").keyword,
            "byte_test");
  EXPECT_EQ(reject("alert tcp any any -> any any (byte_jump:4,0,dce; sid:1;)").keyword,
            "byte_jump");
  EXPECT_EQ(reject("alert tcp any any -> any any (isdataat:x; sid:1;)").keyword, "isdataat");
}

TEST(IdsRuleParser, ThresholdAndDetectionFilter) {
  Rule r = parse(
      "threshold:type limit, track by_src, count 1, seconds 60; "
      "detection_filter:track by_dst, count 5, seconds 10; sid:1;");
  EXPECT_EQ(r.threshold->type, Threshold::Type::Limit);
  EXPECT_EQ(r.threshold->seconds, 60u);
  EXPECT_EQ(r.detectionFilter->type, Threshold::Type::DetectionFilter);
  EXPECT_EQ(r.detectionFilter->track, Threshold::Track::ByDst);
  EXPECT_EQ(r.detectionFilter->count, 5u);
  EXPECT_EQ(reject("alert tcp any any -> any any (threshold:type limit, count 1; sid:1;)").keyword,
            "threshold");
}

TEST(IdsRuleParser, ErrorsCarryKeywordAndColumn) {
  // Columns are 1-based in the rule text.
  auto e = reject(R"(alert tcp any any -> any any (msg:"x"; ja3_hash; content:"a"; sid:1;))");
  EXPECT_EQ(e.keyword, "ja3_hash");
  EXPECT_EQ(e.message, "unsupported keyword");
  EXPECT_EQ(e.column, 40);
  e = reject(R"(alert smtp any any -> any any (sid:1;))");
  EXPECT_EQ(e.keyword, "protocol smtp");
  EXPECT_EQ(e.column, 7);
  e = reject(R"(alert tcp any any -> $NOPE any (sid:1;))");
  EXPECT_EQ(e.keyword, "header");
  EXPECT_EQ(e.column, 22);
  EXPECT_EQ(reject("alert tcp any any -> any any (msg:\"x\";)").keyword, "sid");
  EXPECT_EQ(reject("alert tcp any any -> any any (sid:1;").keyword, "header");
  EXPECT_EQ(reject("alert tcp any any -> any any (sid:1)").keyword, "sid");
  EXPECT_EQ(reject("alert tcp any any any -> any any (sid:1;)").keyword, "header");
  EXPECT_EQ(reject("log tcp any any -> any any (sid:1;)").keyword, "action");
  e = reject(R"(alert tcp any any -> any any (nocase; sid:1;))");
  EXPECT_EQ(e.keyword, "nocase");
  EXPECT_EQ(e.message, "needs a preceding content");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (content:"|4|"; sid:1;))").keyword, "content");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (content:"|zz|"; sid:1;))").keyword, "content");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (content:""; sid:1;))").keyword, "content");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (content:"abc"; depth:2; sid:1;))").keyword,
            "depth");
  EXPECT_EQ(
      reject(R"(alert tcp any any -> any any (content:"a"; offset:1; distance:2; sid:1;))").keyword,
      "distance");
  EXPECT_EQ(
      reject(R"(alert tcp any any -> any any (content:"a"; startswith; offset:1; sid:1;))").keyword,
      "offset");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (content:"a"; dotprefix; sid:1;))").keyword,
            "dotprefix");
  EXPECT_EQ(reject(R"(alert tcp any any -> any any (http.uri; sid:1;))").keyword, "http.uri");
  e = reject(R"(alert tcp any any -> any any (content:"a"; :1; sid:1;))");
  EXPECT_EQ(e.keyword, "option");
  EXPECT_EQ(e.column, 44);
  e = reject(R"(alert tcp any any -> any any (msg; sid:1;))");
  EXPECT_EQ(e.keyword, "msg");
  EXPECT_EQ(e.message, "needs a value");
}

}  // namespace
}  // namespace lbg::ids
