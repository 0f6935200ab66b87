// lbg-proxy's transparent mode: connections the kernel's TPROXY rule redirected to an
// IP_TRANSPARENT listener (the gateway's exception path, tools/proxy/tproxy-rules.sh). They join
// the explicit mode's Conn state machine (proxy_server.cc) once the ClientHello has named them.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/transparent_socket.h"

namespace lbg::proxy {

namespace {
constexpr size_t kHelloLimit = 16 * 1024;  // a ClientHello larger than this is refused

}  // namespace

Result<Ok> ProxyServer::openTransparentFamily(const std::string& address, int& fd, uint64_t tag) {
  SockAddr a;
  if (!parseSockAddr(address, config_.transparentPort, a)) {
    return Error{"transparent address is not an IP address", address};
  }
  if (transparentPort_ != 0) a.setPort(transparentPort_);  // the other family's port (port 0: any)
  std::string error;
  fd = openTransparentListener(a, error);
  if (fd < 0) return Error{"cannot listen transparently: " + error, address};
  a.len = sizeof(a.ss);
  getsockname(fd, a.get(), &a.len);
  transparentPort_ = a.port();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  return Ok{};
}

Result<Ok> ProxyServer::openTransparent() {
  // One listener per family on one port: the tproxy rules of both families name that port.
  if (!config_.transparentAddress.empty()) {
    if (auto st = openTransparentFamily(config_.transparentAddress, transparentFd_, kTransparentTag); !st.ok()) {
      return st.error();
    }
  }
  if (!config_.transparentAddress6.empty()) {
    // A kernel without IPv6 (ipv6.disable=1) refuses the family: the IPv4 listener serves alone
    // (the gateway's IPv6 flows then reach no socket and time out, never passed unintercepted).
    const int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0 && errno == EAFNOSUPPORT) {
      std::cerr << "lbg-proxy: the kernel has no IPv6: no transparent listener on ["
                << config_.transparentAddress6 << "]\n";
    } else {
      if (probe >= 0) close(probe);
      if (auto st = openTransparentFamily(config_.transparentAddress6, transparent6Fd_, kTransparent6Tag);
          !st.ok()) {
        return st.error();
      }
    }
  }
  sniffer_ = std::make_unique<ClientHelloSniffer>();
  return Ok{};
}

void ProxyServer::acceptTransparent(int listenFd) {
  while (true) {
    SockAddr peer;
    const int fd = accept4(listenFd, peer.get(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return acceptFailed(listenFd);
    if (!admit(fd)) continue;  // conn_limits.cc
    auto c = std::make_unique<Conn>();
    c->id = nextId_++;
    c->cfd = fd;
    c->transparent = true;
    c->phase = Conn::Phase::PeekHello;
    c->clientAddr = peer;
    getsockname(fd, c->origDst.get(), &c->origDst.len);  // what the client asked for
    c->srcIp = peer.ipText();
    c->srcPort = peer.port();
    c->destIp = c->origDst.ipText();
    c->target.port = c->origDst.port();
    ++counters_.transparent_accepted;
    addConn(std::move(c));
  }
}

void ProxyServer::refuseTransparent(Conn& c) {
  // The client speaks TLS and waits for a ServerHello: a reset tells it at once.
  const linger hard{1, 0};
  setsockopt(c.cfd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  closeConn(c);
}

bool ProxyServer::refuseHello(Conn& c, const char* reason, const std::string& sni) {
  ++counters_.transparent_refused;
  nlohmann::json extra = {{"action", "deny"}, {"reason", reason}};
  if (!sni.empty()) extra["tls"] = {{"sni", sni}};
  logEvent(connEvent(c, telemetry::LogEventType::Tls, extra));
  refuseTransparent(c);
  return false;
}

bool ProxyServer::pumpHello(Conn& c) {
  auto refuse = [&](const char* reason, const std::string& sni) { return refuseHello(c, reason, sni); };
  // Peek: the bytes stay in the socket for the handshake (intercept) or the relay (splice).
  char buf[kHelloLimit];
  const ssize_t n = recv(c.cfd, buf, sizeof(buf), MSG_PEEK);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    closeConn(c);
    return false;
  }
  if (n < 0) return false;
  std::string name;
  const HelloStatus st = sniffer_->sniff(std::string_view(buf, size_t(n)), name);
  if (st == HelloStatus::Incomplete) {
    if (size_t(n) == sizeof(buf)) return refuse("inspect-limit", "");
    return false;  // edge-triggered: the next segment wakes us again
  }
  if (st != HelloStatus::Sni) return refuse(toString(st), "");
  c.target.host = name;
  c.service = policy_->matchName(name, policy::L4::Tcp, c.target.port);
  if (c.service < 0) return refuse("no-match", name);
  const policy::ServiceSpec& svc = policy_->service(c.service);
  bindService(c);
  // A splice relays whatever the destination says, so the name must be the destination's: else
  // an allowed SNI would carry a connection to any address. (An intercepted upstream proves the
  // name with its certificate.) The name is resolved on the resolver's threads, never in the
  // loop (async_resolver.h); the connection waits in Phase::Resolving (takeAnswers).
  if (!svc.intercept) {
    if (auto it = config_.connectTo.find(name); it != config_.connectTo.end()) {
      SockAddr a;
      if (!parseSockAddr(it->second.substr(0, it->second.rfind(':')), 0, a) ||
          !c.origDst.sameIp(a.get())) {
        return refuse("sni-dns-mismatch", name);
      }
    } else {
      if (!resolver_->submit(c.id, name)) {
        ++counters_.resolve_busy;
        return refuse("resolve-busy", name);
      }
      c.phase = Conn::Phase::Resolving;
      return true;
    }
  }
  return connectTransparent(c);
}

bool ProxyServer::connectTransparent(Conn& c) {
  std::string error;
  c.ufd = connectAsClient(c.clientAddr, c.origDst, error);
  if (c.ufd < 0) return refuseHello(c, "connect", c.target.host);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = epollTag(c.id, Leg::Upstream);
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c.ufd, &ev);
  c.phase = Conn::Phase::Connecting;
  return true;
}

}  // namespace lbg::proxy
