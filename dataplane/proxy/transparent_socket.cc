#include "dataplane/proxy/transparent_socket.h"

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
}  // namespace

int openTransparentListener(const sockaddr_in& at, std::string& error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, error, "socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) != 0) {
    return fail(fd, error, "IP_TRANSPARENT (needs CAP_NET_ADMIN)");
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof(at)) != 0) return fail(fd, error, "bind");
  if (listen(fd, 1024) != 0) return fail(fd, error, "listen");
  return fd;
}

int connectAsClient(const sockaddr_in& client, const sockaddr_in& dest, std::string& error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, error, "socket");
  const int one = 1;
  if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) != 0) {
    return fail(fd, error, "IP_TRANSPARENT (needs CAP_NET_ADMIN)");
  }
  // The client's port is held by no local listener; SO_REUSEADDR lets a new connection from the
  // same client address and port bind while an earlier one is still in TIME_WAIT.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&client), sizeof(client)) != 0) {
    return fail(fd, error, "bind to the client's address");
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&dest), sizeof(dest)) != 0 && errno != EINPROGRESS) {
    return fail(fd, error, "connect");
  }
  return fd;
}

}  // namespace lbg::proxy
