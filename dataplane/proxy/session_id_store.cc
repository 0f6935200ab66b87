#include "dataplane/proxy/session_id_store.h"

#include <ctime>

namespace lbg::proxy {

namespace {

// The store of a context, in its ex_data (its app data holds the ticket keys).
int storeIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

SessionIdStore* storeOf(SSL_CTX* ctx) {
  return static_cast<SessionIdStore*>(SSL_CTX_get_ex_data(ctx, storeIndex()));
}

std::string idOf(SSL_SESSION* session) {
  unsigned int len = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &len);
  return std::string(reinterpret_cast<const char*>(id), len);
}

}  // namespace

void SessionIdStore::attach(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, storeIndex(), this);
  // The server cache stays on (OpenSSL creates ids and calls back) but keeps nothing itself.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx, [](SSL* ssl, SSL_SESSION* session) -> int {
    if (SessionIdStore* s = storeOf(SSL_get_SSL_CTX(ssl))) s->put(session);
    return 0;  // not kept: OpenSSL frees its reference
  });
  SSL_CTX_sess_set_get_cb(ctx, [](SSL* ssl, const unsigned char* id, int len, int* copy) -> SSL_SESSION* {
    *copy = 0;  // the returned reference is OpenSSL's
    SessionIdStore* s = storeOf(SSL_get_SSL_CTX(ssl));
    return s ? s->get(id, len) : nullptr;
  });
  SSL_CTX_sess_set_remove_cb(ctx, [](SSL_CTX* c, SSL_SESSION* session) {
    if (SessionIdStore* s = storeOf(c)) s->remove(session);
  });
}

void SessionIdStore::put(SSL_SESSION* session) {
  // TLS 1.3 resumes by tickets only; a TLS 1.2 session with a ticket still has an id and may be
  // offered by id as well.
  if (SSL_SESSION_get_protocol_version(session) != TLS1_2_VERSION) return;
  std::string id = idOf(session);
  if (id.empty()) return;
  const int len = i2d_SSL_SESSION(session, nullptr);
  if (len <= 0) return;
  Entry e;
  e.der.resize(size_t(len));
  unsigned char* p = reinterpret_cast<unsigned char*>(e.der.data());
  if (i2d_SSL_SESSION(session, &p) != len) return;
  e.expires = int64_t(SSL_SESSION_get_time(session)) + int64_t(SSL_SESSION_get_timeout(session));
  std::lock_guard<std::mutex> lock(mu_);
  // Every stored id has a name in order_ (a name leaves only with its entry), so popping names
  // bounds both; names of ids removed early (remove(), expiry) are stale and pop for nothing.
  while ((byId_.size() >= capacity_ || order_.size() >= 2 * capacity_) && !order_.empty()) {
    if (byId_.erase(order_.front()) > 0) ++evicted_;
    order_.pop_front();
  }
  if (byId_.insert_or_assign(id, std::move(e)).second) order_.push_back(std::move(id));
}

SSL_SESSION* SessionIdStore::get(const unsigned char* id, int len) {
  std::string der;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = byId_.find(std::string(reinterpret_cast<const char*>(id), size_t(len)));
    if (it == byId_.end()) return nullptr;
    if (it->second.expires <= int64_t(std::time(nullptr))) {
      byId_.erase(it);
      return nullptr;
    }
    der = it->second.der;
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_SSL_SESSION(nullptr, &p, long(der.size()));
}

void SessionIdStore::remove(SSL_SESSION* session) {
  const std::string id = idOf(session);
  std::lock_guard<std::mutex> lock(mu_);
  byId_.erase(id);
}

size_t SessionIdStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return byId_.size();
}

uint64_t SessionIdStore::evicted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evicted_;
}

}  // namespace lbg::proxy
