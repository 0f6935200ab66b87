// The caches' HA sync through two pipelines (pipeline_cache_sync.cc): box A sees a DNS answer and
// binds it, the binding goes (here by hand, the link is dataplane/ha's) to box B, which binds it
// in its own table; after a takeover B allows a new connection to the bound address by its name
// (`sni_dns: enforce`) without having seen any answer, which a box without the record refuses.
// The certificate verdicts' installation is tested with the verifier in pipeline_cert_test.cc.

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstring>

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
  inside: [10.0.0.0/8]
defaults: {deny: reset, quic: block, ech: block, sni_dns: enforce}
services:
  - name: web
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/80]
  - name: resolver
    kind: infrastructure
    cidr: [192.0.2.53/32]
    ports: [udp/53]
)";

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPshAck = 0x18;

rte_mempool* cacheSyncPool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("cache_sync_pool", 4095, 256, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

// One box: its policy slot, DNS table, pipeline, the caches' rings and what it sent.
struct Box {
  std::unique_ptr<SnapshotSlot> slot;
  std::unique_ptr<inspect::DnsBindingTable> dns;
  std::unique_ptr<Pipeline> p;
  CaptureSink tx;
  CollectSink events;
  std::string scratch;
  ha::DnsSyncRing dnsOut{16}, dnsIn{16};
  ha::CertSyncRing certOut{16}, certIn{16};

  explicit Box(uint32_t dnsTtlMaxSec = 86400) {
    auto doc = policy::parsePolicyText(kPolicy, "test.yaml",
                                       std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
    EXPECT_TRUE(doc.ok());
    slot = std::make_unique<SnapshotSlot>(policy::Snapshot::create(std::move(doc.value()), 1).value());
    slot->setWorkerCount(1);
    dns = std::move(inspect::DnsBindingTable::create(1024).value());
    PipelineConfig c;
    c.flowCapacity = 1024;
    c.streamBuffers = 16;
    c.guardRings = 16;
    c.holdSlots = 256;
    c.eventRingSize = 1024;
    c.dnsTtlMaxSec = dnsTtlMaxSec;
    p = std::move(Pipeline::create(c, 0, *slot, *dns, cacheSyncPool()).value());
    p->attachCacheSync({&dnsOut, &dnsIn, &certOut, &certIn});
  }
  ~Box() {
    p->drainAll(UINT64_MAX / 2);
    drainEvents(*p, events, scratch);
  }
};

class PipelineCacheSync : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(cacheSyncPool(), nullptr); }
  void TearDown() override {
    a_.reset();
    b_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(cacheSyncPool()), 0u) << "mbuf leak";
  }

  void inject(Box& box, const Bytes& f, bool fromInside) {
    rte_mbuf* m = rte_pktmbuf_alloc(cacheSyncPool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    now_ += 1000;
    box.p->processBurst(&m, 1, fromInside ? Ingress::InsidePort : Ingress::OutsidePort, now_,
                        box.tx);
  }
  // The client asks the resolver for allowed.example.jp and gets `addr` (TTL 300 s).
  void resolve(Box& box, const IpAddr& addr) {
    L4Spec q;
    q.src = client_;
    q.dst = resolver_;
    q.proto = 17;
    q.sport = 5353;
    q.dport = 53;
    inject(box, testing::frame(q, testing::dnsQuery("allowed.example.jp")), true);
    L4Spec a;
    a.src = resolver_;
    a.dst = client_;
    a.proto = 17;
    a.sport = 53;
    a.dport = 5353;
    inject(box, testing::frame(a, testing::dnsResponse("allowed.example.jp", {}, {addr}, 300)),
           false);
  }
  // A new connection to `server`:80 naming allowed.example.jp: its SYN and, if the SYN crossed,
  // the handshake and the request. Returns how many frames the box forwarded.
  size_t connect(Box& box, const IpAddr& server, uint16_t clientPort) {
    const size_t before = box.tx.frames.size();
    L4Spec c;
    c.src = client_;
    c.dst = server;
    c.sport = clientPort;
    c.dport = 80;
    c.seq = 1000;
    c.flags = kSyn;
    inject(box, testing::frame(c, {}), true);
    L4Spec s;
    s.src = server;
    s.dst = client_;
    s.sport = 80;
    s.dport = clientPort;
    s.seq = 5000;
    s.ack = 1001;
    s.flags = kSyn | kAck;
    inject(box, testing::frame(s, {}), false);
    c.seq = 1001;
    c.ack = 5001;
    c.flags = kAck;
    inject(box, testing::frame(c, {}), true);
    const std::string get = "GET / HTTP/1.1\r\nHost: allowed.example.jp\r\n\r\n";
    c.flags = kPshAck;
    inject(box, testing::frame(c, Bytes(get.begin(), get.end())), true);
    return box.tx.frames.size() - before;
  }
  // A's bindings to B, as the link would carry them; B installs them on its loop (standby).
  size_t sync(Box& from, Box& to) {
    from.p->serviceSync(now_, false);
    size_t n = 0;
    ha::DnsSyncRecord r;
    while (from.dnsOut.tryPop(r)) n += to.dnsIn.tryPush(r);
    to.p->serviceSync(now_, true);
    return n;
  }
  bool bound(Box& box, const IpAddr& addr, uint64_t at) {
    bool found = false;
    box.dns->anyName(addr, at, [&](std::string_view n) {
      found = n == "allowed.example.jp";
      return found;
    });
    return found;
  }

  std::unique_ptr<Box> a_ = std::make_unique<Box>(), b_ = std::make_unique<Box>();
  const IpAddr client_ = *IpAddr::parse("10.0.0.5");
  const IpAddr resolver_ = *IpAddr::parse("192.0.2.53");
  const IpAddr server_ = *IpAddr::parse("203.0.113.9");
  uint64_t now_ = 1'000'000'000;
};

TEST_F(PipelineCacheSync, ABindingLearntOnTheActiveAllowsOnTheNewActive) {
  resolve(*a_, server_);
  ASSERT_EQ(a_->p->counters().dns_answers, 1u);
  EXPECT_EQ(a_->p->counters().ha_sync_dns_queued, 1u);
  EXPECT_EQ(connect(*a_, server_, 40000), 4u);  // allowed on A by the binding

  ASSERT_EQ(sync(*a_, *b_), 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_dns_installed, 1u);
  EXPECT_TRUE(bound(*b_, server_, now_));
  // The remaining TTL travelled, not A's clock: B keeps it about 300 s from its own now.
  EXPECT_TRUE(bound(*b_, server_, now_ + 299'000'000'000ull));
  EXPECT_FALSE(bound(*b_, server_, now_ + 301'000'000'000ull));

  // B, active after a takeover, has seen no answer: the binding alone allows the connection.
  EXPECT_EQ(connect(*b_, server_, 40001), 4u);
  EXPECT_EQ(b_->p->counters().flows_allowed, 1u);
  EXPECT_EQ(b_->p->counters().flows_denied, 0u);
  EXPECT_EQ(b_->p->counters().dns_answers, 0u);
  // Another address under the same name was never bound: refused there as anywhere.
  EXPECT_LT(connect(*b_, *IpAddr::parse("203.0.113.10"), 40002), 4u);
  EXPECT_EQ(b_->p->counters().flows_denied, 1u);
}

TEST_F(PipelineCacheSync, WithoutTheRecordTheNewActiveRefuses) {
  resolve(*a_, server_);
  a_->p->serviceSync(now_, false);
  ha::DnsSyncRecord lost;
  EXPECT_TRUE(a_->dnsOut.tryPop(lost));  // queued, but the link lost it
  EXPECT_LT(connect(*b_, server_, 40001), 4u);
  EXPECT_EQ(b_->p->counters().flows_allowed, 0u);
  EXPECT_EQ(b_->p->counters().flows_denied, 1u);
}

TEST_F(PipelineCacheSync, AStandbyStartedAfterTheAnswerGetsTheBindingFromTheSweep) {
  a_->p->serviceSync(now_, false);  // A's first iteration: the sweep's clock starts
  resolve(*a_, server_);
  a_->p->serviceSync(now_, false);
  ha::DnsSyncRecord lost;
  ASSERT_TRUE(a_->dnsOut.tryPop(lost));  // sent when made, but B was not there yet
  EXPECT_EQ(sync(*a_, *b_), 0u);         // within the interval nothing is sent again
  now_ += 60'000'000'000ull;             // the next sweep: the binding again, 240 s left
  size_t moved = 0;
  for (int i = 0; i < 64; ++i) moved += sync(*a_, *b_);  // a slice per iteration (1024 slots)
  EXPECT_EQ(moved, 1u);
  EXPECT_EQ(b_->p->counters().ha_sync_dns_installed, 1u);
  EXPECT_TRUE(bound(*b_, server_, now_ + 239'000'000'000ull));
  EXPECT_FALSE(bound(*b_, server_, now_ + 241'000'000'000ull));
  EXPECT_EQ(connect(*b_, server_, 40001), 4u);
}

TEST_F(PipelineCacheSync, TheStandbyKeepsABindingNoLongerThanItsOwnLimit) {
  b_ = std::make_unique<Box>(60);  // B keeps bindings at most 60 s
  resolve(*a_, server_);
  ASSERT_EQ(sync(*a_, *b_), 1u);
  EXPECT_TRUE(bound(*b_, server_, now_ + 59'000'000'000ull));
  EXPECT_FALSE(bound(*b_, server_, now_ + 61'000'000'000ull));
}

TEST_F(PipelineCacheSync, AStandbySendsNoBindingBack) {
  b_->p->serviceSync(now_, true);  // B is standby: what it would bind is not sent back
  resolve(*b_, server_);           // (a standby forwards nothing; here the pipeline is fed anyway)
  EXPECT_EQ(b_->p->counters().ha_sync_dns_queued, 0u);
  ha::DnsSyncRecord r;
  EXPECT_FALSE(b_->dnsOut.tryPop(r));
}

TEST_F(PipelineCacheSync, AVerdictForACacheThisBoxHasNotIsCountedNotInstalled) {
  // No verifier here, so no certificate caches: the record is dropped and counted.
  ha::CertSyncRecord r{};
  r.ttlSec = 60;
  r.cache = uint8_t(ha::CertSyncCache::Probe);
  ASSERT_TRUE(b_->certIn.tryPush(r));
  r.cache = uint8_t(ha::CertSyncCache::Chain);
  ASSERT_TRUE(b_->certIn.tryPush(r));
  b_->p->serviceSync(now_, true);
  EXPECT_EQ(b_->p->counters().ha_sync_cert_refused, 2u);
  EXPECT_EQ(b_->p->counters().ha_sync_cert_installed, 0u);
}

}  // namespace
}  // namespace lbg::dataplane
