// The inspector tables: which inspector claims which bytes, and what each returns at the edges
// that the pipeline relies on (need more, the capacity bound, no name).

#include "dataplane/inspect/inspector.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::inspect {
namespace {

using telemetry::AppProto;
using telemetry::Reason;

InspectInput streamInput(std::span<const uint8_t> b, uint32_t capacity = 16384) {
  return InspectInput{b, 0, capacity, 443, false, false};
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Inspectors, TablesEndWithOtherAndDispatchByFirstBytes) {
  EXPECT_EQ(streamInspectors().back()->name, "other");
  EXPECT_EQ(datagramInspectors().back()->name, "other");
  const std::string get = "GET / HTTP/1.1\r\n";
  const std::string ssh = "SSH-2.0-OpenSSH_9.2\r\n";
  const uint8_t tls[] = {0x16, 0x03, 0x01};
  EXPECT_EQ(inspectorFor(streamInspectors(), streamInput(tls)).name, "tls");
  EXPECT_EQ(inspectorFor(streamInspectors(), streamInput(bytes(get))).name, "http");
  EXPECT_EQ(inspectorFor(streamInspectors(), streamInput(bytes(ssh))).name, "other");
  InspectInput d = streamInput(bytes(ssh));
  d.datagram = true;
  EXPECT_EQ(inspectorFor(datagramInspectors(), d).name, "other");
}

TEST(Inspectors, HttpNamesTheHostAndKnowsWhereTheHeadEnds) {
  const std::string req = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\nbody";
  InspectScratch s{};
  InspectInput in = streamInput(bytes(req));
  in.leadOffset = 2;
  const Finding f = kHttpInspector.inspect(in, s);
  EXPECT_EQ(f.outcome, Outcome::Name);
  EXPECT_EQ(f.proto, AppProto::Http);
  EXPECT_EQ(f.name, "a.example");
  EXPECT_TRUE(f.host);
  ASSERT_NE(f.head, nullptr);
  EXPECT_EQ(f.judgedEnd, 2 + req.size() - 4);
}

TEST(Inspectors, IncompleteMessageNeedsMoreUntilTheCapacity) {
  const std::string part = "GET / HTTP/1.1\r\nHost: a.exa";
  InspectScratch s{};
  EXPECT_EQ(kHttpInspector.inspect(streamInput(bytes(part)), s).outcome, Outcome::NeedMore);
  const Finding f = kHttpInspector.inspect(streamInput(bytes(part), uint32_t(part.size())), s);
  EXPECT_EQ(f.outcome, Outcome::Deny);
  EXPECT_EQ(f.reason, Reason::InspectLimit);
  EXPECT_EQ(f.detail, "request-head-size");
}

TEST(Inspectors, TlsWithoutSniNamesNothingAndOtherProtocolsAreUnidentified) {
  InspectScratch s{};
  const auto hello = testing::stream(testing::HelloBuilder{}.alpn({"h2"}));
  const Finding f = kTlsInspector.inspect(streamInput(hello), s);
  EXPECT_EQ(f.outcome, Outcome::NoName);
  EXPECT_EQ(f.reason, Reason::NoSni);
  const auto named = testing::stream(testing::HelloBuilder{}.sni("b.example"));
  const Finding g = kTlsInspector.inspect(streamInput(named), s);
  EXPECT_EQ(g.outcome, Outcome::Name);
  EXPECT_EQ(g.name, "b.example");
  EXPECT_TRUE(g.sni);
  const std::string ssh = "SSH-2.0-OpenSSH_9.2\r\n";
  InspectInput mid = streamInput(bytes(ssh));
  mid.midstream = true;
  const Finding o = kOtherInspector.inspect(mid, s);
  EXPECT_EQ(o.outcome, Outcome::NoName);
  EXPECT_EQ(o.reason, Reason::Midstream);
  EXPECT_EQ(o.detail, "unidentified");
}

}  // namespace
}  // namespace lbg::inspect
