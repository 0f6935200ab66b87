// RFC 3507 conformance over real TCP on loopback, with the predictable TestFilter.

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "sanitizer/icap/icap_test_util.h"
#include "sanitizer/icap/server.h"

namespace lbg::icap {
namespace {

using testing::Client;
using testing::TestFilter;

const std::string kReq = "GET /dl/file.docm HTTP/1.1\r\nHost: files.example.jp\r\n\r\n";

std::string resHdr(const std::string& type = "application/octet-stream") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\n\r\n";
}

std::string respmod(const std::string& icapHeaders, const std::string& res,
                    const std::string& chunkedBody) {
  return "RESPMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n" + icapHeaders +
         "Encapsulated: req-hdr=0, res-hdr=" + std::to_string(kReq.size()) +
         ", res-body=" + std::to_string(kReq.size() + res.size()) + "\r\n\r\n" + kReq + res +
         chunkedBody;
}

std::string chunked(const std::string& data, bool last = true) {
  std::string out;
  appendChunked(out, data, last, 7);  // small chunks on purpose
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(uint32_t workers = 4, uint64_t maxBody = 1 << 20, int idleMs = 30000,
             uint32_t maxConnections = 16) {
    ServiceConfig sc;
    sc.limits.maxBodyBytes = maxBody;
    sc.maxConnections = maxConnections;
    sc.previewBytes = static_cast<uint32_t>(std::min<uint64_t>(4096, maxBody));
    auto service = SanitizeService::create(sc, filter_, nullptr);
    ASSERT_TRUE(service) << service.error().toString();
    service_ = std::move(service).value();
    ServerConfig cfg;
    cfg.listen = "127.0.0.1:0";
    cfg.workers = workers;
    cfg.maxConnections = maxConnections;
    cfg.connection.idleTimeoutMs = idleMs;
    auto server = Server::create(cfg, service_);
    ASSERT_TRUE(server) << server.error().toString();
    server_ = std::move(server).value();
    server_->start();
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
      server_->wait();
    }
  }
  uint16_t port() const { return server_->port(); }

  std::shared_ptr<TestFilter> filter_ = std::make_shared<TestFilter>();
  std::shared_ptr<SanitizeService> service_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, Options) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  ASSERT_TRUE(c.connected());
  c.send("OPTIONS icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->headers.get("Methods"), "RESPMOD, REQMOD");
  EXPECT_EQ(*r->headers.get("Max-Connections"), "16");
}

TEST_F(ServerTest, PreviewThen100ContinueThenSanitizedBody) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  const std::string body = "0123456789MACRO-rest-of-the-file";
  // Preview: 10 bytes, no ieof: the server must ask for the rest.
  c.send(respmod("Preview: 10\r\nAllow: 204\r\n", resHdr(), chunked(body.substr(0, 10))));
  auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  ASSERT_EQ(r->status, 100);
  c.send(chunked(body.substr(10)));
  r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(r->body);
  EXPECT_EQ(*r->body, "0123456789-rest-of-the-file");
  EXPECT_EQ(*r->response->headers.get("Content-Length"), std::to_string(r->body->size()));
}

TEST_F(ServerTest, PreviewWithIeofIsTheWholeBody) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  c.send(respmod("Preview: 1024\r\n", resHdr(), "5\r\nhello\r\n0; ieof\r\n\r\n"));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  // Unchanged and answered right after the preview: 204 even without Allow: 204.
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(filter_->calls.load(), 1);
}

TEST_F(ServerTest, ZeroPreviewOfPassiveTypeGets204WithoutTheBody) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  c.send(respmod("Preview: 0\r\n", resHdr("text/css"), "0\r\n\r\n"));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(filter_->calls.load(), 0);
  // The connection stays usable.
  c.send("OPTIONS icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  const auto o = c.read();
  ASSERT_TRUE(o) << c.lastError();
  EXPECT_EQ(o->status, 200);
}

TEST_F(ServerTest, ChunkExtensionsAreAcceptedAndIgnored) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  c.send(respmod("Allow: 204\r\n", resHdr(),
                 "3;foo=bar\r\nMAC\r\n2 ; x=\"q;\"\r\nRO\r\n3\r\nabc\r\n0\r\n\r\n"));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->body, "abc");
}

TEST_F(ServerTest, MalformedEncapsulatedIs400AndCloses) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  c.send(
      "RESPMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n"
      "Encapsulated: res-hdr=0, res-body=0\r\n\r\n");
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.closedByPeer());
}

TEST_F(ServerTest, EncapsulatedOffsetsThatLieAre400) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  // res-hdr claims 10 bytes of request header that are really 50.
  c.send(
      "RESPMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n"
      "Encapsulated: req-hdr=0, res-hdr=10, res-body=" +
      std::to_string(kReq.size() + resHdr().size()) + "\r\n\r\n" + kReq + resHdr() + chunked("x"));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, StatusCodesForUnknownServiceMethodVersion) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::pair<std::string, int> cases[] = {
      {"OPTIONS icap://127.0.0.1/nope ICAP/1.0\r\nHost: a\r\n\r\n", 404},
      {"LOG icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: a\r\n\r\n", 501},
      {"OPTIONS icap://127.0.0.1/sanitize ICAP/1.1\r\nHost: a\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  };
  for (const auto& [msg, status] : cases) {
    Client c(port());
    c.send(msg);
    const auto r = c.read();
    ASSERT_TRUE(r) << msg << c.lastError();
    EXPECT_EQ(r->status, status) << msg;
  }
}

TEST_F(ServerTest, OversizeBodyGetsBlockPageAndClose) {
  ASSERT_NO_FATAL_FAILURE(start(4, 1000));
  Client c(port());
  std::string body(5000, 'a');
  c.send(respmod("", resHdr(), chunked(body)));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(r->response);
  EXPECT_EQ(r->response->status, 403);
  EXPECT_EQ(*r->headers.get("Connection"), "close");
  EXPECT_EQ(filter_->calls.load(), 0);
}

TEST_F(ServerTest, PipelinedRequestsOnOnePersistentConnection) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  // Three requests in one write: the server must answer them in order.
  c.send(respmod("Allow: 204\r\n", resHdr(), chunked("clean")) +
         respmod("", resHdr(), chunked("xMACROy")) + respmod("", resHdr(), chunked("EVIL")));
  auto a = c.read();
  ASSERT_TRUE(a) << c.lastError();
  EXPECT_EQ(a->status, 204);
  auto b = c.read();
  ASSERT_TRUE(b) << c.lastError();
  EXPECT_EQ(*b->body, "xy");
  auto d = c.read();
  ASSERT_TRUE(d) << c.lastError();
  EXPECT_EQ(d->response->status, 403);
  // And the connection is still open for more.
  c.send(respmod("Allow: 204\r\nConnection: close\r\n", resHdr(), chunked("clean")));
  auto e = c.read();
  ASSERT_TRUE(e) << c.lastError();
  EXPECT_EQ(e->status, 204);
  EXPECT_TRUE(c.closedByPeer());
}

TEST_F(ServerTest, RequestSplitIntoSingleBytes) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  const auto msg = respmod("Preview: 4\r\n", resHdr(), chunked("MACR"));
  for (const char ch : msg) ASSERT_TRUE(c.send(std::string(1, ch)));
  auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  ASSERT_EQ(r->status, 100);
  for (const char ch : chunked("O!")) ASSERT_TRUE(c.send(std::string(1, ch)));
  r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(*r->body, "!");
}

TEST_F(ServerTest, ReqmodUpload) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  const std::string put = "PUT /u/a.docm HTTP/1.1\r\nHost: cloud\r\nContent-Length: 7\r\n\r\n";
  c.send(
      "REQMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, "
      "req-body=" +
      std::to_string(put.size()) + "\r\n\r\n" + put + chunked("MACRO!!"));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(r->request && r->body);
  EXPECT_EQ(*r->body, "!!");
  EXPECT_EQ(*r->request->headers.get("Content-Length"), "2");
}

TEST_F(ServerTest, ConcurrentClients) {
  ASSERT_NO_FATAL_FAILURE(start(8));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(port());
      for (int i = 0; i < 20; ++i) {
        const std::string body = "c" + std::to_string(t) + "MACRO" + std::to_string(i);
        if (!c.send(respmod("", resHdr(), chunked(body)))) return;
        const auto r = c.read();
        if (!r || !r->body || *r->body != "c" + std::to_string(t) + std::to_string(i)) return;
      }
      ok.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(filter_->calls.load(), 160);
}

TEST_F(ServerTest, IdleConnectionIsClosed) {
  ASSERT_NO_FATAL_FAILURE(start(1, 1 << 20, 300));
  Client idle(port());
  // Nothing sent: the idle timeout closes it.
  EXPECT_TRUE(idle.closedByPeer());
  EXPECT_TRUE(server_->openConnections() <= 1u);
}

TEST_F(ServerTest, IdleConnectionsDoNotHoldTheWorkers) {
  // One worker, several persistent connections: each is served while the others sit idle.
  ASSERT_NO_FATAL_FAILURE(start(1));
  const std::string options =
      "OPTIONS icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->send(options));
    const auto r = clients.back()->read();
    ASSERT_TRUE(r) << i << clients.back()->lastError();
    EXPECT_EQ(r->status, 200);
  }
  // Back to the first ones, in reverse: all still open and served.
  for (int i = 4; i >= 0; --i) {
    ASSERT_TRUE(clients[i]->send(respmod("", resHdr(), chunked("xMACRO"))));
    const auto r = clients[i]->read();
    ASSERT_TRUE(r) << i << clients[i]->lastError();
    EXPECT_EQ(*r->body, "x");
  }
}

TEST_F(ServerTest, TooManyConnectionsGet503) {
  ASSERT_NO_FATAL_FAILURE(start(1, 1 << 20, 30000, 2));
  Client a(port()), b(port());
  // Make sure both are accepted (served once) before the third arrives.
  const std::string options =
      "OPTIONS icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  for (Client* c : {&a, &b}) {
    ASSERT_TRUE(c->send(options));
    ASSERT_TRUE(c->read());
  }
  Client third(port());
  const auto r = third.read();
  ASSERT_TRUE(r) << third.lastError();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(server_->rejectedConnections(), 1u);
}

TEST_F(ServerTest, PreviewLongerThanAnnouncedIs400) {
  ASSERT_NO_FATAL_FAILURE(start());
  Client c(port());
  c.send(respmod("Preview: 2\r\n", resHdr(), chunked("abcdef")));
  const auto r = c.read();
  ASSERT_TRUE(r) << c.lastError();
  EXPECT_EQ(r->status, 400);
}

TEST(ServerCreate, RejectsBadListen) {
  auto service = SanitizeService::create(ServiceConfig{}, std::make_shared<TestFilter>(), nullptr);
  ASSERT_TRUE(service);
  std::shared_ptr<const SanitizeService> shared = std::move(service).value();
  for (const char* l : {"127.0.0.1", "127.0.0.1:99999", "nohost:1344", ":1344", "[::1:1344"}) {
    ServerConfig cfg;
    cfg.listen = l;
    auto server = Server::create(cfg, shared);
    ASSERT_FALSE(server) << l;
    EXPECT_FALSE(server.error().message.empty());
  }
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(splitHostPort("[::1]:1344", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 1344);
}

}  // namespace
}  // namespace lbg::icap
