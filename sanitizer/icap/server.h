#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "policy/base/result.h"
#include "sanitizer/icap/connection.h"
#include "sanitizer/icap/service.h"

namespace lbg::icap {

struct ServerConfig {
  std::string listen = "127.0.0.1:1344";  // host:port or [v6]:port; port 0 picks a free one
  uint32_t workers = 4;                   // requests served at once
  uint32_t maxConnections = 64;           // open connections (idle ones included); more get 503
  ConnectionConfig connection;
};

// One acceptor thread and a fixed pool of worker threads.
//
// The acceptor owns every connection that waits for a request ("parked": fresh ones and idle
// persistent ones) and polls them; when one becomes readable it is handed to a worker through the
// ready queue, and the worker gives it back when it goes idle again. So idle persistent
// connections cost a file descriptor, not a thread, and a client that keeps many connections open
// cannot starve the others of workers. The number of open connections is bounded: past
// maxConnections a new connection gets "503 Service Overloaded" and is closed.
class Server {
 public:
  // Binds and listens; an error on failure.
  static Result<std::unique_ptr<Server>> create(const ServerConfig& config,
                                                std::shared_ptr<const SanitizeService> service);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  void start();
  // Idempotent and safe from any thread (not from a signal handler: use a signal thread).
  void stop();
  // Blocks until the acceptor and the workers have ended (after stop()).
  void wait();

  uint64_t rejectedConnections() const { return rejected_.load(std::memory_order_relaxed); }
  uint32_t openConnections() const { return open_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Parked {
    int fd;
    Clock::time_point deadline;
  };

  Server(const ServerConfig& config, std::shared_ptr<const SanitizeService> service, int listenFd,
         int wakeFd, uint16_t port);
  void acceptLoop();
  void workerLoop();
  void wake();
  void closeConnection(int fd);

  ServerConfig config_;
  std::shared_ptr<const SanitizeService> service_;
  int listenFd_;
  int wakeFd_;  // eventfd: wakes the acceptor (stop, or a connection given back)
  uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint32_t> open_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<int> ready_;       // readable connections for the workers
  std::vector<int> returned_;   // idle connections given back by workers
  std::vector<Parked> parked_;  // acceptor thread only
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// "127.0.0.1:1344" / "[::1]:1344" -> host, port. False when malformed.
bool splitHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace lbg::icap
