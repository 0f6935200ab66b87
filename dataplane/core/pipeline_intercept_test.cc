// The exception path (pipeline_intercept.cc) on real mbufs: flows to an intercept service go to
// the exception port from their SYN; what comes back from it goes out by its source address,
// with the client's and server's MACs put back; a proxy that does not listen refuses the flow.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "dataplane/core/event_sink.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "dataplane/core/test_sinks.h"
#include "policy/parser.h"

namespace lbg::dataplane {
namespace {

using testing::Bytes;
using testing::CaptureSink;
using testing::CollectSink;
using testing::L4Spec;
using testing::Sent;

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8, "fd00::/8"]
defaults:
  deny: reset
  sni_dns: off
services:
  - name: entra
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-12-31}
    fqdn: [login.microsoftonline.com]
    cidr: [198.51.100.0/24]
    ports: [tcp/443]
    intercept: true
  - name: partner-portal
    kind: lgwan-asp
    cidr: [203.0.113.0/24]
    ports: [tcp/443]
)";

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04;
const uint8_t kClientMac[6] = {0x02, 0, 0, 0, 0, 0x0c};
const uint8_t kRouterMac[6] = {0x02, 0, 0, 0, 0, 0x0d};
const uint8_t kKernelMac[6] = {0x02, 0, 0, 0, 0, 0x5e};
const std::array<uint8_t, 6> kTapMac = {0x02, 0, 0, 0, 0, 0xee};

rte_mempool* pool() {
  static rte_mempool* p =
      rte_pktmbuf_pool_create("intercept_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return p;
}

class InterceptTest : public ::testing::Test {
 protected:
  void make(bool exceptionPort) {
    ASSERT_NE(pool(), nullptr);
    auto doc = policy::parsePolicyText(kPolicy, "test.yaml",
                                       std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
    ASSERT_TRUE(doc.ok()) << doc.error().toString();
    slot_ = std::make_unique<SnapshotSlot>(policy::Snapshot::create(std::move(doc.value()), 1).value());
    slot_->setWorkerCount(1);
    dns_ = std::move(inspect::DnsBindingTable::create(1024).value());
    PipelineConfig c;
    c.flowCapacity = 1024;
    c.streamBuffers = 16;
    c.guardRings = 16;
    c.holdSlots = 256;
    c.eventRingSize = 256;
    c.appIdSlots = 0;
    c.exceptionPort = exceptionPort;
    c.exceptionMac = kTapMac;
    auto p = Pipeline::create(c, 0, *slot_, *dns_, pool());
    ASSERT_TRUE(p.ok()) << p.error().toString();
    p_ = std::move(p.value());
  }
  void TearDown() override {
    if (p_) p_->drainAll(now_);
    drainEvents(*p_, events_, scratch_);
    EXPECT_EQ(rte_mempool_in_use_count(pool()), 0u) << "mbuf leak";
  }
  // A TCP frame between the client (client_, 10.0.0.5 unless set):port and `server`:443 with the
  // given MACs.
  Bytes tcp(bool fromClient, const char* server, uint8_t flags, uint32_t seq, const uint8_t* dstMac,
            const uint8_t* srcMac, uint16_t port = 40000, const Bytes& payload = {}) {
    L4Spec s;
    const IpAddr client = *IpAddr::parse(client_), srv = *IpAddr::parse(server);
    s.src = fromClient ? client : srv;
    s.dst = fromClient ? srv : client;
    s.sport = fromClient ? port : 443;
    s.dport = fromClient ? 443 : port;
    s.flags = flags;
    s.seq = seq;
    s.ack = flags & kAck ? 1 : 0;
    Bytes f = testing::frame(s, payload);
    std::memcpy(f.data(), dstMac, 6);
    std::memcpy(f.data() + 6, srcMac, 6);
    return f;
  }
  void inject(const Bytes& f, Ingress in) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    now_ += 1000;
    p_->processBurst(&m, 1, in, now_, tx_);
  }
  std::vector<nlohmann::json> verdicts() {
    drainEvents(*p_, events_, scratch_);
    std::vector<nlohmann::json> v;
    for (auto& e : events_.events) {
      if (e["event_type"] == "flow" && e["phase"] == "verdict") v.push_back(e);
    }
    return v;
  }
  static bool macs(const Sent& s, const uint8_t* dst, const uint8_t* src) {
    return std::memcmp(s.bytes.data(), dst, 6) == 0 && std::memcmp(s.bytes.data() + 6, src, 6) == 0;
  }

  const char* client_ = "10.0.0.5";
  std::unique_ptr<SnapshotSlot> slot_;
  std::unique_ptr<inspect::DnsBindingTable> dns_;
  std::unique_ptr<Pipeline> p_;
  CaptureSink tx_;
  CollectSink events_;
  std::string scratch_;
  uint64_t now_ = 1'800'000'000'000'000'000ull;
};

TEST_F(InterceptTest, BothLegsThroughTheExceptionPort) {
  make(true);
  // The client's SYN goes to the kernel, addressed to the tap.
  inject(tcp(true, "198.51.100.10", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(tx_.frames[0].port, PortRole::Exception);
  EXPECT_TRUE(macs(tx_.frames[0], kTapMac.data(), kClientMac));
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["reason"], "intercept");
  EXPECT_EQ(v[0]["policy"]["service"], "entra");
  // The proxy's kernel answers the client: inside, as if from the server.
  inject(tcp(false, "198.51.100.10", kSyn | kAck, 7000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  ASSERT_EQ(tx_.frames.size(), 2u);
  EXPECT_EQ(tx_.frames[1].port, PortRole::Inside);
  EXPECT_TRUE(macs(tx_.frames[1], kClientMac, kRouterMac));
  // The proxy's upstream leg, from the client's address: outside, as if from the client.
  inject(tcp(true, "198.51.100.10", kSyn, 9000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  ASSERT_EQ(tx_.frames.size(), 3u);
  EXPECT_EQ(tx_.frames[2].port, PortRole::Outside);
  EXPECT_TRUE(macs(tx_.frames[2], kRouterMac, kClientMac));
  // The server's answer to that leg and the client's next segment both go to the kernel.
  inject(tcp(false, "198.51.100.10", kSyn | kAck, 5000, kClientMac, kRouterMac), Ingress::OutsidePort);
  inject(tcp(true, "198.51.100.10", kAck, 1001, kRouterMac, kClientMac, 40000, Bytes(100, 0x16)),
         Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 5u);
  EXPECT_EQ(tx_.frames[3].port, PortRole::Exception);
  EXPECT_EQ(tx_.frames[4].port, PortRole::Exception);
  EXPECT_EQ(p_->counters().intercept_flows, 1u);
  EXPECT_EQ(p_->counters().intercept_to_proxy, 3u);
  EXPECT_EQ(p_->counters().intercept_from_proxy, 2u);
}

// A reload that ends a service's interception ends its intercepted flows (policy-changed): the
// proxy holds the connection, it cannot fall back to the fast path unjudged.
TEST_F(InterceptTest, AReloadEndingInterceptionEndsTheFlow) {
  make(true);
  inject(tcp(true, "198.51.100.10", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  std::string v2 = kPolicy;
  v2.replace(v2.find("    intercept: true\n"), 20, "");
  auto doc = policy::parsePolicyText(v2, "test.yaml",
                                     std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
  ASSERT_TRUE(doc.ok()) << doc.error().toString();
  slot_->publish(policy::Snapshot::create(std::move(doc.value()), 2).value(),
                 std::chrono::milliseconds(0));
  inject(tcp(true, "198.51.100.10", kAck, 1001, kRouterMac, kClientMac), Ingress::InsidePort);
  inject(tcp(false, "198.51.100.10", kSyn | kAck, 5000, kClientMac, kKernelMac),
         Ingress::ExceptionPort);
  EXPECT_EQ(tx_.frames.size(), 1u);  // nothing more crosses, either way
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "policy-changed:intercept-removed");
}

// The reverse: a reload that makes a service an intercept one ends its flows on the fast path
// (they cannot move to the proxy, and would go on without tenant headers).
TEST_F(InterceptTest, AReloadAddingInterceptionEndsFastPathFlows) {
  make(true);
  inject(tcp(true, "203.0.113.5", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(tx_.frames[0].port, PortRole::Outside);
  std::string v2 = kPolicy;
  v2 += "    intercept: true\n";  // the last service, partner-portal
  auto doc = policy::parsePolicyText(v2, "test.yaml",
                                     std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
  ASSERT_TRUE(doc.ok()) << doc.error().toString();
  slot_->publish(policy::Snapshot::create(std::move(doc.value()), 2).value(),
                 std::chrono::milliseconds(0));
  inject(tcp(true, "203.0.113.5", kAck, 1001, kRouterMac, kClientMac), Ingress::InsidePort);
  for (size_t i = 1; i < tx_.frames.size(); ++i) {
    packet::PacketView pv{};
    ASSERT_EQ(packet::decode(tx_.frames[i].bytes.data(), uint32_t(tx_.frames[i].bytes.size()), pv),
              packet::DecodeStatus::Ok);
    EXPECT_NE(pv.tcpFlags & kRst, 0) << "only resets after the reload";
  }
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "policy-changed:intercept-added");
}

TEST_F(InterceptTest, OtherFlowsStayOnTheFastPath) {
  make(true);
  inject(tcp(true, "203.0.113.5", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(tx_.frames[0].port, PortRole::Outside);
  EXPECT_TRUE(macs(tx_.frames[0], kRouterMac, kClientMac));
  // A frame from the kernel that belongs to no intercepted flow goes nowhere.
  inject(tcp(false, "203.0.113.5", kSyn | kAck, 5000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  inject(tcp(true, "192.0.2.9", kSyn, 1, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  EXPECT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(p_->counters().intercept_unmatched, 2u);
  EXPECT_EQ(p_->counters().intercept_flows, 0u);
}

TEST_F(InterceptTest, ByDnsBindingOfTheDestination) {
  make(true);
  const IpAddr server = *IpAddr::parse("192.0.2.77");
  dns_->bind(server, "login.microsoftonline.com", now_ + 60'000'000'000ull, now_);
  inject(tcp(true, "192.0.2.77", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(tx_.frames[0].port, PortRole::Exception);
  EXPECT_EQ(p_->counters().intercept_flows, 1u);
  auto v = verdicts();  // the record says why: the name the address was bound to
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].dump().find("login.microsoftonline.com"), std::string::npos) << v[0].dump();
}

TEST_F(InterceptTest, ProxyNotListeningRefusesTheFlow) {
  make(true);
  inject(tcp(true, "198.51.100.10", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  // tools/proxy/tproxy-rules.sh resets a redirected SYN when no proxy listens.
  inject(tcp(false, "198.51.100.10", kRst | kAck, 0, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  ASSERT_EQ(tx_.frames.size(), 2u);
  EXPECT_EQ(tx_.frames[1].port, PortRole::Inside);  // the client gives up at once
  EXPECT_EQ(p_->counters().intercept_refused, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "intercept-unavailable:proxy");
  // Nothing of the flow crosses afterwards, in any direction: never passed unintercepted.
  inject(tcp(true, "198.51.100.10", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  inject(tcp(true, "198.51.100.10", kSyn, 9000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  EXPECT_EQ(tx_.frames.size(), 2u);
}

TEST_F(InterceptTest, VlanTaggedFlowsAreDeniedNotPassed) {
  make(true);
  L4Spec s;
  s.src = *IpAddr::parse("10.0.0.5");
  s.dst = *IpAddr::parse("198.51.100.10");
  s.sport = 40000;
  s.dport = 443;
  s.flags = kSyn;
  s.vlans = {100};
  inject(testing::frame(s, {}), Ingress::InsidePort);
  for (const Sent& f : tx_.frames) EXPECT_NE(f.port, PortRole::Outside);
  EXPECT_EQ(p_->counters().intercept_unavailable, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "intercept-unavailable:vlan");
}

// IPv6 flows are handed over like IPv4 ones (tproxy-rules.sh installs both families, lbg-proxy
// listens on both): by the destination's DNS binding at the SYN, both legs through the exception
// port, the MACs put back.
TEST_F(InterceptTest, Ipv6FlowsAreHandedOverLikeIpv4) {
  make(true);
  client_ = "fd00::5";
  const char* server = "2001:db8::77";
  dns_->bind(*IpAddr::parse(server), "login.microsoftonline.com", now_ + 60'000'000'000ull, now_);
  inject(tcp(true, server, kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 1u);
  EXPECT_EQ(tx_.frames[0].port, PortRole::Exception);
  EXPECT_TRUE(macs(tx_.frames[0], kTapMac.data(), kClientMac));
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["reason"], "intercept");
  EXPECT_NE(v[0].dump().find("login.microsoftonline.com"), std::string::npos) << v[0].dump();
  // The proxy's kernel answers the client (inside); its upstream leg leaves as the client.
  inject(tcp(false, server, kSyn | kAck, 7000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  inject(tcp(true, server, kSyn, 9000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  ASSERT_EQ(tx_.frames.size(), 3u);
  EXPECT_EQ(tx_.frames[1].port, PortRole::Inside);
  EXPECT_TRUE(macs(tx_.frames[1], kClientMac, kRouterMac));
  EXPECT_EQ(tx_.frames[2].port, PortRole::Outside);
  EXPECT_TRUE(macs(tx_.frames[2], kRouterMac, kClientMac));
  EXPECT_EQ(p_->counters().intercept_flows, 1u);
  EXPECT_EQ(p_->counters().intercept_unavailable, 0u);
  EXPECT_EQ(p_->counters().intercept_from_proxy, 2u);
}

// The kernel's own IPv6 traffic on the tap (neighbour or router solicitations: ICMPv6) is no
// flow of ours: dropped and counted, never answered nor forwarded.
TEST_F(InterceptTest, KernelIpv6TrafficOnTheTapIsDropped) {
  make(true);
  L4Spec s;
  s.src = *IpAddr::parse("fe80::5e");
  s.dst = *IpAddr::parse("ff02::2");
  s.proto = 58;
  Bytes f = testing::frame(s, Bytes(8, 0));
  std::memcpy(f.data(), "\x33\x33\x00\x00\x00\x02", 6);
  std::memcpy(f.data() + 6, kKernelMac, 6);
  inject(f, Ingress::ExceptionPort);
  client_ = "fd00::5";
  inject(tcp(true, "2001:db8::9", kSyn, 1, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  EXPECT_TRUE(tx_.frames.empty());
  EXPECT_EQ(p_->counters().intercept_unmatched, 2u);
}

// No proxy listening on IPv6 either: the kernel's reset refuses the flow, nothing passes.
TEST_F(InterceptTest, Ipv6ProxyNotListeningRefusesTheFlow) {
  make(true);
  client_ = "fd00::5";
  const char* server = "2001:db8::77";
  dns_->bind(*IpAddr::parse(server), "login.microsoftonline.com", now_ + 60'000'000'000ull, now_);
  inject(tcp(true, server, kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  inject(tcp(false, server, kRst | kAck, 0, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  ASSERT_EQ(tx_.frames.size(), 2u);
  EXPECT_EQ(tx_.frames[1].port, PortRole::Inside);
  EXPECT_EQ(p_->counters().intercept_refused, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["reason"], "intercept-unavailable:proxy");
  inject(tcp(true, server, kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  inject(tcp(true, server, kSyn, 9000, kTapMac.data(), kKernelMac), Ingress::ExceptionPort);
  EXPECT_EQ(tx_.frames.size(), 2u);
}

// A VLAN-tagged IPv6 flow stays denied with its reason (the kernel side has no VLAN interfaces).
TEST_F(InterceptTest, VlanTaggedIpv6FlowsAreDeniedNotPassed) {
  make(true);
  const IpAddr server = *IpAddr::parse("2001:db8::77");
  dns_->bind(server, "login.microsoftonline.com", now_ + 60'000'000'000ull, now_);
  L4Spec s;
  s.src = *IpAddr::parse("fd00::5");
  s.dst = server;
  s.sport = 40000;
  s.dport = 443;
  s.flags = kSyn;
  s.vlans = {100};
  inject(testing::frame(s, {}), Ingress::InsidePort);
  for (const Sent& f : tx_.frames) EXPECT_NE(f.port, PortRole::Outside);
  EXPECT_EQ(p_->counters().intercept_unavailable, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "intercept-unavailable:vlan");
}

// Without an exception port nothing can be intercepted: an intercept service is refused, never
// reached without its tenant headers; other services are unchanged.
TEST_F(InterceptTest, WithoutExceptionPortInterceptServicesAreRefused) {
  make(false);
  inject(tcp(true, "198.51.100.10", kSyn, 1000, kRouterMac, kClientMac), Ingress::InsidePort);
  for (const Sent& f : tx_.frames) EXPECT_NE(f.port, PortRole::Outside);
  inject(tcp(true, "203.0.113.9", kSyn, 1000, kRouterMac, kClientMac, 40001), Ingress::InsidePort);
  ASSERT_FALSE(tx_.frames.empty());
  EXPECT_EQ(tx_.frames.back().port, PortRole::Outside);
  EXPECT_EQ(p_->counters().intercept_flows, 0u);
  EXPECT_EQ(p_->counters().intercept_bypass_refused, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["action"], "deny");
  EXPECT_EQ(v[0]["reason"], "intercept-unavailable:no-exception-port");
  EXPECT_EQ(v[0]["policy"]["service"], "entra");
  EXPECT_EQ(v[1]["action"], "allow");
}

// The tenant-restriction bypass: the client reaches a login host's address without a DNS answer
// the gateway saw (DoH, a hosts file), so the SYN is not handed over, then names the intercept
// service in its ClientHello. Refused: the hello never reaches the server.
TEST_F(InterceptTest, AFlowNotHandedOverCannotNameTheService) {
  make(true);
  L4Spec c, s;
  c.src = *IpAddr::parse("10.0.0.5");
  c.dst = *IpAddr::parse("192.0.2.99");
  c.sport = 40000;
  c.dport = 443;
  s.src = c.dst;
  s.dst = c.src;
  s.sport = 443;
  s.dport = 40000;
  c.flags = kSyn;
  c.seq = 1000;
  inject(testing::frame(c, {}), Ingress::InsidePort);
  s.flags = kSyn | kAck;
  s.seq = 5000;
  s.ack = 1001;
  inject(testing::frame(s, {}), Ingress::OutsidePort);
  c.flags = kAck;
  c.seq = 1001;
  c.ack = 5001;
  inject(testing::frame(c, {}), Ingress::InsidePort);
  ASSERT_EQ(tx_.frames.size(), 3u);  // the handshake passes: the name is not known yet
  EXPECT_EQ(p_->counters().intercept_flows, 0u);
  c.flags = 0x18;
  inject(testing::frame(c, testing::clientHello({.names = {"login.microsoftonline.com"}})),
         Ingress::InsidePort);
  for (size_t i = 3; i < tx_.frames.size(); ++i) {
    packet::PacketView v{};
    ASSERT_EQ(packet::decode(tx_.frames[i].bytes.data(), uint32_t(tx_.frames[i].bytes.size()), v),
              packet::DecodeStatus::Ok);
    EXPECT_EQ(v.payloadLen, 0u) << "the hello crossed";
    EXPECT_NE(v.tcpFlags & kRst, 0) << "only resets follow";
  }
  EXPECT_EQ(p_->counters().intercept_bypass_refused, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "intercept-unavailable:not-handed-over");
  EXPECT_EQ(v[0]["tls"]["sni"], "login.microsoftonline.com");
}

}  // namespace
}  // namespace lbg::dataplane
