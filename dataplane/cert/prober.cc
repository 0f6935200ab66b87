#include "dataplane/cert/prober.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "dataplane/cert/verifier.h"

namespace lbg::cert {

struct Prober::Probe {
  CacheKey key{};
  IpAddr client, server;
  uint16_t port = 0;
  std::string host;
  std::vector<SpkiPin> pins;
  OcspMode ocsp = OcspMode::Off;
  Clock::time_point deadline{};
  std::vector<Waiter> waiters;
  int fd = -1;
  SSL* ssl = nullptr;
  bool connected = false;
  bool done = false;
  bool waited = false;  // counted once as waiting for the rate
  Refusal result = Refusal::None;
};

namespace {

uint64_t nowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

// sockaddr for an IpAddr (IPv4-mapped → AF_INET).
socklen_t toSockaddr(const IpAddr& a, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  if (a.isV4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&out);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, &a.bytes[12], 4);
    return sizeof(sockaddr_in);
  }
  auto* s = reinterpret_cast<sockaddr_in6*>(&out);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

}  // namespace

std::unique_ptr<Prober> Prober::create(X509_STORE* store, const ProbeConfig& config,
                                       CertLedger* ledger) {
  std::unique_ptr<Prober> p(new Prober());
  p->store_ = store;
  p->ledger_ = ledger;
  p->config_ = config;
  p->epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (p->epoll_ < 0) return nullptr;
  // Verification is ours, after the handshake (checkCertificateList, the passive check's rules):
  // the handshake itself accepts any certificate so that the refusal can be classified.
  p->ctx_ = SSL_CTX_new(TLS_client_method());
  if (p->ctx_ == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(p->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(p->ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(p->ctx_, SSL_SESS_CACHE_OFF);  // every probe sees a certificate
  SSL_CTX_set_tlsext_status_type(p->ctx_, TLSEXT_STATUSTYPE_ocsp);  // and its stapled OCSP
  p->cache_ = std::make_unique<VerdictCache>(config.cacheEntries);
  p->total_.tokens = config.perSecond;
  p->total_.at = Clock::now();
  return p;
}

Prober::~Prober() {
  for (auto& [key, p] : probes_) {
    if (p->ssl != nullptr) SSL_free(p->ssl);
    if (p->fd >= 0) close(p->fd);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (epoll_ >= 0) close(epoll_);
}

uint64_t Prober::ttlNs(Refusal r) const {
  return uint64_t(r == Refusal::None ? config_.positiveTtlSec : config_.negativeTtlSec) *
         1000000000ull;
}

void Prober::submit(VerifyRequest* q, uint32_t worker, const Done& done) {
  Refusal cached;
  if (cache_->find(q->key, nowNs(), cached)) {  // another worker's flow asked first
    ++counters_.cacheAnswered;
    q->result = cached;
    done(q, worker);
    return;
  }
  auto it = probes_.find(q->key);
  if (it != probes_.end()) {  // the same destination, name and pins: one connection answers all
    ++counters_.joined;
    it->second->waiters.push_back({q, worker});
    return;
  }
  auto p = std::make_unique<Probe>();
  p->key = q->key;
  p->client = q->probeClient;
  p->server = q->server;
  p->port = q->serverPort;
  p->host.assign(q->host, q->hostLen);
  p->pins.assign(q->pins, q->pins + q->pinCount);
  p->ocsp = q->ocsp;
  p->deadline = Clock::now() + std::chrono::milliseconds(config_.timeoutMs);
  p->waiters.push_back({q, worker});
  q->probeRan = true;  // its flow's log record names the probe (pipeline_probe.cc)
  probes_.emplace(q->key, std::move(p));
}

bool Prober::takeToken(const IpAddr& server, Clock::time_point now) {
  auto refill = [now](Bucket& b, double rate) {
    const double secs = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(rate, b.tokens + secs * rate);
    b.at = now;
  };
  refill(total_, config_.perSecond);
  if (perAddress_.size() > 4096) {
    // Idle buckets (full again) carry no state: forget them rather than grow without bound.
    for (auto it = perAddress_.begin(); it != perAddress_.end();) {
      refill(it->second, config_.perAddressPerSecond);
      it = it->second.tokens >= config_.perAddressPerSecond ? perAddress_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = perAddress_.try_emplace(server);
  if (fresh) {
    it->second.tokens = config_.perAddressPerSecond;
    it->second.at = now;
  }
  refill(it->second, config_.perAddressPerSecond);
  if (total_.tokens < 1 || it->second.tokens < 1) return false;
  total_.tokens -= 1;
  it->second.tokens -= 1;
  return true;
}

bool Prober::bindSource(Probe& p, sockaddr_storage& src, socklen_t srcLen) {
  if (!config_.workerOf || p.waiters.empty()) {
    return bind(p.fd, reinterpret_cast<sockaddr*>(&src), srcLen) == 0;
  }
  // A source port in the ephemeral range whose flow the first asking worker owns: with the
  // workers' symmetric hash about one port in `workers` fits. Ports in use are skipped.
  constexpr uint32_t kFirst = 32768, kCount = 28232;
  const uint32_t want = p.waiters.front().worker;
  for (uint32_t tries = 0; tries < 4096; ++tries) {
    const uint16_t port = uint16_t(kFirst + nextPort_++ % kCount);
    if (config_.workerOf(p.client, port, p.server, p.port) != want) continue;
    toSockaddr(p.client, port, src);
    if (bind(p.fd, reinterpret_cast<sockaddr*>(&src), srcLen) == 0) return true;
    if (errno != EADDRINUSE) return false;
  }
  return false;
}

bool Prober::start(Probe& p) {
  sockaddr_storage src, dst;
  const socklen_t srcLen = toSockaddr(p.client, 0, src);
  const socklen_t dstLen = toSockaddr(p.server, p.port, dst);
  p.fd = socket(src.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p.fd < 0) return false;
  const int one = 1;
  // The client's address: the connection takes the exception path (policy routing by source)
  // and the server sees the address the client's own connection comes from.
  const bool v4 = src.ss_family == AF_INET;
  if (setsockopt(p.fd, v4 ? SOL_IP : SOL_IPV6, v4 ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one,
                 sizeof(one)) != 0 ||
      !bindSource(p, src, srcLen)) {
    return false;
  }
  if (connect(p.fd, reinterpret_cast<sockaddr*>(&dst), dstLen) != 0 && errno != EINPROGRESS) {
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.ptr = &p;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, p.fd, &ev) != 0) return false;
  ++active_;
  ++counters_.started;
  return true;
}

Refusal Prober::verifyPeer(Probe& p) {
  // The certificate list as a TLS 1.2 Certificate message carries it, for the one validator.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(p.ssl);  // the leaf first, on the client side
  if (chain == nullptr || sk_X509_num(chain) == 0) return Refusal::Untrusted;
  std::vector<uint8_t> list;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(sk_X509_value(chain, i), &der);
    if (len <= 0) return Refusal::Untrusted;
    list.push_back(uint8_t(len >> 16));
    list.push_back(uint8_t(len >> 8));
    list.push_back(uint8_t(len));
    list.insert(list.end(), der, der + len);
    OPENSSL_free(der);
  }
  CheckParams params;
  params.host = p.host;
  params.pins = p.pins;
  const unsigned char* staple = nullptr;
  const long stapleLen = SSL_get_tlsext_status_ocsp_resp(p.ssl, &staple);
  if (stapleLen > 0 && staple != nullptr) params.ocspStaple = {staple, size_t(stapleLen)};
  params.ocsp = p.ocsp;
  return checkCertificateList(store_, list, params);
}

void Prober::advance(Probe& p) {
  if (!p.connected) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      p.done = true;
      p.result = Refusal::ProbeFailed;
      return;
    }
    p.connected = true;
    p.ssl = SSL_new(ctx_);
    if (p.ssl == nullptr || SSL_set_fd(p.ssl, p.fd) != 1 ||
        SSL_set_tlsext_host_name(p.ssl, p.host.c_str()) != 1) {
      p.done = true;
      p.result = Refusal::ProbeFailed;
      return;
    }
  }
  const int rc = SSL_connect(p.ssl);
  if (rc == 1) {
    p.done = true;
    p.result = verifyPeer(p);
    return;
  }
  const int e = SSL_get_error(p.ssl, rc);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    epoll_event ev{};
    ev.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
    ev.data.ptr = &p;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, p.fd, &ev);
    return;
  }
  p.done = true;
  p.result = Refusal::ProbeFailed;  // reset, alert, a protocol below TLS 1.2
}

void Prober::finish(Probe& p, Refusal r, const Done& done) {
  switch (r) {
    case Refusal::None:
      ++counters_.verified;
      break;
    case Refusal::ProbeTimeout:
      ++counters_.timeouts;
      break;
    case Refusal::ProbeFailed:
      ++counters_.failed;
      break;
    default:
      ++counters_.refused;
  }
  const uint64_t now = nowNs();
  cache_->insert(p.key, r, now + ttlNs(r), now);
  if (ledger_ != nullptr) {
    LedgerRow row;
    row.key = p.key;
    row.probe = true;
    row.server = p.server;
    row.port = p.port;
    row.host = p.host;
    if (p.ssl != nullptr) row.cert = summarize(SSL_get0_peer_certificate(p.ssl));
    row.verdict = r;
    row.checkedAt = int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
    row.expiresAt = row.checkedAt + int64_t(ttlNs(r) / 1000000000ull);
    ledger_->record(std::move(row));
  }
  for (const Waiter& w : p.waiters) {
    w.q->result = r;
    done(w.q, w.worker);
  }
  if (p.ssl != nullptr) {
    SSL_free(p.ssl);  // no close_notify: the server learns nothing more than a closed connection
    p.ssl = nullptr;
  }
  if (p.fd >= 0) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, p.fd, nullptr);
    close(p.fd);
    p.fd = -1;
    --active_;
  }
}

void Prober::forget(std::span<const CacheKey> keys, bool all) {
  if (all) {
    cache_->clear();
    return;
  }
  for (const CacheKey& k : keys) cache_->erase(k);
}

void Prober::poll(const Done& done) {
  if (probes_.empty()) return;
  epoll_event events[64];
  const int n = epoll_wait(epoll_, events, 64, 0);
  for (int i = 0; i < n; ++i) {
    Probe& p = *static_cast<Probe*>(events[i].data.ptr);
    if (!p.done) advance(p);
  }
  const auto now = Clock::now();
  for (auto it = probes_.begin(); it != probes_.end();) {
    Probe& p = *it->second;
    if (!p.done && p.fd < 0) {
      // Waiting to start: the rate (in total and per address) and the open connections allow it?
      if (now < p.deadline && active_ < config_.maxActive) {
        if (takeToken(p.server, now)) {
          if (!start(p)) {
            p.done = true;
            p.result = Refusal::ProbeFailed;  // no route, address not bindable
          }
        } else if (!p.waited) {
          p.waited = true;
          ++counters_.rateWaits;
        }
      }
    }
    if (!p.done && now >= p.deadline) {
      p.done = true;
      p.result = Refusal::ProbeTimeout;
    }
    if (p.done) {
      finish(p, p.result, done);
      it = probes_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace lbg::cert
