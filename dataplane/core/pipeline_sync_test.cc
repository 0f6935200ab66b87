// HA flow-state sync through two pipelines (pipeline_sync.cc): box A judges and forwards, its
// records go (here by hand, the link is dataplane/ha's) to box B's worker, which installs them;
// then B is fed what a takeover gives it: the flow's next packets, its state lagging what A
// forwarded after the last sync.

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

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

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8, "2001:db8:1::/64"]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: web
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/80]
  - name: partner
    kind: lgwan-asp
    cidr: [198.51.100.0/24, "2001:db8:100::/48"]
    ports: [tcp/8443, udp/5000]
)";

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04;

rte_mempool* syncPool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("sync_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

std::shared_ptr<const policy::Snapshot> compile(uint64_t version) {
  auto doc = policy::parsePolicyText(kPolicy, "test.yaml",
                                     std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
  EXPECT_TRUE(doc.ok());
  return policy::Snapshot::create(std::move(doc.value()), version).value();
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// One box: its policy slot, DNS table, pipeline and what it sent.
struct Box {
  std::unique_ptr<SnapshotSlot> slot;
  std::unique_ptr<inspect::DnsBindingTable> dns;
  std::unique_ptr<Pipeline> p;
  CaptureSink tx;
  CollectSink events;
  std::string scratch;
  ha::SyncRing out{1024}, in{1024};

  explicit Box(uint64_t version) {
    slot = std::make_unique<SnapshotSlot>(compile(version));
    slot->setWorkerCount(1);
    dns = std::move(inspect::DnsBindingTable::create(1024).value());
    PipelineConfig c;
    c.flowCapacity = 1024;
    c.streamBuffers = 16;
    c.guardRings = 16;
    c.holdSlots = 256;
    c.eventRingSize = 1024;
    p = std::move(Pipeline::create(c, 0, *slot, *dns, syncPool()).value());
    p->attachSync(&out, &in);
  }
  ~Box() {
    p->drainAll(UINT64_MAX / 2);
    drainEvents(*p, events, scratch);
  }
  size_t sent() const { return tx.frames.size(); }
};

class PipelineSync : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(syncPool(), nullptr); }
  void TearDown() override {
    a_.reset();
    b_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(syncPool()), 0u) << "mbuf leak";
  }

  void inject(Box& box, const Bytes& f, bool fromInside) {
    rte_mbuf* m = rte_pktmbuf_alloc(syncPool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    now_ += 1000;
    box.p->processBurst(&m, 1, fromInside ? Ingress::InsidePort : Ingress::OutsidePort, now_,
                        box.tx);
  }
  // Client (10.0.0.5):40000 ↔ server: one TCP segment each way.
  void client(Box& box, uint32_t seq, uint32_t ack, const Bytes& data = {}, uint8_t flags = 0x18) {
    L4Spec s;
    s.src = client_;
    s.dst = server_;
    s.sport = 40000;
    s.dport = port_;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    inject(box, testing::frame(s, data), true);
  }
  void server(Box& box, uint32_t seq, uint32_t ack, const Bytes& data = {}, uint8_t flags = 0x18) {
    L4Spec s;
    s.src = server_;
    s.dst = client_;
    s.sport = port_;
    s.dport = 40000;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    inject(box, testing::frame(s, data), false);
  }
  void handshake(Box& box) {
    client(box, 1000, 0, {}, kSyn);
    server(box, 5000, 1001, {}, kSyn | kAck);
    client(box, 1001, 5001, {}, kAck);
  }
  // A's records to B, as the link would carry them; B installs them on its loop (standby).
  size_t sync(Box& from, Box& to) {
    from.p->serviceSync(now_, false);
    size_t n = 0;
    ha::SyncRecord r;
    while (from.out.tryPop(r)) n += to.in.tryPush(r);
    to.p->serviceSync(now_, true);
    return n;
  }

  std::unique_ptr<Box> a_ = std::make_unique<Box>(1), b_ = std::make_unique<Box>(1);
  IpAddr client_ = *IpAddr::parse("10.0.0.5");
  IpAddr server_ = *IpAddr::parse("198.51.100.7");
  uint16_t port_ = 8443;
  uint64_t now_ = 1'000'000'000;
};

const std::string kGet = "GET /big HTTP/1.1\r\nHost: allowed.example.jp\r\n\r\n";

TEST_F(PipelineSync, AnAllowedFlowContinuesOnTheStandbyAfterATakeover) {
  server_ = *IpAddr::parse("203.0.113.9");  // judged by its Host: followed HTTP
  port_ = 80;
  handshake(*a_);
  client(*a_, 1001, 5001, text(kGet));
  server(*a_, 5001, 1001 + uint32_t(kGet.size()), Bytes(1000, 'x'));
  EXPECT_EQ(a_->p->counters().flows_allowed, 1u);
  EXPECT_GE(sync(*a_, *b_), 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_installed, 1u);
  EXPECT_EQ(b_->p->flowTable().size(), 1u);
  // A forwards 2800 more bytes of the download and the client's ACKs, then dies unsynced.
  server(*a_, 6001, 1001 + uint32_t(kGet.size()), Bytes(1400, 'y'));
  server(*a_, 7401, 1001 + uint32_t(kGet.size()), Bytes(1400, 'y'));
  client(*a_, 1001 + uint32_t(kGet.size()), 8801, {}, kAck);

  // B, active: the download goes on from where it is, the client's ACKs of bytes B never saw
  // pass (adoption), and so does its next request, judged by the HTTP follower.
  const size_t before = b_->sent();
  server(*b_, 8801, 1001 + uint32_t(kGet.size()), Bytes(1000, 'z'));
  client(*b_, 1001 + uint32_t(kGet.size()), 9801, {}, kAck);
  const uint32_t next = 1001 + uint32_t(kGet.size());
  client(*b_, next, 9801, text(kGet));
  EXPECT_EQ(b_->sent(), before + 3);
  EXPECT_EQ(b_->p->counters().flows_new, 0u);
  EXPECT_EQ(b_->p->counters().packets_denied, 0u);
  // A later request for another host on the same connection is still judged: denied.
  client(*b_, next + uint32_t(kGet.size()), 9801,
         text("GET / HTTP/1.1\r\nHost: denied.example.jp\r\n\r\n"));
  EXPECT_EQ(b_->sent(), before + 3 + 2);  // the two resets, not the request
  EXPECT_EQ(b_->p->counters().flows_denied, 1u);
}

TEST_F(PipelineSync, TheNewActiveTeachesTheSwitchesWhereTheSyncedFlowsHostsAre) {
  // The test frames go from 02:..:01 to 02:..:02 whatever their direction: the client's SYN
  // (inside) names the client 01 and, as its destination, the router 02 (outside).
  const uint8_t clientMac[6] = {0x02, 0, 0, 0, 0, 1}, routerMac[6] = {0x02, 0, 0, 0, 0, 2};
  handshake(*a_);
  ASSERT_GE(sync(*a_, *b_), 1u);
  EXPECT_EQ(a_->p->counters().ha_learn_hosts, 2u);  // A's own, from the flow's first sync
  EXPECT_EQ(b_->p->counters().ha_learn_hosts, 2u);  // B's, from the record
  // A started active: nothing to announce.
  a_->p->serviceLearn(now_, false, a_->tx);
  EXPECT_EQ(a_->p->learnReport().done, 0u);

  CaptureSink& tx = b_->tx;
  tx.frames.clear();
  b_->p->serviceLearn(now_, true, tx);  // standby: nothing
  EXPECT_TRUE(tx.frames.empty());
  b_->p->serviceLearn(now_, false, tx);  // the takeover: the first round
  ASSERT_EQ(tx.frames.size(), 2u);
  for (const auto& f : tx.frames) {
    ASSERT_EQ(f.bytes.size(), 60u);
    EXPECT_EQ(f.bytes[12], 0x80);
    EXPECT_EQ(f.bytes[13], 0x35);
    // The client is announced on the outside segment, the router on the inside one.
    const uint8_t* expect = f.port == PortRole::Outside ? clientMac : routerMac;
    EXPECT_NE(f.port, PortRole::Exception);
    EXPECT_EQ(std::memcmp(f.bytes.data() + 6, expect, 6), 0);
  }
  EXPECT_NE(tx.frames[0].port, tx.frames[1].port);
  b_->p->serviceLearn(now_ + 50'000'000, false, tx);  // the next round is not due yet
  EXPECT_EQ(tx.frames.size(), 2u);
  b_->p->serviceLearn(now_ + 100'000'000, false, tx);
  b_->p->serviceLearn(now_ + 200'000'000, false, tx);
  EXPECT_EQ(tx.frames.size(), 6u);  // three rounds
  b_->p->serviceLearn(now_ + 900'000'000, false, tx);
  EXPECT_EQ(tx.frames.size(), 6u);
  EXPECT_EQ(b_->p->counters().ha_learn_frames_sent, 6u);
  const auto report = b_->p->learnReport();
  EXPECT_EQ(report.done, 1u);
  EXPECT_EQ(report.hosts, 2u);
  EXPECT_EQ(report.frames, 6u);
}

// IPv6 after a takeover: the hosts of an allowed IPv6 flow are announced like any other, by
// the same RARP frame (switch learning is per MAC, whatever the address family). The box sends no
// unsolicited Neighbor Advertisement: it owns no address on either segment, and an NA with the
// override flag for the hosts' addresses would rewrite every neighbour cache that hears it
// (dataplane/ha/README.md, "Learning frames").
TEST_F(PipelineSync, TheHostsOfAnIpv6FlowAreAnnouncedWithoutNeighborAdvertisements) {
  client_ = *IpAddr::parse("2001:db8:1::5");
  server_ = *IpAddr::parse("2001:db8:100::7");
  const uint8_t clientMac[6] = {0x02, 0, 0, 0, 0, 1}, routerMac[6] = {0x02, 0, 0, 0, 0, 2};
  handshake(*a_);
  ASSERT_GE(sync(*a_, *b_), 1u);
  EXPECT_EQ(b_->p->counters().ha_learn_hosts, 2u);
  CaptureSink& tx = b_->tx;
  tx.frames.clear();
  b_->p->serviceLearn(now_, true, tx);  // standby, then the takeover and its rounds
  for (uint64_t t = 0; t <= 300'000'000; t += 100'000'000) b_->p->serviceLearn(now_ + t, false, tx);
  ASSERT_EQ(tx.frames.size(), 6u);  // two hosts, three rounds
  for (const auto& f : tx.frames) {
    ASSERT_GE(f.bytes.size(), 14u);
    EXPECT_EQ(f.bytes[12], 0x80);  // RARP, never 0x86dd (no NA, no ND of any kind)
    EXPECT_EQ(f.bytes[13], 0x35);
    const uint8_t* expect = f.port == PortRole::Outside ? clientMac : routerMac;
    EXPECT_EQ(std::memcmp(f.bytes.data() + 6, expect, 6), 0);
  }
}

TEST_F(PipelineSync, TheClientsUploadResumesAfterItsLastSyncedEdge) {
  handshake(*a_);
  client(*a_, 1001, 5001, Bytes(100, 'a'));
  server(*a_, 5001, 1101, {}, kAck);
  ASSERT_GE(sync(*a_, *b_), 1u);
  client(*a_, 1101, 5001, Bytes(500, 'b'));  // forwarded by A after its last sync
  const size_t before = b_->sent();
  client(*b_, 1601, 5001, Bytes(200, 'c'));  // B never saw 1101..1601: it re-anchors once
  server(*b_, 5001, 1801, {}, kAck);
  client(*b_, 1801, 5001, Bytes(50, 'd'));
  EXPECT_EQ(b_->sent(), before + 3);
  // Beyond the edge by a gap after the re-anchor: dropped as ahead, as for any flow.
  client(*b_, 1851 + 100, 5001, Bytes(10, 'e'));
  EXPECT_EQ(b_->sent(), before + 3);
  EXPECT_EQ(b_->p->counters().stream_ahead_dropped, 1u);
}

TEST_F(PipelineSync, ARecordOfAnotherPolicyVersionDoesNotInstall) {
  b_ = std::make_unique<Box>(2);
  handshake(*a_);
  client(*a_, 1001, 5001, Bytes(10, 'a'));
  EXPECT_GE(sync(*a_, *b_), 1u);
  EXPECT_GE(b_->p->counters().ha_sync_version_mismatch, 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_installed, 0u);
  EXPECT_EQ(b_->p->flowTable().size(), 0u);
  // After a takeover the flow is unknown there: its next packet is a mid-stream pick-up, denied.
  client(*b_, 1011, 5001, Bytes(10, 'b'));
  EXPECT_EQ(b_->p->counters().tcp_midstream_denied, 1u);
  EXPECT_EQ(b_->p->counters().flows_allowed, 0u);
}

TEST_F(PipelineSync, ADeniedFlowIsNeverSyncedAndStaysDenied) {
  port_ = 8080;  // no service lists it
  handshake(*a_);
  client(*a_, 1001, 5001, Bytes(10, 'a'));
  EXPECT_EQ(a_->p->counters().flows_denied, 1u);
  EXPECT_EQ(sync(*a_, *b_), 0u);
  EXPECT_EQ(a_->p->counters().ha_sync_queued, 0u);
  client(*b_, 1011, 5001, Bytes(10, 'b'));
  EXPECT_EQ(b_->p->counters().flows_allowed, 0u);
  EXPECT_EQ(b_->p->counters().tcp_midstream_denied, 1u);
}

TEST_F(PipelineSync, AFlowDeniedAfterItsAllowIsForgottenByThePeer) {
  server_ = *IpAddr::parse("203.0.113.9");
  port_ = 80;
  handshake(*a_);
  client(*a_, 1001, 5001, text(kGet));
  server(*a_, 5001, 1001 + uint32_t(kGet.size()), Bytes(10, 'x'));
  ASSERT_GE(sync(*a_, *b_), 1u);
  ASSERT_EQ(b_->p->flowTable().size(), 1u);
  client(*a_, 1001 + uint32_t(kGet.size()), 5011,
         text("GET / HTTP/1.1\r\nHost: denied.example.jp\r\n\r\n"));
  EXPECT_EQ(a_->p->counters().flows_denied, 1u);
  EXPECT_EQ(sync(*a_, *b_), 1u);  // the delete
  EXPECT_EQ(b_->p->counters().ha_sync_deleted, 1u);
  EXPECT_EQ(b_->p->flowTable().size(), 0u);
}

TEST_F(PipelineSync, AClosedFlowIsForgottenAtTheNextSweep) {
  handshake(*a_);
  client(*a_, 1001, 5001, Bytes(10, 'a'));
  ASSERT_GE(sync(*a_, *b_), 1u);
  client(*a_, 1011, 5001, {}, kRst | kAck);  // exact: closes the flow
  now_ += 300'000'000;                       // past the sync interval: a new sweep
  EXPECT_EQ(sync(*a_, *b_), 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_deleted, 1u);
  EXPECT_EQ(b_->p->flowTable().size(), 0u);
}

TEST_F(PipelineSync, ALiveFlowIsSentAgainEachIntervalOnlyWhenItMoved) {
  handshake(*a_);
  client(*a_, 1001, 5001, Bytes(10, 'a'));
  ASSERT_GE(sync(*a_, *b_), 1u);  // at its allow (and by the first sweep)
  now_ += 300'000'000;
  EXPECT_EQ(sync(*a_, *b_), 0u);  // idle since that sweep started: nothing new to say
  client(*a_, 1011, 5001, Bytes(10, 'b'));
  EXPECT_EQ(sync(*a_, *b_), 0u);  // within the interval: no new sweep yet
  now_ += 300'000'000;
  EXPECT_EQ(sync(*a_, *b_), 1u);  // moved since the previous sweep started
  now_ += 300'000'000;
  EXPECT_EQ(sync(*a_, *b_), 0u);
  EXPECT_EQ(b_->p->counters().ha_sync_installed, 1u);
  EXPECT_GE(b_->p->counters().ha_sync_updated, 2u);
}

TEST_F(PipelineSync, UdpFlowsAreSyncedToo) {
  port_ = 5000;
  L4Spec s;
  s.src = *IpAddr::parse("10.0.0.5");
  s.dst = server_;
  s.sport = 40000;
  s.dport = 5000;
  s.proto = 17;
  inject(*a_, testing::frame(s, Bytes(20, 'q')), true);
  ASSERT_GE(sync(*a_, *b_), 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_installed, 1u);
  const size_t before = b_->sent();
  inject(*b_, testing::frame(s, Bytes(20, 'r')), true);
  EXPECT_EQ(b_->sent(), before + 1);
  EXPECT_EQ(b_->p->counters().flows_new, 0u);
}

}  // namespace
}  // namespace lbg::dataplane
