// From a name to an upstream connection without blocking the worker's loop: the explicit mode's
// CONNECT name, and the transparent mode's check that a spliced name resolves to the destination
// the client chose. Names are resolved on the resolver's threads (async_resolver.h): a DNS server
// that takes seconds for one name must not stall the worker's other connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/transparent_socket.h"

namespace lbg::proxy {

bool ProxyServer::resolveUpstream(Conn& c) {
  c.upstreamAddr = sockaddr_storage{};
  c.resolveError = 0;
  // Tests redirect a name to a local origin: "ip:port", no lookup.
  if (auto it = config_.connectTo.find(c.target.host); it != config_.connectTo.end()) {
    // "ip:port", read as the transparent mode's splice check reads it (parseSockAddr).
    const size_t colon = it->second.rfind(':');
    SockAddr a;
    if (colon == std::string::npos ||
        !parseSockAddr(it->second.substr(0, colon),
                       uint16_t(std::strtoul(it->second.c_str() + colon + 1, nullptr, 10)), a)) {
      c.resolveError = -1;
      return true;
    }
    std::memcpy(&c.upstreamAddr, &a.ss, sizeof c.upstreamAddr);
    return true;
  }
  return resolver_->submit(c.id, c.target.host);
}

void ProxyServer::takeAnswers() {
  std::vector<AsyncResolver::Answer> answers;
  resolver_->take(answers);
  for (AsyncResolver::Answer& a : answers) {
    // The connection may have gone meanwhile (closed, timed out): its answer is dropped.
    auto it = conns_.find(a.tag);
    if (it == conns_.end() || it->second->phase != Conn::Phase::Resolving) continue;
    Conn& c = *it->second;
    if (c.transparent) {
      // Transparent splice: the destination the client chose must be one of the name's addresses.
      bool found = false;
      for (const sockaddr_storage& ss : a.addresses) {
        found = found || c.origDst.sameIp(reinterpret_cast<const sockaddr*>(&ss));
      }
      if (found) {
        std::memcpy(&c.upstreamAddr, &c.origDst.ss, sizeof c.upstreamAddr);
      } else {
        c.resolveError = a.error != 0 ? a.error : -1;
      }
    } else if (a.error != 0 || a.addresses.empty()) {
      c.resolveError = a.error != 0 ? a.error : -1;
    } else {
      // The resolver's first address (getaddrinfo's RFC 6724 order), on the CONNECT port.
      c.upstreamAddr = a.addresses.front();
      const uint16_t port = htons(c.target.port);
      if (c.upstreamAddr.ss_family == AF_INET) {
        reinterpret_cast<sockaddr_in&>(c.upstreamAddr).sin_port = port;
      } else {
        reinterpret_cast<sockaddr_in6&>(c.upstreamAddr).sin6_port = port;
      }
    }
    c.lastActive = std::chrono::steady_clock::now();
    pump(c);
  }
}

bool ProxyServer::connectUpstream(Conn& c) {
  const int family = c.upstreamAddr.ss_family;
  c.ufd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.ufd < 0) return false;
  const int one = 1;
  setsockopt(c.ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (connect(c.ufd, reinterpret_cast<const sockaddr*>(&c.upstreamAddr), len) != 0 &&
      errno != EINPROGRESS) {
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = epollTag(c.id, Leg::Upstream);
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c.ufd, &ev);
  return true;
}

}  // namespace lbg::proxy
