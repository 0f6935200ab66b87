// The prober (prober.h) against real TLS servers on loopback: a good certificate, a wrong name,
// a closed port, a silent listener, requests of one key sharing one connection, and the
// per-address rate. The probe binds the client's address with IP_TRANSPARENT: root only.

#include "dataplane/cert/prober.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <thread>

#include "dataplane/cert/cache_key.h"
#include "dataplane/cert/ocsp_test_util.h"
#include "dataplane/cert/verifier.h"
#include "dataplane/proxy/test_certs.h"

namespace lbg::cert {
namespace {

// A loopback listener on a free port: TLS with `leaf` (stapling `staple` if given), or silent
// (accepts, never speaks).
class Origin {
 public:
  explicit Origin(const proxy::test::KeyCert* leaf, const std::vector<uint8_t>* staple = nullptr)
      : leaf_(leaf), staple_(staple) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~Origin() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : held_) close(c);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int lastPeerPort() const { return lastPeerPort_.load(); }  // the last connection's source port

 private:
  void run() {
    while (!stop_) {
      sockaddr_in peer{};
      socklen_t peerLen = sizeof(peer);
      const int c = accept(fd_, reinterpret_cast<sockaddr*>(&peer), &peerLen);
      if (c < 0) return;
      lastPeerPort_ = ntohs(peer.sin_port);
      ++accepted_;
      if (leaf_ == nullptr) {
        held_.push_back(c);  // silent
        continue;
      }
      SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate(ctx, leaf_->cert.get());
      SSL_CTX_use_PrivateKey(ctx, leaf_->key.get());
      if (staple_ != nullptr) test::stapleOn(ctx, staple_);
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        char b[16];
        SSL_read(ssl, b, sizeof(b));  // until the prober closes
      }
      SSL_free(ssl);
      SSL_CTX_free(ctx);
      close(c);
    }
  }
  const proxy::test::KeyCert* leaf_;
  const std::vector<uint8_t>* staple_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> lastPeerPort_{0};
  std::vector<int> held_;
  std::thread thread_;
};

class ProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "IP_TRANSPARENT needs root";
    // The origins write to probes that already closed (as lbg-gateway, which ignores it too).
    std::signal(SIGPIPE, SIG_IGN);
    store_ = loadTrustStore(proxy::test::writePem(root_.cert.get(), "prober-root"));
    ASSERT_TRUE(store_);
  }
  std::unique_ptr<Prober> make(uint32_t timeoutMs = 2000, uint32_t perAddress = 10) {
    ProbeConfig c;
    c.enabled = true;
    c.timeoutMs = timeoutMs;
    c.perAddressPerSecond = perAddress;
    return Prober::create(store_.get(), c);
  }
  void ask(VerifyRequest& q, uint16_t port, const std::string& host,
           OcspMode ocsp = OcspMode::Prefer) {
    q = VerifyRequest{};
    q.probe = true;
    q.ocsp = ocsp;
    q.probeClient = *IpAddr::parse("127.0.0.1");
    q.server = *IpAddr::parse("127.0.0.1");
    q.serverPort = port;
    q.hostLen = uint8_t(host.size());
    std::memcpy(q.host, host.data(), host.size());
    q.key = probeKey(q.server, port, host, {}, q.ocsp);
    q.result = Refusal::Untrusted;  // overwritten by the answer
  }
  // Polls until `n` answers came back (or 5 s).
  std::vector<VerifyRequest*> run(Prober& p, std::vector<VerifyRequest*> qs, size_t n) {
    std::vector<VerifyRequest*> done;
    const Prober::Done d = [&](VerifyRequest* q, uint32_t) { done.push_back(q); };
    for (VerifyRequest* q : qs) p.submit(q, 0, d);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (done.size() < n && std::chrono::steady_clock::now() < until) {
      p.poll(d);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done;
  }

  proxy::test::KeyCert root_ = proxy::test::makeCa("prober test root");
  proxy::test::KeyCert good_ = proxy::test::makeLeaf(root_, "svc", {"svc.example.com"});
  X509StorePtr store_;
};

TEST_F(ProberTest, GoodCertificateOneConnectionForRequestsOfOneKey) {
  Origin o(&good_);
  auto p = make();
  ASSERT_TRUE(p);
  auto q = std::make_unique<VerifyRequest[]>(3);
  for (int i = 0; i < 3; ++i) ask(q[i], o.port(), "svc.example.com");
  const auto done = run(*p, {&q[0], &q[1], &q[2]}, 3);
  ASSERT_EQ(done.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q[i].result, Refusal::None) << i;
  EXPECT_TRUE(q[0].probeRan);
  EXPECT_FALSE(q[1].probeRan);
  EXPECT_EQ(o.accepted(), 1);
  EXPECT_EQ(p->counters().joined, 2u);
  // Later: from the prober's cache, no connection.
  VerifyRequest again;
  ask(again, o.port(), "svc.example.com");
  EXPECT_EQ(run(*p, {&again}, 1).size(), 1u);
  EXPECT_EQ(again.result, Refusal::None);
  EXPECT_EQ(o.accepted(), 1);
  EXPECT_EQ(p->counters().cacheAnswered, 1u);
}

// With several gateway workers only the asking worker admits the probe's connection, so the probe
// binds a source port that worker owns (ProbeConfig::workerOf, the ports' steering in the gateway).
TEST_F(ProberTest, SourcePortOwnedByTheAskingWorker) {
  Origin o(&good_);
  ProbeConfig c;
  c.enabled = true;
  c.timeoutMs = 2000;
  uint32_t asked = 0;
  c.workerOf = [&](const IpAddr& client, uint16_t clientPort, const IpAddr& server,
                   uint16_t serverPort) -> uint32_t {
    ++asked;
    EXPECT_EQ(client, *IpAddr::parse("127.0.0.1"));
    EXPECT_EQ(server, *IpAddr::parse("127.0.0.1"));
    EXPECT_EQ(serverPort, o.port());
    return clientPort % 3;  // three workers
  };
  auto p = Prober::create(store_.get(), c);
  ASSERT_TRUE(p);
  for (uint32_t worker = 0; worker < 3; ++worker) {
    VerifyRequest q;
    ask(q, o.port(), "svc.example.com");
    p->forget({}, true);  // each round a new connection, not the prober's cached answer
    std::vector<uint32_t> answered;
    const Prober::Done d = [&](VerifyRequest*, uint32_t w) { answered.push_back(w); };
    p->submit(&q, worker, d);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (answered.empty() && std::chrono::steady_clock::now() < until) {
      p->poll(d);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(answered, std::vector<uint32_t>{worker});
    EXPECT_EQ(q.result, Refusal::None);
    EXPECT_EQ(o.accepted(), int(worker) + 1);
    EXPECT_EQ(uint32_t(o.lastPeerPort()) % 3, worker) << o.lastPeerPort();
  }
  EXPECT_GE(asked, 3u);
}

TEST_F(ProberTest, WrongNameUntrustedClosedAndSilent) {
  Origin good(&good_);
  const auto stranger = proxy::test::makeCa("svc.example.com");
  const auto strangerLeaf = proxy::test::makeLeaf(stranger, "svc", {"svc.example.com"});
  Origin self(&strangerLeaf);
  Origin silent(nullptr);
  auto p = make(500);
  ASSERT_TRUE(p);
  auto q = std::make_unique<VerifyRequest[]>(4);
  ask(q[0], good.port(), "other.example.com");  // the certificate does not name it
  ask(q[1], self.port(), "svc.example.com");
  ask(q[2], silent.port(), "svc.example.com");
  {
    Origin gone(&good_);  // a port nobody listens on any more
    ask(q[3], gone.port(), "svc.example.com");
  }
  ASSERT_EQ(run(*p, {&q[0], &q[1], &q[2], &q[3]}, 4).size(), 4u);
  EXPECT_EQ(q[0].result, Refusal::Name);
  EXPECT_EQ(q[1].result, Refusal::Untrusted);
  EXPECT_EQ(q[2].result, Refusal::ProbeTimeout);
  EXPECT_EQ(q[3].result, Refusal::ProbeFailed);
  EXPECT_EQ(p->counters().timeouts, 1u);
  EXPECT_EQ(p->counters().failed, 1u);
}

TEST_F(ProberTest, PerAddressRateMakesTheSecondWaitUntilItsDeadline) {
  Origin o(&good_);
  auto p = make(400, 1);  // one probe per second to an address, 400 ms deadline
  ASSERT_TRUE(p);
  auto q = std::make_unique<VerifyRequest[]>(2);
  ask(q[0], o.port(), "svc.example.com");
  ask(q[1], o.port(), "svc2.example.com");  // another key, same address
  ASSERT_EQ(run(*p, {&q[0], &q[1]}, 2).size(), 2u);
  // Whichever started first was answered (the certificate names svc only); the other waited for
  // the address's rate past its deadline.
  const Refusal answered[2] = {Refusal::None, Refusal::Name};
  const bool firstRan = q[0].result == answered[0];
  EXPECT_EQ(q[firstRan ? 1 : 0].result, Refusal::ProbeTimeout);
  if (!firstRan) {
    EXPECT_EQ(q[1].result, answered[1]);
  }
  EXPECT_EQ(p->counters().rateWaits, 1u);
  EXPECT_EQ(o.accepted(), 1);
}

TEST_F(ProberTest, StapledOcspIsCheckedOnTheProbe) {
  const auto good = test::makeOcspResponse(root_, good_.cert.get(), root_.cert.get());
  const auto revoked = test::makeOcspResponse(root_, good_.cert.get(), root_.cert.get(),
                                              {.certStatus = V_OCSP_CERTSTATUS_REVOKED});
  Origin stapled(&good_, &good);
  Origin revokedOrigin(&good_, &revoked);
  Origin bare(&good_);
  auto p = make();
  ASSERT_TRUE(p);
  auto q = std::make_unique<VerifyRequest[]>(5);
  ask(q[0], stapled.port(), "svc.example.com", OcspMode::Require);
  ask(q[1], revokedOrigin.port(), "svc.example.com");
  ask(q[2], revokedOrigin.port(), "svc.example.com", OcspMode::Off);
  ask(q[3], bare.port(), "svc.example.com");
  ask(q[4], bare.port(), "svc.example.com", OcspMode::Require);
  ASSERT_EQ(run(*p, {&q[0], &q[1], &q[2], &q[3], &q[4]}, 5).size(), 5u);
  EXPECT_EQ(q[0].result, Refusal::None);
  EXPECT_EQ(q[1].result, Refusal::Revoked);
  EXPECT_EQ(q[2].result, Refusal::None);  // off: the staple is not looked at
  EXPECT_EQ(q[3].result, Refusal::None);  // prefer: no staple passes
  EXPECT_EQ(q[4].result, Refusal::OcspMissing);
  // The rule is part of the key: the prefer and require questions to `bare` were two probes.
  EXPECT_EQ(bare.accepted(), 2);
}

}  // namespace
}  // namespace lbg::cert
