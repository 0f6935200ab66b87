// lbg-proxy benchmark (issue 10): explicit mode against a local nginx (RSA-2048 certificate like
// the real login host), 16 concurrent clients, new intercepted connections and keep-alive
// requests, and the same clients straight to the origin in the same run. Last line:
//   proxy: newconn <A>/s p99 <B> ms, keepalive <C> req/s p99 <D> ms, direct <E>/s <F> req/s
// usage: proxy_bench LBG_PROXY [seconds-per-phase]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/proxy/http_head.h"
#include "dataplane/proxy/ossl.h"
#include "dataplane/proxy/test_certs.h"

using namespace lbg::proxy;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClients = 16;
const char* kHost = "login.microsoftonline.com";

void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

void pemCert(const std::string& path, X509* c) {
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_X509(f, c);
  std::fclose(f);
}
void pemKey(const std::string& path, EVP_PKEY* k) {
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t l = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  close(fd);
  return ntohs(a.sin_port);
}

pid_t spawn(std::vector<std::string> args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int dial(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

struct Session {
  int fd = -1;
  SslPtr ssl;
  ~Session() {
    ssl.reset();
    if (fd >= 0) close(fd);
  }
};

// A TLS session to the origin, through the proxy when viaProxy, offering `resume` if given.
bool open(Session& s, SSL_CTX* ctx, uint16_t port, bool viaProxy, SSL_SESSION* resume = nullptr) {
  s.fd = dial(port);
  if (s.fd < 0) return false;
  if (viaProxy) {
    const std::string req = std::string("CONNECT ") + kHost + ":443 HTTP/1.1\r\nHost: " + kHost + ":443\r\n\r\n";
    if (send(s.fd, req.data(), req.size(), 0) != ssize_t(req.size())) return false;
    std::string got;
    char buf[256];
    while (got.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = recv(s.fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      got.append(buf, size_t(n));
    }
    if (got.rfind("HTTP/1.1 200", 0) != 0) return false;
  }
  s.ssl.reset(SSL_new(ctx));
  SSL_set_tlsext_host_name(s.ssl.get(), kHost);
  SSL_set1_host(s.ssl.get(), kHost);
  SSL_set_fd(s.ssl.get(), s.fd);
  if (resume) SSL_set_session(s.ssl.get(), resume);
  return SSL_connect(s.ssl.get()) == 1;
}

bool request(Session& s, bool keepAlive) {
  const std::string req = std::string("GET /common/oauth2/authorize HTTP/1.1\r\nHost: ") + kHost +
                          "\r\nRestrict-Access-To-Tenants: client-own\r\n" +
                          (keepAlive ? "" : "Connection: close\r\n") + "\r\n";
  if (SSL_write(s.ssl.get(), req.data(), int(req.size())) <= 0) return false;
  std::string got;
  char buf[4096];
  HttpHead head;
  while (true) {
    const int n = SSL_read(s.ssl.get(), buf, sizeof(buf));
    if (n <= 0) return false;
    got.append(buf, size_t(n));
    const HeadStatus st = parseResponseHead(got, "GET", head);
    if (st == HeadStatus::Invalid) return false;
    if (st == HeadStatus::Complete && got.size() >= head.headBytes + head.contentLength) {
      return head.status == 200;
    }
  }
}

struct Result {
  double rate = 0;
  size_t count = 0;
  double p99ms = 0;
};

// Each client repeats `op` for `seconds`; the rate counts successes, p99 is of their latencies.
template <class Op>
Result run(double seconds, Op op) {
  std::vector<std::vector<double>> lat(kClients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { op(i, stop, lat[size_t(i)]); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Result r;
  r.rate = double(all.size()) / elapsed;
  r.count = all.size();
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    r.p99ms = all[std::min(all.size() - 1, size_t(double(all.size()) * 0.99))] * 1000;
  }
  return r;
}

Result newConns(SSL_CTX* ctx, uint16_t port, bool viaProxy, double seconds) {
  return run(seconds, [&](int, std::atomic<bool>& stop, std::vector<double>& lat) {
    while (!stop) {
      const auto t0 = Clock::now();
      Session s;
      if (open(s, ctx, port, viaProxy) && request(s, false)) {
        lat.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      }
    }
  });
}

// New connections like newConns, each offering the session (ticket) of the client's previous
// one: the figure a browser gets reconnecting to a login host.
Result resumedConns(SSL_CTX* ctx, uint16_t port, bool viaProxy, double seconds, std::atomic<uint64_t>& reused) {
  return run(seconds, [&](int, std::atomic<bool>& stop, std::vector<double>& lat) {
    SSL_SESSION* last = nullptr;
    while (!stop) {
      const auto t0 = Clock::now();
      Session s;
      if (open(s, ctx, port, viaProxy, last) && request(s, false)) {
        lat.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (SSL_session_reused(s.ssl.get())) ++reused;
        SSL_SESSION_free(last);
        last = SSL_get1_session(s.ssl.get());  // after the answer: TLS 1.3 tickets included
        SSL_shutdown(s.ssl.get());  // without close_notify the session is not resumable
      }
    }
    SSL_SESSION_free(last);
  });
}

Result keepAlive(SSL_CTX* ctx, uint16_t port, bool viaProxy, double seconds) {
  return run(seconds, [&](int, std::atomic<bool>& stop, std::vector<double>& lat) {
    while (!stop) {
      Session s;
      if (!open(s, ctx, port, viaProxy)) continue;
      while (!stop) {
        const auto t0 = Clock::now();
        if (!request(s, true)) break;
        lat.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      }
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: proxy_bench LBG_PROXY [seconds-per-phase [workers]]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const std::string proxyBin = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  const std::string workers = argc > 3 ? argv[3] : "";  // empty: lbg-proxy's default
  char tmpl[] = "/tmp/lbg-proxy-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);

  // Origin PKI: a test root and an RSA-2048 leaf, as the real login host has.
  const test::KeyCert root = test::makeCa("Bench Root");
  PkeyPtr rsa(EVP_RSA_gen(2048));
  test::KeyCert origin = test::makeLeaf(root, kHost, {kHost});
  {
    // Same certificate with the RSA key instead of the P-256 one.
    X509_set_pubkey(origin.cert.get(), rsa.get());
    X509_sign(origin.cert.get(), root.key.get(), EVP_sha256());
    origin.key = std::move(rsa);
  }
  const test::KeyCert appliance = test::makeCa("lbg appliance CA (bench)");
  pemCert(dir + "/root.pem", root.cert.get());
  pemCert(dir + "/origin.pem", origin.cert.get());
  pemKey(dir + "/origin.key", origin.key.get());
  pemCert(dir + "/appliance.pem", appliance.cert.get());
  pemKey(dir + "/appliance.key", appliance.key.get());

  const uint16_t originPort = freePort();
  const uint16_t proxyPort = freePort();
  writeFile(dir + "/nginx.conf",
            "daemon off; worker_processes 1; pid " + dir + "/nginx.pid; error_log " + dir +
                "/nginx.err;\nevents { worker_connections 4096; }\nhttp { access_log off;\n"
                "keepalive_requests 1000000;\n server { listen 127.0.0.1:" +
                std::to_string(originPort) + " ssl; ssl_certificate " + dir +
                "/origin.pem; ssl_certificate_key " + dir +
                "/origin.key;\n ssl_protocols TLSv1.2 TLSv1.3;\n"
                " client_body_temp_path " + dir + "; proxy_temp_path " + dir + ";\n"
                " location / { return 200 \"ok\\n\"; } } }\n");
  writeFile(dir + "/policy.yaml",
            "version: 1\nsegment: {inside: [127.0.0.0/8]}\ndefaults: {deny: reset}\nservices:\n"
            "  - name: entra\n    kind: lgwan-asp\n"
            "    fqdn: [login.microsoftonline.com, login.microsoft.com, login.windows.net]\n"
            "    ports: [tcp/443]\n    intercept: true\n    tenant:\n      profile: entra-v1\n"
            "      headers: {Restrict-Access-To-Tenants: contoso.onmicrosoft.com, "
            "Restrict-Access-Context: dir-0001}\n");
  const pid_t nginx = spawn({"/usr/sbin/nginx", "-p", dir, "-c", dir + "/nginx.conf", "-e", dir + "/nginx.err"});
  std::vector<std::string> proxyArgs = {
      proxyBin, "--listen", "127.0.0.1:" + std::to_string(proxyPort), "--policy", dir + "/policy.yaml",
      "--ca-cert", dir + "/appliance.pem", "--ca-key", dir + "/appliance.key", "--trust-file",
      dir + "/root.pem", "--connect-to", std::string(kHost) + "=127.0.0.1:" + std::to_string(originPort)};
  if (!workers.empty()) {
    proxyArgs.push_back("--workers");
    proxyArgs.push_back(workers);
  }
  const pid_t proxy = spawn(proxyArgs);
  for (int i = 0; i < 200; ++i) {
    const int a = dial(originPort), b = dial(proxyPort);
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    if (a >= 0 && b >= 0) break;
    usleep(20000);
  }

  SslCtxPtr direct(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_locations(direct.get(), (dir + "/root.pem").c_str(), nullptr);
  SSL_CTX_set_verify(direct.get(), SSL_VERIFY_PEER, nullptr);
  SslCtxPtr viaProxy(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_locations(viaProxy.get(), (dir + "/appliance.pem").c_str(), nullptr);
  SSL_CTX_set_verify(viaProxy.get(), SSL_VERIFY_PEER, nullptr);

  const Result dn = newConns(direct.get(), originPort, false, seconds);
  const Result pn = newConns(viaProxy.get(), proxyPort, true, seconds);
  const Result dk = keepAlive(direct.get(), originPort, false, seconds);
  const Result pk = keepAlive(viaProxy.get(), proxyPort, true, seconds);
  std::atomic<uint64_t> directReused{0}, proxyReused{0};
  const Result dr = resumedConns(direct.get(), originPort, false, seconds, directReused);
  const Result pr = resumedConns(viaProxy.get(), proxyPort, true, seconds, proxyReused);

  kill(proxy, SIGTERM);
  kill(nginx, SIGTERM);
  waitpid(proxy, nullptr, 0);
  waitpid(nginx, nullptr, 0);
  std::system(("rm -rf " + dir).c_str());
  std::printf("direct newconn p99 %.2f ms, keepalive p99 %.2f ms\n", dn.p99ms, dk.p99ms);
  std::printf("resumed newconn: proxy %.0f/s p99 %.2f ms (%.0f%% resumed), direct %.0f/s p99 %.2f ms "
              "(%.0f%% resumed)\n",
              pr.rate, pr.p99ms, pr.count > 0 ? 100.0 * double(proxyReused) / double(pr.count) : 0.0,
              dr.rate, dr.p99ms, dr.count > 0 ? 100.0 * double(directReused) / double(dr.count) : 0.0);
  std::printf("ratios: newconn A/E %.2f, keepalive C/F %.2f, resumed newconn %.2f of direct resumed\n",
              dn.rate > 0 ? pn.rate / dn.rate : 0.0, dk.rate > 0 ? pk.rate / dk.rate : 0.0,
              dr.rate > 0 ? pr.rate / dr.rate : 0.0);
  std::printf("proxy: newconn %.0f/s p99 %.2f ms, keepalive %.0f req/s p99 %.2f ms, direct %.0f/s %.0f req/s\n",
              pn.rate, pn.p99ms, pk.rate, pk.p99ms, dn.rate, dk.rate);
  return pn.rate > 0 && pk.rate > 0 ? 0 : 1;
}
