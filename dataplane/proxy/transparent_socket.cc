#include "dataplane/proxy/transparent_socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbg::proxy {

namespace {
int fail(int fd, std::string& error, const char* what) {
  error = std::string(what) + ": " + std::strerror(errno);
  if (fd >= 0) close(fd);
  return -1;
}

// The transparent option of the socket's family.
bool setTransparent(int fd, int family) {
  const int one = 1;
  return family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == 0
                            : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) == 0;
}

// The 16 address bytes of an IPv6 address, or an IPv4 one mapped (::ffff:a.b.c.d).
bool ip16(const sockaddr* a, uint8_t out[16]) {
  if (a->sa_family == AF_INET6) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, 16);
    return true;
  }
  if (a->sa_family != AF_INET) return false;
  std::memset(out, 0, 10);
  out[10] = out[11] = 0xff;
  std::memcpy(out + 12, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, 4);
  return true;
}
}  // namespace

uint16_t SockAddr::port() const {
  return ntohs(family() == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port
                                    : reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

void SockAddr::setPort(uint16_t port) {
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  }
}

std::string SockAddr::ipText() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      inet_ntop(AF_INET, a.s6_addr + 12, buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, &a, buf, sizeof(buf));
    }
  } else if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
  }
  return buf;
}

bool SockAddr::sameIp(const sockaddr* other) const {
  uint8_t a[16], b[16];
  return ip16(get(), a) && ip16(other, b) && std::memcmp(a, b, 16) == 0;
}

bool parseSockAddr(const std::string& ip, uint16_t port, SockAddr& out) {
  out = SockAddr{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len = sizeof(sockaddr_in);
    return true;
  }
  std::string bare = ip;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  out = SockAddr{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.ss);
  if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) != 1) return false;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  out.len = sizeof(sockaddr_in6);
  return true;
}

int openTransparentListener(const SockAddr& at, std::string& error) {
  const int fd = socket(at.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, error, "socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  // IPv6 only: the IPv4 listener on the same port takes IPv4 (its own tproxy rule), and peers
  // are never IPv4-mapped.
  if (at.family() == AF_INET6) setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (!setTransparent(fd, at.family())) return fail(fd, error, "IP_TRANSPARENT (needs CAP_NET_ADMIN)");
  if (bind(fd, at.get(), at.len) != 0) return fail(fd, error, "bind");
  if (listen(fd, 1024) != 0) return fail(fd, error, "listen");
  return fd;
}

int connectAsClient(const SockAddr& client, const SockAddr& dest, std::string& error) {
  const int fd = socket(dest.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, error, "socket");
  const int one = 1;
  if (!setTransparent(fd, dest.family())) return fail(fd, error, "IP_TRANSPARENT (needs CAP_NET_ADMIN)");
  // The client's port is held by no local listener; SO_REUSEADDR lets a new connection from the
  // same client address and port bind while an earlier one is still in TIME_WAIT.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (bind(fd, client.get(), client.len) != 0) return fail(fd, error, "bind to the client's address");
  if (connect(fd, dest.get(), dest.len) != 0 && errno != EINPROGRESS) return fail(fd, error, "connect");
  return fd;
}

}  // namespace lbg::proxy
