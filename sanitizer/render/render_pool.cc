#include "sanitizer/render/render_pool.h"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

namespace lbg::sanitizer::render {
namespace {

// Frames on the socket. Request: u64 job, u64 head length, u64 body length, head, body. Answer: any number of (u32 length,
// bytes) frames, then u32 kEnd and one byte (1 = the job succeeded).
constexpr uint32_t kEnd = 0xFFFFFFFFu;
constexpr uint64_t kMaxRequest = 1ull << 31;
// A worker lives at most this long in CPU seconds (its RLIMIT_CPU); a single job's deadline is
// enforced by the parent, which kills the worker.
constexpr auto kWorkerCpuLife = std::chrono::minutes(30);

bool readAll(int fd, void* out, size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

[[noreturn]] void workerMain(int fd) {
  SandboxLimits life;
  life.deadline = std::chrono::steady_clock::now() + kWorkerCpuLife;
  if (!enterSandbox(fd, life)) ::_exit(3);
  // A worker allocates the same large buffers file after file (page bitmaps, the request): kept in
  // the heap instead of mmap'd and unmapped each time, they are not faulted in and zeroed by the
  // kernel again for every page (a third of a worker's time in the profile). Only this process.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // One buffer grown as needed and reused (not zero-filled): documents are megabytes, and fresh
  // pages cost a fault each.
  std::unique_ptr<char[]> buffer;
  uint64_t capacity = 0;
  for (;;) {
    uint64_t header[3];
    if (!readAll(kSandboxFd, header, sizeof header)) ::_exit(0);  // the parent closed: done
    uint64_t total = header[1] + header[2];
    if (header[1] > kMaxRequest || header[2] > kMaxRequest) ::_exit(4);
    if (total > capacity) {
      capacity = std::max<uint64_t>(total, capacity * 2);
      buffer.reset(new char[capacity]);
    }
    if (!readAll(kSandboxFd, buffer.get(), total)) ::_exit(0);
    auto job = reinterpret_cast<JobFn>(header[0]);
    std::string_view head(buffer.get(), header[1]);
    std::string_view body(buffer.get() + header[1], header[2]);
    bool ok = job(head, body, [](std::string_view bytes) {
      uint32_t n = static_cast<uint32_t>(bytes.size());
      return bytes.size() < kEnd && writeAll(kSandboxFd, std::string_view(reinterpret_cast<char*>(&n), sizeof n)) &&
             writeAll(kSandboxFd, bytes);
    });
    char end[5];
    std::memcpy(end, &kEnd, 4);
    end[4] = ok ? 1 : 0;
    if (!writeAll(kSandboxFd, std::string_view(end, sizeof end))) ::_exit(0);
  }
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool waitFd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0) return true;
  }
}

bool sendAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    if (!waitFd(fd, POLLOUT, deadline)) return false;
    // MSG_NOSIGNAL: a dead worker must not raise SIGPIPE in the caller (lbg-icapd).
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool recvAll(int fd, char* out, size_t n, std::chrono::steady_clock::time_point deadline) {
  while (n > 0) {
    if (!waitFd(fd, POLLIN, deadline)) return false;
    ssize_t r = ::recv(fd, out, n, MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return false;
    out += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

RenderPool::RenderPool(size_t maxWorkers, uint32_t jobsPerWorker)
    : maxWorkers_(maxWorkers == 0 ? 1 : maxWorkers), jobsPerWorker_(jobsPerWorker == 0 ? 1 : jobsPerWorker) {
  // Forked now, while the caller is small: every page the parent writes after a fork that the
  // child still shares costs a copy-on-write fault, so a worker forked late (from a process full
  // of buffers) makes the caller pay for its whole heap once more. Replacements fork later.
  for (size_t i = 0; i < maxWorkers_; ++i) {
    Worker w;
    if (!spawn(&w)) break;
    idle_.push_back(w);
    ++live_;
    ++started_;
  }
}

RenderPool::~RenderPool() {
  std::unique_lock<std::mutex> lock(mu_);
  freed_.wait(lock, [this] { return idle_.size() == live_; });  // no job may still be running
  inDestructor_ = true;  // retire() must not take the lock held here
  for (Worker& w : idle_) retire(w);
}

size_t RenderPool::workersStarted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

double RenderPool::liveWorkersCpuSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  double total = 0;
  for (int pid : livePids_) {
    clockid_t clock;
    timespec ts{};
    if (::clock_getcpuclockid(pid, &clock) == 0 && ::clock_gettime(clock, &ts) == 0) {
      total += ts.tv_sec + ts.tv_nsec / 1e9;
    }
  }
  return total;
}

bool RenderPool::spawn(Worker* w) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    workerMain(fds[1]);
  }
  ::close(fds[1]);
  {
    std::lock_guard<std::mutex> lock(mu_);
    livePids_.push_back(pid);
  }
  w->pid = pid;
  w->fd = fds[0];
  w->jobs = 0;
  return true;
}

void RenderPool::retire(Worker& w) {
  if (w.fd >= 0) ::close(w.fd);
  if (w.pid > 0) {
    {
      std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
      if (!inDestructor_) lock.lock();
      // Erase-remove, not std::erase: the fuzz build compiles this as C++17.
      livePids_.erase(std::remove(livePids_.begin(), livePids_.end(), w.pid), livePids_.end());
    }
    ::kill(w.pid, SIGKILL);
    while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  w = Worker{};
}

bool RenderPool::run(JobFn job, std::string_view head, std::string_view body, const SandboxLimits& limits,
                     std::string* output, std::string* reason) {
  output->clear();
  Worker w;
  {
    std::unique_lock<std::mutex> lock(mu_);
    freed_.wait(lock, [this] { return !idle_.empty() || live_ < maxWorkers_; });
    if (!idle_.empty()) {
      w = idle_.back();
      idle_.pop_back();
    } else {
      ++live_;
      ++started_;
    }
  }
  auto giveBack = [this](Worker* worker, bool keep) {
    if (!keep) retire(*worker);
    std::lock_guard<std::mutex> lock(mu_);
    if (keep) {
      idle_.push_back(*worker);
    } else {
      --live_;
    }
    freed_.notify_one();
  };
  if (w.pid < 0 && !spawn(&w)) {
    giveBack(&w, false);
    *reason = "internal:sandbox";
    return false;
  }
  uint64_t header[3] = {reinterpret_cast<uint64_t>(job), head.size(), body.size()};
  bool ok = sendAll(w.fd, std::string_view(reinterpret_cast<char*>(header), sizeof header), limits.deadline) &&
            sendAll(w.fd, head, limits.deadline) && sendAll(w.fd, body, limits.deadline);
  bool finished = false, jobOk = false;
  // The worker's answer is untrusted (it parsed hostile bytes): lengths are bounded, and anything
  // but well-formed frames ending in kEnd retires it.
  while (ok && !finished) {
    uint32_t n = 0;
    if (!recvAll(w.fd, reinterpret_cast<char*>(&n), sizeof n, limits.deadline)) {
      ok = false;
    } else if (n == kEnd) {
      char flag = 0;
      ok = recvAll(w.fd, &flag, 1, limits.deadline);
      finished = true;
      jobOk = flag == 1;
    } else if (output->size() + n > limits.maxOutputBytes) {
      *reason = "limit:render-output";
      ok = false;
    } else {
      size_t at = output->size();
      output->resize(at + n);
      ok = recvAll(w.fd, output->data() + at, n, limits.deadline);
    }
  }
  if (!ok || !finished) {
    if (reason->empty()) {
      *reason = std::chrono::steady_clock::now() >= limits.deadline ? "limit:timeout" : "render-failed";
    }
    output->clear();
    giveBack(&w, false);
    return false;
  }
  ++w.jobs;
  // A failed job (the file broke the renderer's expectations) also retires the worker.
  giveBack(&w, jobOk && w.jobs < jobsPerWorker_);
  if (!jobOk) {
    *reason = "render-failed";
    output->clear();
    return false;
  }
  return true;
}

}  // namespace lbg::sanitizer::render
