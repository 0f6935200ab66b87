#include "sanitizer/icap/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace lbg::icap {

bool splitHostPort(const std::string& text, std::string& host, uint16_t& port) {
  std::string_view portText;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    portText = std::string_view(text).substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return false;
    host = text.substr(0, colon);
    portText = std::string_view(text).substr(colon + 1);
  }
  unsigned value = 0;
  const auto r = std::from_chars(portText.data(), portText.data() + portText.size(), value);
  if (host.empty() || portText.empty() || r.ec != std::errc() ||
      r.ptr != portText.data() + portText.size() || value > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

Result<std::unique_ptr<Server>> Server::create(const ServerConfig& config,
                                               std::shared_ptr<const SanitizeService> service) {
  if (!service) return Error{"no service"};
  if (config.workers == 0 || config.workers > 1024) return Error{"workers must be 1..1024"};
  if (config.maxConnections < config.workers) {
    return Error{"max connections must be at least the number of workers"};
  }
  std::string host;
  uint16_t port = 0;
  if (!splitHostPort(config.listen, host, port)) {
    return Error{"--listen must be HOST:PORT, e.g. 127.0.0.1:1344"};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string portStr = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), portStr.c_str(), &hints, &res); rc != 0) {
    return Error{"listen address " + host + ": " + ::gai_strerror(rc)};
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    const int e = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    return Error{"bind " + config.listen + ": " + std::strerror(e)};
  }
  ::freeaddrinfo(res);
  if (::listen(fd, 128) != 0) {
    const int e = errno;
    ::close(fd);
    return Error{std::string("listen: ") + std::strerror(e)};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const uint16_t actual = bound.ss_family == AF_INET6
                              ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                              : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return Error{std::string("eventfd: ") + std::strerror(errno)};
  }
  return std::unique_ptr<Server>(new Server(config, std::move(service), fd, wake, actual));
}

Server::Server(const ServerConfig& config, std::shared_ptr<const SanitizeService> service,
               int listenFd, int wakeFd, uint16_t port)
    : config_(config),
      service_(std::move(service)),
      listenFd_(listenFd),
      wakeFd_(wakeFd),
      port_(port) {}

Server::~Server() {
  stop();
  wait();
  ::close(listenFd_);
  ::close(wakeFd_);
  for (const int fd : ready_) ::close(fd);
  for (const int fd : returned_) ::close(fd);
  for (const auto& p : parked_) ::close(p.fd);
}

void Server::start() {
  acceptor_ = std::thread([this] { acceptLoop(); });
  for (uint32_t i = 0; i < config_.workers; ++i) {
    workers_.emplace_back([this] { workerLoop(); });
  }
}

void Server::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wakeFd_, &one, sizeof(one));
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  wake();
  cv_.notify_all();
}

void Server::wait() {
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void Server::closeConnection(int fd) {
  ::close(fd);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

void Server::acceptLoop() {
  const auto overloaded =
      service_->error(Status::ServiceOverloaded, "too many connections", true, false);
  const auto idle = std::chrono::milliseconds(config_.connection.idleTimeoutMs);
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const int fd : returned_) parked_.push_back(Parked{fd, Clock::now() + idle});
      returned_.clear();
    }
    fds.clear();
    fds.push_back(pollfd{listenFd_, POLLIN, 0});
    fds.push_back(pollfd{wakeFd_, POLLIN, 0});
    auto next = Clock::time_point::max();
    for (const auto& p : parked_) {
      fds.push_back(pollfd{p.fd, POLLIN, 0});
      next = std::min(next, p.deadline);
    }
    int timeoutMs = -1;
    if (next != Clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
      timeoutMs = static_cast<int>(std::max<int64_t>(0, left.count()) + 1);
    }
    if (::poll(fds.data(), fds.size(), timeoutMs) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      uint64_t v;
      [[maybe_unused]] const auto n = ::read(wakeFd_, &v, sizeof(v));
    }
    if (stopping_.load()) break;

    // Parked connections: readable ones (a request, or the client's close) go to a worker;
    // expired ones are closed. Walk backwards so removal keeps the pollfd indices valid.
    const auto now = Clock::now();
    std::vector<int> toWorkers;
    for (size_t i = parked_.size(); i-- > 0;) {
      const auto& pfd = fds[i + 2];
      if (pfd.revents != 0) {
        toWorkers.push_back(parked_[i].fd);
      } else if (parked_[i].deadline <= now) {
        closeConnection(parked_[i].fd);
      } else {
        continue;
      }
      parked_.erase(parked_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (!toWorkers.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const int fd : toWorkers) ready_.push_back(fd);
      cv_.notify_all();
    }

    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EMFILE, ECONNABORTED, ...: try again on the next wake-up
    if (open_.load(std::memory_order_relaxed) >= config_.maxConnections) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      [[maybe_unused]] const auto n =
          ::send(fd, overloaded.data(), overloaded.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    open_.fetch_add(1, std::memory_order_relaxed);
    const int one = 1;
    // "100 Continue" and small answers must not wait for Nagle.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // A new connection waits for its first request like an idle one.
    parked_.push_back(Parked{fd, Clock::now() + idle});
  }
}

void Server::workerLoop() {
  while (true) {
    int fd = -1;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stopping_.load() || !ready_.empty(); });
      if (stopping_.load()) return;
      fd = ready_.front();
      ready_.pop_front();
    }
    if (serveConnection(fd, *service_, config_.connection, stopping_) == ConnectionEnd::Idle) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        returned_.push_back(fd);
      }
      wake();
    } else {
      open_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace lbg::icap
