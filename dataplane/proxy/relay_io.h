#pragma once

// Non-blocking reads and writes of a relayed connection's legs (plain sockets and SSL), shared by
// the relay (proxy_server.cc) and the sanitizing response side (sanitize_relay.cc). Internal to
// lbg_proxy_server.
#include <openssl/ssl.h>

#include <cstddef>
#include <string>

namespace lbg::proxy {

// What a connection buffers per direction before it stops reading (edge-triggered epoll: the
// next pump reads again).
inline constexpr size_t kBufLimit = 64 * 1024;

// Each returns 1 = progress, 0 = nothing to do now, -1 = EOF or error. Reads append to `buf` (up to
// kBufLimit); writes remove what was written from its front.
int readPlain(int fd, std::string& buf);
int writePlain(int fd, std::string& buf);
int readTls(SSL* ssl, std::string& buf);
int writeTls(SSL* ssl, std::string& buf);

}  // namespace lbg::proxy
