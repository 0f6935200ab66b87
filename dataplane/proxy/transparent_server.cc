// lbg-proxy's transparent mode: connections the kernel's TPROXY rule redirected to an
// IP_TRANSPARENT listener (the gateway's exception path, tools/proxy/tproxy-rules.sh). They join
// the explicit mode's Conn state machine (proxy_server.cc) once the ClientHello has named them.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "dataplane/proxy/proxy_conn.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/transparent_socket.h"

namespace lbg::proxy {

namespace {
constexpr size_t kHelloLimit = 16 * 1024;  // a ClientHello larger than this is refused

std::string ipText(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
  return buf;
}
// Is `dest` one of the addresses `name` resolves to (tests: its --connect-to address)?
bool resolvesTo(const std::string& name, const in_addr& dest, const std::map<std::string, std::string>& connectTo) {
  if (auto it = connectTo.find(name); it != connectTo.end()) {
    in_addr a{};
    return inet_pton(AF_INET, it->second.substr(0, it->second.rfind(':')).c_str(), &a) == 1 &&
           a.s_addr == dest.s_addr;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0) return false;
  bool found = false;
  for (addrinfo* r = res; r && !found; r = r->ai_next) {
    found = reinterpret_cast<sockaddr_in*>(r->ai_addr)->sin_addr.s_addr == dest.s_addr;
  }
  freeaddrinfo(res);
  return found;
}
}  // namespace

Result<Ok> ProxyServer::openTransparent() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(config_.transparentPort);
  if (inet_pton(AF_INET, config_.transparentAddress.c_str(), &a.sin_addr) != 1) {
    return Error{"transparent address is not an IPv4 address", config_.transparentAddress};
  }
  std::string error;
  transparentFd_ = openTransparentListener(a, error);
  if (transparentFd_ < 0) return Error{"cannot listen transparently: " + error, config_.transparentAddress};
  socklen_t len = sizeof(a);
  getsockname(transparentFd_, reinterpret_cast<sockaddr*>(&a), &len);
  transparentPort_ = ntohs(a.sin_port);
  sniffer_ = std::make_unique<ClientHelloSniffer>();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTransparentTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, transparentFd_, &ev);
  return Ok{};
}

void ProxyServer::acceptTransparent() {
  while (true) {
    sockaddr_in peer{};
    socklen_t plen = sizeof(peer);
    const int fd = accept4(transparentFd_, reinterpret_cast<sockaddr*>(&peer), &plen,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->id = nextId_++;
    c->cfd = fd;
    c->transparent = true;
    c->phase = Conn::Phase::PeekHello;
    c->clientAddr = peer;
    socklen_t dlen = sizeof(c->origDst);
    getsockname(fd, reinterpret_cast<sockaddr*>(&c->origDst), &dlen);  // what the client asked for
    c->srcIp = ipText(peer);
    c->srcPort = ntohs(peer.sin_port);
    c->destIp = ipText(c->origDst);
    c->target.port = ntohs(c->origDst.sin_port);
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

bool ProxyServer::pumpHello(Conn& c) {
  auto refuse = [&](const char* reason, const std::string& sni) {
    ++counters_.transparent_refused;
    nlohmann::json extra = {{"action", "deny"}, {"reason", reason}};
    if (!sni.empty()) extra["tls"] = {{"sni", sni}};
    logEvent(connEvent(c, telemetry::LogEventType::Tls, extra));
    refuseTransparent(c);
    return false;
  };
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
  // A splice relays whatever the destination says, so the name must be the destination's: else
  // an allowed SNI would carry a connection to any address. (An intercepted upstream proves the
  // name with its certificate.) Resolved in the loop, like the explicit mode's names.
  if (!svc.intercept && !resolvesTo(name, c.origDst.sin_addr, config_.connectTo)) {
    return refuse("sni-dns-mismatch", name);
  }
  bindService(c);
  std::string error;
  c.ufd = connectAsClient(c.clientAddr, c.origDst, error);
  if (c.ufd < 0) return refuse("connect", name);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = epollTag(c.id, Leg::Upstream);
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c.ufd, &ev);
  c.phase = Conn::Phase::Connecting;
  return true;
}

}  // namespace lbg::proxy
