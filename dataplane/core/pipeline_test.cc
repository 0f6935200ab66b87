// The pipeline end to end on real mbufs (EAL with --no-huge): frames in, frames out, events.

#include "dataplane/core/pipeline.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dataplane/core/event_sink.h"
#include "dataplane/core/test_frames.h"
#include "dataplane/core/test_sinks.h"
#include "dataplane/ids/policy_ids.h"
#include "dataplane/ids/test_deflate.h"
#include "dataplane/inspect/quic/client_hello.h"
#include "dataplane/inspect/test_pcap.h"
#include "dataplane/inspect/tls/hello_builder.h"
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
  quic: block
  ech: block
  sni_dns: off
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-12-31}
    fqdn: [outlook.office365.com, "*.sharepoint.com"]
    ports: [tcp/443, tcp/80]
  - name: sftp-partner
    kind: lgwan-asp
    fqdn: [files.partner.example]
    ports: [tcp/22]
  - name: resolver
    kind: infrastructure
    cidr: [192.0.2.53/32]
    ports: [udp/53, tcp/53]
  - name: partner-portal
    kind: lgwan-asp
    cidr: [203.0.113.0/24]
    ports: [tcp/443]
    apps: [tls]
)";

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPshAck = 0x18, kRst = 0x04;

rte_mempool* testPool() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("test_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

std::shared_ptr<const policy::Snapshot> compile(const std::string& yaml, uint64_t version = 1) {
  auto doc = policy::parsePolicyText(yaml, "test.yaml",
                                     std::chrono::sys_days{std::chrono::year{2026} / 11 / 23});
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().toString());
  auto snap = policy::Snapshot::create(std::move(doc.value()), version);
  EXPECT_TRUE(snap.ok());
  return snap.value();
}

class PipelineTest : public ::testing::Test {
 protected:
  virtual std::string policyText() { return kPolicy; }
  virtual void adjust(PipelineConfig&) {}
  void SetUp() override {
    ASSERT_NE(testPool(), nullptr);
    slot_ = std::make_unique<SnapshotSlot>(compile(policyText()));
    slot_->setWorkerCount(1);
    dns_ = std::move(inspect::DnsBindingTable::create(4096).value());
    PipelineConfig c;
    c.flowCapacity = 4096;
    c.streamBuffers = 64;
    c.guardRings = 64;
    c.holdSlots = 4096;
    c.eventRingSize = 1024;
    adjust(c);
    auto p = Pipeline::create(c, 0, *slot_, *dns_, testPool());
    ASSERT_TRUE(p.ok()) << p.error().toString();
    pipeline_ = std::move(p.value());
  }
  void TearDown() override {
    pipeline_->drainAll(now_);
    drain();
    EXPECT_EQ(rte_mempool_in_use_count(testPool()), 0u) << "mbuf leak";
  }

  void inject(const Bytes& f, Ingress in) {
    rte_mbuf* m = rte_pktmbuf_alloc(testPool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    now_ += 1000;
    pipeline_->processBurst(&m, 1, in, now_, tx_);
  }
  void drain() { drainEvents(*pipeline_, events_, scratch_); }

  L4Spec client(const IpAddr& server, uint16_t port, uint16_t clientPort = 40000) {
    L4Spec s;
    s.src = clientAddr_;
    s.dst = server;
    s.sport = clientPort;
    s.dport = port;
    s.ack = 5001;
    return s;
  }
  L4Spec serverSide(const IpAddr& server, uint16_t port, uint16_t clientPort = 40000) {
    L4Spec s;
    s.src = server;
    s.dst = clientAddr_;
    s.sport = port;
    s.dport = clientPort;
    return s;
  }
  // The inside host client() and serverSide() speak for.
  IpAddr clientAddr_ = *IpAddr::parse("10.0.0.5");
  // Client 10.0.0.5:clientPort → server, three-way handshake (ISNs 1000 and 5000); returns the
  // next client seq.
  uint32_t handshake(const IpAddr& server, uint16_t port, uint16_t clientPort = 40000) {
    L4Spec c = client(server, port, clientPort);
    c.flags = kSyn;
    c.seq = 1000;
    inject(testing::frame(c, {}), Ingress::InsidePort);
    L4Spec s = serverSide(server, port, clientPort);
    s.flags = kSyn | kAck;
    s.seq = 5000;
    s.ack = 1001;
    inject(testing::frame(s, {}), Ingress::OutsidePort);
    c.flags = kAck;
    c.seq = 1001;
    c.ack = 5001;
    inject(testing::frame(c, {}), Ingress::InsidePort);
    return 1001;
  }
  // Sends `payload` from the client as segments of `segment` bytes, optionally in reverse order.
  void sendSegments(const IpAddr& server, uint16_t port, uint32_t seq, const Bytes& payload,
                    size_t segment, bool reverse = false, uint16_t clientPort = 40000) {
    std::vector<std::pair<uint32_t, Bytes>> segs;
    for (size_t off = 0; off < payload.size(); off += segment) {
      const size_t n = std::min(segment, payload.size() - off);
      segs.push_back(
          {seq + uint32_t(off), Bytes(payload.begin() + off, payload.begin() + off + n)});
    }
    if (reverse) std::reverse(segs.begin(), segs.end());
    for (auto& [s, data] : segs) {
      L4Spec c = client(server, port, clientPort);
      c.seq = s;
      inject(testing::frame(c, data), Ingress::InsidePort);
    }
  }
  // One TLS application_data record of `total` bytes (header included): what an allowed TLS
  // client sends once encrypted (the TLS follower checks the records before that).
  static Bytes tlsAppData(size_t total) {
    Bytes r = {0x17, 0x03, 0x03, uint8_t((total - 5) >> 8), uint8_t(total - 5)};
    r.resize(total, 0x17);
    return r;
  }
  std::vector<nlohmann::json> verdicts() {
    drain();
    std::vector<nlohmann::json> v;
    for (auto& e : events_.events) {
      if (e["event_type"] == "flow" && e["phase"] == "verdict") v.push_back(e);
    }
    return v;
  }
  size_t payloadBytesOut(PortRole port) const {
    size_t n = 0;
    for (const auto& f : tx_.frames) {
      if (f.port != port) continue;
      packet::PacketView v{};
      if (packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok) {
        n += v.payloadLen;
      }
    }
    return n;
  }
  std::vector<packet::PacketView> resets(PortRole port) const {
    std::vector<packet::PacketView> out;
    for (const auto& f : tx_.frames) {
      packet::PacketView v{};
      if (f.port == port &&
          packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok &&
          v.ipProto == 6 && (v.tcpFlags & kRst)) {
        out.push_back(v);
      }
    }
    return out;
  }

  const IpAddr m365_ = *IpAddr::parse("52.96.1.1");
  std::unique_ptr<SnapshotSlot> slot_;
  std::unique_ptr<inspect::DnsBindingTable> dns_;
  std::unique_ptr<Pipeline> pipeline_;
  CaptureSink tx_;
  CollectSink events_;
  std::string scratch_;
  uint64_t now_ = 1'800'000'000'000'000'000ull;
};

// A DNS message as DNS over TCP carries it: after its two-byte length (RFC 7766).
Bytes dnsTcpFramed(const Bytes& m) {
  Bytes f = {uint8_t(m.size() >> 8), uint8_t(m.size())};
  f.insert(f.end(), m.begin(), m.end());
  return f;
}

TEST_F(PipelineTest, AllowedSniIsForwardedAfterVerdict) {
  const uint32_t seq = handshake(m365_, 443);
  EXPECT_EQ(tx_.frames.size(), 3u);  // the handshake passes while the verdict is pending
  const Bytes hello = testing::clientHello({.names = {"Outlook.Office365.COM"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), hello.size());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["reason"], "sni");
  EXPECT_EQ(v[0]["policy"]["service"], "microsoft365");
  EXPECT_EQ(v[0]["tls"]["sni"], "Outlook.Office365.COM");
  EXPECT_EQ(v[0]["tls"]["alpn"][0], "h2");
  EXPECT_EQ(v[0]["src_ip"], "10.0.0.5");
  EXPECT_EQ(v[0]["dest_port"], 443);
}

// A burst of several frames (pipeline_burst.cc: decoded, prefetched and processed in passes):
// an allowed flow's server segments leave in arrival order among frames that are dropped (an
// inbound SYN, an IPv6 one whose headers cross the first cache line, a truncated frame), and the
// dropped ones are freed by the time processBurst() returns (their frees are gathered).
TEST_F(PipelineTest, BurstForwardsInOrderAndFreesItsDropsByItsEnd) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  ASSERT_EQ(payloadBytesOut(PortRole::Outside), hello.size());
  tx_.frames.clear();
  const uint64_t malformed = pipeline_->counters().decode_malformed;

  L4Spec s = serverSide(m365_, 443);
  s.seq = 5001;
  s.ack = seq + uint32_t(hello.size());
  std::vector<Bytes> data;
  for (int k = 0; k < 3; ++k) {
    data.push_back(testing::frame(s, Bytes(100, uint8_t('a' + k))));
    s.seq += 100;
  }
  L4Spec syn;
  syn.src = *IpAddr::parse("198.51.100.7");
  syn.dst = *IpAddr::parse("10.0.0.9");
  syn.sport = 5555;
  syn.dport = 22;
  syn.flags = 0x02;
  L4Spec syn6 = syn;
  syn6.src = *IpAddr::parse("2001:db8::7");
  syn6.dst = *IpAddr::parse("2001:db8:1::9");
  const Bytes truncated(data[0].begin(), data[0].begin() + 30);  // IPv4 header cut short
  const std::vector<Bytes> burst = {data[0],   testing::frame(syn, {}),  data[1],
                                    truncated, testing::frame(syn6, {}), data[2]};
  std::vector<rte_mbuf*> ms;
  for (const Bytes& f : burst) {
    rte_mbuf* m = rte_pktmbuf_alloc(testPool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    ms.push_back(m);
  }
  now_ += 1000;
  pipeline_->processBurst(ms.data(), uint16_t(ms.size()), Ingress::OutsidePort, now_, tx_);
  // The capture sink frees what it is sent: every mbuf of the burst is back in the pool.
  EXPECT_EQ(rte_mempool_in_use_count(testPool()), 0u);
  ASSERT_EQ(tx_.frames.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(tx_.frames[k].port, PortRole::Inside);
    EXPECT_EQ(tx_.frames[k].bytes, data[k]);
  }
  EXPECT_EQ(pipeline_->counters().decode_malformed, malformed + 1);
}

TEST_F(PipelineTest, ForbiddenSniIsResetBothWaysAndNothingLeaks) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"badsharepoint.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
  const auto toClient = resets(PortRole::Inside);
  const auto toServer = resets(PortRole::Outside);
  ASSERT_EQ(toClient.size(), 1u);
  ASSERT_EQ(toServer.size(), 1u);
  EXPECT_EQ(toClient[0].src, m365_);
  EXPECT_EQ(toClient[0].seq, 5001u);  // what the client expects next
  EXPECT_EQ(toClient[0].ack, seq + hello.size());
  EXPECT_EQ(toServer[0].seq, seq);  // the dropped payload's start
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "deny");
  EXPECT_EQ(v[0]["reason"], "no-match");
  // Later packets of the denied flow are dropped silently (one reset per flow).
  sendSegments(m365_, 443, seq, hello, hello.size());
  EXPECT_EQ(resets(PortRole::Inside).size(), 1u);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

TEST_F(PipelineTest, OneByteSegmentsAreHeldThenReleasedInOrder) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"contoso.sharepoint.com"}});
  sendSegments(m365_, 443, seq, hello, 1);
  Bytes out;
  for (const auto& f : tx_.frames) {
    packet::PacketView v{};
    if (f.port == PortRole::Outside &&
        packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok) {
      out.insert(out.end(), v.frame + v.payloadOffset, v.frame + v.payloadOffset + v.payloadLen);
    }
  }
  EXPECT_EQ(out, hello);  // released in arrival order, nothing lost
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
}

TEST_F(PipelineTest, OutOfOrderSegmentsAndSplitRecords) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}}, 17);
  sendSegments(m365_, 443, seq, hello, 29, /*reverse=*/true);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), hello.size());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "sni");
}

TEST_F(PipelineTest, ClientHelloInIpFragments) {
  const uint32_t seq = handshake(m365_, 443);
  L4Spec c = client(m365_, 443);
  c.seq = seq;
  c.ipId = 77;
  const Bytes whole = testing::frame(c, testing::clientHello({.names = {"outlook.office365.com"}}));
  auto frags = testing::fragmentV4(whole, 64);
  ASSERT_GT(frags.size(), 2u);
  std::swap(frags[1], frags[2]);  // out of order, too
  for (const auto& f : frags) inject(f, Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["tls"]["sni"], "outlook.office365.com");
  // The original fragments are forwarded, not a rebuilt datagram.
  size_t fragmentsOut = 0;
  for (const auto& f : tx_.frames) {
    packet::PacketView pv{};
    fragmentsOut += f.port == PortRole::Outside &&
                    packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), pv) ==
                        packet::DecodeStatus::Fragment;
  }
  EXPECT_EQ(fragmentsOut, frags.size());
}

TEST_F(PipelineTest, AmbiguousHellosAreDenied) {
  struct Case {
    testing::HelloSpec spec;
    std::string reasonPrefix;
  };
  const Case cases[] = {
      {{.names = {"outlook.office365.com", "evil.example"}}, "ambiguous"},
      {{.names = {"outlook.office365.com"}, .twoSniExtensions = true}, "ambiguous"},
      {{.names = {"outlook.office365.com"}, .ech = true}, "ech"},
  };
  uint16_t sport = 41000;
  for (const auto& k : cases) {
    L4Spec c = client(m365_, 443);
    c.sport = sport++;
    c.flags = kSyn;
    c.seq = 1;
    inject(testing::frame(c, {}), Ingress::InsidePort);
    c.flags = kPshAck;
    c.seq = 2;
    inject(testing::frame(c, testing::clientHello(k.spec)), Ingress::InsidePort);
  }
  auto v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(v[i]["action"], "deny");
    EXPECT_EQ(v[i]["reason"].get<std::string>().rfind(cases[i].reasonPrefix, 0), 0u)
        << v[i]["reason"];
  }
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

TEST_F(PipelineTest, ConflictingRetransmissionIsDenied) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  // A segment arrives, then a "retransmission" of it with different bytes: an evasion attempt.
  Bytes part(hello.begin() + 10, hello.begin() + 40);
  L4Spec c = client(m365_, 443);
  c.seq = seq + 10;
  inject(testing::frame(c, part), Ingress::InsidePort);
  for (auto& b : part) b ^= 0x55;
  inject(testing::frame(c, part), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "stream-conflict");
}

TEST_F(PipelineTest, RewriteAfterTheVerdictIsAStreamConflict) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  sendSegments(m365_, 443, seq, hello, hello.size());  // a true retransmission passes
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 2 * hello.size());
  const Bytes evil = testing::clientHello({.names = {"evil.example"}});
  sendSegments(m365_, 443, seq, evil, evil.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 2 * hello.size());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "stream-conflict:after-verdict");
  EXPECT_EQ(resets(PortRole::Inside).size(), 1u);
  EXPECT_EQ(resets(PortRole::Outside).size(), 1u);
}

TEST_F(PipelineTest, DataBeyondAGapAfterTheVerdictWaits) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  const Bytes more = tlsAppData(100);
  sendSegments(m365_, 443, seq + uint32_t(hello.size()) + 50, more, more.size());
  EXPECT_EQ(pipeline_->counters().stream_ahead_dropped, 1u);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), hello.size());
  sendSegments(m365_, 443, seq + uint32_t(hello.size()), more, more.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), hello.size() + more.size());
}

TEST_F(PipelineTest, KnownFlowFromTheWrongPortIsDropped) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  L4Spec c = client(m365_, 443);
  c.seq = seq + uint32_t(hello.size());
  inject(testing::frame(c, Bytes(10, 'x')), Ingress::OutsidePort);  // the client's, from outside
  L4Spec s = serverSide(m365_, 443);
  s.seq = 5001;
  s.ack = c.seq;
  inject(testing::frame(s, Bytes(10, 'y')), Ingress::InsidePort);  // the server's, from inside
  EXPECT_EQ(pipeline_->counters().wrong_port_dropped, 2u);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), hello.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
}

TEST_F(PipelineTest, MidstreamTcpIsDenied) {
  L4Spec c = client(m365_, 443);
  c.seq = 77;
  inject(testing::frame(c, testing::clientHello({.names = {"outlook.office365.com"}})),
         Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "midstream:no-syn");
  EXPECT_EQ(pipeline_->counters().tcp_midstream_denied, 1u);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

TEST_F(PipelineTest, TheSameTupleOnTwoVlansIsTwoFlows) {
  for (uint16_t vlan : {10, 11}) {
    L4Spec c = client(m365_, 443);
    c.flags = kSyn;
    c.seq = 1000;
    c.vlans = {vlan};
    inject(testing::frame(c, {}), Ingress::InsidePort);
  }
  EXPECT_EQ(pipeline_->counters().flows_new, 2u);
  EXPECT_EQ(pipeline_->counters().tcp_syn_on_live_dropped, 0u);
}

TEST_F(PipelineTest, LowTtlIsRaisedToTheFloor) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  L4Spec c = client(m365_, 443);
  c.seq = seq + uint32_t(hello.size());
  Bytes f = testing::frame(c, Bytes(10, 'x'));
  f[14 + 8] = 2;  // TTL 2 (checksum now wrong by design of the test: fix it)
  f[14 + 10] = f[14 + 11] = 0;
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += uint32_t(f[14 + i] << 8 | f[14 + i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[14 + 10] = uint8_t(~sum >> 8);
  f[14 + 11] = uint8_t(~sum);
  inject(f, Ingress::InsidePort);
  EXPECT_EQ(pipeline_->counters().tcp_ttl_raised, 1u);
  packet::PacketView v{};
  const auto& out = tx_.frames.back().bytes;
  ASSERT_EQ(packet::decode(out.data(), uint32_t(out.size()), v), packet::DecodeStatus::Ok);
  EXPECT_EQ(v.ttl, 64);  // and the IPv4 checksum verified by decode()
}

TEST_F(PipelineTest, BadChecksumBytesNeverReachTheInspector) {
  const uint32_t seq = handshake(m365_, 443);
  // An insertion attempt: a forbidden hello with a broken checksum (the server would drop it),
  // then the real, allowed one. Were the first trusted, the flow would be judged by it.
  Bytes evil = testing::frame(client(m365_, 443), {});
  L4Spec c = client(m365_, 443);
  c.seq = seq;
  evil = testing::frame(c, testing::clientHello({.names = {"evil.example"}}));
  evil[14 + 20 + 16] ^= 0xff;
  inject(evil, Ingress::InsidePort);
  EXPECT_TRUE(verdicts().empty());
  sendSegments(m365_, 443, seq, testing::clientHello({.names = {"outlook.office365.com"}}), 2000);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(pipeline_->counters().bad_checksum, 1u);
}

TEST_F(PipelineTest, QuicIsBlocked) {
  L4Spec u = client(m365_, 443);
  u.proto = 17;
  Bytes initial = {0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0x9e};
  initial.resize(1200, 0);
  inject(testing::frame(u, initial), Ingress::InsidePort);
  EXPECT_TRUE(tx_.frames.empty());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "quic:initial");
  EXPECT_EQ(v[0]["app_proto"], "quic");
}

TEST_F(PipelineTest, DnsAnswerBindsNameForNonTlsPort) {
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  const IpAddr partner = *IpAddr::parse("198.51.100.22");
  L4Spec q = client(resolver, 53);
  q.proto = 17;
  q.sport = 5353;
  // The query (allowed by CIDR): its answer alone may bind.
  const Bytes query = testing::dnsQuery("files.partner.example");
  inject(testing::frame(q, query), Ingress::InsidePort);
  L4Spec a = serverSide(resolver, 53);
  a.proto = 17;
  a.dport = 5353;
  inject(testing::frame(
             a, testing::dnsResponse("FILES.partner.example", {"edge.cdn.example"}, {partner})),
         Ingress::OutsidePort);
  EXPECT_EQ(tx_.frames.size(), 2u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 1u);
  // SSH to the bound address: the port also has name rules, so the verdict waits for the first
  // payload (neither TLS nor HTTP) and the binding allows it.
  const Bytes banner = {'S', 'S', 'H', '-', '2', '.', '0', '-', 'x', '\r', '\n'};
  uint32_t seq = handshake(partner, 22);
  sendSegments(partner, 22, seq, banner, banner.size());
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), query.size() + banner.size());
  // SSH to an address nobody resolved: denied at its first payload, reset both ways.
  const IpAddr stranger = *IpAddr::parse("198.51.100.99");
  seq = handshake(stranger, 22);
  sendSegments(stranger, 22, seq, banner, banner.size());
  EXPECT_EQ(resets(PortRole::Inside).size(), 1u);
  EXPECT_EQ(resets(PortRole::Outside).size(), 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["reason"], "cidr");
  EXPECT_EQ(v[1]["reason"], "dns-binding");
  EXPECT_EQ(v[1]["policy"]["service"], "sftp-partner");
  EXPECT_EQ(v[2]["action"], "deny");
}

TEST_F(PipelineTest, DnsOverTcpBindsWholeMessagesAtKnownBoundaries) {
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  const IpAddr first = *IpAddr::parse("198.51.100.31"), second = *IpAddr::parse("198.51.100.32");
  handshake(resolver, 53);  // tcp/53 to the resolver: allowed by CIDR at the SYN
  // The client's query, at the start of its stream: answers to it may bind.
  const Bytes query = dnsTcpFramed(testing::dnsQuery("files.partner.example"));
  sendSegments(resolver, 53, 1001, query, query.size());
  EXPECT_EQ(pipeline_->counters().dns_queries, 1u);
  const Bytes m1 = dnsTcpFramed(testing::dnsResponse("files.partner.example", {}, {first}));
  const Bytes m2 = dnsTcpFramed(testing::dnsResponse("files.partner.example", {}, {second}));
  // One segment: the whole first message and the start of the second.
  Bytes seg1 = m1;
  seg1.insert(seg1.end(), m2.begin(), m2.begin() + 6);
  L4Spec s = serverSide(resolver, 53);
  s.seq = 5001;
  s.ack = 1001;
  inject(testing::frame(s, seg1), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().dns_answers, 1u);
  // The rest of the second message: not at a boundary we know, so not read.
  s.seq = 5001 + uint32_t(seg1.size());
  inject(testing::frame(s, Bytes(m2.begin() + 6, m2.end())), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().dns_answers, 1u);
  EXPECT_GE(pipeline_->counters().dns_tcp_skipped, 1u);
  // A whole message on a second connection, at the start of the server's stream: read.
  handshake(resolver, 53, 40001);
  L4Spec q2 = client(resolver, 53, 40001);
  q2.seq = 1001;
  inject(testing::frame(q2, query), Ingress::InsidePort);
  L4Spec s2 = serverSide(resolver, 53, 40001);
  s2.seq = 5001;
  s2.ack = 1001;
  inject(testing::frame(s2, m2), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().dns_answers, 2u);
  // Both addresses are now bound to the partner's name: SSH to either is allowed.
  const Bytes banner = {'S', 'S', 'H', '-', '2', '.', '0', '\r', '\n'};
  uint32_t seq = handshake(second, 22);
  sendSegments(second, 22, seq, banner, banner.size());
  auto v = verdicts();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.back()["reason"], "dns-binding");
  EXPECT_EQ(v.back()["policy"]["service"], "sftp-partner");
}

// Issue 9, class 4: bindings only from answers to outstanding queries, never from the inside.
class DnsProvenanceTest : public PipelineTest {
 protected:
  const IpAddr resolver_ = *IpAddr::parse("192.0.2.53");
  const IpAddr partner_ = *IpAddr::parse("198.51.100.22");
  const IpAddr evil_ = *IpAddr::parse("198.51.100.66");

  void query(const std::string& name, uint16_t id = 0x1234, uint16_t clientPort = 5353,
             const IpAddr* server = nullptr) {
    L4Spec q = client(server ? *server : resolver_, 53, clientPort);
    q.proto = 17;
    inject(testing::frame(q, testing::dnsQuery(name, 1, id)), Ingress::InsidePort);
  }
  void answer(const std::string& name, const IpAddr& addr, Ingress in, uint16_t id = 0x1234,
              uint16_t clientPort = 5353, const IpAddr* server = nullptr) {
    L4Spec a = serverSide(server ? *server : resolver_, 53, clientPort);
    a.proto = 17;
    inject(testing::frame(a, testing::dnsResponse(name, {}, {addr}, 300, id)), in);
  }
  size_t framesTo(PortRole port) const {
    size_t n = 0;
    for (const auto& f : tx_.frames) n += f.port == port;
    return n;
  }
  // SSH to `server`: allowed only through a DNS binding of its address.
  std::string sshVerdict(const IpAddr& server, uint16_t clientPort) {
    const Bytes banner = {'S', 'S', 'H', '-', '2', '.', '0', '\r', '\n'};
    L4Spec c = client(server, 22, clientPort);
    c.flags = kSyn;
    c.seq = 1000;
    inject(testing::frame(c, {}), Ingress::InsidePort);
    c.flags = kPshAck;
    c.seq = 1001;
    inject(testing::frame(c, banner), Ingress::InsidePort);
    auto v = verdicts();
    return v.empty() ? std::string("none") : v.back()["reason"].get<std::string>();
  }
};

TEST_F(DnsProvenanceTest, AnswerFromTheInsidePortNeverBindsNorPasses) {
  query("files.partner.example");
  // A host of the segment forges the resolver's answer, with the right id and question.
  answer("files.partner.example", evil_, Ingress::InsidePort);
  // Caught before DNS inspection: a packet of a known flow from the other side's port
  // (dns_inside_answer counts the same forgery in replays, where there are no ports).
  EXPECT_EQ(pipeline_->counters().wrong_port_dropped, 1u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 0u);
  EXPECT_EQ(framesTo(PortRole::Inside), 0u);  // not delivered either
  EXPECT_EQ(sshVerdict(evil_, 41000), "no-match:unidentified");
  // The query still waits for the real answer, which binds.
  answer("files.partner.example", partner_, Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().dns_answers, 1u);
  EXPECT_EQ(sshVerdict(partner_, 41001), "dns-binding");
}

TEST_F(DnsProvenanceTest, QueryFromTheOutsidePortIsNotNoted) {
  query("files.partner.example", 0x1111);  // the flow, begun by the client
  // An outsider asks in the client's name (through the outside port), then answers itself.
  L4Spec q = client(resolver_, 53, 5353);
  q.proto = 17;
  inject(testing::frame(q, testing::dnsQuery("files.partner.example", 1, 0x2222)),
         Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().wrong_port_dropped, 1u);  // the client's flow, from outside
  EXPECT_EQ(pipeline_->counters().dns_queries, 1u);
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x2222);
  EXPECT_EQ(pipeline_->counters().dns_unsolicited, 1u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 0u);
}

TEST_F(DnsProvenanceTest, UnsolicitedMismatchedAndDuplicateAnswersAreDropped) {
  // (An answer before any query of its flow is a flow begun from outside: dropped by the guard.)
  query("files.partner.example", 0x1111);
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x2222);  // no such query
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x3333);
  EXPECT_EQ(pipeline_->counters().dns_unsolicited, 2u);
  // Another client port is another flow, begun from outside: dropped by the guard.
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x1111, 5354);
  answer("other.partner.example", evil_, Ingress::OutsidePort, 0x1111);  // wrong question
  EXPECT_EQ(pipeline_->counters().dns_mismatched, 1u);
  EXPECT_EQ(framesTo(PortRole::Inside), 0u);
  answer("files.partner.example", partner_, Ingress::OutsidePort, 0x1111);  // the answer
  EXPECT_EQ(framesTo(PortRole::Inside), 1u);
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x1111);  // a second one
  EXPECT_EQ(pipeline_->counters().dns_duplicate, 1u);
  EXPECT_EQ(framesTo(PortRole::Inside), 1u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 1u);
  EXPECT_EQ(sshVerdict(evil_, 41000), "no-match:unidentified");
  EXPECT_EQ(sshVerdict(partner_, 41001), "dns-binding");
}

TEST_F(DnsProvenanceTest, OnlyResolversOfThePolicyBind) {
  // Port 53 of a partner is allowed by cidr, but it is not a resolver of the policy.
  const IpAddr other = *IpAddr::parse("198.51.100.53");
  slot_->publish(compile(std::string(kPolicy) +
                             "  - name: partner-dns\n    kind: lgwan-asp\n"
                             "    cidr: [198.51.100.53/32]\n    ports: [udp/53]\n",
                         2),
                 std::chrono::milliseconds(0));
  query("files.partner.example", 0x1234, 5353, &other);
  answer("files.partner.example", evil_, Ingress::OutsidePort, 0x1234, 5353, &other);
  EXPECT_EQ(framesTo(PortRole::Inside), 1u);  // delivered: the client asked that server
  EXPECT_EQ(pipeline_->counters().dns_not_resolver, 2u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 0u);
  EXPECT_EQ(sshVerdict(evil_, 41000), "no-match:unidentified");
}

TEST_F(DnsProvenanceTest, OverTcpAnAnswerToNoQueryIsDroppedAndStopsTheReading) {
  handshake(resolver_, 53);
  const Bytes q = dnsTcpFramed(testing::dnsQuery("files.partner.example", 1, 0x1111));
  sendSegments(resolver_, 53, 1001, q, q.size());
  EXPECT_EQ(pipeline_->counters().dns_queries, 1u);
  const size_t before = framesTo(PortRole::Inside);
  L4Spec s = serverSide(resolver_, 53);
  s.seq = 5001;
  s.ack = 1001 + uint32_t(q.size());
  inject(testing::frame(s, dnsTcpFramed(testing::dnsResponse("files.partner.example", {}, {evil_}, 300,
                                                       0x2222))),
         Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().dns_unsolicited, 1u);
  EXPECT_EQ(framesTo(PortRole::Inside), before);  // dropped
  // After a dropped segment the stream's boundaries are no longer trusted: nothing more binds
  // on this connection (fail closed), though its segments pass.
  inject(testing::frame(s, dnsTcpFramed(testing::dnsResponse("files.partner.example", {}, {partner_},
                                                       300, 0x1111))),
         Ingress::OutsidePort);
  EXPECT_EQ(framesTo(PortRole::Inside), before + 1);
  EXPECT_EQ(pipeline_->counters().dns_answers, 0u);
  EXPECT_EQ(sshVerdict(evil_, 41000), "no-match:unidentified");
}

TEST_F(DnsProvenanceTest, OverTcpAnswersToQueriesThatCouldNotBeReadPassUnbound) {
  handshake(resolver_, 53);
  Bytes q = testing::dnsQuery("files.partner.example", 1, 0x1111);
  q.insert(q.begin(), {uint8_t(q.size() >> 8), uint8_t(q.size())});
  sendSegments(resolver_, 53, 1001, q, 2);  // the length alone, then the rest: not read
  EXPECT_EQ(pipeline_->counters().dns_queries, 0u);
  const size_t before = framesTo(PortRole::Inside);
  Bytes a = testing::dnsResponse("files.partner.example", {}, {partner_}, 300, 0x1111);
  a.insert(a.begin(), {uint8_t(a.size() >> 8), uint8_t(a.size())});
  L4Spec s = serverSide(resolver_, 53);
  s.seq = 5001;
  s.ack = 1001 + uint32_t(q.size());
  inject(testing::frame(s, a), Ingress::OutsidePort);
  EXPECT_EQ(framesTo(PortRole::Inside), before + 1);  // delivered
  EXPECT_EQ(pipeline_->counters().dns_unsolicited, 0u);
  EXPECT_EQ(pipeline_->counters().dns_answers, 0u);  // but never a binding
}

TEST_F(PipelineTest, SniDnsEnforceRefusesUnresolvedAddressesAtTheSyn) {
  std::string enforce = kPolicy;
  enforce.replace(enforce.find("sni_dns: off"), 12, "sni_dns: enforce");
  slot_->publish(compile(enforce, 2), std::chrono::milliseconds(0));
  L4Spec c = client(m365_, 443);
  c.flags = kSyn;
  inject(testing::frame(c, {}), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "no-match:unresolved");
  EXPECT_EQ(resets(PortRole::Inside).size(), 1u);
}

TEST_F(PipelineTest, InboundAndMidstreamAreDenied) {
  L4Spec in = serverSide(m365_, 443);
  in.flags = kSyn;
  inject(testing::frame(in, {}), Ingress::OutsidePort);
  L4Spec mid = client(m365_, 443);
  mid.sport = 42000;
  inject(testing::frame(mid, Bytes(100, 'x')), Ingress::InsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
  // The SYN from outside made no flow and no record (guard: outside traffic costs no state).
  EXPECT_EQ(pipeline_->counters().guard_outside_dropped, 1u);
  EXPECT_EQ(pipeline_->flowTable().size(), 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "deny");
  EXPECT_EQ(v[0]["reason"].get<std::string>().rfind("midstream", 0), 0u) << v[0]["reason"];
}

TEST_F(PipelineTest, HttpHostAndDisagreement) {
  uint32_t seq = handshake(m365_, 80);
  const std::string ok = "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(ok.begin(), ok.end()), 7);
  L4Spec c = client(m365_, 80);
  c.sport = 40001;
  c.flags = kSyn;
  c.seq = 1;
  inject(testing::frame(c, {}), Ingress::InsidePort);
  const std::string bad =
      "GET http://evil.example/ HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  c.flags = kPshAck;
  c.seq = 2;
  inject(testing::frame(c, Bytes(bad.begin(), bad.end())), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "host");
  EXPECT_EQ(v[0]["http"]["hostname"], "outlook.office365.com");
  EXPECT_EQ(v[1]["action"], "deny");
}

// Later requests on an HTTP connection allowed by Host (http_follow.cc): each head is judged
// before its bytes leave, whatever segments carry it.
class HttpFollowTest : public PipelineTest {
 protected:
  static Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
  static std::string get(const std::string& host) {
    return "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  }
  // Every client payload byte forwarded toward the server, concatenated.
  std::string forwarded() const {
    std::string out;
    for (const auto& f : tx_.frames) {
      packet::PacketView v{};
      if (f.port == PortRole::Outside &&
          packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok) {
        out.append(reinterpret_cast<const char*>(v.frame + v.payloadOffset), v.payloadLen);
      }
    }
    return out;
  }
  void send(uint32_t& seq, const std::string& data, size_t segment = 0) {
    sendSegments(m365_, 80, seq, text(data), segment ? segment : data.size());
    seq += uint32_t(data.size());
  }
};

TEST_F(HttpFollowTest, KeepAliveSecondRequestWithForbiddenHostIsResetBeforeItLeaves) {
  uint32_t seq = handshake(m365_, 80);
  send(seq, get("outlook.office365.com"));
  send(seq, get("evil.example"));
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "host");
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "request-host");
  EXPECT_EQ(v[1]["http"]["hostname"], "evil.example");
  EXPECT_EQ(forwarded(), get("outlook.office365.com"));
  EXPECT_FALSE(resets(PortRole::Inside).empty());
  EXPECT_EQ(pipeline_->counters().http_requests_followed, 1u);
}

TEST_F(HttpFollowTest, AllowedKeepAliveRequestsPassInAnySegmentation) {
  uint32_t seq = handshake(m365_, 80);
  const std::string all = get("outlook.office365.com") + "\r\n" + get("x.sharepoint.com") +
                          "POST /a HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 5\r\n\r\nhello" +
                          get("outlook.office365.com");
  send(seq, all, 7);  // heads cross segments: held, then released in order
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(forwarded(), all);
  EXPECT_EQ(pipeline_->counters().http_requests_followed, 3u);
}

TEST_F(HttpFollowTest, PipelinedForbiddenRequestInTheFirstSegmentLetsNothingOut) {
  uint32_t seq = handshake(m365_, 80);
  send(seq, get("outlook.office365.com") + get("evil.example"));
  auto v = verdicts();
  // The first request is allowed (logged), the second denied before anything was released.
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "host");
  EXPECT_EQ(v[1]["reason"], "request-host");
  EXPECT_EQ(forwarded(), "");
}

TEST_F(HttpFollowTest, SplitForbiddenHeadIsNeverForwarded) {
  uint32_t seq = handshake(m365_, 80);
  send(seq, get("outlook.office365.com"));
  send(seq, get("evil.example"), 3);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["reason"], "request-host");
  EXPECT_EQ(forwarded().find("evil"), std::string::npos);
}

TEST_F(HttpFollowTest, RequestsInsideBodiesAreBodyNotHeads) {
  uint32_t seq = handshake(m365_, 80);
  const std::string inner = get("evil.example");
  const std::string chunked = "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n" +
                              [&] {
                                char n[16];
                                std::snprintf(n, sizeof(n), "%zx;x=1\r\n", inner.size());
                                return std::string(n);
                              }() + inner + "\r\n0\r\nX-T: 1\r\n\r\n";
  const std::string lengthed = "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: " +
                               std::to_string(inner.size()) + "\r\n\r\n" + inner;
  send(seq, chunked, 11);
  send(seq, lengthed, 13);
  send(seq, get("outlook.office365.com"));
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(forwarded(), chunked + lengthed + get("outlook.office365.com"));
}

TEST_F(HttpFollowTest, FramingThatCannotBeFollowedIsDenied) {
  const char* heads[] = {
      "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  uint16_t port = 41000;
  for (const char* h : heads) {
    L4Spec c = client(m365_, 80, port++);
    c.flags = kSyn;
    c.seq = 1;
    inject(testing::frame(c, {}), Ingress::InsidePort);
    c.flags = kPshAck;
    c.seq = 2;
    inject(testing::frame(c, text(std::string(get("outlook.office365.com")) + h)),
           Ingress::InsidePort);
  }
  auto v = verdicts();
  ASSERT_EQ(v.size(), 8u);  // each flow: the GET allowed, then the second request's framing
  size_t framing = 0;
  for (auto& e : v) framing += e["reason"].get<std::string>().rfind("http-framing:", 0) == 0;
  EXPECT_EQ(framing, 4u);
  EXPECT_EQ(forwarded(), "");
}

TEST_F(HttpFollowTest, LeadingEmptyLinesDoNotHideTheHost) {
  uint32_t seq = handshake(m365_, 80);
  send(seq, "\r\n\r\n" + get("evil.example"));
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "no-match");
  EXPECT_EQ(v[0]["http"]["hostname"], "evil.example");
  EXPECT_EQ(forwarded(), "");
}

TEST_F(HttpFollowTest, TlsAlertBeforeTheClientHelloDoesNotHideTheSni) {
  const uint32_t seq = handshake(m365_, 443);
  testing::HelloSpec h;
  h.names = {"evil.example"};
  Bytes stream = {0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
  const Bytes hello = testing::clientHello(h);
  stream.insert(stream.end(), hello.begin(), hello.end());
  sendSegments(m365_, 443, seq, stream, 10);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "no-match");
  EXPECT_EQ(v[0]["tls"]["sni"], "evil.example");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

TEST_F(HttpFollowTest, SecondClientHelloInTheSameSegmentMustNameTheSameServer) {
  const uint32_t seq = handshake(m365_, 443);
  testing::HelloSpec ok, evil;
  ok.names = {"outlook.office365.com"};
  evil.names = {"evil.example"};
  Bytes two = testing::clientHello(ok);
  const Bytes second = testing::clientHello(evil);
  two.insert(two.end(), second.begin(), second.end());
  sendSegments(m365_, 443, seq, two, two.size());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "sni-changed:evil.example");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

// TLS connections allowed after their ClientHello: the client's cleartext records are followed
// until the encrypted phase, and a later ClientHello must name the judged server before it leaves.
class TlsFollowTest : public HttpFollowTest {
 protected:
  void sendTls(uint32_t& seq, const Bytes& data, size_t segment, uint16_t clientPort = 40000) {
    for (size_t off = 0; off < data.size(); off += segment) {
      const size_t n = std::min(segment, data.size() - off);
      L4Spec c = client(m365_, 443, clientPort);
      c.seq = seq + uint32_t(off);
      inject(testing::frame(c, Bytes(data.begin() + long(off), data.begin() + long(off + n))),
             Ingress::InsidePort);
    }
    seq += uint32_t(data.size());
  }
  static Bytes join(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  }
  const Bytes ccs_ = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
  const Bytes helloOk_ = testing::clientHello({.names = {"outlook.office365.com"}});
};

TEST_F(TlsFollowTest, SecondHelloAfterHelloRetryNamingAForbiddenHostNeverLeaves) {
  uint32_t seq = handshake(m365_, 443);
  sendTls(seq, helloOk_, helloOk_.size());
  L4Spec s = serverSide(m365_, 443);
  s.seq = 5001;
  s.ack = seq;
  inject(testing::frame(s, {0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00}),
         Ingress::OutsidePort);  // stands for the HelloRetryRequest
  const Bytes evil = testing::clientHello({.names = {"hrr-evil.example"}}, 60);
  sendTls(seq, join({ccs_, evil}), 37);  // the hello over two records and several segments
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "sni");
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "sni-changed:hrr-evil.example");
  EXPECT_EQ(forwarded().find("hrr-evil"), std::string::npos);
  EXPECT_FALSE(resets(PortRole::Outside).empty());
  EXPECT_EQ(pipeline_->counters().tls_hellos_followed, 1u);
}

TEST_F(TlsFollowTest, Tls13LikeFlowWithARetriedHelloPassesCompletelyThenFollowingEnds) {
  uint32_t seq = handshake(m365_, 443);
  const Bytes again = testing::clientHello({.names = {"OUTLOOK.office365.com"}}, 100);
  const Bytes all = join({helloOk_, ccs_, again, tlsAppData(300), tlsAppData(40)});
  sendTls(seq, all, 7);
  EXPECT_EQ(forwarded(), std::string(all.begin(), all.end()));
  // Encrypted from the first application_data record: later bytes are not read any more.
  const Bytes opaque(50, 0x99);
  sendTls(seq, opaque, opaque.size());
  EXPECT_EQ(forwarded().size(), all.size() + opaque.size());
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(pipeline_->counters().tls_hellos_followed, 1u);
  EXPECT_EQ(pipeline_->counters().tls_follow_ended, 1u);
}

TEST_F(TlsFollowTest, ATls12FlightEndsFollowingAtTheClientsCcs) {
  uint32_t seq = handshake(m365_, 443);
  const Bytes cke = {0x16, 0x03, 0x03, 0x00, 0x08, 0x10, 0x00, 0x00, 0x04, 1, 2, 3, 4};
  const Bytes finished = {0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff};  // ciphertext
  const Bytes all = join({helloOk_, cke, ccs_, finished, tlsAppData(30)});
  sendTls(seq, all, 11);
  EXPECT_EQ(forwarded(), std::string(all.begin(), all.end()));
  EXPECT_EQ(verdicts().size(), 1u);
  EXPECT_EQ(pipeline_->counters().tls_follow_ended, 1u);
}

TEST_F(TlsFollowTest, SecondHellosThatHideOrDropTheNameOrDoNotParseAreDenied) {
  testing::HelloSpec ech{.names = {"outlook.office365.com"}}, none{.names = {}};
  ech.ech = true;
  Bytes broken = testing::clientHello({.names = {"outlook.office365.com"}});
  broken[9] = 0x02;  // ClientHello.legacy_version 0x0203
  const struct {
    Bytes second;
    const char* reason;
  } cases[] = {
      {testing::clientHello(ech), "ech"},
      {testing::clientHello(none), "sni-changed:no-sni"},
      {broken, "ambiguous:tls-bad-hello-version"},
      {Bytes{'G', 'E', 'T', ' '},
       "malformed:tls-follow-record-type"},
  };
  uint16_t port = 41000;
  for (const auto& c : cases) {
    uint32_t seq = handshake(m365_, 443, port);
    sendTls(seq, helloOk_, helloOk_.size(), port);
    sendTls(seq, join({ccs_, c.second}), 50, port);
    auto v = verdicts();
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v.back()["reason"], c.reason);
    events_.events.clear();
    ++port;
  }
  // Each CCS shares its segment with the refused bytes: held with them, never forwarded.
  EXPECT_EQ(forwarded().size(), 4 * helloOk_.size());
}

TEST_F(TlsFollowTest, BytesHeldBeyondAGapAtTheVerdictAreJudgedBeforeRelease) {
  // The second hello arrives first, beyond a gap; the judged hello then completes the verdict
  // while it is still held; the CCS filling the gap lets it be read.
  for (const char* second : {"gap-evil.example", "outlook.office365.com"}) {
    const uint16_t port = second[0] == 'g' ? 42000 : 42001;
    uint32_t seq = handshake(m365_, 443, port);
    const Bytes hello2 = testing::clientHello({.names = {second}});
    uint32_t at = seq + uint32_t(helloOk_.size() + ccs_.size());
    sendTls(at, hello2, hello2.size(), port);
    uint32_t first = seq;
    sendTls(first, helloOk_, helloOk_.size(), port);
    sendTls(first, ccs_, ccs_.size(), port);
  }
  auto v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["reason"], "sni");
  EXPECT_EQ(v[1]["reason"], "sni-changed:gap-evil.example");
  EXPECT_EQ(v[2]["reason"], "sni");
  const std::string out = forwarded();
  EXPECT_EQ(out.find("gap-evil"), std::string::npos);
  // Only the allowed flow's bytes, all of them (held frames leave in arrival order; the
  // server's TCP puts them back in sequence).
  const Bytes all = join({helloOk_, ccs_, testing::clientHello({.names = {"outlook.office365.com"}})});
  EXPECT_EQ(out.size(), all.size());
}

TEST_F(TlsFollowTest, AHeldHelloBeyondTheStreamBufferIsAnInspectLimit) {
  uint32_t seq = handshake(m365_, 443);
  sendTls(seq, helloOk_, helloOk_.size());
  testing::HelloSpec big{.names = {"outlook.office365.com"}};
  big.padding = 16000;
  const Bytes second = testing::clientHello(big, 200);  // > 16 KiB with its record headers
  sendTls(seq, second, 1000);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["reason"], "inspect-limit:stream-window");
  EXPECT_EQ(forwarded().size(), helloOk_.size());
}

TEST_F(PipelineTest, PortNotAllowedAndLayer2) {
  L4Spec c = client(m365_, 8080);
  c.flags = kSyn;
  inject(testing::frame(c, {}), Ingress::InsidePort);
  // ARP passes; an unknown ethertype (it could tunnel IP) does not.
  Bytes arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  arp.resize(60, 0);
  inject(arp, Ingress::InsidePort);
  Bytes pppoe = arp;
  pppoe[12] = 0x88;
  pppoe[13] = 0x64;
  inject(pppoe, Ingress::InsidePort);
  inject(Bytes{1, 2, 3}, Ingress::InsidePort);
  const auto& k = pipeline_->counters();
  EXPECT_EQ(k.l2_passed, 1u);
  EXPECT_EQ(k.l2_dropped, 1u);
  EXPECT_GE(k.decode_malformed, 1u);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "port-not-allowed");
}

TEST_F(PipelineTest, NewSnapshotJudgesNewFlows) {
  std::string withoutSharepoint = kPolicy;
  const std::string wildcard = ", \"*.sharepoint.com\"";
  withoutSharepoint.replace(withoutSharepoint.find(wildcard), wildcard.size(), "");
  slot_->publish(compile(withoutSharepoint, 2), std::chrono::milliseconds(0));
  const uint32_t seq = handshake(m365_, 443);
  sendSegments(m365_, 443, seq, testing::clientHello({.names = {"a.sharepoint.com"}}), 4000);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "deny");
  EXPECT_EQ(v[0]["policy"]["version"], 2);
}

TEST_F(PipelineTest, ReloadEndsFlowsWhoseServiceIsGoneAndKeepsTheOthers) {
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  // Two allowed flows under version 1: TLS to Microsoft 365 (by SNI), DNS over TCP (by CIDR).
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  L4Spec d = client(resolver, 53);
  d.sport = 40100;
  d.flags = kSyn;
  inject(testing::frame(d, {}), Ingress::InsidePort);
  ASSERT_EQ(verdicts().size(), 2u);
  // Version 2 drops the resolver's tcp/53 but keeps microsoft365 (its index moves: a service is
  // added in front of it).
  std::string v2 = kPolicy;
  v2.replace(v2.find("ports: [udp/53, tcp/53]"), 23, "ports: [udp/53]");
  v2.replace(v2.find("services:\n"), 10,
             "services:\n  - name: first\n    kind: lgwan-asp\n    cidr: [203.0.113.0/24]\n"
             "    ports: [tcp/8443]\n");
  slot_->publish(compile(v2, 2), std::chrono::milliseconds(0));
  const size_t before = tx_.frames.size();
  L4Spec c = client(m365_, 443);
  c.seq = seq + uint32_t(hello.size());
  inject(testing::frame(c, tlsAppData(100)), Ingress::InsidePort);
  EXPECT_EQ(tx_.frames.size(), before + 1) << "the service remains: the flow carries on";
  d.flags = kAck;
  d.seq = 1;
  inject(testing::frame(d, Bytes(30, 0)), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2]["action"], "deny");
  EXPECT_EQ(v[2]["reason"], "policy-changed:port-removed");
  EXPECT_EQ(v[2]["policy"]["version"], 2);
  EXPECT_EQ(v[2]["dest_port"], 53);
  // Its data frame is dropped; the policy's deny is reset: one to each side.
  EXPECT_EQ(tx_.frames.size(), before + 3);
  const auto toClient = resets(PortRole::Inside);
  ASSERT_FALSE(toClient.empty());
  EXPECT_EQ(toClient.back().src, resolver);
  // The Microsoft 365 flow's end event names its service from version 2.
  pipeline_->drainAll(now_ + 1);
  drain();
  bool found = false;
  for (const auto& e : events_.events) {
    if (e["phase"] == "end" && e["dest_port"] == 443) {
      found = true;
      EXPECT_EQ(e["policy"]["service"], "microsoft365");
      EXPECT_EQ(e["policy"]["version"], 2);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(PipelineTest, ReloadKeepLetsAllowedFlowsRunToTheirEnd) {
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  std::string v2 = kPolicy;
  v2.replace(v2.find("  sni_dns: off\n"), 15, "  sni_dns: off\n  reload: keep\n");
  const size_t at = v2.find("  - name: microsoft365");
  const size_t end = v2.find("  - name: sftp-partner");
  v2.erase(at, end - at);
  slot_->publish(compile(v2, 2), std::chrono::milliseconds(0));
  const size_t before = tx_.frames.size();
  L4Spec c = client(m365_, 443);
  c.seq = seq + uint32_t(hello.size());
  inject(testing::frame(c, tlsAppData(100)), Ingress::InsidePort);
  EXPECT_EQ(tx_.frames.size(), before + 1);
  EXPECT_EQ(verdicts().size(), 1u);
}

TEST_F(PipelineTest, ServiceDemandingTlsEndsAnSshTunnelOnItsPort) {
  const IpAddr portal = *IpAddr::parse("203.0.113.10");
  // TLS to the portal: allowed by CIDR at the SYN, identified as TLS, carries on.
  uint32_t seq = handshake(portal, 443);
  const Bytes hello = testing::clientHello({.names = {"portal.partner.example"}});
  sendSegments(portal, 443, seq, hello, hello.size());
  // SSH over the same address and port from another client port: nDPI names it, the service
  // demands TLS, the flow is ended and reset.
  handshake(portal, 443, 40200);
  L4Spec c = client(portal, 443, 40200);
  L4Spec s = serverSide(portal, 443, 40200);
  const std::string serverBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
  s.seq = 5001;
  s.ack = 1001;
  inject(testing::frame(s, Bytes(serverBanner.begin(), serverBanner.end())), Ingress::OutsidePort);
  const std::string clientBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
  c.seq = 1001;
  c.ack = 5001 + uint32_t(serverBanner.size());
  inject(testing::frame(c, Bytes(clientBanner.begin(), clientBanner.end())), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["reason"], "cidr");
  EXPECT_EQ(v[1]["action"], "allow");
  EXPECT_EQ(v[1]["dest_port"], 443);
  EXPECT_EQ(v[2]["action"], "deny");
  EXPECT_EQ(v[2]["src_port"], 40200);
  EXPECT_EQ(v[2]["reason"].get<std::string>().rfind("app-mismatch:", 0), 0u) << v[2].dump();
  EXPECT_FALSE(resets(PortRole::Inside).empty());
  // The TLS flow was not touched.
  pipeline_->drainAll(now_ + 1);
  drain();
  for (const auto& e : events_.events) {
    if (e["phase"] == "end" && e["src_port"] == 40000 && e["dest_ip"] == "203.0.113.10") {
      EXPECT_EQ(e["action"], "allow") << e.dump();
    }
  }
}

TEST_F(PipelineTest, NoPayloadCrossesBeforeTheDemandedApplicationIsNamed) {
  const IpAddr portal = *IpAddr::parse("203.0.113.10");
  // An unidentifiable tunnel over the portal's address and port: allowed by CIDR at the SYN, but
  // its bytes wait for nDPI, which gives up after the identification window: denied, none sent.
  uint32_t seq = handshake(portal, 443, 40300);
  const Bytes opaque(600, 0xc3);
  for (int i = 0; i < 20; ++i) {
    L4Spec c = client(portal, 443, 40300);
    c.seq = seq;
    seq += uint32_t(opaque.size());
    inject(testing::frame(c, opaque), Ingress::InsidePort);
  }
  // A server that speaks first (an SSH banner): its bytes do not reach the client either.
  handshake(portal, 443, 40301);
  L4Spec s = serverSide(portal, 443, 40301);
  s.seq = 5001;
  s.ack = 1001;
  const std::string banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
  inject(testing::frame(s, Bytes(banner.begin(), banner.end())), Ingress::OutsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
  auto v = verdicts();
  size_t mismatches = 0;
  for (const auto& e : v) {
    mismatches += e["reason"].get<std::string>().rfind("app-mismatch:", 0) == 0;
  }
  EXPECT_EQ(mismatches, 2u);
  EXPECT_GT(pipeline_->counters().app_held, 0u);
  // TLS to the same portal is named at its ClientHello and passes whole.
  const size_t before = payloadBytesOut(PortRole::Outside);
  seq = handshake(portal, 443, 40302);
  const Bytes hello = testing::clientHello({.names = {"portal.partner.example"}});
  L4Spec c = client(portal, 443, 40302);
  c.seq = seq;
  inject(testing::frame(c, hello), Ingress::InsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), before + hello.size());
}

TEST_F(PipelineTest, FlowEndCarriesCounters) {
  const uint32_t seq = handshake(m365_, 443);
  sendSegments(m365_, 443, seq, testing::clientHello({.names = {"outlook.office365.com"}}), 4000);
  pipeline_->drainAll(now_ + 1);
  drain();
  const auto& last = events_.events.back();
  EXPECT_EQ(last["phase"], "end");
  EXPECT_EQ(last["flow"]["pkts_toserver"], 3);
  EXPECT_EQ(last["flow"]["pkts_toclient"], 1);
  EXPECT_EQ(last["flow"]["reason"], "shutdown");
  EXPECT_EQ(last["policy"]["service"], "microsoft365");
  // nDPI identified the application from the same packets (application-usage logs).
  ASSERT_TRUE(last.contains("app")) << last.dump();
  EXPECT_EQ(last["app"]["protocol"], "TLS") << last.dump();
  EXPECT_FALSE(last["app"]["name"].get<std::string>().empty());
}

TEST_F(PipelineTest, IcmpErrorsPassOnlyForAllowedFlowsAndTowardTheSender) {
  const IpAddr router = *IpAddr::parse("198.51.100.1");
  const IpAddr clientAddr = *IpAddr::parse("10.0.0.5");
  const uint32_t seq = handshake(m365_, 443);
  const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
  sendSegments(m365_, 443, seq, hello, hello.size());
  ASSERT_EQ(verdicts().at(0)["action"], "allow");
  L4Spec big = client(m365_, 443);
  big.seq = seq + uint32_t(hello.size());
  const Bytes bigSegment = testing::frame(big, Bytes(1400, 0x41));
  auto framesTo = [&](PortRole port, uint8_t proto) {
    size_t n = 0;
    for (const auto& f : tx_.frames) {
      packet::PacketView v{};
      if (f.port == port &&
          packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok &&
          v.ipProto == proto) {
        ++n;
      }
    }
    return n;
  };
  // "Fragmentation needed" from a router on the path, for the client's segment: passes inward.
  inject(testing::icmpError(bigSegment, router, clientAddr, 3, 4, 1280), Ingress::OutsidePort);
  EXPECT_EQ(framesTo(PortRole::Inside, 1), 1u);
  // The same error arriving on the inside port would travel away from the sender: dropped.
  inject(testing::icmpError(bigSegment, router, clientAddr, 3, 4, 1280), Ingress::InsidePort);
  EXPECT_EQ(framesTo(PortRole::Outside, 1), 0u);
  // An error about a flow that was never allowed (denied name), or never existed: dropped.
  const IpAddr other = *IpAddr::parse("52.96.9.9");
  const uint32_t seq2 = handshake(other, 443);
  const Bytes badHello = testing::clientHello({.names = {"www.example.org"}});
  sendSegments(other, 443, seq2, badHello, badHello.size());
  L4Spec denied = client(other, 443);
  inject(testing::icmpError(testing::frame(denied, {}), router, clientAddr, 3, 4, 1280),
         Ingress::OutsidePort);
  L4Spec unknown = client(*IpAddr::parse("52.96.7.7"), 443);
  inject(testing::icmpError(testing::frame(unknown, {}), router, clientAddr, 3, 4, 1280),
         Ingress::OutsidePort);
  EXPECT_EQ(framesTo(PortRole::Inside, 1), 1u);
  EXPECT_EQ(pipeline_->counters().icmp_passed, 1u);
  EXPECT_EQ(pipeline_->counters().icmp_dropped, 3u);
}

TEST_F(PipelineTest, Ipv6NeighbourAndListenerDiscoveryCrossOnlyAsTheRfcsSendThem) {
  namespace pt = packet::testing;
  const Bytes linkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
  const Bytes allNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  auto icmp6 = [&](uint8_t type, uint8_t hopLimit) {
    Bytes f = pt::cat(pt::eth(0x86dd), pt::ipv6(58, pt::icmp(type, 0, Bytes(16, 0)),
                                                 linkLocal.data(), allNodes.data(), hopLimit));
    pt::fixL4Checksum(f);
    return f;
  };
  // ND at hop limit 255, MLD (query, v1 report, done, v2 report) at hop limit 1: link plumbing.
  for (uint8_t type : {133, 134, 135, 136, 137}) inject(icmp6(type, 255), Ingress::InsidePort);
  for (uint8_t type : {130, 131, 132, 143}) inject(icmp6(type, 1), Ingress::OutsidePort);
  EXPECT_EQ(tx_.frames.size(), 9u);
  EXPECT_EQ(pipeline_->counters().icmp_passed, 9u);
  // The same types at other hop limits were routed (or forged): not plumbing, denied.
  for (uint8_t type : {135, 136}) inject(icmp6(type, 64), Ingress::InsidePort);
  for (uint8_t type : {131, 143}) inject(icmp6(type, 255), Ingress::InsidePort);
  EXPECT_EQ(tx_.frames.size(), 9u);
  EXPECT_EQ(pipeline_->counters().icmp_passed, 9u);
  EXPECT_EQ(pipeline_->counters().icmp_dropped, 4u);
}

// A real client Initial from the nDPI corpus whose ClientHello decrypts in its first datagram,
// and the server name it carries.
struct QuicSample {
  Bytes datagram;
  std::string sni;
};
QuicSample firstReadableQuicInitial() {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(fs::path(LBG_CORPUS_DIR) / "ndpi" / "pcap")) {
    if (f.path().filename().string().rfind("quic", 0) == 0) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto cap = inspect::testing::readCapture(f.string());
    for (const auto& [dir, payloads] : cap.udpPayloads) {
      if (payloads.empty() || dir.dst.port != 443) continue;
      inspect::QuicClientHello q;
      if (inspect::parseQuicClientHello(payloads[0], q) == inspect::Status::Done && q.tls.hasSni &&
          !q.tls.ech) {
        return {payloads[0], std::string(q.tls.sni, q.tls.sniLen)};
      }
    }
  }
  return {};
}

std::string quicPolicy(const std::string& name) {
  std::string p = kPolicy;
  p.replace(p.find("quic: block"), 11, "quic: allow");
  return p +
         "  - name: quic-cloud\n    kind: cloud\n"
         "    ismap: {id: C21-0009-1, expires: 2099-12-31}\n"
         "    fqdn: [\"" + name + "\"]\n    ports: [udp/443]\n";
}

// QUIC flows are judged by the SNI of their Initial, like TLS ones: the listed name passes at an
// address nothing bound, another name is denied and its datagram never leaves.
TEST_F(PipelineTest, QuicInitialIsJudgedBySni) {
  const QuicSample q = firstReadableQuicInitial();
  ASSERT_FALSE(q.sni.empty()) << "no readable QUIC Initial in the corpus";
  slot_->publish(compile(quicPolicy(q.sni), 2), std::chrono::milliseconds(0));
  L4Spec u = client(m365_, 443);
  u.proto = 17;
  inject(testing::frame(u, q.datagram), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "allow");
  EXPECT_EQ(v[0]["reason"], "sni");
  EXPECT_EQ(v[0]["app_proto"], "quic");
  EXPECT_EQ(v[0]["policy"]["service"], "quic-cloud");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), q.datagram.size());

  slot_->publish(compile(quicPolicy("other.example"), 3), std::chrono::milliseconds(0));
  L4Spec w = client(m365_, 443, 40001);
  w.proto = 17;
  inject(testing::frame(w, q.datagram), Ingress::InsidePort);
  v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "no-match");
  EXPECT_EQ(v[1]["app_proto"], "quic");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), q.datagram.size());  // only the first flow's
}

// A datagram on an allowed QUIC port that is not a readable Initial names nothing: only the DNS
// binding of the address can vouch for it (as before the SNI was read).
TEST_F(PipelineTest, QuicWithoutReadableInitialFallsBackToBinding) {
  slot_->publish(compile(quicPolicy("quic.example"), 2), std::chrono::milliseconds(0));
  L4Spec u = client(m365_, 443);
  u.proto = 17;
  inject(testing::frame(u, Bytes(100, 0x40)), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["action"], "deny");
  EXPECT_EQ(v[0]["reason"], "no-match:unidentified");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
}

// Protocol on port (AP-ENCRYPT): microsoft365 is a cloud service, so its tcp/443 carries TLS 1.2
// or later; plain HTTP with an allowed Host and TLS 1.1 with an allowed SNI are denied there,
// and nothing of them leaves.
TEST_F(PipelineTest, ProtocolOnPortDeniesPlaintextAndOldTls) {
  uint32_t seq = handshake(m365_, 443);
  const std::string get = "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  sendSegments(m365_, 443, seq, Bytes(get.begin(), get.end()), 1000);
  seq = handshake(m365_, 443, 40001);
  inspect::testing::HelloBuilder old;
  old.version = 0x0302;
  old.sni("outlook.office365.com");
  L4Spec c = client(m365_, 443, 40001);
  c.seq = seq;
  inject(testing::frame(c, inspect::testing::stream(old)), Ingress::InsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "protocol-mismatch:http");
  EXPECT_EQ(v[0]["measure"], "AP-ENCRYPT");
  EXPECT_EQ(v[1]["reason"], "protocol-mismatch:tls-version");
  EXPECT_EQ(payloadBytesOut(PortRole::Outside), 0u);
  // Port 80 of the same service declares nothing: HTTP there is judged by its Host as before.
  seq = handshake(m365_, 80, 40002);
  L4Spec h = client(m365_, 80, 40002);
  h.seq = seq;
  inject(testing::frame(h, Bytes(get.begin(), get.end())), Ingress::InsidePort);
  v = verdicts();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2]["reason"], "host");
  EXPECT_EQ(v[2]["measure"], "AP-DEST");
}

// A server that speaks first on a port declared for TLS is not taken for "another protocol"
// judged by its address: the flow is denied and the server's bytes never reach the client.
TEST_F(PipelineTest, ServerSpeakingFirstOnATlsPortIsDenied) {
  handshake(m365_, 443);
  L4Spec s = serverSide(m365_, 443);
  s.flags = kPshAck;
  s.seq = 5001;
  s.ack = 1001;
  inject(testing::frame(s, Bytes(30, 'b')), Ingress::OutsidePort);
  auto v = verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["reason"], "protocol-mismatch:server-first");
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
}

// Guard stage: an inside source over its new-flow rate or concurrent-flow limit is refused
// without flow state, while another source is not affected.
class GuardTest : public PipelineTest {
 protected:
  void SetUp() override {
    PipelineTest::SetUp();
    PipelineConfig c;
    c.flowCapacity = 4096;
    c.streamBuffers = 64;
    c.holdSlots = 4096;
    c.eventRingSize = 1024;
    config_ = c;
  }
  void rebuild(
      const char* guard = "{new_flows_per_sec: 1, new_flow_burst: 3, max_flows_per_source: 0}") {
    std::string yaml = kPolicy;
    yaml.replace(yaml.find("defaults:\n"), 10, std::string("defaults:\n  guard: ") + guard + "\n");
    slot_->publish(compile(yaml, 2), std::chrono::milliseconds(0));
    pipeline_->housekeeping(now_);
    pipeline_->drainAll(now_);
    drain();
    auto p = Pipeline::create(config_, 0, *slot_, *dns_, testPool());
    ASSERT_TRUE(p.ok());
    pipeline_ = std::move(p.value());
  }
  void syn(const char* src, uint16_t sport) {
    L4Spec c = client(m365_, 443, sport);
    c.src = *IpAddr::parse(src);
    c.flags = kSyn;
    c.seq = 1000;
    inject(testing::frame(c, {}), Ingress::InsidePort);
  }
  PipelineConfig config_;
};

TEST_F(GuardTest, OneSourceOverItsNewFlowRateIsLimitedAnotherIsNot) {
  rebuild();
  for (uint16_t i = 0; i < 5; ++i) syn("10.0.0.5", 40000 + i);
  EXPECT_EQ(pipeline_->counters().flows_new, 3u);
  EXPECT_EQ(pipeline_->counters().guard_rate_limited, 2u);
  EXPECT_EQ(pipeline_->flowTable().size(), 3u);
  EXPECT_EQ(tx_.frames.size(), 3u);
  syn("10.0.0.6", 40000);
  EXPECT_EQ(pipeline_->counters().flows_new, 4u);
  EXPECT_EQ(tx_.frames.size(), 4u);
  // A packet of an admitted flow is not a new flow: never limited.
  syn("10.0.0.5", 40000);
  EXPECT_EQ(pipeline_->counters().guard_rate_limited, 2u);
  // A second later the source has one token again.
  now_ += 1'000'000'000ull;
  syn("10.0.0.5", 41000);
  EXPECT_EQ(pipeline_->counters().flows_new, 5u);
  syn("10.0.0.5", 41001);
  EXPECT_EQ(pipeline_->counters().guard_rate_limited, 3u);
}

TEST_F(GuardTest, ConcurrentFlowsPerSourceAreReleasedWhenFlowsEnd) {
  rebuild("{new_flows_per_sec: 0, max_flows_per_source: 2}");
  syn("10.0.0.5", 40000);
  syn("10.0.0.5", 40001);
  syn("10.0.0.5", 40002);
  EXPECT_EQ(pipeline_->counters().flows_new, 2u);
  EXPECT_EQ(pipeline_->counters().guard_concurrent_limited, 1u);
  // The flows time out; their ends give the source its slots back.
  now_ += 3600ull * 1'000'000'000ull;
  for (int i = 0; i < 200; ++i) pipeline_->housekeeping(now_);
  EXPECT_EQ(pipeline_->counters().flows_ended, 2u);
  syn("10.0.0.5", 40003);
  syn("10.0.0.5", 40004);
  EXPECT_EQ(pipeline_->counters().flows_new, 4u);
  EXPECT_EQ(pipeline_->counters().guard_concurrent_limited, 1u);
}


// Denied packets are summarised: a flood from outside (no flow) and a source over its rate are
// one `ddos` record per source and reason per interval, with the packet count, not one per packet.
TEST_F(GuardTest, DeniedPacketsAreSummarisedPerSourceAndReasonPerInterval) {
  rebuild();
  auto ddos = [&] {
    drain();
    std::vector<nlohmann::json> v;
    for (auto& e : events_.events) {
      if (e["event_type"] == "ddos") v.push_back(e);
    }
    return v;
  };
  L4Spec flood;
  flood.src = *IpAddr::parse("198.18.0.1");
  flood.dst = *IpAddr::parse("10.0.0.5");
  flood.proto = 17;
  flood.dport = 53;
  for (uint16_t i = 0; i < 1000; ++i) {
    flood.sport = uint16_t(1024 + i);
    inject(testing::frame(flood, Bytes(20, 'x')), Ingress::OutsidePort);
  }
  for (uint16_t i = 0; i < 5; ++i) syn("10.0.0.5", 40000 + i);  // 2 over the burst of 3
  EXPECT_EQ(pipeline_->counters().guard_outside_dropped, 1000u);
  pipeline_->housekeeping(now_);
  EXPECT_TRUE(ddos().empty());  // the interval is not over: nothing logged yet
  now_ += 10'000'000'000ull;
  pipeline_->housekeeping(now_);
  auto v = ddos();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(pipeline_->counters().guard_deny_summaries, 2u);
  const auto& in = v[0]["reason"] == "inbound" ? v[0] : v[1];
  const auto& rl = v[0]["reason"] == "inbound" ? v[1] : v[0];
  EXPECT_EQ(in["src_ip"], "198.18.0.1");
  EXPECT_EQ(in["proto"], "UDP");
  EXPECT_EQ(in["ddos"]["packets"], 1000);
  EXPECT_EQ(in["measure"], "AP-DDOS");
  EXPECT_EQ(rl["reason"], "rate-limit");
  EXPECT_EQ(rl["src_ip"], "10.0.0.5");
  EXPECT_EQ(rl["ddos"]["packets"], 2);
  EXPECT_TRUE(verdicts().size() <= 3u);  // the admitted flows' own verdicts at most
}

// Per-destination flood limit: a UDP flood towards one host is held to its rate and summarised
// (reason flood); datagrams to another host are not touched.
TEST_F(GuardTest, UdpFloodTowardsOneDestinationIsLimitedThere) {
  rebuild("{udp_per_dest_pps: 10, udp_per_dest_burst: 5}");
  L4Spec u;
  u.src = *IpAddr::parse("10.0.0.5");
  u.dst = *IpAddr::parse("192.0.2.99");
  u.proto = 17;
  u.sport = 5000;
  u.dport = 9999;
  for (int i = 0; i < 200; ++i) inject(testing::frame(u, Bytes(64, 'u')), Ingress::InsidePort);
  EXPECT_EQ(pipeline_->counters().guard_udp_flood_dropped, 195u);
  u.dst = *IpAddr::parse("192.0.2.100");
  for (int i = 0; i < 3; ++i) inject(testing::frame(u, Bytes(64, 'u')), Ingress::InsidePort);
  EXPECT_EQ(pipeline_->counters().guard_udp_flood_dropped, 195u);
  now_ += 10'000'000'000ull;
  pipeline_->housekeeping(now_);
  drain();
  int summaries = 0;
  for (auto& e : events_.events) {
    if (e["event_type"] != "ddos") continue;
    ++summaries;
    EXPECT_EQ(e["reason"], "flood");
    EXPECT_EQ(e["dest_ip"], "192.0.2.99");
    EXPECT_EQ(e["ddos"]["packets"], 195);
  }
  EXPECT_EQ(summaries, 1);
}

// Table exhaustion: a SYN flood from many inside addresses fills only the embryonic part of the
// table (a quarter) and evicts its own oldest entries; an established flow stays.
TEST_F(GuardTest, EmbryonicFloodDoesNotEvictAnEstablishedFlow) {
  config_.flowCapacity = 64;  // embryonic part: 16
  rebuild("{new_flows_per_sec: 0, max_flows_per_source: 0}");
  handshake(m365_, 443, 39999);
  ASSERT_EQ(pipeline_->flowTable().size(), 1u);
  for (uint32_t i = 0; i < 500; ++i) {
    syn(("10.7." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1)).c_str(), 40000);
  }
  const auto& t = pipeline_->flowTable();
  EXPECT_LE(t.embryonic(), 16u);
  EXPECT_GE(t.counters.embryonic_evicted, 400u);
  bool r;
  flow::FlowKey k = flow::makeKey(client(m365_, 443, 39999).src, 39999, m365_, 443, 6, r);
  const auto* e = const_cast<Pipeline::Table&>(t).find(k, flow::hashKey(k));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->meta.tcpState, flow::TcpState::Established);
  EXPECT_FALSE(e->meta.embryonic);
}

// 7. ids: the policy's rules over the bytes the gateway forwards (pipeline_ids.cc).
class PipelineIdsTest : public PipelineTest {
 protected:
  std::string policyText() override {
    ids::registerPolicyIds();
    dir_ = std::filesystem::temp_directory_path() /
           ("lbg-ids-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "local.rules")
        << "drop tcp any any -> any any (msg:\"evil upload\"; content:\"EVILPATTERN\"; "
           "classtype:trojan-activity; sid:1001; rev:2;)\n"
           "alert http any any -> any any (msg:\"secret uri\"; http.uri; content:\"/secret\"; "
           "sid:1002;)\n"
           "alert tcp any any -> any any (msg:\"bad\"; content:\"x\"; nosuchkeyword; sid:1003;)\n"
           "drop http any any -> any any (msg:\"bad agent\"; http.user_agent; content:\"EvilBot\"; "
           "sid:1004;)\n"
           "alert dns any any -> any any (msg:\"odd case\"; dns.query; content:\"Office365\"; "
           "sid:1005;)\n"
           "alert http any any -> any any (msg:\"exfil header\"; http.header; "
           "content:\"X-Exfil|3a 20|yes|0d 0a|\"; sid:1006;)\n"
           "drop http any any -> any any (msg:\"exfil body\"; http.request_body; "
           "content:\"secret=1\"; endswith; sid:1007;)\n"
           "drop http any any -> any any (msg:\"pe download\"; flow:to_client; file.data; "
           "content:\"MZ\"; depth:2; content:\"EVILPAYLOAD\"; distance:0; sid:1008;)\n"
           "alert http any any -> any any (msg:\"not found\"; http.stat_code; content:\"404\"; "
           "sid:1009;)\n"
           "drop http any any -> any any (msg:\"exe by type\"; flow:to_client; "
           "http.content_type; content:\"application/x-msdownload\"; sid:1010;)\n"
           "alert http any any -> any any (msg:\"tracking cookie\"; flow:to_client; "
           "http.cookie; content:\"track=\"; http.header; content:!\"track=\"; sid:1011;)\n"
           "alert http any any -> any any (msg:\"put mixed\"; http.method; content:\"PUT\"; "
           "http.request_body; content:\"mixedpart\"; sid:1012;)\n"
           "drop http any any -> any any (msg:\"leak\"; http.request_body; content:\"MIDSECRET\"; "
           "sid:1013;)\n";
    std::string yaml = kPolicy;
    yaml += "ids:\n  rules: [" + (dir_ / "local.rules").string() + "]\n  mode: ips\n";
    return yaml;
  }
  void TearDown() override {
    PipelineTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::vector<nlohmann::json> alerts() {
    drain();
    std::vector<nlohmann::json> v;
    for (auto& e : events_.events)
      if (e["event_type"] == "alert") v.push_back(e);
    return v;
  }
  bool forwardedContains(const std::string& needle) const {
    for (const auto& f : tx_.frames) {
      std::string s(f.bytes.begin(), f.bytes.end());
      if (f.port == PortRole::Outside && s.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  void padThenPattern(uint16_t clientPort);
  // A connection to the portal from `clientPort` with one GET sent: the server's side of it, its
  // first data segment's sequence and acknowledgement set.
  L4Spec getThenServerSide(uint16_t clientPort) {
    const uint32_t seq = handshake(m365_, 80, clientPort);
    const std::string req = "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
    sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), 1000, false, clientPort);
    L4Spec s = serverSide(m365_, 80, clientPort);
    s.seq = 5001;
    s.ack = seq + uint32_t(req.size());
    return s;
  }
  std::filesystem::path dir_;
};

TEST_F(PipelineIdsTest, DropRuleSplitAcrossSegmentsStopsTheFlowBeforeTheBytesLeave) {
  const uint32_t seq = handshake(m365_, 80);
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 22\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(head.begin(), head.end()), 1000);
  ASSERT_EQ(verdicts().size(), 1u);
  EXPECT_EQ(verdicts()[0]["action"], "allow");
  const std::string a = "aaaaaEVIL", b = "PATTERNbbbbbb";
  sendSegments(m365_, 80, seq + uint32_t(head.size()), Bytes(a.begin(), a.end()), 1000);
  EXPECT_TRUE(forwardedContains("aaaaaEVIL"));  // nothing matched yet
  sendSegments(m365_, 80, seq + uint32_t(head.size() + a.size()), Bytes(b.begin(), b.end()), 1000);
  EXPECT_FALSE(forwardedContains("PATTERN"));  // the segment completing the match is dropped
  const auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["action"], "deny");
  EXPECT_EQ(v[1]["reason"], "ids-drop:sid-1001");
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1001);
  EXPECT_EQ(al[0]["alert"]["rev"], 2);
  EXPECT_EQ(al[0]["alert"]["signature"], "evil upload");
  EXPECT_EQ(al[0]["alert"]["action"], "blocked");
  EXPECT_EQ(al[0]["measure"], "AP-IDS");
  EXPECT_FALSE(resets(PortRole::Inside).empty());  // defaults.deny: reset
  EXPECT_EQ(pipeline_->counters().ids_dropped, 1u);
}

TEST_F(PipelineIdsTest, DropRuleInTheHeldRequestFreesItAtTheVerdict) {
  const uint32_t seq = handshake(m365_, 80);
  const std::string req =
      "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 11\r\n\r\nEVILPATTERN";
  sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), 1000);
  EXPECT_FALSE(forwardedContains("POST"));  // held, judged allowed, scanned, freed
  const auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "host");
  EXPECT_EQ(v[1]["reason"], "ids-drop:sid-1001");
}

// Held packets leave in stream order and are scanned as they leave: the request's tail arrives
// first (held before the verdict), its head second; scanned in arrival order the pattern would
// be "PATTERN" then "...EVIL" and never match.
TEST_F(PipelineIdsTest, HeldSegmentsAreScannedInStreamOrderAsTheyAreReleased) {
  const uint32_t seq = handshake(m365_, 80);
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 11\r\n\r\n";
  const std::string req = head + "EVILPATTERN";
  sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), head.size() + 4, true);
  EXPECT_TRUE(forwardedContains("POST /up"));  // the first segment leaves, scanned
  EXPECT_FALSE(forwardedContains("PATTERN"));  // the second completes the match: dropped
  const auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["reason"], "host");
  EXPECT_EQ(v[1]["reason"], "ids-drop:sid-1001");
}

// A later request head held by the HTTP follower is scanned when it is released.
TEST_F(PipelineIdsTest, LaterHeadHeldByTheFollowerIsScannedAsReleased) {
  const uint32_t seq = handshake(m365_, 80);
  const std::string first = "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(first.begin(), first.end()), 1000);
  ASSERT_EQ(verdicts().size(), 1u);
  const std::string a = "GET /b HTTP/1.1\r\nHost: outlook.office365.com\r\nX: EVIL";
  const std::string b = "PATTERN\r\n\r\n";
  sendSegments(m365_, 80, seq + uint32_t(first.size()), Bytes(a.begin(), a.end()), 1000);
  EXPECT_FALSE(forwardedContains("GET /b"));  // held: the head is not complete
  sendSegments(m365_, 80, seq + uint32_t(first.size() + a.size()), Bytes(b.begin(), b.end()),
               1000);
  EXPECT_TRUE(forwardedContains("GET /b"));  // released and scanned: no match yet
  EXPECT_FALSE(forwardedContains("PATTERN"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1001");
  EXPECT_EQ(pipeline_->counters().ids_dropped, 1u);
}

TEST_F(PipelineIdsTest, AlertOnStickyUriForwardsAndLogs) {
  const uint32_t seq = handshake(m365_, 80);
  const std::string req = "GET /secret/x HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), 1000);
  EXPECT_TRUE(forwardedContains("GET /secret/x"));
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1002);
  EXPECT_EQ(al[0]["alert"]["action"], "allowed");
  EXPECT_EQ(pipeline_->counters().ids_alerts, 1u);
}

TEST_F(PipelineIdsTest, ServerBytesAreScannedToo) {
  const L4Spec s = getThenServerSide(40000);
  const std::string resp = "HTTP/1.1 200 OK\r\n\r\nEVILPATTERN";
  inject(testing::frame(s, Bytes(resp.begin(), resp.end())), Ingress::OutsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1001");
}

// A server's insertion (Ptacek & Newsham): a first copy the client never takes, then the resent
// copy with other bytes. The first copy with a bad checksum is dropped unscanned, so the resent
// one is scanned (and dropped by sid 1001); a first copy whose TTL would run out inside is
// forwarded with its TTL raised to the floor, so the client takes what was scanned. Before
// 2026-12-07 the benign first copy was scanned and moved the IDS's edge, and the resent
// EVILPATTERN passed as a retransmission of scanned bytes.
TEST_F(PipelineIdsTest, ServerInsertionByBadChecksumOrLowTtlDoesNotHideTheResentBytes) {
  const L4Spec s = getThenServerSide(40000);
  const std::string benign = "HTTP/1.1 200 OK\r\n\r\nharmless-bytes";
  const std::string evil = "HTTP/1.1 200 OK\r\n\r\nEVILPATTERN!!!";
  ASSERT_EQ(benign.size(), evil.size());
  Bytes bad = testing::frame(s, Bytes(benign.begin(), benign.end()));
  bad.back() ^= 0x01;  // the TCP checksum no longer holds
  const uint64_t badBefore = pipeline_->counters().bad_checksum;
  inject(bad, Ingress::OutsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
  EXPECT_EQ(pipeline_->counters().bad_checksum, badBefore + 1);
  inject(testing::frame(s, Bytes(evil.begin(), evil.end())), Ingress::OutsidePort);
  EXPECT_EQ(payloadBytesOut(PortRole::Inside), 0u);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1001");

  // A low TTL: forwarded, raised to the floor.
  const L4Spec s2 = getThenServerSide(40001);
  Bytes low = testing::frame(s2, Bytes(benign.begin(), benign.end()));
  constexpr size_t kTtl = 14 + 8;  // Ethernet header, then the IPv4 header's TTL
  ASSERT_EQ(low[kTtl], 64);
  low[kTtl] = 2;
  uint32_t sum = 0;  // the IPv4 header checksum again
  low[24] = low[25] = 0;
  for (size_t k = 14; k < 34; k += 2) sum += uint32_t(low[k]) << 8 | low[k + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  low[24] = uint8_t(~sum >> 8);
  low[25] = uint8_t(~sum);
  const size_t framesBefore = tx_.frames.size();
  inject(low, Ingress::OutsidePort);
  ASSERT_EQ(tx_.frames.size(), framesBefore + 1);
  EXPECT_EQ(tx_.frames.back().port, PortRole::Inside);
  EXPECT_EQ(tx_.frames.back().bytes[kTtl], 64);
  EXPECT_EQ(pipeline_->counters().ids_server_ttl_raised, 1u);
}

// The server's HTTP responses (pipeline_http_response.cc): http.stat_code, and the body as
// http.response_body / file.data, framed and dechunked, scanned as one buffer before the segment
// that completes it leaves.
class PipelineIdsResponseTest : public PipelineIdsTest {
 protected:
  // Opens a flow on clientPort and sends `request`; returns the server's next seq.
  uint32_t open(uint16_t clientPort, const std::string& request) {
    const uint32_t seq = handshake(m365_, 80, clientPort);
    sendSegments(m365_, 80, seq, Bytes(request.begin(), request.end()), 1000, false, clientPort);
    clientNext_ = seq + uint32_t(request.size());
    return 5001;
  }
  // The server sends `data` as one segment at `seq` (FIN with it when `fin`); returns the next.
  uint32_t serve(uint16_t clientPort, uint32_t seq, const std::string& data, bool fin = false) {
    L4Spec s = serverSide(m365_, 80, clientPort);
    s.seq = seq;
    s.ack = clientNext_;
    if (fin) s.flags = 0x19;  // FIN|PSH|ACK
    inject(testing::frame(s, Bytes(data.begin(), data.end())), Ingress::OutsidePort);
    return seq + uint32_t(data.size());
  }
  bool deliveredContains(const std::string& needle) const {
    for (const auto& f : tx_.frames) {
      std::string s(f.bytes.begin(), f.bytes.end());
      if (f.port == PortRole::Inside && s.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  uint32_t clientNext_ = 0;
};

TEST_F(PipelineIdsResponseTest, FileDataDropStopsADownloadBeforeItsEndLeaves) {
  uint32_t seq = open(40011, "GET /f.exe HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40011, seq, "HTTP/1.1 200 OK\r\nContent-Length: 28\r\n\r\nMZ-part1-EVIL");
  seq = serve(40011, seq, "PAYLO");
  EXPECT_TRUE(deliveredContains("PAYLO"));  // the body is not complete yet
  EXPECT_EQ(verdicts().back()["action"], "allow");
  serve(40011, seq, "AD-tail-12");  // completes the 28 bytes: scanned, dropped, flow reset
  EXPECT_FALSE(deliveredContains("AD-tail-12"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_FALSE(resets(PortRole::Inside).empty());
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1008);
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 1u);
}

// depth:2 counts from the body's start: the same bytes later in the body, or in a body whose
// chunk framing precedes them on the wire, are told apart as Suricata does (dechunked).
TEST_F(PipelineIdsResponseTest, BodyPositionsCountFromTheDechunkedBodyStart) {
  uint32_t seq = open(40012, "GET /a HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40012, seq, "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\nxMZEVILPAYLOAD..");
  EXPECT_TRUE(deliveredContains("xMZEVILPAYLOAD"));  // MZ not at the start
  EXPECT_EQ(verdicts().back()["action"], "allow");

  seq = open(40013, "GET /b HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40013, seq, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nMZ\r\n");
  seq = serve(40013, seq, "4\r\nEVIL\r\n7\r\nPAYLOAD\r\n");
  EXPECT_TRUE(deliveredContains("PAYLOAD"));  // the body ends with the last chunk only
  serve(40013, seq, "0\r\n\r\n");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
}

TEST_F(PipelineIdsResponseTest, StatCodeAlertsAndTheResponseIsForwarded) {
  uint32_t seq = open(40014, "GET /x HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40014, seq, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_TRUE(deliveredContains("404 Not Found"));
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1009);
  EXPECT_EQ(verdicts().back()["action"], "allow");
}

// A HEAD's response has a Content-Length and no body: the next response's head is read as a
// head (were it read as the HEAD's body, its MZ body would not be at the body's start).
TEST_F(PipelineIdsResponseTest, HeadResponseHasNoBodyAndPipelinedResponsesFollow) {
  uint32_t seq = open(40015, "HEAD /f HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  const std::string later = "GET /f HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n";
  sendSegments(m365_, 80, clientNext_, Bytes(later.begin(), later.end()), 1000, false, 40015);
  clientNext_ += uint32_t(later.size());
  seq = serve(40015, seq, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n");
  EXPECT_EQ(verdicts().back()["action"], "allow");
  serve(40015, seq, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nMZEVILPAYLOAD");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 2u);
}

// A body without length runs until the server closes: scanned at the FIN, which is held with it.
TEST_F(PipelineIdsResponseTest, BodyUntilCloseIsScannedAtTheFin) {
  uint32_t seq = open(40016, "GET /c HTTP/1.0\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40016, seq, "HTTP/1.0 200 OK\r\n\r\nMZEVILPAY");
  seq = serve(40016, seq, "LOAD and more");
  EXPECT_EQ(verdicts().back()["action"], "allow");
  serve(40016, seq, "", true);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
}

// Past the inspection limit (64 KiB) the body is counted, not scanned: the scan happens when the
// limit is reached, so a pattern beyond it does not match.
TEST_F(PipelineIdsResponseTest, BodyBeyondTheLimitIsCountedNotScanned) {
  uint32_t seq = open(40017, "GET /big HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  const size_t limit = 65536;
  seq = serve(40017, seq, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(limit + 13) +
                              "\r\n\r\nMZ");
  const std::string filler(1000, 'f');
  size_t sent = 2;
  while (sent + filler.size() <= limit) {
    seq = serve(40017, seq, filler);
    sent += filler.size();
  }
  seq = serve(40017, seq, std::string(limit - sent, 'f'));
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 1u);  // scanned at the limit
  serve(40017, seq, "EVILPAYLOAD.."); // beyond the limit
  EXPECT_EQ(verdicts().back()["action"], "allow");
  EXPECT_EQ(pipeline_->counters().ids_response_body_beyond, 13u);
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 1u);
}

// A compressed body is decoded before its scan (dataplane/ids/body_decoder.h), as libhtp does for
// Suricata: a server cannot hide a file.data pattern by gzipping what the browser unpacks.
using ids::testing::deflateWith;

TEST_F(PipelineIdsResponseTest, GzipBodyIsDecodedBeforeItsScan) {
  const std::string body = deflateWith("MZEVILPAYLOAD" + std::string(5000, 'z'), 16 + MAX_WBITS);
  ASSERT_EQ(body.find("EVILPAYLOAD"), std::string::npos);
  uint32_t seq = open(40018, "GET /g HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40018, seq, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
  EXPECT_EQ(verdicts().back()["action"], "allow");
  serve(40018, seq, body.substr(10));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_response_decoded, 1u);
}

// Two layers over a chunked body: dechunked, then both codings undone.
TEST_F(PipelineIdsResponseTest, LayeredCodingsOfAChunkedBodyAreUndone) {
  const std::string body =
      deflateWith(deflateWith("MZ--EVILPAYLOAD", -MAX_WBITS), 16 + MAX_WBITS);
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  uint32_t seq = open(40019, "GET /d HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40019, seq, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          "Content-Encoding: deflate\r\nContent-Encoding: gzip\r\n\r\n" +
                              std::string(size) + "\r\n" + body + "\r\n");
  EXPECT_EQ(verdicts().back()["action"], "allow");
  serve(40019, seq, "0\r\n\r\n");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
}

// A body that is not what its coding says, and one with a coding the IDS does not decode, are
// scanned as sent: what a client that does not decode them receives.
TEST_F(PipelineIdsResponseTest, UndecodableBodiesAreScannedAsSent) {
  uint32_t seq = open(40020, "GET /p HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40020, seq, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 13\r\n\r\n"
                    "MZEVILPAYLOAD");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_response_decode_failed, 1u);

  seq = open(40021, "GET /b HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40021, seq, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 13\r\n\r\n"
                    "MZEVILPAYLOAD");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_response_coding_unsupported, 1u);
  EXPECT_EQ(pipeline_->counters().ids_response_decoded, 0u);
}

// The response head's header buffers (http.content_type, http.cookie = Set-Cookie, http.header
// without it), gathered across segments and scanned with the response, after an interim 100.
TEST_F(PipelineIdsResponseTest, ResponseHeaderBuffersAreInspected) {
  uint32_t seq = open(40022, "GET /t HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  seq = serve(40022, seq, "HTTP/1.1 100 Continue\r\nContent-Type: application/x-msdownload\r\n\r\n");
  seq = serve(40022, seq, "HTTP/1.1 200 OK\r\nSet-Cookie: track=1\r\nContent-");
  seq = serve(40022, seq, "Type: text/html\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(verdicts().back()["action"], "allow");  // the 100's type is not the response's
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1011);

  seq = open(40023, "GET /u HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40023, seq, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    "content-type: application/x-msdownload\r\n\r\n");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1010");
  // The same head with bare LF line ends (a browser takes it): its buffers are filled too.
  seq = open(40024, "GET /v HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40024, seq,
        "HTTP/1.1 200 OK\nContent-Length: 0\ncontent-type: application/x-msdownload\n\n");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1010");
}

// The request head's fields are sticky buffers (http_head_buffers.h), for the first request and
// for every later one of a kept-alive connection, before any of its bytes leave.
TEST_F(PipelineIdsTest, UserAgentOfTheFirstAndOfALaterRequestIsInspected) {
  uint32_t seq = handshake(m365_, 80, 40001);
  const std::string bad =
      "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\nUser-Agent: EvilBot/1.0\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(bad.begin(), bad.end()), 1000, false, 40001);
  EXPECT_FALSE(forwardedContains("EvilBot"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1004");

  seq = handshake(m365_, 80, 40002);
  const std::string first =
      "GET / HTTP/1.1\r\nHost: outlook.office365.com\r\nUser-Agent: curl/8\r\n"
      "X-Exfil: yes\r\n\r\n";
  sendSegments(m365_, 80, seq, Bytes(first.begin(), first.end()), 1000, false, 40002);
  EXPECT_TRUE(forwardedContains("curl/8"));
  const std::string later =
      "GET /b HTTP/1.1\r\nHost: outlook.office365.com\r\nuser-agent: EvilBot/2\r\n\r\n";
  sendSegments(m365_, 80, seq + uint32_t(first.size()), Bytes(later.begin(), later.end()), 1000,
               false, 40002);
  EXPECT_FALSE(forwardedContains("EvilBot/2"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1004");
  const auto al = alerts();
  ASSERT_EQ(al.size(), 3u);  // sid 1004, then 1006 (http.header of the first request), 1004
  EXPECT_EQ(al[1]["alert"]["signature_id"], 1006);
  EXPECT_EQ(al[2]["alert"]["signature_id"], 1004);
}

// http.request_body: a Content-Length body that follows its head (first request and later ones).
TEST_F(PipelineIdsTest, RequestBodyOfTheFirstAndOfALaterRequestIsInspected) {
  uint32_t seq = handshake(m365_, 80, 40003);
  const std::string first =
      "POST /a HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 12\r\n\r\n"
      "x=1&secret=1";
  sendSegments(m365_, 80, seq, Bytes(first.begin(), first.end()), 1000, false, 40003);
  EXPECT_FALSE(forwardedContains("POST /a"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");

  seq = handshake(m365_, 80, 40004);
  const std::string ok =
      "POST /b HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 12\r\n\r\n"
      "secret=1&x=1";  // endswith: not this one
  sendSegments(m365_, 80, seq, Bytes(ok.begin(), ok.end()), 1000, false, 40004);
  EXPECT_TRUE(forwardedContains("POST /b"));
  const std::string later =
      "POST /c HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 8\r\n\r\nsecret=1";
  sendSegments(m365_, 80, seq + uint32_t(ok.size()), Bytes(later.begin(), later.end()), 1000,
               false, 40004);
  EXPECT_FALSE(forwardedContains("POST /c"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");
}

// dns.query: each query a client sends (of a name the policy lets it resolve: others are denied
// before the IDS), its name in the case it was sent (Suricata's buffer).
TEST_F(PipelineIdsTest, DnsQueryNameIsInspected) {
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  L4Spec q = client(resolver, 53);
  q.proto = 17;
  q.sport = 5353;
  inject(testing::frame(q, testing::dnsQuery("outlook.office365.com", 1, 1)),
         Ingress::InsidePort);
  EXPECT_TRUE(alerts().empty());  // content is case-sensitive, the name was sent in lowercase

  inject(testing::frame(q, testing::dnsQuery("outlook.Office365.com", 1, 2)),
         Ingress::InsidePort);
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1005);
  EXPECT_EQ(tx_.frames.size(), 2u);  // alert only: both queries forwarded
}

// DNS over TCP: each length-prefixed message's question is read (dataplane/ids/dns_tcp_queries.h,
// which also joins messages split across segments; the gateway's own query filter, on by default
// here, refuses split ones before the IDS sees them), as a datagram's is.
TEST_F(PipelineIdsTest, DnsQueryNameOverTcpIsInspected) {
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  Bytes two = dnsTcpFramed(testing::dnsQuery("outlook.office365.com", 1, 1));
  const Bytes second = dnsTcpFramed(testing::dnsQuery("outlook.office365.com", 28, 2));
  two.insert(two.end(), second.begin(), second.end());
  uint32_t seq = handshake(resolver, 53, 40030);
  sendSegments(resolver, 53, seq, two, two.size(), false, 40030);  // two messages, one segment
  EXPECT_TRUE(alerts().empty());
  seq += uint32_t(two.size());
  const Bytes third = dnsTcpFramed(testing::dnsQuery("outlook.Office365.com", 1, 3));
  sendSegments(resolver, 53, seq, third, third.size(), false, 40030);
  const auto al = alerts();
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1005);
  EXPECT_EQ(pipeline_->counters().ids_dns_tcp_queries, 3u);
}

// http.request_body of an upload whose body does not come with its head
// (pipeline_http_request.cc): gathered as the request walk passes over it, scanned where it
// ends, before the segment that ends it leaves.
Bytes upload(const std::string& method, const std::string& path, const std::string& body) {
  const std::string req = method + " " + path +
                          " HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  return Bytes(req.begin(), req.end());
}

TEST_F(PipelineIdsTest, LongUploadBodyIsScannedWhereItEnds) {
  uint32_t seq = handshake(m365_, 80, 40010);
  sendSegments(m365_, 80, seq, upload("POST", "/up", std::string(3000, 'a') + "&secret=1"), 1000,
               false, 40010);
  EXPECT_TRUE(forwardedContains("POST /up"));   // the head's segment and the next left
  EXPECT_FALSE(forwardedContains("secret=1"));  // the segment that ends the body did not
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");
  EXPECT_EQ(pipeline_->counters().ids_http_request_bodies, 1u);
  // A later request of the connection, its body in the next segments.
  seq = handshake(m365_, 80, 40011);
  const Bytes first = upload("POST", "/ok", "x=1");
  const Bytes later = upload("POST", "/later", std::string(1500, 'b') + "&secret=1");
  Bytes both = first;
  both.insert(both.end(), later.begin(), later.end());
  sendSegments(m365_, 80, seq, both, 700, false, 40011);
  EXPECT_TRUE(forwardedContains("POST /later"));
  EXPECT_FALSE(forwardedContains("secret=1"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");
  EXPECT_EQ(pipeline_->counters().ids_http_request_bodies, 2u);
}

// A chunked upload is scanned dechunked: "secret=1" is cut by the chunk framing as sent.
TEST_F(PipelineIdsTest, ChunkedUploadIsScannedDechunked) {
  const std::string req =
      "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nx=1&s\r\n7\r\necret=1\r\n0\r\n\r\n";
  uint16_t port = 40020;
  for (size_t segment : {1000, 16}) {
    const uint32_t seq = handshake(m365_, 80, port);
    sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), segment, false, port++);
    EXPECT_FALSE(forwardedContains("0\r\n\r\n")) << segment;  // the end never leaves
    EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007") << segment;
  }
}

// The body's scan judges only the rules that read http.request_body: the head's rules fired at
// the head and do not fire again; a rule mixing head and body buffers sees the whole request.
TEST_F(PipelineIdsTest, HeadRulesFireOnceAndMixedRulesSeeTheWholeUpload) {
  const uint32_t seq = handshake(m365_, 80);
  sendSegments(m365_, 80, seq, upload("PUT", "/secret/f", std::string(2500, 'b') + "mixedpart"),
               1000);
  EXPECT_TRUE(forwardedContains("mixedpart"));  // alerts only: the whole upload left
  const auto al = alerts();
  ASSERT_EQ(al.size(), 2u);
  EXPECT_EQ(al[0]["alert"]["signature_id"], 1002);  // http.uri, at the head
  EXPECT_EQ(al[1]["alert"]["signature_id"], 1012);  // PUT + body, at the body's end
  EXPECT_EQ(verdicts().size(), 1u);
}

// Body buffers are a bounded pool: an upload that finds none follows ids.on_fault (drop).
class PipelineIdsOneBodyTest : public PipelineIdsTest {
 protected:
  void adjust(PipelineConfig& c) override { c.idsBodies = 1; }
};

TEST_F(PipelineIdsOneBodyTest, UploadWithoutABodyBufferFollowsOnFault) {
  const uint32_t a = handshake(m365_, 80, 40030);
  const Bytes slow = upload("POST", "/slow", std::string(3000, 'c'));
  sendSegments(m365_, 80, a, Bytes(slow.begin(), slow.begin() + 1000), 1000, false, 40030);
  const uint32_t b = handshake(m365_, 80, 40031);
  sendSegments(m365_, 80, b, upload("POST", "/next", std::string(3000, 'd')), 1000, false, 40031);
  EXPECT_FALSE(forwardedContains("POST /next"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:body-buffers");
  EXPECT_EQ(pipeline_->counters().ids_request_unbuffered, 1u);
  // The first upload holds the buffer until its body ends, then gives it back.
  sendSegments(m365_, 80, a + 1000, Bytes(slow.begin() + 1000, slow.end()), 1000, false, 40030);
  EXPECT_EQ(pipeline_->counters().ids_http_request_bodies, 1u);
  const uint32_t c = handshake(m365_, 80, 40032);
  sendSegments(m365_, 80, c, upload("POST", "/after", std::string(3000, 'e') + "&secret=1"), 1000,
               false, 40032);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");
}

// One host holding its share of the body buffers (two of four here; a quarter by default) with
// unfinished uploads gets no more, so another host's upload still finds one and is scanned.
class PipelineIdsBodyShareTest : public PipelineIdsTest {
 protected:
  void adjust(PipelineConfig& c) override {
    c.idsBodies = 4;
    c.idsBodiesPerClient = 2;
  }
};

TEST_F(PipelineIdsBodyShareTest, OneClientCannotHoldEveryBodyBuffer) {
  const Bytes slow = upload("POST", "/slow", std::string(3000, 'c'));
  for (uint16_t port : {40040, 40041}) {  // the share: two unfinished uploads
    const uint32_t seq = handshake(m365_, 80, port);
    sendSegments(m365_, 80, seq, Bytes(slow.begin(), slow.begin() + 1000), 1000, false, port);
  }
  EXPECT_EQ(pipeline_->counters().ids_body_client_capped, 0u);
  const uint32_t third = handshake(m365_, 80, 40042);
  sendSegments(m365_, 80, third, Bytes(slow.begin(), slow.begin() + 1000), 1000, false, 40042);
  EXPECT_EQ(pipeline_->counters().ids_body_client_capped, 1u);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:body-buffers");  // on_fault: drop
  // Another host: a buffer is still free for it, and its upload is scanned (sid 1007).
  clientAddr_ = *IpAddr::parse("10.0.0.6");
  const uint32_t other = handshake(m365_, 80, 40043);
  sendSegments(m365_, 80, other, upload("POST", "/b", std::string(3000, 'e') + "&secret=1"), 1000,
               false, 40043);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007");
  EXPECT_EQ(pipeline_->counters().ids_body_client_capped, 1u);
}

class PipelineIdsOneBodyResponseTest : public PipelineIdsResponseTest {
 protected:
  void adjust(PipelineConfig& c) override { c.idsBodies = 1; }
};

// As for uploads: with every body buffer held (here the only one, by a slow download), the next
// response's body follows ids.on_fault (drop) instead of passing unread; a download scanned at
// the inspection limit gives its buffer back while the rest of it still flows.
TEST_F(PipelineIdsOneBodyResponseTest, DownloadWithoutABodyBufferFollowsOnFault) {
  uint32_t a = open(40060, "GET /slow HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  a = serve(40060, a, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nslow-start");
  const uint32_t b = open(40061, "GET /next HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40061, b, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nnext-body..");
  EXPECT_FALSE(deliveredContains("next-body"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:body-buffers");
  EXPECT_EQ(pipeline_->counters().ids_response_unbuffered, 1u);

  serve(40060, a, std::string(90, 's'));  // the slow body ends: its buffer is free again
  uint32_t c = open(40062, "GET /big HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  c = serve(40062, c, "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n");
  for (size_t sent = 0; sent < 66000; sent += 1000) c = serve(40062, c, std::string(1000, 'f'));
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 2u);  // the slow one, the big one at 64 KiB
  const uint32_t d = open(40063, "GET /d HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n");
  serve(40063, d, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nMZEVILPAYLOAD");
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_response_unbuffered, 1u);
  serve(40062, c, std::string(999, 'f') + "g");  // the big one goes on, unread past its limit
  EXPECT_TRUE(deliveredContains("fffg"));
}

// A megabyte upload in 1000-byte segments, the server acknowledging as it goes (more than the
// window its handshake opened), then EVILPATTERN (sid 1001) past the stream depth.
void PipelineIdsTest::padThenPattern(uint16_t clientPort) {
  const uint32_t seq = handshake(m365_, 80, clientPort);
  const Bytes req = upload("POST", "/pad", std::string(1 << 20, 'p') + "EVILPATTERN");
  for (size_t off = 0; off < req.size(); off += 1000) {
    const size_t n = std::min<size_t>(1000, req.size() - off);
    L4Spec c = client(m365_, 80, clientPort);
    c.seq = seq + uint32_t(off);
    inject(testing::frame(c, Bytes(req.begin() + off, req.begin() + off + n)),
           Ingress::InsidePort);
    L4Spec a = serverSide(m365_, 80, clientPort);
    a.seq = 5001;
    a.ack = c.seq + uint32_t(n);
    a.flags = kAck;
    inject(testing::frame(a, {}), Ingress::OutsidePort);
  }
}

// Past the stream depth (1 MiB per direction) a flow's bytes can no longer be scanned: ids.on_fault
// decides, so a megabyte of padding does not open the way for what a rule would stop.
TEST_F(PipelineIdsTest, StreamDepthFollowsOnFault) {
  padThenPattern(40070);
  EXPECT_FALSE(forwardedContains("EVILPATTERN"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:stream-depth");
  EXPECT_EQ(pipeline_->counters().ids_depth_reached, 1u);
}

class PipelineIdsPassOnFaultTest : public PipelineIdsTest {
 protected:
  std::string policyText() override { return PipelineIdsTest::policyText() + "  on_fault: pass\n"; }
};

TEST_F(PipelineIdsPassOnFaultTest, StreamDepthWithOnFaultPassEndsScanning) {
  padThenPattern(40071);
  EXPECT_TRUE(forwardedContains("EVILPATTERN"));
  EXPECT_EQ(verdicts().back()["action"], "allow");
  EXPECT_EQ(pipeline_->counters().ids_depth_reached, 1u);
}

// An upload sent with Content-Encoding: gzip is decoded before its scan, as Suricata 7 decodes
// request bodies: compressing what the server will unpack does not hide it from
// http.request_body rules (sid 1007: the body ends with secret=1), whether the body comes with
// its head or after it; a body that is not what its coding says is scanned as sent.
TEST_F(PipelineIdsTest, GzipUploadIsDecodedBeforeItsScan) {
  uint16_t port = 40080;
  for (size_t size : {100, 6000}) {
    std::string plain = "a=";
    uint32_t x = 12345;
    for (size_t i = 0; i < size; ++i) plain += char('a' + ((x = x * 1103515245 + 12345) >> 16) % 26);
    plain += "&secret=1";
    const std::string body = deflateWith(plain, 16 + MAX_WBITS);
    ASSERT_EQ(body.find("secret"), std::string::npos);
    ASSERT_EQ(body.size() > 1000, size > 1000);
    const std::string req =
        "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Encoding: gzip\r\n"
        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    const uint32_t seq = handshake(m365_, 80, port);
    sendSegments(m365_, 80, seq, Bytes(req.begin(), req.end()), 1000, false, port++);
    EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007") << size;
  }
  EXPECT_EQ(pipeline_->counters().ids_request_decoded, 2u);
  const std::string req =
      "POST /up HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Encoding: gzip\r\n"
      "Content-Length: 10\r\n\r\nnotgzip!!!";
  sendSegments(m365_, 80, handshake(m365_, 80, port), Bytes(req.begin(), req.end()), 1000, false,
               port);
  EXPECT_EQ(pipeline_->counters().ids_request_decode_failed, 1u);
  EXPECT_EQ(verdicts().back()["action"], "allow");
}

class PipelineIdsAddressTest : public PipelineIdsTest {
 protected:
  std::string policyText() override {
    std::string yaml = PipelineIdsTest::policyText();
    yaml.insert(yaml.find("ids:\n"),
                "  - name: http-partner\n    kind: lgwan-asp\n    cidr: [198.18.0.0/24]\n"
                "    ports: [tcp/8080]\n");
    std::ofstream(dir_ / "local.rules", std::ios::app)
        << "drop http any any -> any any (msg:\"evil uri\"; http.uri; content:\"/evil.php\"; "
           "sid:1014;)\n"
        << "drop http any any -> any any (msg:\"evil host\"; http.host; content:\"evil.example\"; "
           "sid:1015;)\n";
    return yaml;
  }
  // Sends `payload` on a new connection to the portal from `clientPort`, `segment` bytes a time.
  void sendToPortal(uint16_t clientPort, const std::string& payload, size_t segment = 1000) {
    sendSegments(portal_, 8080, handshake(portal_, 8080, clientPort),
                 Bytes(payload.begin(), payload.end()), segment, false, clientPort);
  }
  static std::string get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 198.18.0.10:8080\r\nUser-Agent: curl/8\r\n\r\n";
  }
  std::vector<int> alertSids() {
    std::vector<int> sids;
    for (const auto& a : alerts()) sids.push_back(a["alert"]["signature_id"]);
    return sids;
  }
  const IpAddr portal_ = *IpAddr::parse("198.18.0.10");
};

// HTTP to a service allowed by address: no name is judged, so no HTTP follower runs; the IDS
// takes the flow for HTTP from its first bytes, as Suricata's protocol detection does, so `http`
// rules and the first request's buffers apply (a drop on http.user_agent, an alert on the
// normalised http.uri).
TEST_F(PipelineIdsAddressTest, HttpAllowedByAddressIsInspectedAsHttp) {
  const std::string req =
      "GET /%73ecret HTTP/1.1\r\nHost: 198.18.0.10:8080\r\nUser-Agent: EvilBot/1.0\r\n\r\n";
  sendSegments(portal_, 8080, handshake(portal_, 8080, 40090), Bytes(req.begin(), req.end()),
               1000, false, 40090);
  EXPECT_FALSE(forwardedContains("EvilBot"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1004");
  std::vector<int> sids;
  for (const auto& a : alerts()) sids.push_back(a["alert"]["signature_id"]);
  EXPECT_EQ(std::count(sids.begin(), sids.end(), 1002), 1);  // http.uri: /secret
  EXPECT_EQ(pipeline_->counters().ids_http_by_content, 1u);
  // Another protocol on the same service is not taken for HTTP.
  const std::string other = "HELLO partner-protocol 1\r\nUser-Agent: EvilBot\r\n";
  sendSegments(portal_, 8080, handshake(portal_, 8080, 40091), Bytes(other.begin(), other.end()),
               1000, false, 40091);
  EXPECT_TRUE(forwardedContains("HELLO partner-protocol"));
  EXPECT_EQ(pipeline_->counters().ids_http_by_content, 1u);
}

// A kept-alive connection allowed by address: a harmless first request, then `GET /evil.php`
// on the same connection. Every request head is followed (pipeline_ids_http.cc), so the drop
// rule on http.uri (sid 1014) stops the segment that carries the second head, before it leaves.
TEST_F(PipelineIdsAddressTest, LaterRequestOnTheConnectionIsScanned) {
  const uint32_t seq = handshake(portal_, 8080, 40100);
  const std::string first = get("/index.html"), second = get("/evil.php");
  sendSegments(portal_, 8080, seq, Bytes(first.begin(), first.end()), 1000, false, 40100);
  EXPECT_TRUE(forwardedContains("/index.html"));
  sendSegments(portal_, 8080, seq + uint32_t(first.size()), Bytes(second.begin(), second.end()),
               1000, false, 40100);
  EXPECT_FALSE(forwardedContains("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
  EXPECT_EQ(pipeline_->counters().ids_http_by_content, 1u);
}

// An absolute URI whose host differs from Host: the server uses the URI's (RFC 9112 §3.2.2), and
// so does http.host (libhtp's request_hostname): the drop rule on the URI's host applies.
TEST_F(PipelineIdsAddressTest, AbsoluteUriHostIsTheHttpHost) {
  sendToPortal(40109, "GET http://Evil.Example/x HTTP/1.1\r\nHost: 198.18.0.10:8080\r\n\r\n");
  EXPECT_FALSE(forwardedContains("Evil.Example"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1015");
}

// A lowercase method is a request to a server that takes any token (Go's net/http does): the
// flow is followed as HTTP, and the drop rule on http.uri applies.
TEST_F(PipelineIdsAddressTest, LowercaseMethodIsFollowedAsHttp) {
  sendToPortal(40110, "get /evil.php HTTP/1.1\r\nHost: 198.18.0.10:8080\r\n\r\n");
  EXPECT_FALSE(forwardedContains("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
  EXPECT_EQ(pipeline_->counters().ids_http_by_content, 1u);
}

// Pipelined: the second head in the same segment as the first.
TEST_F(PipelineIdsAddressTest, PipelinedRequestIsScanned) {
  sendToPortal(40101, get("/index.html") + get("/evil.php"));
  EXPECT_FALSE(forwardedContains("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
}

// The first head cut across segments (two, then one byte each) is gathered: its buffers are
// scanned when it ends, and the segment that ends it does not leave.
TEST_F(PipelineIdsAddressTest, HeadCutAcrossSegmentsIsGathered) {
  const std::string req = get("/evil.php");
  uint16_t port = 40102;
  for (size_t segment : {size_t(30), size_t(1)}) {
    const size_t before = payloadBytesOut(PortRole::Outside);
    sendToPortal(port++, req, segment);
    EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014") << segment;
    const size_t last = (req.size() - 1) / segment * segment;  // where the last segment starts
    EXPECT_EQ(payloadBytesOut(PortRole::Outside) - before, last) << segment;
  }
  EXPECT_EQ(pipeline_->counters().ids_http_by_content, 2u);
  // A later head cut too: the first request clean, the second one byte a segment.
  const uint32_t seq = handshake(portal_, 8080, port);
  const std::string first = get("/index.html");
  sendSegments(portal_, 8080, seq, Bytes(first.begin(), first.end()), 1000, false, port);
  sendSegments(portal_, 8080, seq + uint32_t(first.size()), Bytes(req.begin(), req.end()), 1, false,
               port);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
}

// A policy commit in the middle of an upload: the new version brings a new engine, but where the
// connection's requests start is the connection's, not the engine's. The rest of the body, which
// looks like a request whose Content-Length covers the next one, is still body, and the real next
// request is scanned by the new rules. (Until 2026-12-07 the commit restarted the follower from
// the rest of the body: the fake head was taken for a request and the real one passed as its body.)
TEST_F(PipelineIdsAddressTest, PolicyCommitMidUploadKeepsTheConnectionsFraming) {
  const uint16_t port = 40130;
  const uint32_t seq = handshake(portal_, 8080, port);
  const std::string second = get("/evil.php");
  const std::string fake = "GET /ok HTTP/1.1\r\nHost: 198.18.0.10:8080\r\nContent-Length: " +
                           std::to_string(second.size()) + "\r\n\r\n";
  const std::string pad(1000, 'b');
  const std::string head = "POST /up HTTP/1.1\r\nHost: 198.18.0.10:8080\r\nContent-Length: " +
                           std::to_string(pad.size() + fake.size()) + "\r\n\r\n";
  const std::string first = head + pad;
  sendSegments(portal_, 8080, seq, Bytes(first.begin(), first.end()), 1000, false, port);
  slot_->publish(compile(policyText(), 2), std::chrono::milliseconds(0));
  uint32_t at = seq + uint32_t(first.size());
  sendSegments(portal_, 8080, at, Bytes(fake.begin(), fake.end()), 1000, false, port);
  EXPECT_TRUE(forwardedContains("GET /ok"));  // the body's end left: the upload is whole
  at += uint32_t(fake.size());
  sendSegments(portal_, 8080, at, Bytes(second.begin(), second.end()), 1000, false, port);
  EXPECT_FALSE(forwardedContains("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
}

// A request line inside a body is not a head: the walk passes over the body by its framing
// (Content-Length, then chunked; whole in a segment and cut in 7-byte segments), so the fake
// `GET /evil.php` raises nothing, while the real request after the body is scanned (sid 1002:
// http.uri /secret).
TEST_F(PipelineIdsAddressTest, RequestLineInABodyIsNotAHead) {
  const std::string fake = get("/evil.php");
  char size[16];
  std::snprintf(size, sizeof size, "%zx", fake.size());
  const std::string bodies[] = {
      "POST /up HTTP/1.1\r\nHost: 198.18.0.10\r\nContent-Length: " + std::to_string(fake.size()) +
          "\r\n\r\n" + fake,
      "POST /up HTTP/1.1\r\nHost: 198.18.0.10\r\nTransfer-Encoding: chunked\r\n\r\n" +
          std::string(size) + ";ext=1\r\n" + fake + "\r\n0\r\nTrailer: x\r\n\r\n",
  };
  uint16_t port = 40110;
  size_t expected = 0;
  for (const std::string& upload : bodies) {
    for (size_t segment : {size_t(1000), size_t(7)}) {
      sendToPortal(port++, upload + get("/secret"), segment);
      EXPECT_EQ(verdicts().back()["action"], "allow") << segment;
      EXPECT_TRUE(forwardedContains("/secret")) << segment;
      const auto sids = alertSids();
      EXPECT_EQ(std::count(sids.begin(), sids.end(), 1014), 0) << segment;
      EXPECT_EQ(std::count(sids.begin(), sids.end(), 1002), int(++expected)) << segment;
    }
  }
  EXPECT_EQ(pipeline_->counters().ids_http_unfollowed, 0u);
}

// Where a head must start, bytes that are not a request line cannot be followed as HTTP:
// ids.on_fault (drop) denies the flow before they leave, so they cannot hide a later request.
TEST_F(PipelineIdsAddressTest, GarbageWhereAHeadMustStartFollowsOnFault) {
  sendToPortal(40120, get("/index.html") + std::string("\x01\x02 GET /evil.php HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(forwardedContains("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:http-framing");
  EXPECT_EQ(pipeline_->counters().ids_http_unfollowed, 1u);
}

// After an Upgrade request the connection may stop speaking HTTP/1 (a WebSocket): bytes that do
// not begin a request line end the following; a request line (a refused upgrade) is followed.
TEST_F(PipelineIdsAddressTest, UpgradeStopsFollowingUnlessARequestComes) {
  const std::string upgrade =
      "GET /chat HTTP/1.1\r\nHost: 198.18.0.10\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\n\r\n";
  sendToPortal(40121, upgrade + std::string("\x81\x85\x01\x02\x03\x04hello"));
  EXPECT_EQ(verdicts().back()["action"], "allow");
  EXPECT_EQ(pipeline_->counters().ids_http_tunnels, 1u);
  sendToPortal(40122, upgrade + get("/evil.php"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1014");
}

// A later request's upload on such a connection is http.request_body as on a flow allowed by
// Host (sid 1007: the body ends with secret=1): whole in the head's segment, after it in many
// segments, chunked, and with its head cut one byte a segment (gathered in the body buffer that
// goes on as the body's).
TEST_F(PipelineIdsAddressTest, LaterUploadBodyIsInspected) {
  const std::string body = std::string(1000, 'a') + "&secret=1";
  const std::string length =
      "POST /up HTTP/1.1\r\nHost: 198.18.0.10\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  const std::string chunked =
      "POST /up HTTP/1.1\r\nHost: 198.18.0.10\r\nTransfer-Encoding: chunked\r\n\r\n" +
      std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  uint16_t port = 40130;
  for (const std::string* upload : {&length, &chunked}) {
    for (size_t segment : {size_t(1400), size_t(300), size_t(1)}) {
      const uint32_t seq = handshake(portal_, 8080, port);
      const std::string first = get("/index.html");
      sendSegments(portal_, 8080, seq, Bytes(first.begin(), first.end()), 1000, false, port);
      sendSegments(portal_, 8080, seq + uint32_t(first.size()),
                   Bytes(upload->begin(), upload->end()), segment, false, port++);
      EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1007") << segment;
    }
  }
  EXPECT_EQ(pipeline_->counters().ids_http_request_bodies, 5u);  // one came whole with its head
}

// Each later head is noted for the response follower in order: the response to a HEAD on the
// connection has no body, so the next response is framed right and its body scanned (sid 1008).
TEST_F(PipelineIdsAddressTest, LaterHeadRequestPairsWithItsResponse) {
  const uint32_t seq = handshake(portal_, 8080, 40150);
  const std::string first = get("/a"),
                    later = "HEAD /f HTTP/1.1\r\nHost: 198.18.0.10\r\n\r\n" + get("/f");
  sendSegments(portal_, 8080, seq, Bytes(first.begin(), first.end()), 1000, false, 40150);
  sendSegments(portal_, 8080, seq + uint32_t(first.size()), Bytes(later.begin(), later.end()), 1000,
               false, 40150);
  uint32_t server = 5001;
  for (const std::string& data : {std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                                  std::string("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"),
                                  std::string("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"
                                              "MZEVILPAYLOAD")}) {
    L4Spec r = serverSide(portal_, 8080, 40150);
    r.seq = server;
    r.ack = seq + uint32_t(first.size() + later.size());
    inject(testing::frame(r, Bytes(data.begin(), data.end())), Ingress::OutsidePort);
    server += uint32_t(data.size());
  }
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1008");
  EXPECT_EQ(pipeline_->counters().ids_http_responses, 3u);
}

// A head that has not ended within 8 KiB (the inspector's bound) cannot be gathered:
// ids.on_fault (drop) denies the flow before the segment past the bound leaves.
TEST_F(PipelineIdsAddressTest, HeadOverTheBoundFollowsOnFault) {
  const std::string head =
      "GET /x HTTP/1.1\r\nHost: 198.18.0.10\r\nX-Pad: " + std::string(9000, 'p');
  sendToPortal(40151, head);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:http-framing");
  EXPECT_EQ(pipeline_->counters().ids_http_unfollowed, 1u);
  EXPECT_LT(payloadBytesOut(PortRole::Outside), 8192u);
}

class PipelineIdsAddressPassTest : public PipelineIdsAddressTest {
 protected:
  std::string policyText() override {
    return PipelineIdsAddressTest::policyText() + "  on_fault: pass\n";
  }
};

// With on_fault: pass, bytes that cannot be followed as HTTP end the following, not the flow:
// they and what comes after are still scanned as stream payload (sid 1001).
TEST_F(PipelineIdsAddressPassTest, GarbageWithOnFaultPassIsScannedAsPayload) {
  const uint32_t seq = handshake(portal_, 8080, 40140);
  const std::string a = get("/index.html") + "\x01\x02 not http", b = " then EVILPATTERN";
  sendSegments(portal_, 8080, seq, Bytes(a.begin(), a.end()), 1000, false, 40140);
  EXPECT_TRUE(forwardedContains("not http"));
  EXPECT_EQ(pipeline_->counters().ids_http_unfollowed, 1u);
  sendSegments(portal_, 8080, seq + uint32_t(a.size()), Bytes(b.begin(), b.end()), 1000, false,
               40140);
  EXPECT_FALSE(forwardedContains("EVILPATTERN"));
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1001");
}

// ips mode: a drop rule that a prefix of the body cannot fool stops the upload at the segment
// that carries its pattern, before its end (whole in one segment, or cut by a segment boundary).
TEST_F(PipelineIdsTest, UploadIsStoppedWhereItsBodySoFarMatches) {
  uint16_t port = 40040;
  for (size_t at : {1500, 1995}) {  // in the middle of the second segment; across its end
    const uint32_t seq = handshake(m365_, 80, port);
    std::string body(4000, 'a');
    body.replace(at, 9, "MIDSECRET");
    const Bytes req = upload("POST", "/up", body);
    sendSegments(m365_, 80, seq, req, 1000, false, port++);
    EXPECT_FALSE(forwardedContains("MIDSECRET")) << at;
    EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-1013") << at;
  }
  EXPECT_EQ(pipeline_->counters().ids_http_request_bodies, 0u);  // stopped before their end
  EXPECT_GE(pipeline_->counters().ids_request_body_early, 2u);
}

}  // namespace
}  // namespace lbg::dataplane
