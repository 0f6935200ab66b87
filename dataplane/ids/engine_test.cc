#include "dataplane/ids/engine.h"

#include <gtest/gtest.h>

#include "dataplane/ids/http_head_buffers.h"

#include <algorithm>
#include <string>

namespace lbg::ids {
namespace {

std::span<const uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Fixture {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Scratch> scratch;
  FlowIdsState state;

  explicit Fixture(const std::string& rules, EngineConfig config = {}, uint8_t proto = 6,
                   AppProto app = AppProto::Unknown) {
    RuleSetBuilder b(Variables::defaults("10.0.0.0/8"));
    b.addRules(rules, "test.rules");
    auto set = std::move(b).build();
    EXPECT_TRUE(set->report().rejections.empty()) << set->report().format();
    auto e = Engine::create(set, config);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    engine = std::move(e.value());
    scratch = engine->makeScratch();
    state.tuple.client = *IpAddr::parse("10.1.1.1");
    state.tuple.server = *IpAddr::parse("203.0.113.5");
    state.tuple.clientPort = 40000;
    state.tuple.serverPort = 80;
    state.tuple.ipProto = proto;
    state.tuple.app = app;
    state.tuple.established = true;
  }
  ~Fixture() { engine->release(state); }

  ScanResult send(std::string_view data, Direction d = kToServer) {
    return engine->scanPayload(state, d, bytesOf(data), *scratch);
  }
  // As a pipeline with the packet in an mbuf: the data followed by readable bytes (here 'x's, so
  // a match reported past the data's end would show).
  ScanResult sendPadded(std::string_view data, Direction d = kToServer) {
    std::string padded = std::string(data) + std::string(Engine::kScanPad, 'x');
    return engine->scanPayload(state, d, bytesOf(padded).first(data.size()), *scratch,
                               Engine::kScanPad);
  }
};

std::vector<uint32_t> sids(const ScanResult& r) {
  return {r.sids.begin(), r.sids.begin() + r.sidCount};
}

// Sids in ascending order, for rules whose match order the test does not assert.
std::vector<uint32_t> sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(IdsEngine, PrefilterThenVerify) {
  Fixture f(
      "alert tcp any any -> any any (content:\"evil\"; content:\"payload\"; distance:1; sid:10;)\n"
      "alert tcp any any -> any any (content:\"other\"; sid:11;)\n");
  EXPECT_EQ(f.send("nothing here").action, Verdict::None);
  auto r = f.send("an evil-payload arrives");
  EXPECT_EQ(r.action, Verdict::Alert);
  EXPECT_EQ(sids(r), std::vector<uint32_t>{10});
  // The prefilter hits but the relative content is too close (distance:1 needs a gap).
  Fixture g(
      "alert tcp any any -> any any (content:\"evil\"; content:\"payload\"; distance:1; "
      "sid:10;)\n");
  EXPECT_EQ(g.send("evilpayload").action, Verdict::None);
}

TEST(IdsEngine, NoRealertOnTheTailOfTheStream) {
  Fixture f(
      "alert tcp any any -> any any (content:\"evil\"; content:\"payload\"; distance:1; within:9; "
      "sid:12;)\n");
  EXPECT_EQ(f.send("an evil-payload").action, Verdict::Alert);
  // The fast pattern repeats in the new chunk, but the only full match is the one already alerted.
  EXPECT_EQ(f.send(" payload").action, Verdict::None);
  EXPECT_EQ(f.send(" evil payload").action, Verdict::Alert);
}

TEST(IdsEngine, PatternSplitAcrossStreamChunks) {
  Fixture f(
      "drop tcp any any -> any any (flow:to_server; content:\"GET \"; depth:4; "
      "content:\"/secret-file\"; "
      "distance:0; sid:20;)\n");
  EXPECT_EQ(f.send("GET /sec").action, Verdict::None);
  auto r = f.send("ret-file HTTP/1.1\r\n");
  EXPECT_EQ(r.action, Verdict::Drop);
  EXPECT_EQ(sids(r), std::vector<uint32_t>{20});
  // The other direction is another stream: to_server rules do not apply there.
  EXPECT_EQ(f.send("GET /secret-file", kToClient).action, Verdict::None);
}

TEST(IdsEngine, ReleasedStreamsArePooledResetForTheNextFlow) {
  // release(state, scratch) keeps a flow's Hyperscan stream in the worker's scratch, reset: the
  // next flow on that database takes it and starts afresh (no prefilter hit from the old flow's
  // bytes: Hyperscan would report "secret-file" across the two flows' chunks otherwise).
  Fixture f("alert tcp any any -> any any (content:\"secret-file\"; sid:30;)\n");
  const FlowTuple tuple = f.state.tuple;
  EXPECT_EQ(f.send("GET /secret-").action, Verdict::None);
  hs_stream* first = f.state.stream[0];
  ASSERT_NE(first, nullptr);
  f.engine->release(f.state, *f.scratch);
  EXPECT_EQ(f.state.stream[0], nullptr);
  f.state = FlowIdsState{};
  f.state.tuple = tuple;
  EXPECT_EQ(f.send("file").action, Verdict::None);
  EXPECT_EQ(f.state.stream[0], first);  // the pooled stream
  EXPECT_EQ(f.engine->ruleStats(0).checks, 0u);  // nothing carried over from the first flow
  EXPECT_EQ(sids(f.send(" secret-file")), std::vector<uint32_t>{30});
  // A scratch of another engine never takes this engine's streams: they are closed.
  Fixture other("alert tcp any any -> any any (content:\"x\"; sid:31;)\n");
  f.engine->release(f.state, *other.scratch);
  EXPECT_EQ(f.state.stream[0], nullptr);
  EXPECT_EQ(sids(other.send("x")), std::vector<uint32_t>{31});
}

// A stream literal ending in a common word ("function ") is looked for by a prefix
// (PrefilterLiteral); a literal whose prefix ends in one segment and which ends in a later one
// still alerts there (the prefix is searched again in the tail), once, and never from the tail
// again afterwards.
TEST(IdsEngine, CutStreamLiteralEndingInALaterChunkStillMatches) {
  const std::string rule =
      "alert tcp any any -> any any (flow:to_client; content:\"|3b|if(ndsw===undefined){function "
      "\"; sid:14;)\n";
  const std::string lit = ";if(ndsw===undefined){function ";
  {  // whole in one chunk: once
    Fixture f(rule);
    EXPECT_EQ(sids(f.sendPadded("<script>" + lit + "x()", kToClient)), std::vector<uint32_t>{14});
    EXPECT_EQ(f.sendPadded("more text function here", kToClient).action, Verdict::None);
  }
  {  // the prefix ";if(ndsw===undefined){fun" in the first chunk, "ction " in the second
    Fixture f(rule);
    EXPECT_EQ(f.sendPadded("<script>" + lit.substr(0, 27), kToClient).action, Verdict::None);
    EXPECT_EQ(sids(f.sendPadded(lit.substr(27) + "x()", kToClient)), std::vector<uint32_t>{14});
    EXPECT_EQ(f.sendPadded("function ", kToClient).action, Verdict::None);
  }
  {  // ... and across three chunks, the middle one short, copied rather than in place
    Fixture f(rule);
    EXPECT_EQ(f.send("<script>" + lit.substr(0, 26), kToClient).action, Verdict::None);
    EXPECT_EQ(f.send(lit.substr(26, 2), kToClient).action, Verdict::None);
    EXPECT_EQ(sids(f.send(lit.substr(28) + "x()", kToClient)), std::vector<uint32_t>{14});
    EXPECT_EQ(f.send(" function ", kToClient).action, Verdict::None);
  }
  {  // the prefix alone, then something else: nothing
    Fixture f(rule);
    EXPECT_EQ(f.sendPadded("<script>" + lit.substr(0, 27), kToClient).action, Verdict::None);
    EXPECT_EQ(f.sendPadded("nothing ", kToClient).action, Verdict::None);
  }
}

// A rule's inspections after its fast pattern may arrive in a later segment than the fast
// pattern: an attacker who knows the rule splits there. The chunk they arrive in verifies the rule
// with the fast pattern in the previous chunk's tail, and alerts once.
TEST(IdsEngine, InspectionsAfterTheFastPatternInALaterChunkStillMatch) {
  const std::string rule =
      "drop tcp any any -> any any (content:\"cmd.exe /c powershell\"; content:\"-enc\"; "
      "distance:0; within:40; pcre:\"/^\\s+[A-Za-z0-9+\\/]{8}/R\"; sid:31;)\n";
  const std::string attack = "run cmd.exe /c powershell -nop -enc SQBFAFgAIAAo";
  for (size_t cut = 5; cut < attack.size(); ++cut) {  // every split point, in place and copied
    for (bool padded : {true, false}) {
      Fixture f(rule);
      auto send = [&](std::string_view d) { return padded ? f.sendPadded(d) : f.send(d); };
      const ScanResult first = send(attack.substr(0, cut));
      const ScanResult second = send(attack.substr(cut));
      EXPECT_EQ(sids(first).size() + sids(second).size(), 1u) << "cut " << cut;
      EXPECT_EQ(std::max(first.action, second.action), Verdict::Drop) << "cut " << cut;
      // The tail still holds the fast pattern; nothing new matches, nothing alerts again.
      EXPECT_EQ(send(" and more").action, Verdict::None) << "cut " << cut;
    }
  }
  {  // one byte per segment
    Fixture f(rule);
    int alerts = 0;
    for (char c : attack) alerts += int(sids(f.send(std::string(1, c))).size());
    EXPECT_EQ(alerts, 1);
  }
  {  // the later inspections never come: nothing
    Fixture f(rule);
    EXPECT_EQ(f.send("run cmd.exe /c powershell").action, Verdict::None);
    EXPECT_EQ(f.send(" -nop -File x.ps1").action, Verdict::None);
  }
  {  // a second match that reaches new bytes is a new match
    Fixture f("alert tcp any any -> any any (content:\"verylongfastpattern\"; content:\"tail\"; "
              "distance:0; sid:32;)\n");
    EXPECT_EQ(sids(f.send("verylongfastpattern tail")), std::vector<uint32_t>{32});
    EXPECT_EQ(f.send(" nothing").action, Verdict::None);
    EXPECT_EQ(sids(f.send(" tail")), std::vector<uint32_t>{32});
  }
}

// An attacker who knows a rule puts its contents far apart and sends the stream in small
// segments, so that the earlier content left long before the fast pattern arrives. A chunk is
// verified with the stream's last FlowIdsState::kStreamTail bytes before it (Suricata's inline
// raw inspection looks back about as far), so contents up to that far apart still match, however
// the stream is cut, and once.
TEST(IdsEngine, ContentsFarApartInSmallSegmentsStillMatch) {
  const std::string rule =
      "drop tcp any any -> any any (flow:to_server; content:\"POST\"; depth:4; "
      "content:\"/upload.php\"; distance:0; content:\"secret-token-xyz\"; distance:0; "
      "within:1500; sid:40;)\n";
  const std::string attack = "POST /upload.php HTTP/1.1\r\nX-Pad: " + std::string(1200, 'a') +
                             "\r\n\r\ntoken=secret-token-xyz";
  for (size_t segment : {size_t(1), size_t(7), size_t(100), size_t(536), attack.size()}) {
    for (bool padded : {true, false}) {
      Fixture f(rule);
      int alerts = 0;
      Verdict worst = Verdict::None;
      for (size_t at = 0; at < attack.size(); at += segment) {
        const std::string piece = attack.substr(at, segment);
        const ScanResult r = padded ? f.sendPadded(piece) : f.send(piece);
        alerts += int(sids(r).size());
        worst = std::max(worst, r.action);
      }
      EXPECT_EQ(alerts, 1) << "segments of " << segment;
      EXPECT_EQ(worst, Verdict::Drop) << "segments of " << segment;
    }
  }
  // The other way round: the fast pattern first, what the rule reads after it 1,500 bytes on.
  Fixture g("alert tcp any any -> any any (content:\"verylongfastpattern\"; content:\"tail\"; "
            "distance:1400; sid:41;)\n");
  EXPECT_EQ(g.send("verylongfastpattern").action, Verdict::None);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(g.send(std::string(100, 'b')).action, Verdict::None);
  EXPECT_EQ(sids(g.send("tail")), std::vector<uint32_t>{41});
  // Beyond the window the earlier content has gone: not matched (a known limit, as in Suricata).
  Fixture h("drop tcp any any -> any any (content:\"POST\"; depth:4; "
            "content:\"secret-token-xyz\"; distance:0; sid:42;)\n");
  const std::string far = "POST /upload.php HTTP/1.1\r\nX-Pad: " +
                          std::string(FlowIdsState::kStreamTail + 100, 'a') + "\r\n\r\n";
  for (size_t at = 0; at < far.size(); at += 100) EXPECT_EQ(h.send(far.substr(at, 100)).action,
                                                            Verdict::None);
  EXPECT_EQ(h.send("secret-token-xyz").action, Verdict::None);
}

// A flow that goes on with the next policy version's engine (Engine::detach, the pipeline's
// reload) keeps its stream positions: absolute positions still count from the stream's start,
// and the new engine's stream, opened mid-way, still carries a fast pattern to the chunk where
// what the rule reads after it arrives (Hyperscan's offsets count from where it opened).
TEST(IdsEngine, FlowDetachedToANewEngineKeepsItsStreamPositions) {
  const std::string rules =
      "alert tcp any any -> any any (content:\"MAGIC\"; offset:2; depth:5; sid:21;)\n"
      "drop tcp any any -> any any (content:\"cmd.exe /c powershell\"; content:\"-enc\"; "
      "distance:0; within:40; sid:31;)\n";
  for (const std::string before : {std::string("xx"), std::string(3000, 'y')}) {
    Fixture f(rules), next(rules);
    EXPECT_EQ(f.send(before).action, Verdict::None);
    f.engine->detach(f.state);
    EXPECT_EQ(f.state.streamBytes[0], before.size());
    auto send = [&](std::string_view d) {
      return next.engine->scanPayload(f.state, kToServer, bytesOf(d), *next.scratch);
    };
    if (before.size() == 2) {
      EXPECT_EQ(sids(send("MAGIC")), std::vector<uint32_t>{21});  // positions 2..6
    } else {
      EXPECT_EQ(send("MAGIC").action, Verdict::None);
      EXPECT_EQ(send("run cmd.exe /c powershell").action, Verdict::None);
      EXPECT_EQ(sids(send(" -enc SQBFAFgA")), std::vector<uint32_t>{31});
    }
    next.engine->release(f.state);
  }
}

// fast_pattern:o,l: the prefilter looks for a slice; the content goes on past it. A slice that
// ends in one segment with its content ending in the next still matches there.
TEST(IdsEngine, SlicedFastPatternWhoseContentEndsInALaterChunkStillMatches) {
  Fixture f(
      "alert tcp any any -> any any (content:\"abcdefghijklmnopqrstuvwxyz\"; fast_pattern:2,6; "
      "sid:33;)\n");
  EXPECT_EQ(f.send("xx abcdefghij").action, Verdict::None);
  EXPECT_EQ(f.send("klmnop").action, Verdict::None);
  EXPECT_EQ(sids(f.send("qrstuvwxyz")), std::vector<uint32_t>{33});
  EXPECT_EQ(f.send("abcdefgh").action, Verdict::None);
}

TEST(IdsEngine, SegmentsScannedInPlaceMatchAsCopies) {
  // A caller whose bytes are followed by Engine::kScanPad readable ones has them scanned in place;
  // the tail and the window for verification are the same as for a copy.
  Fixture f(
      "drop tcp any any -> any any (flow:to_server; content:\"GET \"; depth:4; "
      "content:\"/secret-file\"; distance:0; sid:20;)\n"
      "alert tcp any any -> any any (content:\"xx\"; sid:21;)\n");
  EXPECT_EQ(f.sendPadded("GET /sec").action, Verdict::None);
  auto r = f.sendPadded("ret-file HTTP/1.1\r\n");
  EXPECT_EQ(r.action, Verdict::Drop);
  EXPECT_EQ(sids(r), std::vector<uint32_t>{20});
  EXPECT_EQ(f.sendPadded("x").action, Verdict::None);  // the pad's 'x's are not the stream's
  EXPECT_EQ(sids(f.sendPadded("x")), std::vector<uint32_t>{21});
}

TEST(IdsEngine, AbsolutePositionsCountFromStreamStart) {
  Fixture f("alert tcp any any -> any any (content:\"MAGIC\"; offset:2; depth:5; sid:21;)\n");
  EXPECT_EQ(f.send("xx").action, Verdict::None);
  EXPECT_EQ(f.send("MAGIC").action, Verdict::Alert);  // stream positions 2..6
  Fixture g("alert tcp any any -> any any (content:\"MAGIC\"; offset:2; depth:5; sid:21;)\n");
  EXPECT_EQ(g.send("xxx").action, Verdict::None);
  EXPECT_EQ(g.send("MAGIC").action, Verdict::None);  // positions 3..7: outside
}

TEST(IdsEngine, NegatedContent) {
  Fixture f(
      "alert tcp any any -> any any (content:\"login\"; content:!\"safe\"; distance:0; sid:30;)\n");
  EXPECT_EQ(f.send("login user=safe").action, Verdict::None);
  Fixture g(
      "alert tcp any any -> any any (content:\"login\"; content:!\"safe\"; distance:0; sid:30;)\n");
  EXPECT_EQ(g.send("login user=root").action, Verdict::Alert);
}

TEST(IdsEngine, FlowbitsAcrossPackets) {
  Fixture f(
      "alert tcp any any -> any any (flow:to_server; content:\"HELLO\"; flowbits:set,hello; "
      "flowbits:noalert; sid:40;)\n"
      "alert tcp any any -> any any (flow:to_client; content:\"BYE\"; flowbits:isset,hello; "
      "sid:41;)\n"
      "alert tcp any any -> any any (flow:to_client; content:\"BYE\"; flowbits:isnotset,hello; "
      "sid:42;)\n");
  auto first = f.send("BYE", kToClient);
  EXPECT_EQ(sids(first), std::vector<uint32_t>{42});
  auto hello = f.send("HELLO");
  EXPECT_EQ(hello.action, Verdict::None);  // noalert
  EXPECT_TRUE(f.state.isSet(0));
  EXPECT_EQ(sids(f.send("BYE", kToClient)), std::vector<uint32_t>{41});
}

TEST(IdsEngine, FlowbitSetterRunsBeforeCheckerInOnePacket) {
  Fixture f(
      "alert tcp any any -> any any (content:\"B\"; flowbits:isset,x; sid:51;)\n"
      "alert tcp any any -> any any (content:\"A\"; flowbits:set,x; sid:50;)\n");
  auto r = f.send("AB");
  EXPECT_EQ(sids(r), (std::vector<uint32_t>{50, 51}));
}

// Suricata's order on one packet (detect-engine-sigorder.c; suricata-verify detect-flowbits):
// rules that only write flowbits, then those that read and write, then readers, then the rest;
// by sid within. Sid 8 (isnotset + set) runs after sid 7's unset and before the readers.
TEST(IdsEngine, FlowbitsFollowSuricatasRuleOrder) {
  Fixture f(
      "alert tcp any any -> any any (flowbits:set,fb1; sid:1;)\n"
      "alert tcp any any -> any any (flowbits:set,fb2; sid:2;)\n"
      "alert tcp any any -> any any (flowbits:isset,fb3|fb4; sid:3;)\n"
      "alert tcp any any -> any any (flowbits:isset,fb1|fb5; sid:5;)\n"
      "alert tcp any any -> any any (flowbits:isnotset,fb1|fb2; sid:6;)\n"
      "alert tcp any any -> any any (flowbits:unset,fb1; sid:7;)\n"
      "alert tcp any any -> any any (flowbits:noalert; flowbits:isnotset,fb1; flowbits:set,fb1; "
      "content:\"GET \"; sid:8;)\n"
      "alert tcp any any -> any any (flowbits:isset,fb1; sid:9;)\n"
      "alert tcp any any -> any any (flowbits:noalert; content:\"GET \"; sid:10;)\n"
      "alert tcp any any -> any any (flowbits:isset,fbt; content:\"GET \"; sid:11;)\n"
      "alert tcp any any -> any any (flowbits:isset,fb1; flowbits:isset,fb2; sid:12;)\n");
  EXPECT_EQ(sids(f.send("GET / HTTP/1.1\r\n\r\n")), (std::vector<uint32_t>{1, 2, 7, 5, 9, 12}));
}

// Action first (pass, drop, reject, alert), then priority (lower first), then sid.
TEST(IdsEngine, RulesRunByActionPriorityAndSid) {
  Fixture f(
      "alert tcp any any -> any any (content:\"x\"; sid:90; priority:2;)\n"
      "alert tcp any any -> any any (content:\"x\"; sid:80;)\n"
      "alert tcp any any -> any any (content:\"x\"; sid:85; priority:1;)\n"
      "reject tcp any any -> any any (content:\"x\"; sid:70;)\n"
      "drop tcp any any -> any any (content:\"x\"; sid:95;)\n");
  auto r = f.send("x");
  EXPECT_EQ(sids(r), (std::vector<uint32_t>{95, 70, 85, 90, 80}));
  EXPECT_EQ(r.action, Verdict::Reject);
}

TEST(IdsEngine, PassWinsAndActionsRank) {
  Fixture f(
      "alert tcp any any -> any any (content:\"x\"; sid:60;)\n"
      "drop tcp any any -> any any (content:\"x\"; sid:61;)\n"
      "reject tcp any any -> any any (content:\"y\"; sid:62;)\n"
      "pass tcp any any -> any any (content:\"trusted\"; sid:63;)\n");
  auto r = f.send("x");
  EXPECT_EQ(r.action, Verdict::Drop);
  EXPECT_EQ(sids(r), (std::vector<uint32_t>{61, 60}));
  EXPECT_EQ(f.send("xy").action, Verdict::Reject);
  auto p = f.send("x y trusted");
  EXPECT_EQ(p.action, Verdict::Pass);
  EXPECT_EQ(p.sidCount, 0);
}

TEST(IdsEngine, HeaderAddressesPortsAndProtocol) {
  Fixture f(
      "alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (content:\"a\"; sid:70;)\n"
      "alert tcp $EXTERNAL_NET 80 -> $HOME_NET any (content:\"b\"; sid:71;)\n"
      "alert udp any any -> any any (content:\"a\"; sid:72;)\n"
      "alert tcp any any -> any 443 (content:\"a\"; sid:73;)\n");
  EXPECT_EQ(sids(f.send("a")), std::vector<uint32_t>{70});
  EXPECT_EQ(sids(f.send("b", kToClient)), std::vector<uint32_t>{71});
  EXPECT_EQ(f.send("b").action, Verdict::None);  // client to server: header does not fit
}

TEST(IdsEngine, StreamDatabasesFollowTheFlowsAddressesAndPort) {
  // Each direction of a flow is scanned with the rules its two addresses and its server port can
  // match (groups by $HOME_NET / $EXTERNAL_NET and port here): every rule a flow can match must
  // still be found.
  EngineConfig config;
  config.groupMinRules = 1;  // tell apart every address set, however few rules use it
  Fixture f(
      "alert tcp $HOME_NET any -> $EXTERNAL_NET any (content:\"out\"; sid:1;)\n"
      "alert tcp $EXTERNAL_NET any -> $HOME_NET any (content:\"in\"; sid:2;)\n"
      "alert tcp any any <> $HOME_NET any (content:\"both\"; sid:3;)\n"
      "alert tcp [$HOME_NET,10.0.0.0/8] any -> any any (content:\"lan\"; sid:4;)\n"
      "alert tcp $HOME_NET any -> $HOME_NET any (content:\"lan\"; sid:5;)\n"
      "alert udp any any -> any any (content:\"out\"; sid:6;)\n"
      "alert tcp $HOME_NET any -> any 25565 (content:\"out\"; sid:7;)\n"
      "alert tcp any any <> any 8080 (content:\"lan\"; sid:8;)\n",
      config);
  struct Case {
    const char *client, *server;
    uint16_t clientPort, serverPort;  // 8080 has a group of its own, 25565 is among the others
    std::vector<uint32_t> toServer, toClient;
  };
  for (const Case& c : std::vector<Case>{
           {"10.1.1.1", "203.0.113.5", 40000, 80, {1, 3, 4}, {2, 3}},
           {"203.0.113.5", "10.1.1.1", 40000, 80, {2, 3}, {1, 3, 4}},
           {"10.1.1.1", "10.2.2.2", 40000, 80, {3, 4, 5}, {3, 4, 5}},
           {"203.0.113.5", "198.51.100.9", 40000, 80, {}, {}},
           {"10.1.1.1", "203.0.113.5", 40000, 25565, {1, 3, 4, 7}, {2, 3}},
           {"10.1.1.1", "203.0.113.5", 8080, 80, {1, 3, 4, 8}, {2, 3, 8}},  // `<>`: either side
           {"10.1.1.1", "203.0.113.5", 40000, 8080, {1, 3, 4, 8}, {2, 3, 8}},
       }) {
    f.engine->release(f.state);
    f.state = FlowIdsState{};
    f.state.tuple = {*IpAddr::parse(c.client), *IpAddr::parse(c.server), c.clientPort,
                     c.serverPort, 6, AppProto::Unknown, true};
    EXPECT_EQ(sorted(sids(f.send("out in both lan"))), c.toServer)
        << c.client << " " << c.server << ":" << c.serverPort;
    EXPECT_EQ(sorted(sids(f.send("out in both lan", kToClient))), c.toClient)
        << c.client << " " << c.server << ":" << c.serverPort;
    // Split across two chunks of the flow's stream: found by its database too.
    f.send("..o");
    f.send("u", kToClient);
    auto r = f.send("ut.");
    const bool out = !c.toServer.empty() && c.toServer.front() == 1;
    EXPECT_EQ(r.action, out ? Verdict::Alert : Verdict::None) << c.client;
  }
}

TEST(IdsEngine, EstablishedAndDsize) {
  Fixture f("alert tcp any any -> any any (flow:established; content:\"q\"; dsize:<4; sid:80;)\n");
  EXPECT_EQ(f.send("qqqq").action, Verdict::None);
  EXPECT_EQ(f.send("q").action, Verdict::Alert);
  f.state.tuple.established = false;
  EXPECT_EQ(f.send("q").action, Verdict::None);
}

TEST(IdsEngine, DatagramsAreBlocks) {
  Fixture f("alert udp any any -> any any (content:\"abc\"; depth:3; sid:90;)\n", {}, 17);
  EXPECT_EQ(f.send("abc").action, Verdict::Alert);
  EXPECT_EQ(f.send("abc").action, Verdict::Alert);  // each datagram from its own start
  EXPECT_EQ(f.send("xabc").action, Verdict::None);
}

TEST(IdsEngine, StreamDepthBound) {
  EngineConfig c;
  c.streamDepth = 8;
  Fixture f("alert tcp any any -> any any (content:\"needle\"; sid:100;)\n", c);
  EXPECT_FALSE(f.send("12345").depthExceeded);
  auto r = f.send("needle");  // only "nee" fits
  EXPECT_TRUE(r.depthExceeded);
  EXPECT_EQ(r.action, Verdict::None);
  EXPECT_TRUE(f.send("needle").depthExceeded);
}

TEST(IdsEngine, LongInputsAreScannedInPiecesOrFlagged) {
  EngineConfig c;
  c.maxChunk = 16;
  c.maxBuffer = 16;
  Fixture f("alert tcp any any -> any any (content:\"needle\"; sid:130;)\n", c);
  // 40 bytes, the pattern across the 16-byte pieces the stream is scanned in.
  auto r = f.send("0123456789abcdneedle456789abcdef01234567");
  EXPECT_EQ(sids(r), std::vector<uint32_t>{130});
  EXPECT_FALSE(r.depthExceeded);
  Fixture u("alert udp any any -> any any (content:\"needle\"; sid:131;)\n", c, 17);
  auto big = u.send("0123456789abcdefneedle");  // beyond maxBuffer: flagged, not silently passed
  EXPECT_TRUE(big.depthExceeded);
  EXPECT_EQ(big.action, Verdict::None);
  EXPECT_FALSE(u.send("needle").depthExceeded);
}

// http.response_body and file.data share one prefilter database (Engine::prefilterBuffer): a
// body given as both is scanned once and matches the rules of both; given as one of them only,
// it never matches the other's rules.
TEST(IdsEngine, ResponseBodyAndFileDataShareOneScanButNotTheirRules) {
  Fixture f(
      "alert http any any -> any any (flow:to_client; file.data; content:\"MZ\"; startswith; "
      "content:\"This program\"; distance:0; sid:120;)\n"
      "alert http any any -> any any (flow:to_client; http.response_body; content:\"This program\"; "
      "sid:121;)\n"
      "alert http any any -> any any (flow:to_client; http.response_body; content:\"MZ\"; "
      "startswith; sid:122;)\n",
      {}, 6, AppProto::Http);
  const std::string body = "MZ\x90\x03 This program cannot be run in DOS mode";
  BufferSet both;
  both.set(Buffer::HttpResponseBody, body);
  both.set(Buffer::FileData, body);
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, both, *f.scratch)),
            (std::vector<uint32_t>{120, 121, 122}));
  BufferSet fileOnly;
  fileOnly.set(Buffer::FileData, body);
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, fileOnly, *f.scratch)),
            std::vector<uint32_t>{120});
  BufferSet bodyOnly;
  bodyOnly.set(Buffer::HttpResponseBody, body);
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, bodyOnly, *f.scratch)),
            (std::vector<uint32_t>{121, 122}));
  // Two different bodies: each scanned, each rule on its own.
  BufferSet apart;
  apart.set(Buffer::HttpResponseBody, std::string_view("nothing here"));
  apart.set(Buffer::FileData, body);
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, apart, *f.scratch)),
            std::vector<uint32_t>{120});
  apart.set(Buffer::HttpResponseBody, body);
  apart.set(Buffer::FileData, std::string_view("nothing here"));
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, apart, *f.scratch)),
            (std::vector<uint32_t>{121, 122}));
}

// A buffer with its own padding (BufferSet::setPadded: a response body in its slot) is scanned in
// place: the same candidates as from a copy, the bytes after it never matched, a body longer
// than maxBuffer prefiltered on its first maxBuffer bytes and flagged.
TEST(IdsEngine, PaddedBuffersScannedInPlaceMatchAsCopies) {
  EngineConfig c;
  c.maxBuffer = 32;
  Fixture f(
      "alert http any any -> any any (flow:to_client; file.data; content:\"needle\"; sid:126;)\n"
      "alert http any any -> any any (flow:to_client; http.response_body; content:\"needle\"; "
      "sid:127;)\n",
      c, 6, AppProto::Http);
  auto scan = [&](std::string_view body, std::string_view after) {
    const std::string slot = std::string(body) + std::string(after) +
                             std::string(Engine::kScanPad, 'x');
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(slot.data()),
                                         body.size());
    BufferSet b;
    b.setPadded(Buffer::HttpResponseBody, bytes);
    b.setPadded(Buffer::FileData, bytes);
    return f.engine->scanBuffers(f.state, kToClient, b, *f.scratch);
  };
  EXPECT_EQ(sids(scan("<p>a needle here</p>", "")), (std::vector<uint32_t>{126, 127}));
  EXPECT_EQ(scan("<p>a needl", "e here</p>").action, Verdict::None);
  const auto big = scan("0123456789abcdef0123456789abcdefneedle", "");
  EXPECT_TRUE(big.depthExceeded);
  EXPECT_EQ(big.action, Verdict::None);
}

// A sticky buffer's database may look for a prefix of the fast pattern (prefilter_literal.h:
// "Information" is a common ending): the rule still needs its whole content, and a body with the
// whole content still alerts.
TEST(IdsEngine, StickyFastPatternLookedForByItsPrefixStillMatchesWhole) {
  Fixture f(
      "alert http any any -> any any (flow:to_client; file.data; content:\"Update Billing "
      "Information\"; nocase; sid:125;)\n",
      {}, 6, AppProto::Http);
  BufferSet body;
  body.set(Buffer::FileData, std::string_view("<p>Please update billing information now</p>"));
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToClient, body, *f.scratch)),
            std::vector<uint32_t>{125});
  // The prefix alone ("Update Billing In") is a candidate, verified and not matched.
  body.set(Buffer::FileData, std::string_view("<p>Update Billing Info</p>"));
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToClient, body, *f.scratch).action, Verdict::None);
  EXPECT_EQ(f.engine->ruleStats(0).checks, 2u);
  EXPECT_EQ(f.engine->ruleStats(0).matches, 1u);
}

// urilen (http.uri's length) beside a content in another buffer.
TEST(IdsEngine, UrilenBoundsTheUriLength) {
  Fixture f("alert http any any -> any any (flow:to_server; http.method; content:\"POST\"; "
            "urilen:<8; sid:130;)\n",
            {}, 6, AppProto::Http);
  BufferSet req;
  req.set(Buffer::HttpMethod, "POST");
  req.set(Buffer::HttpUri, "/a.php");
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch)),
            std::vector<uint32_t>{130});
  req.set(Buffer::HttpUri, "/longer.php");
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch).action, Verdict::None);
}

// A buffer given as a prefix (an upload's body before its end): only drop/reject rules whose
// match on the prefix is a match on any longer buffer are judged; the others wait for the whole.
TEST(IdsEngine, PrefixesJudgeOnlyRulesAPrefixCannotFool) {
  Fixture f(
      "drop http any any -> any any (http.request_body; content:\"LEAK\"; sid:201;)\n"
      "drop http any any -> any any (http.request_body; content:\"LEAK\"; endswith; sid:202;)\n"
      "drop http any any -> any any (http.request_body; content:\"LEAK\"; content:!\"OK\"; "
      "sid:203;)\n"
      "alert http any any -> any any (http.request_body; content:\"LEAK\"; sid:204;)\n"
      "drop http any any -> any any (http.request_body; content:\"LEAK\"; "
      "flowbits:set,seen; sid:205;)\n"
      "drop http any any -> any any (http.request_body; pcre:\"/LEAK$/\"; sid:206;)\n"
      "drop http any any -> any any (http.method; content:\"PUT\"; http.request_body; "
      "content:\"LEAK\"; isdataat:1,relative; sid:207;)\n",
      {}, 6, AppProto::Http);
  const uint32_t body = Engine::bufferBit(Buffer::HttpRequestBody);
  EXPECT_TRUE(f.engine->blocksEarly(Buffer::HttpRequestBody));
  EXPECT_FALSE(f.engine->blocksEarly(Buffer::HttpUri));
  BufferSet req;
  req.set(Buffer::HttpMethod, "PUT");
  req.set(Buffer::HttpRequestBody, "a=LEAKxy");
  EXPECT_EQ(sorted(sids(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch, body, body))),
            (std::vector<uint32_t>{201, 207}));
  EXPECT_EQ(f.state.flowbitCount, 0);  // 205 was not judged: its flowbit is not written
  // The whole body: every rule is judged.
  EXPECT_EQ(sorted(sids(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch, body))),
            (std::vector<uint32_t>{201, 203, 204, 205, 207}));
  // earlyHit: new bytes holding an early rule's fast pattern, not others'.
  const std::string leak = "xxLEAKxx", other = "nothing here";
  EXPECT_TRUE(f.engine->earlyHit(Buffer::HttpRequestBody, kToServer,
                                 {reinterpret_cast<const uint8_t*>(leak.data()), leak.size()},
                                 *f.scratch));
  EXPECT_FALSE(f.engine->earlyHit(Buffer::HttpRequestBody, kToServer,
                                  {reinterpret_cast<const uint8_t*>(other.data()), other.size()},
                                  *f.scratch));
}

TEST(IdsEngine, StickyBuffersAcrossOneTransaction) {
  Fixture f(
      "alert http any any -> any any (flow:to_server; http.method; content:\"POST\"; http.uri; "
      "content:\"/gate.php\"; endswith; fast_pattern; http.host; bsize:<20; sid:110;)\n"
      "alert dns any any -> any any (dns.query; dotprefix; content:\".evil.example\"; nocase; "
      "endswith; sid:111;)\n"
      "alert tls any any -> any any (tls.sni; content:\"bad.example\"; startswith; bsize:11; "
      "sid:112;)\n",
      {}, 6, AppProto::Http);
  BufferSet req;
  req.set(Buffer::HttpMethod, "POST");
  req.set(Buffer::HttpUri, "/x/gate.php");
  req.set(Buffer::HttpHost, "c2.example");
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch)),
            std::vector<uint32_t>{110});
  req.set(Buffer::HttpMethod, "GET");
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch).action, Verdict::None);
  req.set(Buffer::HttpMethod, "POST");
  req.set(Buffer::HttpUri, "/gate.php?x=1");  // not at the end
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToServer, req, *f.scratch).action, Verdict::None);

  f.state.tuple.app = AppProto::Dns;
  BufferSet q;
  q.set(Buffer::DnsQuery, "WWW.Evil.Example");
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToServer, q, *f.scratch)),
            std::vector<uint32_t>{111});
  q.set(Buffer::DnsQuery, "evil.example");  // dotprefix: the name itself matches too
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToServer, q, *f.scratch)),
            std::vector<uint32_t>{111});
  q.set(Buffer::DnsQuery, "notevil.example");
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToServer, q, *f.scratch).action, Verdict::None);

  f.state.tuple.app = AppProto::Tls;
  BufferSet hello;
  hello.set(Buffer::TlsSni, "bad.example");
  EXPECT_EQ(sids(f.engine->scanBuffers(f.state, kToServer, hello, *f.scratch)),
            std::vector<uint32_t>{112});
  hello.set(Buffer::TlsSni, "bad.example.org");
  EXPECT_EQ(f.engine->scanBuffers(f.state, kToServer, hello, *f.scratch).action, Verdict::None);
}

TEST(IdsEngine, RulesWithoutFastPatternAreAlwaysTried) {
  Fixture f("alert tcp any any -> any any (pcre:\"/^ab+c/\"; sid:120;)\n");
  EXPECT_EQ(f.send("abbbc").action, Verdict::Alert);
}

TEST(IdsEngine, RulesWithoutFastPatternAreFiledByTransport) {
  // Tried for the flows their protocol fits: TCP segments and datagrams have lists of their own.
  const std::string rules =
      "alert udp $HOME_NET any -> any any (dsize:>0; sid:121;)\n"
      "alert tcp $HOME_NET any -> any any (dsize:>0; sid:122;)\n"
      "alert ip any any -> any any (dsize:>0; sid:123;)\n"
      "alert dns any any -> any any (dsize:>0; sid:124;)\n"
      "alert tcp any any -> any any (dsize:>0; sid:125;)\n"
      "alert udp any any -> any any (dsize:>0; sid:126;)\n";
  Fixture tcp(rules, {}, 6, AppProto::Dns);
  EXPECT_EQ(sorted(sids(tcp.send("q"))), (std::vector<uint32_t>{122, 123, 124, 125}));
  EXPECT_EQ(sorted(sids(tcp.send("r", kToClient))), (std::vector<uint32_t>{123, 124, 125}));
  Fixture udp(rules, {}, 17, AppProto::Dns);
  EXPECT_EQ(sorted(sids(udp.send("q"))), (std::vector<uint32_t>{121, 123, 124, 126}));
  EXPECT_EQ(sorted(sids(udp.send("r", kToClient))), (std::vector<uint32_t>{123, 124, 126}));
}

// Rules without a content that list addresses (IP reputation) are found through the address
// index: by either address of the flow, a host or a shorter prefix, in both directions, and a
// bidirectional rule too; one whose lists are only negations stays tried on every scan.
TEST(IdsEngine, AddressListRulesWithoutContentAreIndexed) {
  Fixture f(
      "alert ip $HOME_NET any -> [198.51.100.7,203.0.113.5] any (msg:\"host\"; sid:130;)\n"
      "alert ip [203.0.0.0/8] any -> $HOME_NET any (msg:\"prefix\"; sid:131;)\n"
      "alert ip [192.0.2.0/24,203.0.113.0/25] any <> any any (msg:\"bidir\"; sid:132;)\n"
      "alert ip [198.51.100.0/24] any -> any any (msg:\"other net\"; sid:133;)\n"
      "alert ip any any -> ![203.0.113.0/24] any (msg:\"negated\"; sid:134;)\n"
      "alert tcp $HOME_NET any -> [203.0.113.5] 443 (msg:\"port\"; sid:135;)\n"
      "alert ip $HOME_NET any -> [10.1.1.1,10.9.9.9] any (msg:\"inside\"; sid:136;)\n");
  // Client 10.1.1.1 -> server 203.0.113.5:80. Sid 136 is filed under its hosts, not $HOME_NET,
  // and never matches: both its sides need an inside address.
  EXPECT_EQ(sorted(sids(f.send("x"))), (std::vector<uint32_t>{130, 132}));
  EXPECT_EQ(sorted(sids(f.send("y", kToClient))), (std::vector<uint32_t>{131, 132, 134}));
  // Later packets use what the flow remembered of the lookups: the same rules.
  EXPECT_EQ(sorted(sids(f.send("x2"))), (std::vector<uint32_t>{130, 132}));
  EXPECT_EQ(sorted(sids(f.send("y2", kToClient))), (std::vector<uint32_t>{131, 132, 134}));
  f.engine->release(f.state);
  f.state = FlowIdsState{};  // another flow: to 198.51.100.9
  f.state.tuple = {*IpAddr::parse("10.1.1.1"), *IpAddr::parse("198.51.100.9"), 40000, 80, 6,
                   AppProto::Unknown, true};
  EXPECT_EQ(sorted(sids(f.send("z"))), (std::vector<uint32_t>{134}));
  EXPECT_EQ(sorted(sids(f.send("w", kToClient))), (std::vector<uint32_t>{133, 134}));
}

// A flow's address-index lookups happen on its first scan per direction; later scans queue
// what it remembered (no hashing), for the engine that found it: another engine (a new policy
// version) looks again. More lists than the flow can remember: looked up on every scan.
TEST(IdsEngine, AddressIndexHitsAreRememberedPerFlowAndEngine) {
  const std::string rules =
      "alert ip [198.51.100.7] any -> $HOME_NET any (msg:\"listed\"; sid:150;)\n";
  Fixture f(rules);
  EXPECT_EQ(f.send("x", kToClient).action, Verdict::None);  // 203.0.113.5 is not listed
  EXPECT_EQ(f.state.addressHitCount[1], 0);                  // [1]: towards the client
  EXPECT_EQ(f.state.addressHitCount[0], FlowIdsState::kAddressHitsUnknown);
  EXPECT_EQ(f.send("y", kToClient).action, Verdict::None);
  Fixture g(rules);
  g.state.tuple.server = *IpAddr::parse("198.51.100.7");
  EXPECT_EQ(sids(g.send("z", kToClient)), std::vector<uint32_t>{150});
  EXPECT_EQ(g.state.addressHitCount[1], 1);
  EXPECT_EQ(sids(g.send("z", kToClient)), std::vector<uint32_t>{150});
  Fixture h(rules);
  h.state.tuple.server = *IpAddr::parse("198.51.100.7");
  h.state.addressIndexEngine = f.state.addressIndexEngine;  // another engine's miss
  h.state.addressHitCount[1] = 0;
  EXPECT_EQ(sids(h.send("z", kToClient)), std::vector<uint32_t>{150});
  EXPECT_EQ(h.state.addressHitCount[1], 1);

  std::string many;
  for (int i = 0; i < 6; ++i)  // six prefix lengths that all contain 198.51.100.7
    many += "alert ip [198.51.100.7/" + std::to_string(32 - i) +
            "] any -> $HOME_NET any (msg:\"n\"; sid:" + std::to_string(160 + i) + ";)\n";
  Fixture m(many);
  m.state.tuple.server = *IpAddr::parse("198.51.100.7");
  for (int round = 0; round < 2; ++round) {
    auto got = sids(m.send("q", kToClient));
    EXPECT_EQ(got.size(), 6u);
    EXPECT_EQ(m.state.addressHitCount[1], FlowIdsState::kAddressHitsMany);
  }
}

// Per-rule counters: a rule verified after a prefilter hit counts a check (and its time), a
// match also a match; a rule whose fast pattern never appears counts nothing.
TEST(IdsEngine, PerRuleCountersCountChecksAndMatches) {
  Fixture f(
      "alert tcp any any -> any any (content:\"evil\"; content:\"payload\"; distance:0; "
      "sid:140;)\n"
      "alert tcp any any -> any any (content:\"never-seen\"; sid:141;)\n");
  f.send("a harmless payload");  // the fast pattern (the longest content) alone
  f.send("evil payload");
  uint32_t i140 = f.engine->rule(0).sid == 140 ? 0 : 1;
  const RuleStats a = f.engine->ruleStats(i140), b = f.engine->ruleStats(1 - i140);
  EXPECT_EQ(a.checks, 2u);
  EXPECT_EQ(a.matches, 1u);
  EXPECT_GT(a.cycles, 0u);
  EXPECT_EQ(b.checks, 0u);
  EXPECT_EQ(b.matches, 0u);
  // The report: totals, and only the rules verified at least once.
  const RuleCostReport report = f.engine->ruleCosts(10);
  EXPECT_TRUE(report.enabled);
  EXPECT_EQ(report.rules, 2u);
  EXPECT_EQ(report.rulesChecked, 1u);
  EXPECT_EQ(report.rulesMatched, 1u);
  EXPECT_EQ(report.total.checks, 2u);
  ASSERT_EQ(report.top.size(), 1u);
  EXPECT_EQ(report.top[0].sid, 140u);
  EXPECT_EQ(report.top[0].stats.matches, 1u);
  EXPECT_TRUE(f.engine->ruleCosts(0).top.empty());
}

TEST(IdsEngine, PcreThatDoesNotCompileIsReported) {
  RuleSetBuilder b;
  b.addRules(
      "alert tcp any any -> any any (content:\"a\"; pcre:\"/(unclosed/\"; sid:1;)\n"
      "alert tcp any any -> any any (content:\"a\"; sid:2;)\n",
      "p.rules");
  auto e = Engine::create(std::move(b).build());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value()->ruleCount(), 1u);
  ASSERT_EQ(e.value()->report().rejections.size(), 1u);
  EXPECT_EQ(e.value()->report().rejections[0].keyword, "pcre");
  EXPECT_EQ(e.value()->report().rejections[0].line, 1);
}

TEST(IdsEngine, SidListIsBounded) {
  std::string rules;
  for (int i = 1; i <= 10; ++i)
    rules += "alert tcp any any -> any any (content:\"z\"; sid:" + std::to_string(i) + ";)\n";
  Fixture f(rules);
  auto r = f.send("z");
  EXPECT_EQ(r.sidCount, ScanResult::kMaxSids);
  EXPECT_TRUE(r.truncated);
}

// TLS flows: payload is scanned up to the first encrypted application_data record (the server's,
// or the client's once the server's handshake began: earlier ones are 0-RTT data, still scanned),
// in both directions from then on; a record header split across chunks is followed; a stream that
// is not TLS records stays scanned; EngineConfig::inspectEncryptedTls scans everything.
std::string record(uint8_t type, std::string_view body) {
  std::string r = {char(type), 3, 3, char(body.size() >> 8), char(body.size() & 0xff)};
  return r + std::string(body);
}

TEST(IdsEngine, TlsPayloadIsScannedUntilEncryptedRecordsBegin) {
  const std::string rules = "alert tcp any any -> any any (content:\"secret\"; sid:170;)\n";
  {
    Fixture f(rules, {}, 6, AppProto::Tls);
    EXPECT_EQ(sids(f.send(record(22, "hello secret"))), std::vector<uint32_t>{170});
    EXPECT_EQ(sids(f.send(record(23, "early secret"))), std::vector<uint32_t>{170});  // 0-RTT
    auto flight = record(22, "server hello");
    auto r = f.send(flight + record(23, "secret"), kToClient);
    EXPECT_TRUE(r.encrypted);
    EXPECT_EQ(r.action, Verdict::None);
    EXPECT_TRUE(f.send("secret").encrypted);  // the client's side ends too
    EXPECT_EQ(f.send("secret", kToClient).action, Verdict::None);
  }
  {
    // The bytes before the encrypted record, in the same chunk, are still scanned; a header
    // split across chunks is followed.
    Fixture f(rules, {}, 6, AppProto::Tls);
    auto flight = record(22, "secret") + record(20, "x") + record(23, "enc");
    EXPECT_FALSE(f.send(flight.substr(0, 9), kToClient).encrypted);
    auto r = f.send(flight.substr(9, 10), kToClient);  // ends inside the type-23 header
    EXPECT_EQ(sids(r), std::vector<uint32_t>{170});
    EXPECT_FALSE(r.encrypted);
    EXPECT_TRUE(f.send(flight.substr(19) + "secret", kToClient).encrypted);
  }
  {
    Fixture f(rules, {}, 6, AppProto::Tls);  // not TLS records: followed no more, scanned
    EXPECT_EQ(sids(f.send("GET /secret HTTP/1.1\r\n\r\n", kToClient)), std::vector<uint32_t>{170});
    EXPECT_EQ(sids(f.send(record(23, "secret"), kToClient)), std::vector<uint32_t>{170});
  }
  {
    Fixture f(rules);  // application unknown: every byte
    EXPECT_EQ(sids(f.send(record(23, "secret"), kToClient)), std::vector<uint32_t>{170});
  }
  {
    EngineConfig full;
    full.inspectEncryptedTls = true;
    Fixture f(rules, full, 6, AppProto::Tls);
    EXPECT_EQ(sids(f.send(record(23, "secret"), kToClient)), std::vector<uint32_t>{170});
    EXPECT_FALSE(f.state.encrypted);
  }
}

// threshold/detection_filter in the engine: a suppressed match neither alerts nor acts, but its
// flowbits are written; windows follow Engine::setTime and the packet's addresses.
TEST(IdsEngine, ThresholdAndDetectionFilterAreApplied) {
  Fixture f(
      "alert tcp any any -> any any (content:\"lim\"; threshold:type limit, track by_src, "
      "count 1, seconds 60; sid:180;)\n"
      "drop tcp any any -> any any (content:\"df\"; detection_filter:track by_dst, count 2, "
      "seconds 60; sid:181;)\n"
      "alert tcp any any -> any any (content:\"bit\"; flowbits:set,b; threshold:type threshold, "
      "track by_rule, count 2, seconds 60; sid:182;)\n"
      "alert tcp any any -> any any (content:\"chk\"; flowbits:isset,b; sid:183;)\n");
  Engine::setTime(*f.scratch, 1'000'000'000ull);
  EXPECT_EQ(sids(f.send("lim")), std::vector<uint32_t>{180});
  EXPECT_EQ(f.send("lim").action, Verdict::None);
  EXPECT_EQ(f.send("df").action, Verdict::None);
  EXPECT_EQ(f.send("df").action, Verdict::None);
  auto third = f.send("df");
  EXPECT_EQ(third.action, Verdict::Drop);
  EXPECT_EQ(sids(third), std::vector<uint32_t>{181});
  EXPECT_EQ(sids(f.send("bit chk")), std::vector<uint32_t>{183});  // 182 suppressed, bit set
  EXPECT_EQ(sids(f.send("bit")), std::vector<uint32_t>{182});
  Engine::setTime(*f.scratch, 62'000'000'000ull);  // a new window
  EXPECT_EQ(sids(f.send("lim")), std::vector<uint32_t>{180});
  EXPECT_FALSE(f.send("lim").thresholdFull);
}

// http.uri is the target normalised as Suricata does (http_uri.h), built from a request head as
// the pipeline builds it: the usual evasions of a rule on /evil.php match it, and http.uri.raw
// (and urilen:...,raw) still read the target as sent.
TEST(IdsEngine, HttpUriNormalisedAndRaw) {
  Fixture f(
      "alert http any any -> any any (flow:to_server; http.uri; content:\"/evil.php\"; "
      "startswith; sid:140;)\n"
      "alert http any any -> any any (flow:to_server; http.uri.raw; content:\"%65vil\"; "
      "sid:141;)\n"
      "alert http any any -> any any (flow:to_server; urilen:>20,raw; sid:142;)\n",
      {}, 6, AppProto::Http);
  auto scratch = std::make_unique<HttpHeadScratch>();
  auto scan = [&](const std::string& target) {
    const std::string head = "GET " + target + " HTTP/1.1\r\nHost: h.example\r\n\r\n";
    BufferSet b;
    EXPECT_GT(fillHttpHeadBuffers(bytesOf(head), *scratch, b), 0u);
    return sorted(sids(f.engine->scanBuffers(f.state, kToServer, b, *f.scratch)));
  };
  using V = std::vector<uint32_t>;
  EXPECT_EQ(scan("/evil.php"), V{140});
  EXPECT_EQ(scan("/%65vil.php"), (V{140, 141}));
  EXPECT_EQ(scan("/a/../evil.php"), V{140});
  EXPECT_EQ(scan("//evil.php"), V{140});
  EXPECT_EQ(scan("/x/%2e%2e\\evil.php?q=1"), (V{140, 142}));  // raw length 24
  EXPECT_EQ(scan("http://h.example/evil.php"), (V{140, 142}));
  EXPECT_EQ(scan("/good.php"), V{});
}

}  // namespace
}  // namespace lbg::ids
