#include "dataplane/proxy/relay_io.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace lbg::proxy {

int readPlain(int fd, std::string& buf) {
  if (buf.size() >= kBufLimit) return 0;
  char tmp[16384];
  const ssize_t n = recv(fd, tmp, std::min(sizeof(tmp), kBufLimit - buf.size()), 0);
  if (n > 0) {
    buf.append(tmp, size_t(n));
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
  return -1;
}

int writePlain(int fd, std::string& buf) {
  if (buf.empty()) return 0;
  const ssize_t n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
  if (n > 0) {
    buf.erase(0, size_t(n));
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
  return -1;
}

int readTls(SSL* ssl, std::string& buf) {
  if (buf.size() >= kBufLimit) return 0;
  char tmp[16384];
  const int n = SSL_read(ssl, tmp, int(std::min(sizeof(tmp), kBufLimit - buf.size())));
  if (n > 0) {
    buf.append(tmp, size_t(n));
    return 1;
  }
  const int e = SSL_get_error(ssl, n);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return -1;
}

int writeTls(SSL* ssl, std::string& buf) {
  if (buf.empty()) return 0;
  const int n = SSL_write(ssl, buf.data(), int(buf.size()));
  if (n > 0) {
    buf.erase(0, size_t(n));
    return 1;
  }
  const int e = SSL_get_error(ssl, n);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  return -1;
}

}  // namespace lbg::proxy
