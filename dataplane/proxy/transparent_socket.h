#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace lbg::proxy {

// Sockets of the transparent (TPROXY) mode, IPv4 and IPv6 alike (tools/proxy/tproxy-rules.sh
// redirects both families). Both need CAP_NET_ADMIN (IP_TRANSPARENT / IPV6_TRANSPARENT).

// An IPv4 or IPv6 socket address: a listener's, an accepted connection's peer or local address.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = sizeof(sockaddr_storage);  // what accept()/getsockname() may fill

  int family() const { return ss.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&ss); }
  uint16_t port() const;
  void setPort(uint16_t port);
  std::string ipText() const;  // "192.0.2.1", "2001:db8::1" (an IPv4-mapped one as IPv4)
  // Same address (not port)? An IPv4-mapped IPv6 address equals its IPv4 form.
  bool sameIp(const sockaddr* other) const;
};

// `ip` (IPv4, or IPv6 with or without brackets) and `port` into `out`; false if neither.
bool parseSockAddr(const std::string& ip, uint16_t port, SockAddr& out);

// A non-blocking listener with IP_TRANSPARENT (IPV6_TRANSPARENT and IPV6_V6ONLY for an IPv6
// address: each family has its own listener and its own tproxy rule): it accepts connections the
// kernel's TPROXY rule redirected to it, whatever their destination address; each accepted
// socket's local address (getsockname) is the destination the client asked for. Returns -1 and
// sets `error`.
int openTransparentListener(const SockAddr& at, std::string& error);

// A non-blocking connect to `dest` from the client's own address and port (IP_TRANSPARENT or
// IPV6_TRANSPARENT lets the socket bind a non-local address), so the server, and everything on
// the way, sees the client as it would without interception. Returns -1 and sets `error`.
int connectAsClient(const SockAddr& client, const SockAddr& dest, std::string& error);

}  // namespace lbg::proxy
