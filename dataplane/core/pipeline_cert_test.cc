// The passive certificate check (pipeline_cert.cc) end to end on real mbufs, with the verifier
// thread answering asynchronously: nothing of the server's flight reaches the client before the
// answer is applied (serviceCert), refusals reset both sides, a second flow with the same chain
// is judged from the worker's cache, and a flow that ends while its request is out is cleaned up
// when the answer comes back.

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dataplane/cert/ocsp_test_util.h"
#include "dataplane/cert/test_flight.h"
#include "dataplane/core/event_sink.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "dataplane/core/test_sinks.h"
#include "dataplane/ids/policy_ids.h"
#include "dataplane/inspect/tls/hello_builder.h"
#include "dataplane/proxy/test_certs.h"
#include "policy/parser.h"

namespace lbg::dataplane {
namespace {

using testing::Bytes;
using testing::L4Spec;
namespace tls = inspect::testing;

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04;

rte_mempool* certPool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("cert_test_pool", 8191, 256, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

// A TLS 1.2 flight: ServerHello, Certificate (the given certificates), ServerHelloDone.
Bytes flight(std::initializer_list<X509*> certs, bool tls13 = false) {
  return cert::testing::serverFlight(certs, tls13);
}

class PipelineCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(certPool(), nullptr);
    auto doc = policy::parsePolicyText(std::string(R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults: {deny: reset, sni_dns: "off"}
services:
  - name: svc
    kind: lgwan-asp
    fqdn: [svc.example.com, pinned.example.com]
    ports: [tcp/443]
)") + extraPolicy(),
                                       "t.yaml", std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    ASSERT_TRUE(doc.ok()) << doc.error().toString();
    slot_ = std::make_unique<SnapshotSlot>(
        policy::Snapshot::create(std::move(doc.value()), 1).value());
    slot_->setWorkerCount(workers());
    dns_ = std::move(inspect::DnsBindingTable::create(1024).value());
    auto v = cert::Verifier::create(proxy::test::writePem(root_.cert.get(), "pipeline-cert-root"),
                                    workers(), 4);
    ASSERT_TRUE(v.ok()) << v.error().toString();
    verifier_ = std::move(v.value());
    auto p = Pipeline::create(config(), 0, *slot_, *dns_, certPool());
    ASSERT_TRUE(p.ok()) << p.error().toString();
    pipeline_ = std::move(p.value());
  }
  virtual std::string extraPolicy() { return {}; }
  virtual uint32_t workers() { return 1; }
  PipelineConfig config() {
    PipelineConfig c;
    c.flowCapacity = 1024;
    c.streamBuffers = 16;
    c.guardRings = 16;
    c.holdSlots = 1024;
    c.eventRingSize = 1024;
    c.appIdSlots = 0;
    c.certVerifier = verifier_.get();
    return c;
  }
  void TearDown() override {
    pipeline_->serviceCert(now_, tx_, true);
    pipeline_->drainAll(now_);
    pipeline_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(certPool()), 0u) << "mbuf leak";
  }

  void inject(const Bytes& f, Ingress in) {
    rte_mbuf* m = rte_pktmbuf_alloc(certPool());
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    now_ += 1000;
    pipeline_->processBurst(&m, 1, in, now_, tx_);
  }
  L4Spec side(bool client, uint16_t port) {
    L4Spec s;
    s.src = client ? client_ : server_;
    s.dst = client ? server_ : client_;
    s.sport = client ? port : 443;
    s.dport = client ? 443 : port;
    return s;
  }
  // The TCP handshake of client port `port` (client ISN 1000, server 5000), completed.
  void handshake(uint16_t port) {
    L4Spec c = side(true, port), s = side(false, port);
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
  }
  // Handshake and an allowed ClientHello for `sni`; then the server's flight. Returns the
  // server's next sequence number.
  uint32_t open(uint16_t port, const std::string& sni, const Bytes& serverFlight) {
    handshake(port);
    L4Spec c = side(true, port), s = side(false, port);
    c.seq = 1001;
    c.ack = 5001;
    const Bytes hello = testing::clientHello({.names = {sni}});
    c.flags = 0x18;
    inject(testing::frame(c, hello), Ingress::InsidePort);
    s.flags = 0x18;
    s.seq = 5001;
    s.ack = 1001 + uint32_t(hello.size());
    inject(testing::frame(s, serverFlight), Ingress::OutsidePort);
    return 5001 + uint32_t(serverFlight.size());
  }
  size_t toClient(uint16_t port, bool resetsOnly = false) const {
    size_t n = 0;
    for (const auto& f : tx_.frames) {
      packet::PacketView v{};
      if (f.port != PortRole::Inside ||
          packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) != packet::DecodeStatus::Ok ||
          v.dstPort != port) {
        continue;
      }
      n += resetsOnly ? ((v.tcpFlags & kRst) ? 1 : 0) : v.payloadLen;
    }
    return n;
  }
  size_t resetsToServer(uint16_t port) const {
    size_t n = 0;
    for (const auto& f : tx_.frames) {
      packet::PacketView v{};
      if (f.port == PortRole::Outside &&
          packet::decode(f.bytes.data(), uint32_t(f.bytes.size()), v) == packet::DecodeStatus::Ok &&
          v.srcPort == port && (v.tcpFlags & kRst)) {
        ++n;
      }
    }
    return n;
  }
  std::vector<nlohmann::json> verdicts() {
    testing::CollectSink sink;
    std::string scratch;
    drainEvents(*pipeline_, sink, scratch);
    std::vector<nlohmann::json> out;
    for (auto& e : sink.events) {
      if (e["event_type"] == "flow" && e["phase"] == "verdict") out.push_back(e);
    }
    return out;
  }

  proxy::test::KeyCert root_ = proxy::test::makeCa("pipeline cert root");
  const IpAddr client_ = *IpAddr::parse("10.0.0.5");
  const IpAddr server_ = *IpAddr::parse("198.51.100.7");
  std::unique_ptr<cert::Verifier> verifier_;  // outlives the pipeline (declared first)
  std::unique_ptr<SnapshotSlot> slot_;
  std::unique_ptr<inspect::DnsBindingTable> dns_;
  std::unique_ptr<Pipeline> pipeline_;
  testing::CaptureSink tx_;
  // Certificates are judged at the pipeline's time: the wall clock, as live.
  uint64_t now_ = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
};

TEST_F(PipelineCertTest, ValidChainIsHeldUntilTheAnswerThenCached) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({leaf.cert.get()});
  open(40000, "svc.example.com", f);
  EXPECT_EQ(toClient(40000), 0u);  // held: the answer is applied by serviceCert only
  EXPECT_EQ(pipeline_->certInFlight(), 1u);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());
  // The same chain for the same name: from the cache, at once.
  open(40001, "svc.example.com", f);
  EXPECT_EQ(toClient(40001), f.size());
  EXPECT_EQ(pipeline_->certInFlight(), 0u);
  const auto& c = pipeline_->counters();
  EXPECT_EQ(c.cert_verify_requests, 1u);
  EXPECT_EQ(c.cert_cache_hits, 1u);
  EXPECT_EQ(c.cert_verified, 2u);
  for (const auto& v : verdicts()) EXPECT_EQ(v["action"], "allow");
}

TEST_F(PipelineCertTest, RefusalsResetBothSidesAndNothingReachesTheClient) {
  const auto stranger = proxy::test::makeCa("svc.example.com");
  const auto wrongName = proxy::test::makeLeaf(root_, "svc", {"other.example.com"});
  open(40000, "svc.example.com", flight({stranger.cert.get()}));
  open(40001, "svc.example.com", flight({wrongName.cert.get()}));
  pipeline_->serviceCert(now_, tx_, true);
  for (uint16_t port : {40000, 40001}) {
    EXPECT_EQ(toClient(port), 0u) << port;
    EXPECT_EQ(toClient(port, true), 1u) << port;
    EXPECT_EQ(resetsToServer(port), 1u) << port;
  }
  // Later server bytes stay dropped.
  L4Spec s = side(false, 40000);
  s.seq = 6000;
  inject(testing::frame(s, Bytes(40, 'x')), Ingress::OutsidePort);
  EXPECT_EQ(toClient(40000), 0u);
  std::vector<std::string> reasons;
  for (const auto& v : verdicts()) {
    if (v["action"] == "deny") {
      reasons.push_back(v["reason"]);
      EXPECT_EQ(v["tls"]["sni"], "svc.example.com");
      EXPECT_EQ(v["policy"]["service"], "svc");
    }
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"cert-untrusted", "cert-name"}));
  EXPECT_EQ(pipeline_->counters().cert_refused, 2u);
}

TEST_F(PipelineCertTest, Tls13PassesUntouchedAndIsCounted) {
  const Bytes f = flight({}, true);
  open(40000, "svc.example.com", f);
  EXPECT_EQ(toClient(40000), f.size());
  EXPECT_EQ(pipeline_->counters().cert_tls13_passed, 1u);
  EXPECT_EQ(pipeline_->counters().cert_verify_requests, 0u);
}

TEST_F(PipelineCertTest, AFlowEndingWhileAskedFreesItsRequestWhenTheAnswerComes) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  open(40000, "svc.example.com", flight({leaf.cert.get()}));
  EXPECT_EQ(pipeline_->certInFlight(), 1u);
  pipeline_->drainAll(now_);  // the flow ends (its held flight freed) while the verifier works
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(pipeline_->certInFlight(), 0u);
  EXPECT_EQ(pipeline_->counters().cert_late_answers, 1u);
  EXPECT_EQ(toClient(40000), 0u);
  // Its request is free again: four more flows (the pool's size) can be checked.
  for (uint16_t p = 40001; p <= 40004; ++p) open(p, "svc.example.com", flight({leaf.cert.get()}));
  EXPECT_EQ(pipeline_->counters().cert_slots_exhausted, 0u);
}

// The flow has one stream buffer and hold queue: while the server's flight is held for its
// certificate, client payload is dropped (counted) and, resent after the answer, passes.
TEST_F(PipelineCertTest, ClientBytesWhileTheFlightIsHeldAreDroppedThenPassWhenResent) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({leaf.cert.get()});
  const uint32_t serverNext = open(40000, "svc.example.com", f);
  const size_t sentBefore = tx_.frames.size();
  L4Spec c = side(true, 40000);
  c.flags = 0x18;
  c.seq = 1001 + uint32_t(testing::clientHello({.names = {"svc.example.com"}}).size());
  c.ack = serverNext;
  const Bytes cke = tls::records(tls::handshake(Bytes(33, 4), 16), 16384, 0x0303);
  inject(testing::frame(c, cke), Ingress::InsidePort);
  EXPECT_EQ(tx_.frames.size(), sentBefore);
  EXPECT_EQ(pipeline_->counters().hold_other_side_dropped, 1u);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());
  inject(testing::frame(c, cke), Ingress::InsidePort);  // the client's retransmission
  ASSERT_EQ(tx_.frames.size(), sentBefore + 2);
  EXPECT_EQ(tx_.frames.back().port, PortRole::Outside);
}

// A later ClientHello of the client held across segments owns the buffer: the server's flight
// meanwhile is dropped (counted), and checked when the server sends it again.
TEST_F(PipelineCertTest, ServerBytesWhileALaterHelloIsHeldAreDroppedThenChecked) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({leaf.cert.get()});
  const Bytes hello = testing::clientHello({.names = {"svc.example.com"}});
  handshake(40000);
  L4Spec c = side(true, 40000), s = side(false, 40000);
  c.seq = 1001;
  c.ack = 5001;
  // The hello, then the start of a second one (same server, as after a HelloRetryRequest).
  c.flags = 0x18;
  inject(testing::frame(c, hello), Ingress::InsidePort);
  c.seq = 1001 + uint32_t(hello.size());
  inject(testing::frame(c, Bytes(hello.begin(), hello.begin() + 20)), Ingress::InsidePort);
  s.flags = 0x18;
  s.seq = 5001;
  s.ack = c.seq + 20;
  inject(testing::frame(s, f), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->counters().hold_other_side_dropped, 1u);
  EXPECT_EQ(toClient(40000), 0u);
  c.seq += 20;
  inject(testing::frame(c, Bytes(hello.begin() + 20, hello.end())), Ingress::InsidePort);
  EXPECT_EQ(pipeline_->counters().tls_hellos_followed, 1u);
  inject(testing::frame(s, f), Ingress::OutsidePort);  // the server's retransmission
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());
  EXPECT_EQ(pipeline_->counters().cert_verified, 1u);
  for (const auto& v : verdicts()) EXPECT_EQ(v["action"], "allow") << v.dump();
}

}  // namespace
// The IDS scans the server flight held for the certificate check when it is released: a drop
// rule on the flight's bytes (the leaf's subject) stops the flow after the certificate
// was accepted, and no byte of the flight reaches the client.
class PipelineCertIdsTest : public PipelineCertTest {
 protected:
  std::string extraPolicy() override {
    ids::registerPolicyIds();
    dir_ = std::filesystem::temp_directory_path() /
           ("lbg-cert-ids-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "cert.rules") << rules();
    return "ids:\n  rules: [" + (dir_ / "cert.rules").string() + "]\n  mode: ips\n";
  }
  virtual std::string rules() {
    return "drop tcp any any -> any any (msg:\"flight\"; flow:to_client; "
           "content:\"DROPFLIGHT\"; sid:2001;)\n"
           "drop tcp any any -> any any (msg:\"client\"; flow:to_server; "
           "content:\"EVILCLIENT\"; sid:2002;)\n"
           "drop tls any any -> any any (msg:\"cert subject\"; tls.cert_subject; "
           "content:\"CN=BadSubject\"; endswith; sid:2003;)\n"
           "alert tls any any -> any any (msg:\"cert issuer\"; tls.cert_issuer; "
           "content:\"CN=pipeline cert root\"; sid:2004;)\n";
  }
  void TearDown() override {
    PipelineCertTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(PipelineCertIdsTest, HeldFlightIsScannedWhenReleased) {
  const auto leaf = proxy::test::makeLeaf(root_, "DROPFLIGHT", {"svc.example.com"});
  const Bytes f = flight({leaf.cert.get()});
  open(40000, "svc.example.com", f);
  EXPECT_EQ(toClient(40000), 0u);
  EXPECT_EQ(pipeline_->counters().ids_alerts, 0u);  // held, not scanned yet
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(pipeline_->counters().cert_verified, 1u);
  EXPECT_EQ(toClient(40000), 0u);
  EXPECT_EQ(pipeline_->counters().ids_dropped, 1u);
  const auto v = verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["reason"], "ids-drop:sid-2001");
  EXPECT_GE(toClient(40000, true), 1u);  // reset
}

// The verified leaf's subject and issuer are the tls.cert_* sticky buffers, as Suricata shows
// them: a drop rule on the subject stops the held flight before any of it reaches the client.
TEST_F(PipelineCertIdsTest, CertificateNamesAreStickyBuffersBeforeTheFlightLeaves) {
  const auto good = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({good.cert.get()});
  open(40000, "svc.example.com", f);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());  // passed; the issuer rule alerted
  ASSERT_EQ(pipeline_->counters().ids_alerts, 1u);
  const auto bad = proxy::test::makeLeaf(root_, "BadSubject", {"svc.example.com"});
  const Bytes g = flight({bad.cert.get()});
  open(40001, "svc.example.com", g);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40001), 0u);
  EXPECT_EQ(pipeline_->counters().ids_dropped, 1u);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-2003");
  EXPECT_GE(toClient(40001, true), 1u);  // reset
}

// tls.certs: each certificate of the chain (DER) is a buffer of its own (Suricata's multi-buffer),
// scanned before the held flight leaves: a drop rule on bytes of the leaf stops it; an alert
// rule that matches both the leaf (its issuer) and the root sent after it alerts once.
class PipelineCertIdsCertsTest : public PipelineCertIdsTest {
 protected:
  std::string rules() override {
    return "drop tls any any -> any any (msg:\"bad cert\"; tls.certs; content:\"DERMARK\"; "
           "sid:2101;)\n"
           "alert tls any any -> any any (msg:\"our root\"; tls.certs; "
           "content:\"pipeline cert root\"; sid:2102;)\n";
  }
};

TEST_F(PipelineCertIdsCertsTest, EachCertificateOfTheChainIsATlsCertsBuffer) {
  const auto good = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({good.cert.get(), root_.cert.get()});
  open(40000, "svc.example.com", f);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());
  EXPECT_EQ(pipeline_->counters().ids_alerts, 1u);  // sid 2102: leaf and root, once
  const auto bad = proxy::test::makeLeaf(root_, "DERMARK", {"svc.example.com"});
  const Bytes g = flight({bad.cert.get()});
  open(40001, "svc.example.com", g);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40001), 0u);
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-2101");
}

// Client bytes dropped while the flight is held are not forwarded, so not scanned then (no
// alert); when the client resends them after the release they are scanned as they leave. (Other
// bytes at the same sequence numbers are the normaliser's: `stream-conflict`.)
TEST_F(PipelineCertIdsTest, BytesDroppedWhileTheFlightIsHeldAreScannedWhenResent) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const Bytes f = flight({leaf.cert.get()});
  const uint32_t serverNext = open(40000, "svc.example.com", f);
  L4Spec c = side(true, 40000);
  c.flags = 0x18;
  c.seq = 1001 + uint32_t(testing::clientHello({.names = {"svc.example.com"}}).size());
  c.ack = serverNext;
  Bytes evil(33, 4);
  const std::string marker = "EVILCLIENT";
  std::copy(marker.begin(), marker.end(), evil.begin());
  const Bytes cke = tls::records(tls::handshake(evil, 16), 16384, 0x0303);
  inject(testing::frame(c, cke), Ingress::InsidePort);
  EXPECT_EQ(pipeline_->counters().hold_other_side_dropped, 1u);
  EXPECT_EQ(pipeline_->counters().ids_alerts, 0u);  // dropped, never forwarded: not scanned
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());  // the flight passed the IDS
  inject(testing::frame(c, cke), Ingress::InsidePort);  // the client's retransmission
  for (const auto& fr : tx_.frames) {
    const std::string b(fr.bytes.begin(), fr.bytes.end());
    EXPECT_EQ(b.find(marker), std::string::npos);
  }
  EXPECT_EQ(pipeline_->counters().ids_alerts, 2u);  // the issuer rule (sid 2004), the client
  EXPECT_EQ(verdicts().back()["reason"], "ids-drop:sid-2002");
}

}  // namespace lbg::dataplane

namespace lbg::dataplane {
namespace {

// Per-service `certificate: {check: …}`: `log` records the refusal and lets the flight through;
// `off` arms no check at all.
class PipelineCertModeTest : public PipelineCertTest {
 protected:
  std::string extraPolicy() override {
    return "  - name: logonly\n    kind: lgwan-asp\n    fqdn: [log.example.com]\n"
           "    ports: [tcp/443]\n    certificate: {check: log}\n"
           "  - name: nocheck\n    kind: lgwan-asp\n    fqdn: [off.example.com]\n"
           "    ports: [tcp/443]\n    certificate: {check: \"off\"}\n";
  }
};

TEST_F(PipelineCertModeTest, LogOnlyRecordsTheRefusalAndPasses) {
  const auto stranger = proxy::test::makeCa("log.example.com");
  const Bytes f = flight({stranger.cert.get()});
  open(40000, "log.example.com", f);
  EXPECT_EQ(toClient(40000), 0u);  // still held until the answer
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), f.size());
  EXPECT_EQ(toClient(40000, true), 0u);
  EXPECT_EQ(pipeline_->counters().cert_log_only, 1u);
  EXPECT_EQ(pipeline_->counters().cert_refused, 0u);
  bool logged = false;
  for (const auto& v : verdicts()) {
    EXPECT_EQ(v["action"], "allow") << v.dump();
    logged = logged || v["reason"] == "cert-untrusted:log-only";
  }
  EXPECT_TRUE(logged);
}

TEST_F(PipelineCertModeTest, OffArmsNoCheck) {
  const auto stranger = proxy::test::makeCa("off.example.com");
  const Bytes f = flight({stranger.cert.get()});
  open(40000, "off.example.com", f);
  EXPECT_EQ(toClient(40000), f.size());  // not held
  EXPECT_EQ(pipeline_->counters().cert_checks, 0u);
}

// Stapled OCSP in a TLS ≤ 1.2 flight (CertificateStatus, RFC 6066 §8): read by the passive check
// under the service's `certificate.ocsp` (`svc`: the default prefer; `strict`: require).
class PipelineCertOcspTest : public PipelineCertTest {
 protected:
  std::string extraPolicy() override {
    return "  - name: strict\n    kind: lgwan-asp\n    fqdn: [strict.example.com]\n"
           "    ports: [tcp/443]\n    certificate: {ocsp: require}\n";
  }
  std::vector<std::string> denials() {
    std::vector<std::string> out;
    for (const auto& v : verdicts()) {
      if (v["action"] == "deny") out.push_back(v["reason"]);
    }
    return out;
  }
};

TEST_F(PipelineCertOcspTest, AStapledRevocationRefusesAChainCachedAsGood) {
  const auto leaf = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const auto good = cert::test::makeOcspResponse(root_, leaf.cert.get(), root_.cert.get());
  cert::test::OcspAnswer revokedAnswer;
  revokedAnswer.certStatus = V_OCSP_CERTSTATUS_REVOKED;
  const auto revoked =
      cert::test::makeOcspResponse(root_, leaf.cert.get(), root_.cert.get(), revokedAnswer);
  const Bytes plain = flight({leaf.cert.get()});
  const Bytes stapledGood = cert::testing::serverFlight({leaf.cert.get()}, false, &good);
  const Bytes stapledRevoked = cert::testing::serverFlight({leaf.cert.get()}, false, &revoked);
  open(40000, "svc.example.com", plain);  // prefer: no staple passes
  pipeline_->serviceCert(now_, tx_, true);
  open(40001, "svc.example.com", stapledGood);
  pipeline_->serviceCert(now_, tx_, true);
  // The same chain, now stapled "revoked": judged again (the staple is part of the cache key).
  open(40002, "svc.example.com", stapledRevoked);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), plain.size());
  EXPECT_EQ(toClient(40001), stapledGood.size());
  EXPECT_EQ(toClient(40002), 0u);
  EXPECT_EQ(toClient(40002, true), 1u);
  EXPECT_EQ(resetsToServer(40002), 1u);
  EXPECT_EQ(pipeline_->counters().cert_verify_requests, 3u);
  EXPECT_EQ(denials(), (std::vector<std::string>{"cert-revoked"}));
}

TEST_F(PipelineCertOcspTest, RequireRefusesAFlightWithoutStapleAndAcceptsAGoodOne) {
  const auto leaf = proxy::test::makeLeaf(root_, "strict", {"strict.example.com"});
  const auto good = cert::test::makeOcspResponse(root_, leaf.cert.get(), root_.cert.get());
  const Bytes stapled = cert::testing::serverFlight({leaf.cert.get()}, false, &good);
  open(40000, "strict.example.com", flight({leaf.cert.get()}));
  open(40001, "strict.example.com", stapled);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), 0u);
  EXPECT_EQ(toClient(40001), stapled.size());
  EXPECT_EQ(denials(), (std::vector<std::string>{"ocsp-missing"}));
}

TEST_F(PipelineCertOcspTest, TheCheckWaitsForWhatFollowsTheCertificate) {
  const auto leaf = proxy::test::makeLeaf(root_, "strict", {"strict.example.com"});
  const auto good = cert::test::makeOcspResponse(root_, leaf.cert.get(), root_.cert.get());
  const Bytes stapled = cert::testing::serverFlight({leaf.cert.get()}, false, &good);
  // The flight cut inside the staple: held, nothing asked yet; the rest completes it.
  const size_t cut = stapled.size() - 40;
  handshake(40000);
  L4Spec c = side(true, 40000), s = side(false, 40000);
  c.seq = 1001;
  c.ack = 5001;
  c.flags = 0x18;
  const Bytes hello = testing::clientHello({.names = {"strict.example.com"}});
  inject(testing::frame(c, hello), Ingress::InsidePort);
  s.flags = 0x18;
  s.seq = 5001;
  s.ack = 1001 + uint32_t(hello.size());
  inject(testing::frame(s, Bytes(stapled.begin(), stapled.begin() + long(cut))), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->certInFlight(), 0u);
  EXPECT_EQ(toClient(40000), 0u);
  s.seq = 5001 + uint32_t(cut);
  inject(testing::frame(s, Bytes(stapled.begin() + long(cut), stapled.end())), Ingress::OutsidePort);
  EXPECT_EQ(pipeline_->certInFlight(), 1u);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(toClient(40000), stapled.size());
  EXPECT_TRUE(denials().empty());
}

// HA sync of certificate verdicts (pipeline_cache_sync.cc): box A's worker (worker 0 of the
// verifier) judges; its verdicts go by hand (the link is dataplane/ha's) to box B, a pipeline
// of its own (the verifier's worker 1), which takes them into its cache: after a takeover B
// judges the same chains at once, a refused one refused, without asking the verifier.
class PipelineCertSyncTest : public PipelineCertTest {
 protected:
  uint32_t workers() override { return 2; }
};

TEST_F(PipelineCertSyncTest, VerdictsOfTheActiveJudgeOnTheNewActiveWithoutTheVerifier) {
  ha::DnsSyncRing aDnsOut(16), bDnsIn(16);
  ha::CertSyncRing aCertOut(16), bCertIn(16);
  pipeline_->attachCacheSync({&aDnsOut, nullptr, &aCertOut, nullptr});
  const auto good = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  const auto wrongName = proxy::test::makeLeaf(root_, "svc", {"other.example.com"});
  const Bytes goodFlight = flight({good.cert.get()}), badFlight = flight({wrongName.cert.get()});
  open(40000, "svc.example.com", goodFlight);
  open(40001, "svc.example.com", badFlight);
  pipeline_->serviceCert(now_, tx_, true);
  EXPECT_EQ(pipeline_->counters().cert_refused, 1u);
  EXPECT_EQ(pipeline_->counters().ha_sync_cert_queued, 2u);
  ha::CertSyncRecord r;
  size_t moved = 0, negative = 0;
  while (aCertOut.tryPop(r)) {
    EXPECT_EQ(r.cache, uint8_t(ha::CertSyncCache::Chain));
    EXPECT_EQ(r.ttlSec, 3600u);
    EXPECT_EQ(std::string(r.sni, r.sniLen), "svc.example.com");
    EXPECT_EQ(r.serverPort, 443);
    negative += r.verdict != 0;
    moved += bCertIn.tryPush(r);
  }
  ASSERT_EQ(moved, 2u);
  EXPECT_EQ(negative, 1u);  // the refusal travels too

  // Box B: a pipeline of its own, standby while it installs, then active.
  auto b = Pipeline::create(config(), 1, *slot_, *dns_, certPool());
  ASSERT_TRUE(b.ok()) << b.error().toString();
  std::unique_ptr<Pipeline> a = std::move(pipeline_);
  pipeline_ = std::move(b.value());
  pipeline_->attachCacheSync({nullptr, &bDnsIn, nullptr, &bCertIn});
  pipeline_->serviceSync(now_, true);
  EXPECT_EQ(pipeline_->counters().ha_sync_cert_installed, 2u);
  tx_.frames.clear();
  open(40002, "svc.example.com", goodFlight);
  open(40003, "svc.example.com", badFlight);
  EXPECT_EQ(pipeline_->certInFlight(), 0u);  // neither asked the verifier
  EXPECT_EQ(toClient(40002), goodFlight.size());
  EXPECT_EQ(toClient(40003), 0u);
  EXPECT_EQ(toClient(40003, true), 1u);  // refused and reset, as on A
  const auto& c = pipeline_->counters();
  EXPECT_EQ(c.cert_verify_requests, 0u);
  EXPECT_EQ(c.cert_cache_hits, 2u);
  EXPECT_EQ(c.cert_refused, 1u);
  a->serviceCert(now_, tx_, true);
  a->drainAll(now_);
}

}  // namespace
}  // namespace lbg::dataplane
