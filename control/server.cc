#include "control/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/atomic_file.h"

namespace lbg::control {

namespace {

constexpr size_t kReadChunk = 65536;
constexpr size_t kMaxFdsPerMessage = 4;
constexpr size_t kMaxMetricsRequest = 8192;

Error sysError(const std::string& what, const std::string& path = "") {
  return Error{what + ": " + std::strerror(errno), path};
}

}  // namespace

struct ControlServer::Conn {
  int fd = -1;
  bool metrics = false;
  uint32_t uid = UINT32_MAX;
  uint32_t gid = UINT32_MAX;
  std::string in;
  std::string out;
  std::vector<int> fds;  // descriptors received and not yet consumed by a request
  bool closeAfterWrite = false;
  std::chrono::steady_clock::time_point lastActivity;

  ~Conn() {
    for (int f : fds) ::close(f);
    if (fd >= 0) ::close(fd);
  }
};

ControlServer::ControlServer(ServerConfig config) : config_(std::move(config)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::create(ServerConfig config,
                                                             dataplane::ControlApi& api) {
  std::unique_ptr<ControlServer> s(new ControlServer(std::move(config)));
  // The store lock is taken first: a second gateway fails here, before it could unlink the
  // first one's socket.
  Dispatcher::Config dc{s->config_.storeDir, s->config_.rolesFile, s->config_.bootstrapPolicyFile,
                        s->config_.clock, 10000, s->config_.ismapWarnDays};
  dc.proxyStatsFile = s->config_.proxyStatsFile;
  dc.policySync = s->config_.policySync;
  auto d = Dispatcher::create(std::move(dc), api);
  if (!d) return d.error();
  s->dispatcher_ = std::move(*d);
  if (auto r = s->listenUnix(); !r) return r.error();
  if (s->config_.metricsPort >= 0) {
    if (auto r = s->listenMetrics(); !r) return r.error();
  }
  return s;
}

ControlServer::~ControlServer() {
  conns_.clear();
  if (unixFd_ >= 0) {
    ::close(unixFd_);
    ::unlink(config_.socketPath.c_str());
  }
  if (metricsFd_ >= 0) ::close(metricsFd_);
}

Result<Ok> ControlServer::listenUnix() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.socketPath.empty() || config_.socketPath.size() >= sizeof(addr.sun_path)) {
    return Error{"socket path empty or too long", config_.socketPath};
  }
  std::memcpy(addr.sun_path, config_.socketPath.c_str(), config_.socketPath.size() + 1);
  unixFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (unixFd_ < 0) return sysError("socket");
  // Remove only a stale socket, never another kind of file at that path.
  struct stat st {};
  if (::lstat(config_.socketPath.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{"exists and is not a socket", config_.socketPath};
    ::unlink(config_.socketPath.c_str());
  }
  if (::bind(unixFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return sysError("cannot bind", config_.socketPath);
  }
  if (::chmod(config_.socketPath.c_str(), config_.socketMode) != 0)
    return sysError("chmod", config_.socketPath);
  if (config_.socketGroup >= 0 && ::chown(config_.socketPath.c_str(), static_cast<uid_t>(-1),
                                          static_cast<gid_t>(config_.socketGroup)) != 0) {
    return sysError("chown", config_.socketPath);
  }
  if (::listen(unixFd_, 64) != 0) return sysError("listen", config_.socketPath);
  return Ok{};
}

Result<Ok> ControlServer::listenMetrics() {
  metricsFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (metricsFd_ < 0) return sysError("metrics socket");
  const int one = 1;
  ::setsockopt(metricsFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // never on a data or management interface
  addr.sin_port = htons(static_cast<uint16_t>(config_.metricsPort));
  if (::bind(metricsFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return sysError("cannot bind metrics port 127.0.0.1:" + std::to_string(config_.metricsPort));
  }
  if (::listen(metricsFd_, 16) != 0) return sysError("listen (metrics)");
  socklen_t len = sizeof(addr);
  ::getsockname(metricsFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  metricsPort_ = ntohs(addr.sin_port);
  return Ok{};
}

void ControlServer::acceptOn(int listenFd, bool metrics) {
  for (;;) {
    const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN or a transient error: try again on the next poll
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->metrics = metrics;
    c->lastActivity = std::chrono::steady_clock::now();
    if (!metrics) {
      ucred cred{};
      socklen_t len = sizeof(cred);
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) continue;  // c closes fd
      c->uid = cred.uid;
      c->gid = cred.gid;
    }
    if (conns_.size() >= config_.maxClients) {
      if (!metrics) {
        // Answer and log instead of silently dropping: an admin should learn why.
        c->out = dispatcher_->refuse(
            c->uid, c->gid,
            ApiError{ErrorCode::Unavailable, Error{"too many control clients", "", 0, 0}});
        (void)::send(fd, c->out.data(), c->out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      continue;
    }
    conns_.push_back(std::move(c));
  }
}

void ControlServer::readFrom(Conn& c) {
  char buf[kReadChunk];
  for (;;) {
    iovec iov{buf, sizeof(buf)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!c.metrics) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
    }
    const ssize_t n = ::recvmsg(c.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        c.closeAfterWrite = true;
        c.out.clear();
      }
      return;
    }
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        const size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int f;
          std::memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
          if (c.fds.size() < kMaxFdsPerMessage) {
            c.fds.push_back(f);
          } else {
            ::close(f);
          }
        }
      }
    }
    if (n == 0) {
      // Peer closed its side; answer what is complete, then close.
      c.closeAfterWrite = true;
      return;
    }
    c.lastActivity = std::chrono::steady_clock::now();
    c.in.append(buf, static_cast<size_t>(n));
    const size_t limit = c.metrics ? kMaxMetricsRequest : config_.maxRequestBytes + 1;
    if (c.in.size() > limit) return;  // the caller refuses it; stop reading more into memory
    if (!c.out.empty()) return;       // backpressure: answer first
  }
}

void ControlServer::serveLines(Conn& c) {
  size_t start = 0;
  for (;;) {
    const size_t nl = c.in.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(c.in.data() + start, nl - start);
    if (line.size() > config_.maxRequestBytes) {
      c.out += dispatcher_->refuse(
          c.uid, c.gid,
          ApiError{
              ErrorCode::TooLarge,
              Error{"request larger than " + std::to_string(config_.maxRequestBytes) + " bytes", "",
                    0, 0}});
      c.closeAfterWrite = true;
      c.in.clear();
      return;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const int fd = c.fds.empty() ? -1 : c.fds.front();
    c.out += dispatcher_->handle(c.uid, c.gid, line, fd);
    // Descriptors travel with one request and are closed after it, used or not.
    for (int f : c.fds) ::close(f);
    c.fds.clear();
    start = nl + 1;
  }
  c.in.erase(0, start);
  if (c.in.size() > config_.maxRequestBytes) {
    c.out += dispatcher_->refuse(
        c.uid, c.gid,
        ApiError{ErrorCode::TooLarge,
                 Error{"request larger than " + std::to_string(config_.maxRequestBytes) + " bytes",
                       "", 0, 0}});
    c.closeAfterWrite = true;
    c.in.clear();
  }
}

void ControlServer::serveMetrics(Conn& c) {
  const size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos && c.in.find("\n\n") == std::string::npos) {
    if (c.in.size() > kMaxMetricsRequest) {
      c.out =
          "HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: "
          "close\r\n\r\n";
      c.closeAfterWrite = true;
    }
    return;
  }
  std::string body;
  std::string status = "200 OK";
  if (c.in.rfind("GET /metrics ", 0) == 0 || c.in.rfind("GET /metrics?", 0) == 0) {
    body = dispatcher_->metricsText();
  } else {
    status = "404 Not Found";
    body = "try /metrics\n";
  }
  c.out = "HTTP/1.0 " + status +
          "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  c.closeAfterWrite = true;
  c.in.clear();
}

void ControlServer::writeTo(Conn& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        c.out.clear();
        c.closeAfterWrite = true;
      }
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
}

void ControlServer::serve(Conn& c, bool readable) {
  if (readable) {
    readFrom(c);
    if (c.metrics) {
      serveMetrics(c);
    } else {
      serveLines(c);
    }
  }
  if (!c.out.empty()) writeTo(c);
}

void ControlServer::closeConn(size_t index) {
  conns_[index] = std::move(conns_.back());
  conns_.pop_back();
}

void ControlServer::poll(int timeoutMs) {
  std::vector<pollfd> fds;
  fds.reserve(conns_.size() + 2);
  fds.push_back({unixFd_, POLLIN, 0});
  if (metricsFd_ >= 0) fds.push_back({metricsFd_, POLLIN, 0});
  const size_t first = fds.size();
  for (const auto& c : conns_) {
    short ev = 0;
    if (c->out.empty() && !c->closeAfterWrite) ev |= POLLIN;
    if (!c->out.empty()) ev |= POLLOUT;
    fds.push_back({c->fd, ev, 0});
  }
  const int n = ::poll(fds.data(), fds.size(), timeoutMs);
  const auto now = std::chrono::steady_clock::now();
  if (n > 0) {
    // Existing connections first (indices stay valid), new ones after.
    for (size_t i = 0; i < conns_.size(); ++i) {
      const short re = fds[first + i].revents;
      serve(*conns_[i], (re & (POLLIN | POLLHUP | POLLERR)) != 0);
    }
    const size_t known = conns_.size();
    if (fds[0].revents & POLLIN) acceptOn(unixFd_, false);
    if (metricsFd_ >= 0 && (fds[1].revents & POLLIN)) acceptOn(metricsFd_, true);
    // A client sends its request right after connecting: serve it in this turn rather than one
    // service-loop turn later (each turn sleeps, and on a busy machine waking up takes long).
    for (size_t i = known; i < conns_.size(); ++i) serve(*conns_[i], true);
  }
  for (size_t i = conns_.size(); i-- > 0;) {
    Conn& c = *conns_[i];
    const bool idle = now - c.lastActivity > std::chrono::milliseconds(config_.idleTimeoutMs);
    if ((c.closeAfterWrite && c.out.empty()) || (idle && c.out.empty()) ||
        (idle && now - c.lastActivity > 2 * std::chrono::milliseconds(config_.idleTimeoutMs))) {
      closeConn(i);
    }
  }
  dispatcher_->tick();
  if (!config_.metricsFile.empty() && now >= nextMetricsFile_) {
    nextMetricsFile_ = now + std::chrono::milliseconds(config_.metricsFileIntervalMs);
    (void)writeFileAtomic(config_.metricsFile, dispatcher_->metricsText(), 0644);
  }
}

}  // namespace lbg::control
