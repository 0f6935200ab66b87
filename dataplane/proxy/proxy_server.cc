#include "dataplane/proxy/proxy_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "dataplane/proxy/chunked_body.h"
#include "dataplane/proxy/connect_target.h"
#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/relay_io.h"
#include "dataplane/proxy/transparent_socket.h"
#include "dataplane/proxy/header_rewrite.h"
#include "dataplane/proxy/http_head.h"
#include "dataplane/proxy/upstream_tls.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/parser.h"

namespace lbg::proxy {

namespace {

using telemetry::LogEventType;
using telemetry::MeasureId;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string peerIp(int fd, uint16_t& port) {
  SockAddr a;
  if (getpeername(fd, a.get(), &a.len) != 0) return "";
  port = a.port();
  return a.ipText();  // an IPv4 client of a dual-stack listener as IPv4
}

}  // namespace

// Does `host` match a profile host pattern ("a.b" exactly, or "*.b" for any name under b)?
bool hostMatches(std::string_view host, std::string_view pattern) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  return host == pattern;
}

Result<std::unique_ptr<ProxyServer>> ProxyServer::create(const ProxyConfig& config,
                                                         std::shared_ptr<const policy::Snapshot> policy,
                                                         std::unique_ptr<LeafMinter> minter,
                                                         const TicketSeed& tickets, WorkerLink& link,
                                                         SessionIdStore* sessionIds) {
  std::unique_ptr<ProxyServer> s(new ProxyServer());
  s->config_ = config;
  s->link_ = &link;
  s->logging_ = !config.log.dir.empty();
  s->policy_ = std::move(policy);
  s->minter_ = std::move(minter);
  if (!s->minter_) return Error{"no leaf minter", config.caCertFile};
  for (size_t i = 0; i < s->policy_->serviceCount(); ++i) {
    std::vector<SpkiPin> pins;
    for (const std::string& text : s->policy_->service(int(i)).pins) {
      // The parser checked the form: "sha256//" + 44 base64 characters = 32 bytes.
      SpkiPin pin{};
      if (!cert::decodePin(text, pin)) return Error{"bad pin", text};
      pins.push_back(pin);
    }
    s->pins_.push_back(std::move(pins));
    s->ocsp_.push_back(cert::ocspModeOf(s->policy_->service(int(i)).ocsp));
    const policy::ServiceSpec& svc = s->policy_->service(int(i));
    std::vector<std::pair<std::string, std::string>> plain;
    if (svc.sanitize) plain.emplace_back("Accept-Encoding", "identity");
    std::vector<std::pair<std::string, std::string>> tenant = svc.tenant ? svc.tenant->headers : plain;
    if (svc.tenant && svc.sanitize) tenant.emplace_back("Accept-Encoding", "identity");
    s->tenantHeaders_.push_back(std::move(tenant));
    s->plainHeaders_.push_back(std::move(plain));
  }
  if (!config.icapUri.empty()) {
    s->icap_ = parseIcapUri(config.icapUri);
    if (!s->icap_) return Error{"--icap must be icap://IPv4:PORT/path", config.icapUri};
  }
  s->pac_ = std::make_unique<PacFile>(*s->policy_);

  s->upstreamCtx_ = makeUpstreamCtx(config.trustFile);
  if (!s->upstreamCtx_) return Error{"cannot load the upstream trust store", config.trustFile};
  SSL_CTX_set_mode(s->upstreamCtx_.get(),
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read-ahead: one read() takes what the socket holds instead of a record header and then its
  // body (two syscalls per record). Safe with edge-triggered epoll because readTls is called
  // until it wants to read (relay_io.h), which drains what OpenSSL buffered.
  SSL_CTX_set_read_ahead(s->upstreamCtx_.get(), 1);
  // Keep each host's newest session (TLS 1.3 tickets arrive after the handshake: a callback).
  SSL_CTX_set_session_cache_mode(s->upstreamCtx_.get(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_app_data(s->upstreamCtx_.get(), s.get());
  SSL_CTX_sess_set_new_cb(s->upstreamCtx_.get(), [](SSL* ssl, SSL_SESSION* sess) -> int {
    auto* server = static_cast<ProxyServer*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!server || !host || SSL_get_verify_result(ssl) != X509_V_OK) return 0;
    if (server->upstreamSessions_.size() > 4096) server->upstreamSessions_.clear();
    server->upstreamSessions_[host].reset(sess);
    return 1;  // we own the reference now
  });
  s->clientCtx_.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(s->clientCtx_.get(), TLS1_2_VERSION);
  // Clients resume with tickets valid on every worker, bound to the name and CA (Conn's SSL).
  s->ticketKeys_ = std::make_unique<TicketKeys>(tickets);
  if (!s->ticketKeys_->cipher()) return Error{"AES-256-CBC unavailable for session tickets", ""};
  enableClientResumption(s->clientCtx_.get(), s->ticketKeys_.get());
  // TLS 1.2 session ids shared by the process's workers (session_id_store.h).
  if (sessionIds) sessionIds->attach(s->clientCtx_.get());
  SSL_CTX_set_mode(s->clientCtx_.get(),
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(s->clientCtx_.get(), 1);  // as upstream
  // Offer http/1.1 only: headers cannot be replaced in HTTP/2 frames (yet).
  SSL_CTX_set_alpn_select_cb(
      s->clientCtx_.get(),
      [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
         unsigned inlen, void*) -> int {
        static const unsigned char kH1[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        unsigned char* sel = nullptr;
        if (SSL_select_next_proto(&sel, outlen, kH1, sizeof(kH1), in, inlen) !=
            OPENSSL_NPN_NEGOTIATED)
          return SSL_TLSEXT_ERR_NOACK;
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
      },
      nullptr);
  // The client must name the host it asked to CONNECT to (or none): a different SNI would get a
  // leaf for a name it was never validated for.
  SSL_CTX_set_client_hello_cb(
      s->clientCtx_.get(),
      [](SSL* ssl, int* alert, void*) -> int {
        const Conn* c = static_cast<const Conn*>(SSL_get_app_data(ssl));
        const unsigned char* ext = nullptr;
        size_t len = 0;
        if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len)) return 1;
        // server_name_list: u16 length, u8 type (0 = host_name), u16 length, name.
        if (len < 5 || ext[2] != 0) {
          *alert = SSL_AD_UNRECOGNIZED_NAME;
          return 0;
        }
        const size_t nlen = (size_t(ext[3]) << 8) | ext[4];
        if (5 + nlen > len) {
          *alert = SSL_AD_DECODE_ERROR;
          return 0;
        }
        const std::string_view sni(reinterpret_cast<const char*>(ext + 5), nlen);
        if (!validServerName(sni) || !equalsIgnoreCase(sni, c->target.host)) {
          *alert = SSL_AD_UNRECOGNIZED_NAME;
          return 0;
        }
        return 1;
      },
      nullptr);

  // IPv4 or IPv6 ("::" also takes IPv4 clients, as the system's dual-stack default does).
  SockAddr a;
  if (!parseSockAddr(config.listenAddress, config.listenPort, a)) {
    return Error{"listen address is not an IP address", config.listenAddress};
  }
  s->listenFd_ = socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(s->listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(s->listenFd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(s->listenFd_, a.get(), a.len) != 0 || listen(s->listenFd_, 1024) != 0) {
    return Error{std::string("cannot listen: ") + std::strerror(errno), config.listenAddress};
  }
  a.len = sizeof(a.ss);
  getsockname(s->listenFd_, a.get(), &a.len);
  s->port_ = a.port();
  s->epfd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(s->epfd_, EPOLL_CTL_ADD, s->listenFd_, &ev);
  if (!config.transparentAddress.empty() || !config.transparentAddress6.empty()) {
    if (auto st = s->openTransparent(); !st.ok()) return st.error();
  }
  s->spareFd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);  // conn_limits.cc
  auto resolver = AsyncResolver::create(uint32_t(std::max(config.resolverThreads, 0)),
                                        size_t(std::max(config.resolverQueue, 0)));
  if (!resolver) return resolver.error();
  s->resolver_ = std::move(resolver.value());
  ev.events = EPOLLIN;
  ev.data.u64 = kResolverTag;
  epoll_ctl(s->epfd_, EPOLL_CTL_ADD, s->resolver_->eventFd(), &ev);
  return s;
}

ProxyServer::~ProxyServer() {
  while (!conns_.empty()) closeConn(*conns_.begin()->second);
  if (listenFd_ >= 0) close(listenFd_);
  if (transparentFd_ >= 0) close(transparentFd_);
  if (transparent6Fd_ >= 0) close(transparent6Fd_);
  if (spareFd_ >= 0) close(spareFd_);
  if (epfd_ >= 0) close(epfd_);
}

void ProxyServer::logEvent(const std::string& json) {
  if (logging_) pendingLogs_.push_back(json);
}

void ProxyServer::run() {
  epoll_event events[64];
  auto lastTick = std::chrono::steady_clock::now();
  link_->publish(counters_);
  while (!link_->stopRequested()) {
    const int n = epoll_wait(epfd_, events, 64, 200);
    // A reloaded CA is adopted before this wake-up's events are handled: a CA posted before a
    // client connected (the supervisor posts, then counts the reload) mints that client's leaf,
    // even when this worker slept through the post. Connections already handed a leaf keep
    // their own references (SSL_use_certificate).
    if (auto minter = link_->takeMinter()) minter_ = std::move(minter);
    for (int i = 0; i < n; ++i) onEvent(events[i].data.u64, events[i].events);
    link_->pushLogs(pendingLogs_);
    const auto now = std::chrono::steady_clock::now();
    if (now - lastTick > std::chrono::milliseconds(500)) {
      closeIdle();
      link_->pushLogs(pendingLogs_);
      link_->publish(counters_);
      lastTick = now;
    }
  }
  link_->pushLogs(pendingLogs_);
  link_->publish(counters_);
}

void ProxyServer::acceptAll() {
  while (true) {
    const int fd = accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return acceptFailed(listenFd_);
    if (!admit(fd)) continue;
    auto c = std::make_unique<Conn>();
    c->id = nextId_++;
    c->cfd = fd;
    c->srcIp = peerIp(fd, c->srcPort);
    ++counters_.accepted;
    addConn(std::move(c));
  }
}

void ProxyServer::addConn(std::unique_ptr<Conn> c) {
  const int one = 1;
  setsockopt(c->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = epollTag(c->id, Leg::Client);
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c->cfd, &ev);
  Conn& ref = *c;
  conns_.emplace(c->id, std::move(c));
  pump(ref);
}

void ProxyServer::onEvent(uint64_t tag, uint32_t) {
  if (tag == 0) {
    acceptAll();
    return;
  }
  if (tag == kTransparentTag || tag == kTransparent6Tag) {
    acceptTransparent(tag == kTransparentTag ? transparentFd_ : transparent6Fd_);
    return;
  }
  if (tag == kResolverTag) {
    takeAnswers();
    return;
  }
  auto it = conns_.find(connOfTag(tag));
  if (it == conns_.end()) return;
  it->second->lastActive = std::chrono::steady_clock::now();
  pump(*it->second);
}


void ProxyServer::closeConn(Conn& c) {
  // close_notify on the legs whose handshake completed (best effort, non-blocking): OpenSSL marks
  // the session of a connection freed without it not resumable, which would end the client's
  // TLS 1.2 session id and the upstream's resumption after every connection.
  for (SSL* ssl : {c.cssl.get(), c.ussl.get()}) {
    if (ssl && SSL_is_init_finished(ssl)) SSL_shutdown(ssl);
  }
  ERR_clear_error();
  if (c.cfd >= 0) close(c.cfd);
  if (c.ufd >= 0) close(c.ufd);
  if (c.san) {
    closeIcap(c);
    releaseHeld(c);
  }
  conns_.erase(c.id);
}

namespace {

// The record's common members (timestamp, addresses, ports), built once per record as an object:
// a request's `http` event is on the keep-alive path.
nlohmann::json eventHead(const Conn& c, LogEventType type) {
  nlohmann::json j;
  j["timestamp"] = telemetry::logfmt::formatRfc3339(nowNs());
  j["event_type"] = telemetry::toString(type);
  j["src_ip"] = c.srcIp;
  j["src_port"] = c.srcPort;
  j["proto"] = "TCP";
  j["dest_port"] = c.target.port;
  if (!c.destIp.empty()) j["dest_ip"] = c.destIp;
  return j;
}

}  // namespace

std::string connEvent(const Conn& c, telemetry::LogEventType type, const nlohmann::json& extra) {
  nlohmann::json j = eventHead(c, type);
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j.dump();
}

void ProxyServer::pump(Conn& c) {
  auto fail = [&](const char* status, const char* reason) {
    if (c.transparent) return refuseTransparent(c);
    // Best effort: the answer is small and the socket freshly writable.
    std::string msg = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 0\r\n";
    if (reason) msg += std::string("X-Lbg-Reason: ") + reason + "\r\n";
    msg += "Connection: close\r\n\r\n";
    (void)!send(c.cfd, msg.data(), msg.size(), MSG_NOSIGNAL);
    closeConn(c);
  };
  const policy::ServiceSpec* svc = c.service >= 0 ? &policy_->service(c.service) : nullptr;
  bool progress = true;
  while (progress) {
    progress = false;
    switch (c.phase) {
      case Conn::Phase::PeekHello:  // transparent mode: transparent_server.cc
        if (!pumpHello(c)) return;
        svc = c.service >= 0 ? &policy_->service(c.service) : nullptr;
        progress = true;
        break;
      case Conn::Phase::ReadConnect: {
        const int r = readPlain(c.cfd, c.cin);
        if (r < 0) return closeConn(c);
        if (r == 0) return;
        HttpHead head;
        const HeadStatus st = parseRequestHead(c.cin, head);
        if (st == HeadStatus::Incomplete) {
          progress = true;
          break;
        }
        if (st == HeadStatus::Complete && head.method == "GET" &&
            (head.target == "/proxy.pac" || head.target == "/wpad.dat")) {
          return servePac(c);
        }
        if (st == HeadStatus::Invalid || head.method != "CONNECT" || head.body != BodyKind::None) {
          ++counters_.connect_refused;
          return fail("400 Bad Request", "bad-request");
        }
        auto target = parseConnectTarget(head.target);
        if (!target) {
          ++counters_.connect_refused;
          logEvent(connEvent(c, LogEventType::Tls, {{"action", "deny"}, {"reason", "bad-name"}}));
          return fail("400 Bad Request", "bad-name");
        }
        c.target = *target;
        c.cin.erase(0, head.headBytes);
        c.service = policy_->matchName(c.target.host, policy::L4::Tcp, c.target.port);
        if (c.service < 0) {
          ++counters_.connect_refused;
          logEvent(connEvent(c, LogEventType::Tls, {{"action", "deny"},
                                                     {"reason", "no-match"},
                                                     {"tls", {{"sni", c.target.host}}}}));
          return fail("403 Forbidden", "no-match");
        }
        svc = &policy_->service(c.service);
        bindService(c);
        // Where to connect: a test's --connect-to address at once, else the name's addresses from
        // the resolver's threads (resolve_connect.cc); the loop goes on meanwhile.
        if (!resolveUpstream(c)) {
          ++counters_.resolve_busy;
          return fail("503 Service Unavailable", "resolve-busy");
        }
        c.phase = Conn::Phase::Resolving;
        progress = true;
        break;
      }
      case Conn::Phase::Resolving: {
        if (c.resolveError != 0) {
          if (c.transparent) {  // the name does not resolve to where the client connected
            refuseHello(c, "sni-dns-mismatch", c.target.host);
            return;
          }
          ++counters_.resolve_failed;
          return fail("502 Bad Gateway", "resolve");
        }
        if (c.upstreamAddr.ss_family == 0) return;  // the answer wakes us (takeAnswers)
        if (c.transparent) {
          if (!connectTransparent(c)) return;
        } else if (!connectUpstream(c)) {
          return fail("502 Bad Gateway", "connect");
        }
        c.phase = Conn::Phase::Connecting;
        progress = true;
        break;
      }
      case Conn::Phase::Connecting: {
        pollfd p{c.ufd, POLLOUT, 0};
        if (poll(&p, 1, 0) <= 0) return;
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c.ufd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return fail("502 Bad Gateway", "connect");
        if (!svc->intercept) {
          ++counters_.spliced;
          logEvent(connEvent(c, LogEventType::Tls, {{"action", "splice"},
                                                     {"tls", {{"sni", c.target.host}}},
                                                     {"policy", {{"service", svc->name}}}}));
          if (!c.transparent) c.toClient = "HTTP/1.1 200 Connection established\r\n\r\n";
          c.toUp.swap(c.cin);
          c.phase = Conn::Phase::Splice;
        } else {
          c.ussl.reset(SSL_new(upstreamCtx_.get()));
          prepareUpstream(c.ussl.get(), c.target.host);
          // A resumed upstream session has no verified chain and no OCSP staple of its own: a
          // service with pins or `ocsp: require` checks them on a full handshake every time.
          const bool resumable = pins_[size_t(c.service)].empty() &&
                                 ocsp_[size_t(c.service)] != cert::OcspMode::Require;
          if (auto it = upstreamSessions_.find(c.target.host); resumable && it != upstreamSessions_.end()) {
            SSL_set_session(c.ussl.get(), it->second.get());
          }
          SSL_set_fd(c.ussl.get(), c.ufd);
          SSL_set_connect_state(c.ussl.get());
          c.phase = Conn::Phase::UpHandshake;
        }
        progress = true;
        break;
      }
      case Conn::Phase::UpHandshake: {
        const int r = SSL_do_handshake(c.ussl.get());
        UpstreamRefusal why = UpstreamRefusal::None;
        if (r != 1) {
          const int e = SSL_get_error(c.ussl.get(), r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
          ERR_clear_error();
          why = classifyFailure(c.ussl.get());
        } else {
          if (SSL_session_reused(c.ussl.get())) ++counters_.upstream_resumed;
          why = checkPins(c.ussl.get(), pins_[size_t(c.service)]);
          if (why == UpstreamRefusal::None) why = checkStaple(c.ussl.get(), ocsp_[size_t(c.service)]);
        }
        if (why != UpstreamRefusal::None) {
          ++counters_.upstream_refused;
          logEvent(connEvent(c, LogEventType::Tls, {{"action", "deny"},
                                                     {"reason", toString(why)},
                                                     {"measure", telemetry::toString(MeasureId::Cert)},
                                                     {"tls", {{"sni", c.target.host}}},
                                                     {"policy", {{"service", svc->name}}}}));
          return fail("502 Bad Gateway", toString(why));
        }
        X509* peer = SSL_get0_peer_certificate(c.ussl.get());
        const uint64_t before = minter_->minted();
        X509* leaf = peer ? minter_->mint(peer, c.target.host) : nullptr;
        if (!leaf) return fail("502 Bad Gateway", "mint");
        counters_.leaves_minted += minter_->minted() - before;
        c.cssl.reset(SSL_new(clientCtx_.get()));
        SSL_set_app_data(c.cssl.get(), &c);
        // The decisions (splice, intercept, refuse) were taken on this name before the client's
        // handshake; a resumed session must be one made for this name and CA (client_sessions.h).
        if (!bindClientSession(c.cssl.get(), c.target.host, minter_->caDigest())) {
          return fail("502 Bad Gateway", "mint");
        }
        SSL_use_certificate(c.cssl.get(), leaf);
        SSL_use_PrivateKey(c.cssl.get(), minter_->leafKey());
        SSL_add1_chain_cert(c.cssl.get(), minter_->caCert());
        SSL_set_fd(c.cssl.get(), c.cfd);
        SSL_set_accept_state(c.cssl.get());
        const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
        if (!c.transparent && send(c.cfd, ok.data(), ok.size(), MSG_NOSIGNAL) != ssize_t(ok.size())) {
          return closeConn(c);
        }
        c.phase = Conn::Phase::ClientHandshake;
        progress = true;
        break;
      }
      case Conn::Phase::ClientHandshake: {
        const int r = SSL_do_handshake(c.cssl.get());
        if (r != 1) {
          const int e = SSL_get_error(c.cssl.get(), r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
          ERR_clear_error();
          ++counters_.client_handshake_failed;
          logEvent(connEvent(c, LogEventType::Tls, {{"action", "deny"},
                                                     {"reason", "client-handshake"},
                                                     {"tls", {{"sni", c.target.host}}}}));
          return closeConn(c);
        }
        ++counters_.intercepted;
        if (SSL_session_reused(c.cssl.get())) ++counters_.client_resumed;
        logEvent(connEvent(c, LogEventType::Tls, {{"action", "intercept"},
                              {"measure", telemetry::toString(c.tenant ? MeasureId::Tenant : MeasureId::Cert)},
                              {"tls", {{"sni", c.target.host}}},
                              {"policy", {{"service", svc->name}}},
                              {"tenant_profile", c.tenant ? c.tenant->profile : ""}}));
        c.phase = Conn::Phase::Relay;
        progress = true;
        break;
      }
      case Conn::Phase::Relay: {
        const int rc = readTls(c.cssl.get(), c.cin);
        if (rc < 0) return closeConn(c);
        progress = progress || rc > 0;
        // Move complete requests (rewritten heads, bodies as they are) to toUp; none once an
        // error answer ends the connection, nor beyond the responses a sanitized one may await.
        while (!c.closing && !c.cin.empty() && c.toUp.size() < kBufLimit &&
               !(c.san && c.req == Conn::Req::Head && c.san->pending.size() >= SanitizeState::kMaxPending)) {
          if (c.req == Conn::Req::Head) {
            HttpHead head;
            const HeadStatus st = parseRequestHead(c.cin, head);
            if (st == HeadStatus::Incomplete) break;
            // A refused head is answered, logged and ends the connection.
            const auto refuse = [&](const char* detail, std::string_view status) {
              ++counters_.bad_requests;
              logEvent(connEvent(c, LogEventType::Http, {{"action", "deny"},
                                                          {"reason", "bad-request"},
                                                          {"detail", detail},
                                                          {"http", {{"hostname", c.target.host}}}}));
              const std::string msg = "HTTP/1.1 " + std::string(status) +
                                      "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
              SSL_write(c.cssl.get(), msg.data(), int(msg.size()));
              return closeConn(c);
            };
            if (st == HeadStatus::Invalid) return refuse(head.error, "400 Bad Request");
            std::string out;
            // A sanitized service is asked for whole files: a range of one cannot be sanitized
            // (lbg-icapd blocks a 206), and a browser's PDF viewer or a resumed download asks
            // for ranges; without Range the origin answers 200 with the whole file.
            static const std::string kWholeFile[] = {"Range", "If-Range"};
            const std::span<const std::string> drop =
                c.san ? std::span<const std::string>(kWholeFile) : std::span<const std::string>();
            if (!rewriteRequestHead(head, *c.setHeaders, drop, out)) {
              return refuse("head too large after rewrite", "431 Request Header Fields Too Large");
            }
            if (c.tenant) ++counters_.tenant_applied;
            ++counters_.requests;
            std::string path(head.target.substr(0, std::min<size_t>(head.target.size(), 256)));
            logEvent(connEvent(c, LogEventType::Http, {{"action", "allow"},
                                  {"measure", telemetry::toString(c.tenant ? MeasureId::Tenant : MeasureId::Dest)},
                                  {"http", {{"hostname", c.target.host},
                                            {"http_method", std::string(head.method)},
                                            {"url", path}}},
                                  {"policy", {{"service", svc->name}}},
                                  {"tenant_profile", c.tenant ? c.tenant->profile : ""}}));
            c.toUp += out;
            if (c.san) {
              c.san->pending.push_back({std::string(head.method),
                                        "https://" + c.target.host + std::string(head.target.substr(
                                                         0, std::min<size_t>(head.target.size(), 2048)))});
            }
            if (head.body == BodyKind::Length) {
              c.req = Conn::Req::Length;
              c.bodyLeft = head.contentLength;
            } else if (head.body == BodyKind::Chunked) {
              c.req = Conn::Req::Chunked;
            }
            c.cin.erase(0, head.headBytes);
          } else if (c.req == Conn::Req::Length) {
            const size_t n = size_t(std::min<uint64_t>(c.bodyLeft, c.cin.size()));
            c.toUp.append(c.cin, 0, n);
            c.cin.erase(0, n);
            c.bodyLeft -= n;
            if (c.bodyLeft == 0) c.req = Conn::Req::Head;
          } else {
            size_t used = 0;
            const auto st = c.chunked.feed(c.cin, used);
            if (st == ChunkedBody::Status::Invalid) {
              ++counters_.bad_requests;
              return closeConn(c);
            }
            c.toUp.append(c.cin, 0, used);
            c.cin.erase(0, used);
            if (st == ChunkedBody::Status::Done) c.req = Conn::Req::Head;
          }
        }
        const int wu = writeTls(c.ussl.get(), c.toUp);
        if (wu < 0) return closeConn(c);
        int ru = 0;
        if (c.san) {
          ru = c.closing ? 0 : pumpSanitize(c);
        } else {
          ru = c.upEof ? 0 : readTls(c.ussl.get(), c.toClient);
          if (ru < 0) c.upEof = true;
        }
        const int wc = writeTls(c.cssl.get(), c.toClient);
        if (wc < 0) return closeConn(c);
        if (c.toClient.empty() && (c.closing || (c.upEof && (!c.san || c.san->idle())))) {
          return closeConn(c);
        }
        progress = progress || wu > 0 || ru != 0 || wc > 0;
        break;
      }
      case Conn::Phase::Splice: {
        const int a = readPlain(c.cfd, c.toUp);
        const int b = writePlain(c.ufd, c.toUp);
        const int d = c.upEof ? 0 : readPlain(c.ufd, c.toClient);
        if (d < 0) c.upEof = true;
        const int e = writePlain(c.cfd, c.toClient);
        if (a < 0 || b < 0 || e < 0) return closeConn(c);
        if (c.upEof && c.toClient.empty()) return closeConn(c);
        progress = a > 0 || b > 0 || d != 0 || e > 0;
        break;
      }
      case Conn::Phase::Drain:
        return;
    }
  }
}

void ProxyServer::bindService(Conn& c) {
  const policy::ServiceSpec& svc = policy_->service(c.service);
  if (svc.tenant) {
    const policy::TenantProfile* p = policy::findTenantProfile(svc.tenant->profile);
    for (const char* h : p->hosts) {
      if (hostMatches(c.target.host, h)) c.tenant = &*svc.tenant;
    }
  }
  c.setHeaders = c.tenant ? &tenantHeaders_[size_t(c.service)] : &plainHeaders_[size_t(c.service)];
  if (svc.sanitize && svc.intercept) c.san = std::make_unique<SanitizeState>();
}

void ProxyServer::servePac(Conn& c) {
  // The address this client used to reach the listener is the one the PAC names.
  SockAddr local;
  getsockname(c.cfd, local.get(), &local.len);
  const std::string ip = local.ipText();
  const bool v6 = ip.find(':') != std::string::npos;  // "PROXY [2001:db8::1]:3128"
  const std::string body = pac_->render((v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(local.port()));
  const std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(kPacContentType) +
                          "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nCache-Control: max-age=300\r\nConnection: close\r\n\r\n" + body;
  ++counters_.pac_served;
  // Best effort like the refusals: small, and the socket freshly writable.
  (void)!send(c.cfd, msg.data(), msg.size(), MSG_NOSIGNAL);
  closeConn(c);
}

void ProxyServer::closeIdle() {
  checkIcapDeadlines();
  const auto now = std::chrono::steady_clock::now();
  std::vector<Conn*> idle;
  for (auto& [id, c] : conns_) {
    const bool settled = c->phase == Conn::Phase::Relay || c->phase == Conn::Phase::Splice;
    const auto limit = std::chrono::seconds(settled ? config_.idleTimeoutSec : config_.headTimeoutSec);
    if (now - c->lastActive > limit) idle.push_back(c.get());
  }
  for (Conn* c : idle) {
    ++counters_.timed_out;
    logEvent(connEvent(*c, telemetry::LogEventType::Tls, {{"action", "deny"}, {"reason", "timeout"}}));
    closeConn(*c);
  }
}

}  // namespace lbg::proxy
