#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "dataplane/telemetry/log/log_writer.h"
#include "dataplane/telemetry/log/syslog_sender.h"
#include "dataplane/telemetry/log/test_support.h"

// Syslog export received by a listener on loopback, over each transport.
namespace lbg::telemetry {
namespace {

using namespace testing;

int listenOn(int type, uint16_t& port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 4);
  return fd;
}

// Splits RFC 6587 octet-counted frames.
std::vector<std::string> unframe(const std::string& stream) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t sp = stream.find(' ', pos);
    if (sp == std::string::npos) break;
    size_t len = std::stoul(stream.substr(pos, sp - pos));
    if (sp + 1 + len > stream.size()) break;
    out.push_back(stream.substr(sp + 1, len));
    pos = sp + 1 + len;
  }
  return out;
}

// Self-signed certificate for "localhost" made in memory.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string certPem;
  TestCert() {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(cert, key, EVP_sha256());
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert);
    char* d;
    long n = BIO_get_mem_data(b, &d);
    certPem.assign(d, size_t(n));
    BIO_free(b);
  }
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

struct Received {
  std::mutex mu;
  std::string bytes;
  std::vector<std::string> datagrams;
};

TEST(Syslog, FormatIsRfc5424) {
  std::string m = SyslogSender::format(16, 6, "2026-11-23T12:00:00.123456Z", "gw 1", "flow", "{\"a\":1}");
  std::string expectedHead = "<134>1 2026-11-23T12:00:00.123456Z gw_1 lbg-gateway ";
  EXPECT_EQ(m.substr(0, expectedHead.size()), expectedHead);
  EXPECT_NE(m.find(" flow - {\"a\":1}"), std::string::npos);
}

TEST(Syslog, Udp) {
  uint16_t port;
  int fd = listenOn(SOCK_DGRAM, port);
  SyslogTarget t;
  t.transport = SyslogTarget::Transport::Udp;
  t.host = "127.0.0.1";
  t.port = port;
  auto s = SyslogSender::create(t, "gw1");
  ASSERT_TRUE(s) << s.error().message;
  (*s)->send("{\"event_type\":\"flow\"}", "flow", 6, "2026-11-23T12:00:00.000000Z");
  char buf[2048];
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  std::string got(buf, size_t(n));
  EXPECT_EQ(got.substr(0, 6), "<134>1");
  EXPECT_NE(got.find("{\"event_type\":\"flow\"}"), std::string::npos);
  ::close(fd);
}

// The log writer exports exactly its chained records, in order, over TCP.
TEST(Syslog, TcpFromTheLogWriter) {
  uint16_t port;
  int lfd = listenOn(SOCK_STREAM, port);
  Received rx;
  std::thread server([&] {
    int c = ::accept(lfd, nullptr, nullptr);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(c, buf, sizeof(buf), 0)) > 0) {
      std::lock_guard<std::mutex> g(rx.mu);
      rx.bytes.append(buf, size_t(n));
    }
    ::close(c);
  });
  TempDir dir;
  auto cfg = testConfig(dir.file("log"), writeFixedKey(dir.path()));
  SyslogTarget t;
  t.transport = SyslogTarget::Transport::Tcp;
  t.host = "127.0.0.1";
  t.port = port;
  cfg.syslog.push_back(t);
  {
    auto w = LogWriter::create(cfg);
    ASSERT_TRUE(w) << w.error().toString();
    for (int i = 0; i < 50; ++i) (*w)->append(flowRecord(i, kBaseTime + i, 0, i % 2 == 0));
    (*w)->close();
    EXPECT_EQ((*w)->syslogDropped(), 0u);
  }  // the sender closes its connection
  server.join();
  ::close(lfd);
  auto frames = unframe(rx.bytes);
  ASSERT_EQ(frames.size(), 50u);
  auto lines = readLines(cfg.dir + "/seg-0000000001.jsonl");
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].substr(0, 5), i % 2 == 0 ? "<133>" : "<134>");
    EXPECT_EQ(frames[i].substr(frames[i].find(" - ") + 3), lines[i]);
  }
}

TEST(Syslog, TlsWithCertificateCheck) {
  TestCert cert;
  TempDir dir;
  writeFile(dir.file("ca.pem"), cert.certPem);
  uint16_t port;
  int lfd = listenOn(SOCK_STREAM, port);
  Received rx;
  std::thread server([&] {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert.cert);
    SSL_CTX_use_PrivateKey(ctx, cert.key);
    int c = ::accept(lfd, nullptr, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
        std::lock_guard<std::mutex> g(rx.mu);
        rx.bytes.append(buf, size_t(n));
      }
    }
    SSL_free(ssl);
    ::close(c);
    SSL_CTX_free(ctx);
  });
  SyslogTarget t;
  t.transport = SyslogTarget::Transport::Tls;
  t.host = "127.0.0.1";
  t.serverName = "localhost";
  t.port = port;
  t.caFile = dir.file("ca.pem");
  {
    auto s = SyslogSender::create(t, "gw1");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE((*s)->connected());
    for (int i = 0; i < 20; ++i)
      (*s)->send("{\"n\":" + std::to_string(i) + "}", "flow", 6, "2026-11-23T12:00:00.000000Z");
    (*s)->drain(5000);
    EXPECT_EQ((*s)->sent(), 20u);
  }
  server.join();
  ::close(lfd);
  auto frames = unframe(rx.bytes);
  ASSERT_EQ(frames.size(), 20u);
  EXPECT_NE(frames[19].find("{\"n\":19}"), std::string::npos);
}

TEST(Syslog, TlsRefusesAnUntrustedReceiver) {
  TestCert cert, other;
  TempDir dir;
  writeFile(dir.file("ca.pem"), other.certPem);  // trusts a different certificate
  uint16_t port;
  int lfd = listenOn(SOCK_STREAM, port);
  std::thread server([&] {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert.cert);
    SSL_CTX_use_PrivateKey(ctx, cert.key);
    int c = ::accept(lfd, nullptr, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c);
    SSL_accept(ssl);
    SSL_free(ssl);
    ::close(c);
    SSL_CTX_free(ctx);
  });
  SyslogTarget t;
  t.transport = SyslogTarget::Transport::Tls;
  t.host = "127.0.0.1";
  t.serverName = "localhost";
  t.port = port;
  t.caFile = dir.file("ca.pem");
  auto s = SyslogSender::create(t, "gw1");
  ASSERT_TRUE(s);
  EXPECT_FALSE((*s)->connected());
  (*s)->send("{}", "flow", 6, "-");
  EXPECT_EQ((*s)->sent(), 0u);
  server.join();
  ::close(lfd);
}

TEST(Syslog, DownReceiverDropsAndCountsWithoutBlocking) {
  uint16_t port;
  int lfd = listenOn(SOCK_STREAM, port);
  ::close(lfd);  // nobody listens there now
  SyslogTarget t;
  t.transport = SyslogTarget::Transport::Tcp;
  t.host = "127.0.0.1";
  t.port = port;
  t.maxQueueBytes = 1000;
  auto s = SyslogSender::create(t, "gw1");
  ASSERT_TRUE(s);
  for (int i = 0; i < 100; ++i) (*s)->send("{\"x\":1}", "flow", 6, "-");
  EXPECT_GE((*s)->dropped(), 50u);  // all but the few that fit the queue
  EXPECT_EQ((*s)->sent(), 0u);
}

}  // namespace
}  // namespace lbg::telemetry
