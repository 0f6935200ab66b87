#pragma once

// A child process for code we trust least: the PDF renderer behind image-PDF mode. The child gets
// no network (a fresh network namespace where the kernel allows it), a seccomp filter that refuses
// process creation, exec, sockets and ptrace, resource limits (CPU, file size, no new privileges),
// and only the write end of a pipe. The parent reads its answer with a deadline and kills it when
// the deadline passes. Anything but a clean exit is a failure.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace lbg::sanitizer::render {

struct SandboxLimits {
  std::chrono::steady_clock::time_point deadline;
  uint64_t maxOutputBytes = 512ull << 20;
  uint64_t maxAddressSpace = 4ull << 30;  // ignored under AddressSanitizer (it reserves terabytes)
};

// The channel to the parent inside a sandboxed child.
constexpr int kSandboxFd = 3;

// In a freshly forked child: keeps only `fd` (as kSandboxFd) and /dev/null on 0-2, enters a new
// user+network namespace where allowed, sets the rlimits (CPU seconds until limits.deadline, no
// files written, no core, address space) and installs the seccomp deny-list. False when seccomp
// could not be installed: the child must then exit without running anything.
bool enterSandbox(int fd, const SandboxLimits& limits);

// write(2) until done; false on error (the peer went away).
bool writeAll(int fd, std::string_view data);

// A caller without a deadline still gets one: a child is never waited for without bound.
inline std::chrono::steady_clock::time_point finiteDeadline(std::chrono::steady_clock::time_point d) {
  return d == std::chrono::steady_clock::time_point::max() ? std::chrono::steady_clock::now() + std::chrono::seconds(60)
                                                          : d;
}

// Runs `work` in a sandboxed child; `work` writes its answer with `emit` and returns true on
// success. In the parent: the bytes emitted, or false + reason ("limit:timeout",
// "limit:render-output", "render-failed", "internal:sandbox").
bool runSandboxed(const std::function<bool(const std::function<bool(std::string_view)>& emit)>& work,
                  const SandboxLimits& limits, std::string* output, std::string* reason);

}  // namespace lbg::sanitizer::render
