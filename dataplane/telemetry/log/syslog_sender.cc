#include "dataplane/telemetry/log/syslog_sender.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbg::telemetry {

namespace {

uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

// PRINTUSASCII (33..126) as RFC 5424 asks for header fields; anything else becomes '_'.
std::string headerField(std::string_view v, size_t max) {
  if (v.empty()) return "-";
  std::string out;
  for (char c : v.substr(0, max)) out.push_back(c >= 33 && c <= 126 ? c : '_');
  return out;
}

}  // namespace

std::string SyslogSender::format(int facility, int severity, std::string_view timestamp,
                                 std::string_view hostname, std::string_view msgId,
                                 std::string_view json) {
  std::string m = "<" + std::to_string(facility * 8 + severity) + ">1 ";
  m += headerField(timestamp, 32);
  m += ' ';
  m += headerField(hostname, 255);
  m += " lbg-gateway ";
  m += std::to_string(::getpid());
  m += ' ';
  m += headerField(msgId, 32);
  m += " - ";
  m += json;
  return m;
}

Result<std::unique_ptr<SyslogSender>> SyslogSender::create(const SyslogTarget& target,
                                                           std::string hostname) {
  if (target.host.empty()) return Error{"syslog: host is empty"};
  if (target.port == 0) return Error{"syslog: port is 0"};
  if (target.facility < 0 || target.facility > 23) return Error{"syslog: facility out of 0..23"};
  std::unique_ptr<SyslogSender> s(new SyslogSender(target, std::move(hostname)));
  auto r = s->init();
  if (!r) return r.error();
  s->connect();  // a receiver that is down now is retried by tick(); not a configuration error
  return s;
}

Result<Ok> SyslogSender::init() {
  if (target_.transport != SyslogTarget::Transport::Tls) return Ok{};
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return Error{"syslog: SSL_CTX_new failed"};
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  int ok = target_.caFile.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                  : SSL_CTX_load_verify_locations(ctx_, target_.caFile.c_str(), nullptr);
  if (ok != 1) return Error{"syslog: cannot load CA file", target_.caFile};
  if (!target_.certFile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, target_.certFile.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, target_.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
      return Error{"syslog: cannot load client certificate/key", target_.certFile};
  }
  ERR_clear_error();
  return Ok{};
}

SyslogSender::~SyslogSender() {
  closeGracefully();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

// Ends the session so that the receiver keeps everything sent: close_notify, half-close, and
// read what the peer still sends (TLS 1.3 session tickets): closing a socket with unread input
// makes the kernel send RST, and an RST can discard data the receiver has not read yet.
void SyslogSender::closeGracefully() {
  if (fd_ < 0) return;
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    BIO* wbio = SSL_get_wbio(ssl_);
    char buf[4096];
    int n;
    while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0) out_.append(buf, size_t(n));
    flushOut(true, 200);
  }
  if (target_.transport != SyslogTarget::Transport::Udp) {
    ::shutdown(fd_, SHUT_WR);
    char buf[4096];
    for (int i = 0; i < 50; ++i) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) break;
      if (::recv(fd_, buf, sizeof(buf), 0) <= 0) break;
    }
  }
  disconnect();
}

void SyslogSender::disconnect() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // A frame cut in the middle cannot be resumed on a new connection: its tail would break the
  // framing. Ciphertext of the old session is useless as well.
  if (!out_.empty() && outOffset_ < out_.size()) ++dropped_;
  out_.clear();
  outOffset_ = 0;
}

bool SyslogSender::connect() {
  disconnect();
  bool udp = target_.transport == SyslogTarget::Transport::Udp;
  addrinfo hints{};
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(target_.port);
  if (::getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &res) != 0) return false;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      // Bounded wait: a dead receiver costs the service thread at most this long per attempt.
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      if (::poll(&p, 1, 500) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        r = 0;
    }
    if (r == 0) {
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return false;
  if (target_.transport == SyslogTarget::Transport::Tls && !tlsHandshake(2000)) {
    disconnect();
    return false;
  }
  backoffNs_ = 1000000000ULL;
  return true;
}

// TLS runs over memory BIOs: OpenSSL never touches the socket, so writes use MSG_NOSIGNAL and
// never block, and a dead peer cannot raise SIGPIPE in the gateway.
bool SyslogSender::tlsHandshake(int timeoutMs) {
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return false;
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio, wbio);
  const std::string& name = target_.serverName.empty() ? target_.host : target_.serverName;
  SSL_set_tlsext_host_name(ssl_, name.c_str());
  SSL_set1_host(ssl_, name.c_str());
  SSL_set_connect_state(ssl_);
  uint64_t deadline = monotonicNs() + uint64_t(timeoutMs) * 1000000ULL;
  char buf[16384];
  while (true) {
    int r = SSL_do_handshake(ssl_);
    // Whatever OpenSSL produced goes out first.
    int pending;
    while ((pending = BIO_read(wbio, buf, sizeof(buf))) > 0) out_.append(buf, size_t(pending));
    if (!flushOut(true, timeoutMs)) return false;
    if (r == 1) break;
    int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ) {
      ERR_clear_error();
      return false;
    }
    uint64_t now = monotonicNs();
    if (now >= deadline) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int((deadline - now) / 1000000ULL) + 1) != 1) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    BIO_write(rbio, buf, int(n));
  }
  return true;
}

bool SyslogSender::flushOut(bool wait, int timeoutMs) {
  uint64_t deadline = monotonicNs() + uint64_t(timeoutMs) * 1000000ULL;
  while (outOffset_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + outOffset_, out_.size() - outOffset_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      outOffset_ += size_t(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      uint64_t now = monotonicNs();
      if (!wait || now >= deadline) return true;  // try again later; nothing lost yet
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, int((deadline - now) / 1000000ULL) + 1);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;  // connection gone
  }
  out_.clear();
  outOffset_ = 0;
  return true;
}

void SyslogSender::send(std::string_view json, std::string_view msgId, int severity,
                        std::string_view timestamp) {
  std::string msg = format(target_.facility, severity, timestamp, hostname_, msgId, json);
  if (target_.transport == SyslogTarget::Transport::Udp) {
    if (fd_ < 0 && (nowNs_ < nextAttemptNs_ || !connect())) {
      ++dropped_;
      return;
    }
    // One message per datagram (RFC 5426); a refused or oversized datagram is a counted loss.
    if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == ssize_t(msg.size()))
      ++sent_;
    else
      ++dropped_;
    return;
  }
  std::string frame = std::to_string(msg.size()) + " " + msg;  // octet counting
  if (queuedBytes_ + frame.size() > target_.maxQueueBytes) {
    ++dropped_;
    return;
  }
  queuedBytes_ += frame.size();
  frames_.push_back(std::move(frame));
  pump();
}

void SyslogSender::pump() {
  if (fd_ < 0) return;
  // The receiver has nothing to tell us (a TLS session ticket at most); unread input would only
  // turn our eventual close into a reset.
  char sink[4096];
  while (::recv(fd_, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
  }
  while (true) {
    if (!flushOut(false, 0)) {
      disconnect();
      nextAttemptNs_ = nowNs_;  // reconnect at the next tick
      return;
    }
    if (outOffset_ < out_.size() || frames_.empty()) return;  // socket full, or all sent
    std::string& f = frames_.front();
    size_t frameSize = f.size();
    if (ssl_ != nullptr) {
      if (SSL_write(ssl_, f.data(), int(f.size())) <= 0) {
        ERR_clear_error();
        disconnect();
        return;
      }
      BIO* wbio = SSL_get_wbio(ssl_);
      char buf[16384];
      int n;
      while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0) out_.append(buf, size_t(n));
    } else {
      out_ = std::move(f);
    }
    queuedBytes_ -= frameSize;
    frames_.pop_front();
    ++sent_;
  }
}

void SyslogSender::tick(uint64_t nowNs) {
  nowNs_ = nowNs;
  if (fd_ < 0 && target_.transport != SyslogTarget::Transport::Udp) {
    if (nowNs < nextAttemptNs_) return;
    if (!connect()) {
      nextAttemptNs_ = nowNs + backoffNs_;
      backoffNs_ = std::min<uint64_t>(backoffNs_ * 2, 30000000000ULL);
      return;
    }
  }
  pump();
}

void SyslogSender::drain(int timeoutMs) {
  uint64_t deadline = monotonicNs() + uint64_t(timeoutMs) * 1000000ULL;
  while (fd_ >= 0 && (!frames_.empty() || outOffset_ < out_.size())) {
    pump();
    if (fd_ < 0) break;
    uint64_t now = monotonicNs();
    if (now >= deadline) break;
    if (!flushOut(true, int((deadline - now) / 1000000ULL))) {
      disconnect();
      break;
    }
  }
}

}  // namespace lbg::telemetry
