#pragma once

// A sandboxed child that runs a foreign program (LibreOffice for legacy Office conversion). Unlike
// runSandboxed() the child must exec and start threads, so the seccomp filter cannot refuse
// execve/clone; what it gets instead: its own process group (killed as a whole at the deadline),
// its own user and network namespace (no interfaces: no network at all), a seccomp deny-list for
// ptrace, mounts, namespaces, kernel keyrings, BPF, perf, io_uring and every socket family but
// AF_UNIX, no new privileges, rlimits (CPU, address space, file size, no core), a clean
// environment, stdin/stdout/stderr on /dev/null and no inherited descriptors, and a working
// directory the caller owns (a fresh temporary directory).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lbg::sanitizer::render {

struct ExecSpec {
  std::vector<std::string> argv;  // argv[0] is the absolute path executed
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string workDir;
  std::chrono::steady_clock::time_point deadline;
  uint64_t maxFileBytes = 256ull << 20;
  uint64_t maxAddressSpace = 8ull << 30;
};

// True when the program ran and exited; *exitCode is its status. False + reason
// ("limit:timeout", "internal:sandbox") when it could not run or was killed.
bool runSandboxedExec(const ExecSpec& spec, int* exitCode, std::string* reason);

}  // namespace lbg::sanitizer::render
