#pragma once

#include <netinet/in.h>

#include <string>

namespace lbg::proxy {

// Sockets of the transparent (TPROXY) mode. Both need CAP_NET_ADMIN (IP_TRANSPARENT).

// A non-blocking listener with IP_TRANSPARENT: it accepts connections the kernel's TPROXY rule
// redirected to it, whatever their destination address; each accepted socket's local address
// (getsockname) is the destination the client asked for. Returns -1 and sets `error`.
int openTransparentListener(const sockaddr_in& at, std::string& error);

// A non-blocking connect to `dest` from the client's own address and port (IP_TRANSPARENT lets
// the socket bind a non-local address), so the server, and everything on the way, sees the
// client as it would without interception. Returns -1 and sets `error`.
int connectAsClient(const sockaddr_in& client, const sockaddr_in& dest, std::string& error);

}  // namespace lbg::proxy
