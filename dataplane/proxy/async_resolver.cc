#include "dataplane/proxy/async_resolver.h"

#include <netdb.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace lbg::proxy {

struct AsyncResolver::State {
  State(int fd, size_t max, Lookup fn) : eventFd(fd), maxWaiting(max), lookup(std::move(fn)) {}
  ~State() { close(eventFd); }

  const int eventFd;
  const size_t maxWaiting;
  const Lookup lookup;
  mutable std::mutex mu;
  std::condition_variable work;
  std::deque<std::pair<uint64_t, std::string>> queued;
  std::vector<Answer> done;
  size_t inFlight = 0;  // queued + running
  bool stopping = false;
};

Result<std::unique_ptr<AsyncResolver>> AsyncResolver::create(uint32_t threads, size_t maxWaiting,
                                                             Lookup lookup) {
  if (threads < 1 || threads > 64) return Error{"resolver threads must be 1..64"};
  if (maxWaiting < 1) return Error{"resolver queue must hold at least one lookup"};
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Error{std::string("eventfd: ") + std::strerror(errno)};
  auto state = std::make_shared<State>(fd, maxWaiting, std::move(lookup));
  for (uint32_t i = 0; i < threads; ++i) {
    // Detached: each thread keeps the state alive, so the resolver can go while a lookup the
    // DNS server is slow to answer is still running.
    std::thread([state] { serve(state); }).detach();
  }
  return std::unique_ptr<AsyncResolver>(new AsyncResolver(std::move(state)));
}

AsyncResolver::~AsyncResolver() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->queued.clear();
  }
  state_->work.notify_all();
}

int AsyncResolver::eventFd() const { return state_->eventFd; }

bool AsyncResolver::submit(uint64_t tag, std::string name) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->inFlight >= state_->maxWaiting) return false;
    ++state_->inFlight;
    state_->queued.emplace_back(tag, std::move(name));
  }
  state_->work.notify_one();
  return true;
}

void AsyncResolver::take(std::vector<Answer>& out) {
  uint64_t ignored = 0;
  // Cleared before the answers are taken: an answer added after this read writes the eventfd
  // again, so it is never left behind without a wake-up.
  (void)!read(state_->eventFd, &ignored, sizeof ignored);
  std::lock_guard<std::mutex> lock(state_->mu);
  for (Answer& a : state_->done) out.push_back(std::move(a));
  state_->done.clear();
}

size_t AsyncResolver::waiting() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->inFlight;
}

int AsyncResolver::systemLookup(const std::string& name, std::vector<sockaddr_storage>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) return rc;
  for (addrinfo* r = res; r != nullptr && out.size() < kMaxAddresses; r = r->ai_next) {
    if (r->ai_family != AF_INET && r->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, r->ai_addr, std::min<size_t>(r->ai_addrlen, sizeof ss));
    out.push_back(ss);
  }
  freeaddrinfo(res);
  return out.empty() ? EAI_NONAME : 0;
}

void AsyncResolver::serve(const std::shared_ptr<State>& s) {
  while (true) {
    std::pair<uint64_t, std::string> job;
    {
      std::unique_lock<std::mutex> lock(s->mu);
      s->work.wait(lock, [&] { return s->stopping || !s->queued.empty(); });
      if (s->stopping) return;
      job = std::move(s->queued.front());
      s->queued.pop_front();
    }
    Answer a;
    a.tag = job.first;
    a.error = s->lookup(job.second, a.addresses);
    if (a.addresses.size() > kMaxAddresses) a.addresses.resize(kMaxAddresses);
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->stopping) return;
      --s->inFlight;
      s->done.push_back(std::move(a));
    }
    const uint64_t one = 1;
    (void)!write(s->eventFd, &one, sizeof one);
  }
}

}  // namespace lbg::proxy
