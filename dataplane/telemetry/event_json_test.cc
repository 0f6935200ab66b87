#include "dataplane/telemetry/event_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dataplane/telemetry/counters.h"

namespace lbg::telemetry {
namespace {

Event verdictEvent() {
  Event e{};
  e.kind = EventKind::FlowVerdict;
  e.action = Action::Deny;
  e.reason = Reason::NoMatch;
  e.appProto = AppProto::Tls;
  e.proto = 6;
  e.srcPort = 40000;
  e.dstPort = 443;
  e.timestampNs = 1795000000123456789ull;
  e.flowId = 42;
  e.policyVersion = 7;
  e.src = *IpAddr::parse("10.1.2.3");
  e.dst = *IpAddr::parse("2001:db8::1");
  e.hasSni = true;
  Event::copyText(e.name, e.nameLen, sizeof(e.name), "evil\"name\x01\xff.example");
  return e;
}

TEST(EventJson, AlertHasSuricataEveAlertShape) {
  Event e = verdictEvent();
  e.kind = EventKind::Alert;
  e.appProto = AppProto::Http;
  e.sigId = 2100498;
  e.sigRev = 7;
  e.sigGid = 1;
  e.severity = 2;
  e.blocked = true;
  Event::copyText(e.name, e.nameLen, sizeof(e.name), "GPL ATTACK_RESPONSE id check returned root");
  Event::copyText(e.detail, e.detailLen, sizeof(e.detail), "Potentially Bad Traffic");
  std::string out;
  appendEventJson(e, out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["event_type"], "alert");
  EXPECT_EQ(j["flow_id"], 42);
  EXPECT_EQ(j["src_ip"], "10.1.2.3");
  EXPECT_EQ(j["app_proto"], "http");
  EXPECT_EQ(j["alert"]["action"], "blocked");
  EXPECT_EQ(j["alert"]["gid"], 1);
  EXPECT_EQ(j["alert"]["signature_id"], 2100498);
  EXPECT_EQ(j["alert"]["rev"], 7);
  EXPECT_EQ(j["alert"]["signature"], "GPL ATTACK_RESPONSE id check returned root");
  EXPECT_EQ(j["alert"]["category"], "Potentially Bad Traffic");
  EXPECT_EQ(j["alert"]["severity"], 2);
  EXPECT_EQ(j["policy"]["version"], 7);
  EXPECT_EQ(j["measure"], "AP-IDS");
  EXPECT_FALSE(j.contains("phase"));
}

TEST(EventJson, VerdictIsValidJsonWithEveFieldNames) {
  std::string out;
  appendEventJson(verdictEvent(), out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["event_type"], "flow");
  EXPECT_EQ(j["phase"], "verdict");
  EXPECT_EQ(j["src_ip"], "10.1.2.3");
  EXPECT_EQ(j["dest_ip"], "2001:db8::1");
  EXPECT_EQ(j["dest_port"], 443);
  EXPECT_EQ(j["proto"], "TCP");
  EXPECT_EQ(j["action"], "deny");
  EXPECT_EQ(j["reason"], "no-match");
  EXPECT_TRUE(j["policy"]["service"].is_null());
  EXPECT_EQ(j["policy"]["version"], 7);
  // Control and non-ASCII bytes from the wire are escaped, never passed raw.
  EXPECT_EQ(j["tls"]["sni"], "evil\"name\x01\u00ff.example");
  EXPECT_EQ(j["timestamp"], "2026-11-18T11:06:40.123456Z");
}

TEST(EventJson, EndCarriesCountersAndReasonDetail) {
  Event e = verdictEvent();
  e.kind = EventKind::FlowEnd;
  e.reason = Reason::Ambiguous;
  Event::copyText(e.detail, e.detailLen, sizeof(e.detail), "multiple-server-names");
  e.pkts[0] = 3;
  e.bytes[1] = 900;
  e.startNs = e.timestampNs - 5'000'000'000ull;
  e.endNs = e.timestampNs;
  e.endReason = EndReason::Timeout;
  e.tcpState = 3;
  std::string out;
  appendEventJson(e, out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["reason"], "ambiguous:multiple-server-names");
  EXPECT_EQ(j["flow"]["pkts_toserver"], 3);
  EXPECT_EQ(j["flow"]["bytes_toclient"], 900);
  EXPECT_EQ(j["flow"]["age"], 5);
  EXPECT_EQ(j["flow"]["state"], "established");
  EXPECT_EQ(j["flow"]["reason"], "timeout");
}

TEST(EventJson, TextIsTruncatedToItsField) {
  Event e{};
  const std::string longName(400, 'a');
  Event::copyText(e.name, e.nameLen, sizeof(e.name), longName);
  EXPECT_EQ(e.nameLen, sizeof(e.name));
}

// Every reason the pipeline can set is logged with its vocabulary name and its measure, and reads
// back to the same row (what lbg-audit does).
TEST(EventJson, EveryReasonIsLoggedWithItsNameAndMeasure) {
  for (const auto& info : kReasons) {
    for (bool withDetail : {false, true}) {
      Event e = verdictEvent();
      e.reason = info.reason;
      if (withDetail) Event::copyText(e.detail, e.detailLen, sizeof(e.detail), "two-names");
      std::string out;
      appendEventJson(e, out);
      const auto j = nlohmann::json::parse(out);
      const std::string logged = j["reason"];
      EXPECT_EQ(logged, withDetail ? std::string(info.name) + ":two-names" : std::string(info.name));
      EXPECT_EQ(findReason(logged), &info);
      EXPECT_EQ(j["measure"], toString(info.measure)) << info.name;
    }
  }
}

#define TEST_COUNTERS(X) X(alpha, "first") X(beta, "second")
LBG_DECLARE_COUNTERS(TestCounters, TEST_COUNTERS);

TEST(Counters, DeclaredOnceWithNamesAndHelp) {
  TestCounters a, b;
  a.alpha = 2;
  b.alpha = 3;
  b.beta = 5;
  a.add(b);
  std::string seen;
  a.forEach([&](const CounterInfo& info, uint64_t v) {
    seen += std::string(info.name) + "=" + std::to_string(v) + "(" + std::string(info.help) + ");";
  });
  EXPECT_EQ(seen, "alpha=5(first);beta=5(second);");
  EXPECT_EQ(TestCounters::kCount, 2u);
}

}  // namespace
}  // namespace lbg::telemetry
