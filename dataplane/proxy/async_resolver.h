#pragma once

// Name resolution off a proxy worker's event loop. getaddrinfo() blocks for as long as the DNS
// server takes (seconds when it is slow or down): called in the loop, one slow name would stall
// every other connection of the worker. Lookups run on a few threads of their own instead (as
// libuv does it: getaddrinfo keeps nsswitch, /etc/hosts and the box's resolver configuration);
// answers come back through an eventfd the worker's epoll watches. A bounded number of lookups
// wait at once; beyond it a connection is refused, never queued without bound.
//
// The threads hold the shared state, not the resolver: destroying the resolver never waits for
// a lookup in progress (it ends on its own, its answer is dropped).
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/base/result.h"

namespace lbg::proxy {

class AsyncResolver {
 public:
  struct Answer {
    uint64_t tag = 0;  // the caller's (a connection id)
    int error = 0;     // 0, else a getaddrinfo EAI_* code
    std::vector<sockaddr_storage> addresses;  // IPv4 and IPv6, in the resolver's order
  };
  // Fills `out` (at most kMaxAddresses) and returns 0 or an EAI_* code. The default is
  // getaddrinfo; tests give one that waits, to show a slow name blocks nobody else.
  using Lookup = std::function<int(const std::string& name, std::vector<sockaddr_storage>& out)>;
  static constexpr size_t kMaxAddresses = 16;

  static Result<std::unique_ptr<AsyncResolver>> create(uint32_t threads, size_t maxWaiting,
                                                       Lookup lookup = systemLookup);
  ~AsyncResolver();
  AsyncResolver(const AsyncResolver&) = delete;
  AsyncResolver& operator=(const AsyncResolver&) = delete;

  // Readable (EPOLLIN) while answers wait to be taken.
  int eventFd() const;
  // Queues a lookup; false when maxWaiting lookups are already queued or running.
  bool submit(uint64_t tag, std::string name);
  // Moves every finished answer to `out` (appended) and clears the eventfd.
  void take(std::vector<Answer>& out);
  // Lookups queued or running.
  size_t waiting() const;

  static int systemLookup(const std::string& name, std::vector<sockaddr_storage>& out);

 private:
  struct State;
  static void serve(const std::shared_ptr<State>& s);
  explicit AsyncResolver(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace lbg::proxy
