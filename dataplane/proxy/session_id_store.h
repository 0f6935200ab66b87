#pragma once

// The TLS 1.2 session ids of every worker's client context, in one store per lbg-proxy process,
// so that a client without tickets resumes on whichever worker SO_REUSEPORT gives it (tickets do
// already: client_sessions.h). OpenSSL's own cache is per SSL_CTX, hence per worker.
//
// Sessions are kept serialised (i2d_SSL_SESSION: the master secret and the session id context,
// which binds a session to the intercepted name and CA, bindClientSession) with their expiry;
// OpenSSL checks the context on resumption as for its own cache. Bounded: the oldest entry goes
// when full (counted by the caller's view of size()). A mutex, taken once per full TLS 1.2
// handshake that creates a session and once per resumption attempt with an id: never per request
// or per byte, and held only for a map operation.
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lbg::proxy {

class SessionIdStore {
 public:
  explicit SessionIdStore(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  SessionIdStore(const SessionIdStore&) = delete;
  SessionIdStore& operator=(const SessionIdStore&) = delete;

  // Makes `ctx` (a client-facing context, after enableClientResumption) keep its TLS 1.2
  // session ids here instead of in its own cache. The store must outlive `ctx`.
  void attach(SSL_CTX* ctx);

  size_t size() const;
  uint64_t evicted() const;

  // What the callbacks do (public for the tests).
  void put(SSL_SESSION* session);
  SSL_SESSION* get(const unsigned char* id, int len);  // a new reference, or nullptr
  void remove(SSL_SESSION* session);

 private:
  struct Entry {
    std::string der;
    int64_t expires = 0;  // unix seconds
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> byId_;
  std::deque<std::string> order_;  // insertion order, for eviction (stale ids skipped)
  uint64_t evicted_ = 0;
};

}  // namespace lbg::proxy
